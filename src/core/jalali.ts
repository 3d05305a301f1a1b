import { isValidJalaaliDate, toGregorian, toJalaali } from "jalaali-js";
import { normalizeDigits } from "./digits.ts";
import { memoText } from "./memo-text.ts";

/** Years Shafaf accepts: the contract rejects periods before 1300; 1600 is far enough ahead. */
export const MIN_JALALI_YEAR = 1300;
export const MAX_JALALI_YEAR = 1600;

export type JalaliDateResult =
  | { ok: true; date: string /* canonical YYYY-MM-DD */ }
  | { ok: false; problem: "format" | "year-range" | "no-such-date" };

/**
 * Parses a Jalali (Solar Hijri) date written `YYYY-MM-DD`, `YYYY/MM/DD` (month and day may have
 * one digit with a separator) or `YYYYMMDD`, in ASCII, Persian or Arabic digits, and returns the
 * canonical `YYYY-MM-DD`. Dates that do not exist (1403-12-30 in a common year, 1403-07-31) are
 * rejected: months 1–6 have 31 days, 7–11 have 30, Esfand 29 or 30 (jalaali-js leap rule).
 *
 * @example
 * checkJalaliDate("۱۴۰۳/۷/۲") // { ok: true, date: "1403-07-02" }
 * checkJalaliDate("1404-12-30") // { ok: false, problem: "no-such-date" } (1404 is common)
 */
export function checkJalaliDate(text: string): JalaliDateResult {
  return checkJalaliDateMemo(text);
}

const checkJalaliDateMemo = memoText((text: string): JalaliDateResult =>
  Object.freeze(checkJalaliDateText(text)),
);

function checkJalaliDateText(text: string): JalaliDateResult {
  const t = normalizeDigits(text.trim());
  const m = /^(\d{4})(?:([-/])(\d{1,2})\2(\d{1,2})|(\d{2})(\d{2}))$/.exec(t);
  if (m === null) return { ok: false, problem: "format" };
  const jy = Number(m[1]);
  const jm = Number(m[3] ?? m[5]);
  const jd = Number(m[4] ?? m[6]);
  if (jy < MIN_JALALI_YEAR || jy > MAX_JALALI_YEAR) return { ok: false, problem: "year-range" };
  if (!isValidJalaaliDate(jy, jm, jd)) return { ok: false, problem: "no-such-date" };
  return { ok: true, date: formatJalali(jy, jm, jd) };
}

/** Like {@link checkJalaliDate} but returns the canonical date or `undefined`. */
export function parseJalaliDate(text: string): string | undefined {
  const r = checkJalaliDate(text);
  return r.ok ? r.date : undefined;
}

/** `YYYY-MM-DD` from parts (no validation). */
export function formatJalali(jy: number, jm: number, jd: number): string {
  return `${String(jy).padStart(4, "0")}-${String(jm).padStart(2, "0")}-${String(jd).padStart(2, "0")}`;
}

/** The Gregorian calendar date (UTC midnight) of a canonical Jalali date. */
export function jalaliToGregorianDate(date: string): Date {
  const [jy, jm, jd] = date.split("-").map(Number) as [number, number, number];
  const g = toGregorian(jy, jm, jd);
  return new Date(Date.UTC(g.gy, g.gm - 1, g.gd));
}

/** The canonical Jalali date of a Gregorian date, read in Asia/Tehran (UTC+03:30 since 2022). */
export function jalaliDateOf(instant: Date): string {
  const tehran = new Date(instant.getTime() + 210 * 60_000);
  const j = toJalaali(tehran.getUTCFullYear(), tehran.getUTCMonth() + 1, tehran.getUTCDate());
  return formatJalali(j.jy, j.jm, j.jd);
}
