/**
 * Locale formatting for the portal: digits, Rials, Jalali months and dates, provinces.
 * Persian output uses Persian digits (U+06F0–U+06F9) and Jalali dates; English output uses Latin
 * digits and the same Jalali calendar with transliterated month names, so both languages show the
 * same months.
 */
import { normalizeDigits, toPersianDigits } from "../core/digits.ts";
import { provinceByCode } from "../core/province.ts";
import { message, type Lang } from "./messages.ts";

const NUMBER_LOCALE: Record<Lang, string> = { fa: "fa-IR", en: "en-US" };

const MONTHS: Record<Lang, readonly string[]> = {
  fa: [
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
  ],
  en: [
    "Farvardin",
    "Ordibehesht",
    "Khordad",
    "Tir",
    "Mordad",
    "Shahrivar",
    "Mehr",
    "Aban",
    "Azar",
    "Dey",
    "Bahman",
    "Esfand",
  ],
};

/** Replaces ASCII digits with Persian digits in `fa`; returns the text unchanged in `en`. */
export function localDigits(text: string, lang: Lang): string {
  return lang === "en" ? text : toPersianDigits(text);
}

/** An integer (number, bigint or decimal string) with grouping, in the language's digits. */
export function formatInteger(value: number | bigint | string, lang: Lang): string {
  const n = typeof value === "string" ? parseDecimal(value) : value;
  if (n === undefined) return localDigits(String(value), lang);
  return integerFormat(lang).format(n);
}

const integerFormats = new Map<Lang, Intl.NumberFormat>();
/** One formatter per language: creating an Intl.NumberFormat costs more than formatting with it. */
function integerFormat(lang: Lang): Intl.NumberFormat {
  let f = integerFormats.get(lang);
  if (f === undefined) {
    f = new Intl.NumberFormat(NUMBER_LOCALE[lang], { maximumFractionDigits: 0 });
    integerFormats.set(lang, f);
  }
  return f;
}

/** A short amount for chart labels: "1.2T" / "۱٫۲ تریلیون". */
export function formatCompact(value: bigint, lang: Lang): string {
  return new Intl.NumberFormat(NUMBER_LOCALE[lang], {
    notation: "compact",
    maximumFractionDigits: 1,
  }).format(value);
}

/** A share between 0 and 1 as a percentage with one decimal. */
export function formatPercent(share: number, lang: Lang): string {
  return new Intl.NumberFormat(NUMBER_LOCALE[lang], {
    style: "percent",
    maximumFractionDigits: 1,
  }).format(share);
}

/** A decimal with at most `digits` fraction digits. */
export function formatDecimal(value: number, lang: Lang, digits = 1): string {
  return new Intl.NumberFormat(NUMBER_LOCALE[lang], { maximumFractionDigits: digits }).format(
    value,
  );
}

/** "1403-07" → "مهر ۱۴۰۳" / "Mehr 1403". Anything else is shown as given (digits localised). */
export function formatPeriod(period: string, lang: Lang): string {
  const match = /^(\d{4})-(\d{2})$/.exec(period);
  const month = match === null ? undefined : MONTHS[lang][Number(match[2]) - 1];
  if (match === null || month === undefined) return localDigits(period, lang);
  return `${month} ${localDigits(match[1] ?? "", lang)}`;
}

/** "1403-08-02" (a Jalali date) → "۲ آبان ۱۴۰۳" / "2 Aban 1403". */
export function formatJalaliDate(date: string, lang: Lang): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const month = match === null ? undefined : MONTHS[lang][Number(match[2]) - 1];
  if (match === null || month === undefined) return localDigits(date, lang);
  return `${localDigits(String(Number(match[3])), lang)} ${month} ${localDigits(match[1] ?? "", lang)}`;
}

/** A unix time (seconds) as a Jalali date and time in Tehran, labelled "Tehran time". */
export function formatTimestamp(unixSeconds: number, lang: Lang): string {
  const time = new Intl.DateTimeFormat(`${NUMBER_LOCALE[lang]}-u-ca-persian`, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "Asia/Tehran",
  }).format(new Date(unixSeconds * 1000));
  return message(lang, "tehranTime", { time });
}

/** The first 6 and last 4 hex digits of an address: "0x7099…79c8". */
export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** "IR-23" → "تهران" / "Tehran"; unknown codes are shown as given. */
export function provinceName(code: string, lang: Lang): string {
  return provinceByCode(code)?.[lang] ?? code;
}

/** A canonical non-negative decimal integer string as bigint, or undefined. */
export function parseDecimal(text: string): bigint | undefined {
  return /^(0|[1-9]\d*)$/.test(text) ? BigInt(text) : undefined;
}

/**
 * Reads a period typed by a person: Persian or Arabic digits, `/` or `-`, one- or two-digit month.
 * Returns "YYYY-MM" or undefined.
 */
export function parsePeriodInput(text: string): string | undefined {
  const ascii = normalizeDigits(text.trim());
  const match = /^(\d{4})\s*[-/]\s*(\d{1,2})$/.exec(ascii);
  if (match === null) return undefined;
  const month = Number(match[2]);
  if (month < 1 || month > 12) return undefined;
  return `${match[1]}-${String(month).padStart(2, "0")}`;
}
