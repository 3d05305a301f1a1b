/**
 * Reading one input row's fields for validation: every rule that checks a column and records an
 * issue. The common columns (`src/core/validate-record.ts`) and each kind's own columns
 * (`src/core/kinds/*.ts`) read through one reader, so a column type (identifier, amount, date) is
 * checked, worded and masked the same way in every kind.
 */
import { normalizeDigits } from "../digits.ts";
import { checkJalaliDate } from "../jalali.ts";
import { checkRials } from "../money.ts";

/**
 * One problem with one field of one input row. `value` is masked when the field is personal
 * (national ID, insurance number, pension file, amounts), so issues may be logged and shown.
 */
export interface RecordIssue {
  /** The input column name, e.g. `national_id`. */
  field: string;
  /** A stable rule id, e.g. `national-id.checksum`. */
  rule: string;
  /** The offending value, masked when personal. */
  value: string;
  message: string;
  /** How to fix it. */
  hint: string;
}

/** `[A-Za-z0-9._:/-]`, 1–64 characters, starting with a letter or digit: record ids, pension files. */
export const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;

/** A masked rendering of an amount: personal values never leave validation in clear. */
export function maskedAmount(text: string): string {
  return text.trim() === "" ? "" : `[amount, ${text.trim().length} chars]`;
}

/** All but the last `keep` characters as `*`. */
export function maskTail(text: string, keep: number): string {
  const t = text.trim();
  if (t.length <= keep) return "*".repeat(t.length);
  return "*".repeat(t.length - keep) + t.slice(t.length - keep);
}

/** A non-personal value shown in clear: at most 40 characters, control characters as `?`. */
export function shortClear(text: string): string {
  const t = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return Array.from(t, (c) => (c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127 ? "?" : c)).join("");
}

export interface FieldReader {
  /** Issues recorded so far (the same array on every call). */
  readonly issues: RecordIssue[];
  readonly issue: (
    field: string,
    rule: string,
    value: string,
    message: string,
    hint: string,
  ) => void;
  /** The trimmed text of a column, `""` when absent. */
  readonly raw: (name: string) => string;
  /** True when the column is filled in; otherwise records a `required` issue. */
  readonly required: (name: string, shown: string) => boolean;
  /** An identifier `[A-Za-z0-9._:/-]` of 1–64 characters (digits normalised). */
  readonly identifier: (name: string, isRequired: boolean) => string | undefined;
  /** `min`–`max` ASCII digits after normalisation; the shown value goes through `mask`. */
  readonly digits: (
    name: string,
    min: number,
    max: number,
    mask: (s: string) => string,
  ) => string | undefined;
  /** Non-negative integer Rials ≤ uint128. */
  readonly amount: (name: string) => bigint | undefined;
  /** A Jalali date, canonical `YYYY-MM-DD`. */
  readonly date: (name: string, isRequired: boolean) => string | undefined;
}

const AMOUNT_PROBLEMS: Readonly<Record<string, string>> = {
  sign: "must not be negative or signed",
  decimal: "must be whole Rials (no decimal point)",
  exponent: "must not use exponent notation",
  grouping: "has misplaced thousands separators",
  format: "is not a number",
  overflow: "is larger than 2^128 − 1",
  empty: "is empty",
};

/** True when `t` is `min`–`max` ASCII digits (`/^[0-9]{min,max}$/` without a RegExp per call). */
function isDigitRun(t: string, min: number, max: number): boolean {
  if (t.length < min || t.length > max) return false;
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * The reader of one row. A class, not a closure per rule: validation builds one reader per input
 * row, and its methods are then shared instead of allocated (and named) for every row.
 */
class RowFieldReader implements FieldReader {
  readonly issues: RecordIssue[] = [];
  readonly #fields: Readonly<Record<string, string | undefined>>;

  constructor(fields: Readonly<Record<string, string | undefined>>) {
    this.#fields = fields;
  }

  issue(field: string, rule: string, value: string, message: string, hint: string): void {
    this.issues.push({ field, rule, value, message, hint });
  }

  raw(name: string): string {
    const v: unknown = this.#fields[name];
    return typeof v === "string" ? v.trim() : "";
  }

  required(name: string, shown: string): boolean {
    if (this.raw(name) !== "") return true;
    this.issue(name, "required", shown, `${name} is missing`, `fill in the ${name} column`);
    return false;
  }

  identifier(name: string, isRequired: boolean): string | undefined {
    const v = this.raw(name);
    if (v === "") {
      if (isRequired) this.required(name, "");
      return undefined;
    }
    const t = normalizeDigits(v);
    if (!ID_RE.test(t)) {
      this.issue(
        name,
        "identifier.format",
        shortClear(v),
        `${name} must be 1–64 characters of A–Z, a–z, 0–9 and . _ : / - (starting with a letter or digit)`,
        "use the record identifier of the source system, without spaces",
      );
      return undefined;
    }
    return t;
  }

  digits(name: string, min: number, max: number, mask: (s: string) => string): string | undefined {
    if (!this.required(name, "")) return undefined;
    const t = normalizeDigits(this.raw(name));
    if (!isDigitRun(t, min, max)) {
      const len = min === max ? `${min}` : `${min}–${max}`;
      this.issue(
        name,
        `${name.replace(/_/g, "-")}.format`,
        mask(this.raw(name)),
        `${name} must be ${len} digits`,
        `check the ${name} column`,
      );
      return undefined;
    }
    return t;
  }

  amount(name: string): bigint | undefined {
    if (!this.required(name, "")) return undefined;
    const r = checkRials(this.raw(name));
    if (r.ok) return r.value;
    this.issue(
      name,
      `amount.${r.problem}`,
      maskedAmount(this.raw(name)),
      `${name} ${AMOUNT_PROBLEMS[r.problem] ?? "is invalid"}`,
      "write integer Rials with digits only, e.g. 71661840 (not Toman, no decimals)",
    );
    return undefined;
  }

  date(name: string, isRequired: boolean): string | undefined {
    const v = this.raw(name);
    if (v === "") {
      if (isRequired) this.required(name, "");
      return undefined;
    }
    const r = checkJalaliDate(v);
    if (r.ok) return r.date;
    const message =
      r.problem === "no-such-date"
        ? `${name} is not a day of the Jalali calendar`
        : r.problem === "year-range"
          ? `${name} has a year outside 1300–1600`
          : `${name} is not a Jalali date YYYY-MM-DD, YYYY/MM/DD or YYYYMMDD`;
    this.issue(
      name,
      `date.${r.problem}`,
      shortClear(v),
      message,
      "write a Jalali date such as 1403-07-15",
    );
    return undefined;
  }
}

/**
 * @example
 * const read = createFieldReader(row.fields);
 * const wage = read.amount("wage_base");
 * if (read.issues.length > 0) …
 */
export function createFieldReader(
  fields: Readonly<Record<string, string | undefined>>,
): FieldReader {
  return new RowFieldReader(fields);
}
