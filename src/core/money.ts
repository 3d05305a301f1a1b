import { normalizeDigits } from "./digits.ts";

/** 2^128 − 1: the contract stores totals as uint128. */
export const MAX_UINT128 = (1n << 128n) - 1n;

/** 1–40 ASCII digits and nothing else. */
function isShortAsciiDigits(text: string): boolean {
  if (text.length === 0 || text.length > 40) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export type RialsProblem =
  "empty" | "sign" | "decimal" | "exponent" | "grouping" | "format" | "overflow";

export type RialsResult = { ok: true; value: bigint } | { ok: false; problem: RialsProblem };

export interface ParseRialsOptions {
  /** Accept a leading `-` (deductions may not; corrections might). Default false. */
  allowNegative?: boolean;
  /** Largest accepted absolute value (default and ceiling: 2^128 − 1). */
  max?: bigint;
}

/**
 * Parses an amount of integer Rials to `bigint`, exactly. Accepts ASCII, Persian and Arabic
 * digits and thousands grouping with `,` or `٬` (U+066C) in groups of three. Rejects decimals
 * (`12.0`, `12/5`, `۱۲٫۵`), exponents (`1e6`), signs unless allowed (`+` never), spaces inside,
 * and values above `max` (uint128).
 *
 * @example
 * parseRials("۱٬۲۳۴٬۵۶۷") // { ok: true, value: 1234567n }
 * parseRials("1.5")       // { ok: false, problem: "decimal" }
 */
export function checkRials(text: string, options: ParseRialsOptions = {}): RialsResult {
  // The common case, ASCII digits only (at most 40): the value, with the same result as below.
  if (isShortAsciiDigits(text)) {
    const value = BigInt(text);
    const max = options.max !== undefined && options.max < MAX_UINT128 ? options.max : MAX_UINT128;
    return value > max ? { ok: false, problem: "overflow" } : { ok: true, value };
  }
  const t = normalizeDigits(text.trim());
  if (t === "") return { ok: false, problem: "empty" };
  let body = t;
  let negative = false;
  if (body.startsWith("-") || body.startsWith("\u2212")) {
    if (options.allowNegative !== true) return { ok: false, problem: "sign" };
    negative = true;
    body = body.slice(1);
  } else if (body.startsWith("+")) {
    return { ok: false, problem: "sign" };
  }
  if (/[eE]/.test(body) && /^[\d.]+[eE][-+]?\d+$/.test(body))
    return { ok: false, problem: "exponent" };
  if (/[.\u066B]/.test(body) || /^\d+\/\d+$/.test(body)) return { ok: false, problem: "decimal" };
  if (/[,\u066C]/.test(body)) {
    if (!/^\d{1,3}([,\u066C]\d{3})+$/.test(body)) return { ok: false, problem: "grouping" };
    body = body.replace(/[,\u066C]/g, "");
  }
  if (!/^\d+$/.test(body)) return { ok: false, problem: "format" };
  const digits = body.replace(/^0+(?=\d)/, "");
  if (digits.length > 40) return { ok: false, problem: "overflow" };
  const value = BigInt(digits);
  const max = options.max !== undefined && options.max < MAX_UINT128 ? options.max : MAX_UINT128;
  if (value > max) return { ok: false, problem: "overflow" };
  return { ok: true, value: negative ? -value : value };
}

/**
 * Like {@link checkRials} but throws a RangeError naming the problem, never the value (amounts
 * are personal). Use `checkRials` when validating user rows.
 */
export function parseRials(text: string, options: ParseRialsOptions = {}): bigint {
  const r = checkRials(text, options);
  if (!r.ok) throw new RangeError(`not an amount of integer Rials (${r.problem})`);
  return r.value;
}

/** Formats Rials with ASCII grouping commas (`1234567n` → `"1,234,567"`). */
export function formatRials(value: bigint): string {
  const neg = value < 0n;
  const s = (neg ? -value : value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return neg ? `-${s}` : s;
}
