import { normalizeDigits } from "./digits.ts";
import { memoText } from "./memo-text.ts";
import { MAX_JALALI_YEAR, MIN_JALALI_YEAR } from "./jalali.ts";

/**
 * Parses a Jalali year-month: `1403-07`, `1403/07`, `1403-7`, `140307`, in any digits, and
 * returns the canonical `"1403-07"`, or `undefined` when it is not a month of years 1300–1600.
 *
 * @example
 * parsePeriod("۱۴۰۳/۷") // "1403-07"
 * parsePeriod("1403-13") // undefined
 */
export function parsePeriod(text: string): string | undefined {
  return parsePeriodMemo(text);
}

const parsePeriodMemo = memoText(parsePeriodText);

function parsePeriodText(text: string): string | undefined {
  const t = normalizeDigits(text.trim());
  const m = /^(\d{4})(?:[-/](\d{1,2})|(\d{2}))$/.exec(t);
  if (m === null) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2] ?? m[3]);
  if (y < MIN_JALALI_YEAR || y > MAX_JALALI_YEAR || mo < 1 || mo > 12) return undefined;
  return `${m[1]}-${String(mo).padStart(2, "0")}`;
}

/**
 * The on-chain form of a canonical period: `"1403-07"` → `140307` (uint32 YYYYMM).
 * Throws RangeError for a string that is not a canonical period.
 */
export function periodToNumber(period: string): number {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  const y = m === null ? NaN : Number(m[1]);
  const mo = m === null ? NaN : Number(m[2]);
  if (!(y >= MIN_JALALI_YEAR && y <= MAX_JALALI_YEAR && mo >= 1 && mo <= 12)) {
    throw new RangeError(
      `not a canonical period "YYYY-MM": ${JSON.stringify(period.slice(0, 20))}`,
    );
  }
  return y * 100 + mo;
}

/** `140307` → `"1403-07"`; throws RangeError when the number is not a valid YYYYMM. */
export function periodFromNumber(yyyymm: number | bigint): string {
  const n = Number(yyyymm);
  const y = Math.floor(n / 100);
  const mo = n % 100;
  if (!Number.isInteger(n) || y < MIN_JALALI_YEAR || y > MAX_JALALI_YEAR || mo < 1 || mo > 12) {
    throw new RangeError(`not a period YYYYMM: ${String(yyyymm)}`);
  }
  return `${y}-${String(mo).padStart(2, "0")}`;
}

/** The Jalali year of a canonical period. */
export function periodYear(period: string): number {
  return Math.floor(periodToNumber(period) / 100);
}
