import { normalizeDigits } from "./digits.ts";
import { checkJalaliDate } from "./jalali.ts";
import { checkRials } from "./money.ts";
import { maskNationalId } from "./national-id.ts";
import {
  maskPersonId,
  personIdFromFields,
  personIdString,
  type PersonIdProblem,
} from "./person-id.ts";
import { parsePeriod, periodYear } from "./period.ts";
import { parseProvince } from "./province.ts";
import { DEFAULT_RATE_TABLE, premiumShares, ratesForYear, type RateTable } from "./rates.ts";
import type {
  LedgerRecord,
  PensionCategory,
  PensionRecord,
  PremiumRecord,
  RecordKind,
} from "./record.ts";

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

export interface ValidateRecordOptions {
  /** The batch's period: rows of any other period are rejected (`period.mismatch`). */
  expectedPeriod?: string;
  /** Rate table override (default {@link DEFAULT_RATE_TABLE}; its `rounding` is used). */
  rates?: RateTable;
  /** Reject insurable wages outside the table's min/max monthly wage (prorated by days). Default false: the limits are unverified. */
  enforceWageLimits?: boolean;
}

export type ValidateRecordResult<K extends RecordKind = RecordKind> =
  | {
      ok: true;
      record: K extends "premium"
        ? PremiumRecord
        : K extends "pension"
          ? PensionRecord
          : LedgerRecord;
    }
  | { ok: false; issues: RecordIssue[] };

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/;
const REASON_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

const CATEGORIES: Readonly<Record<string, PensionCategory>> = {
  retirement: "retirement",
  disability: "disability",
  survivors: "survivors",
  بازنشستگی: "retirement",
  ازکارافتادگی: "disability",
  "ازکارافتادگی کلی": "disability",
  "از کار افتادگی": "disability",
  "از کار افتادگی کلی": "disability",
  بازماندگان: "survivors",
};

/** A masked rendering of an input value: personal values never leave this module in clear. */
function maskedAmount(text: string): string {
  return text.trim() === "" ? "" : `[amount, ${text.trim().length} chars]`;
}
function maskTail(text: string, keep: number): string {
  const t = text.trim();
  if (t.length <= keep) return "*".repeat(t.length);
  return "*".repeat(t.length - keep) + t.slice(t.length - keep);
}
function shortClear(text: string): string {
  const t = text.length > 40 ? `${text.slice(0, 40)}…` : text;
  return Array.from(t, (c) => (c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127 ? "?" : c)).join("");
}

/** Message, hint and masked value of a rejected person identifier. */
function personIdMessage(
  field: string,
  problem: PersonIdProblem,
  value: string,
): [message: string, hint: string, shown: string] {
  switch (problem) {
    case "format":
      return ["national_id must be 10 digits", NID_HINT, maskNationalId(value)];
    case "repdigit":
      return ["national_id cannot be ten equal digits", NID_HINT, maskNationalId(value)];
    case "checksum":
      return ["national_id fails its check digit", NID_HINT, maskNationalId(value)];
    case "foreign-code.format":
      return [
        "foreign_id must be the 12-digit foreign national code (کد فراگیر اتباع)",
        "copy the code from the worker's foreign national card, or leave foreign_id empty and give nationality",
        maskPersonId(`foreign:${value}`),
      ];
    case "foreign-code.repdigit":
      return [
        "foreign_id cannot be twelve equal digits",
        "copy the code from the worker's foreign national card",
        maskPersonId(`foreign:${value}`),
      ];
    case "nationality.unknown":
      return [
        "nationality is not a nationality Shafaf knows",
        "write the nationality in Persian («افغانی») or as an ISO 3166-1 alpha-3 code (AFG)",
        shortClear(value),
      ];
    case "nationality.iranian":
      return [
        "an Iranian needs a national_id",
        "fill in the 10-digit national ID (کد ملی)",
        shortClear(value),
      ];
    case "insurance-no.format":
      return [
        `${field} must be 8–10 digits to identify a foreign national without a foreign_id`,
        "fill in foreign_id (کد فراگیر اتباع), or the worker's insurance number",
        "",
      ];
  }
}

const NID_HINT = "copy the 10-digit national ID (کد ملی) again, with leading zeros";

/**
 * Validates one input row (CSV column names as keys, see `RECORD_COLUMNS`) and returns the typed
 * record, or every issue found (not just the first). Never throws on bad data.
 *
 * Rules: digits normalised (Persian/Arabic → ASCII) in every numeric field; `record_id` and
 * `supersedes` 1–64 chars of `[A-Za-z0-9._:/-]`; period `YYYY-MM`; national ID checksum; workshop
 * code 10 digits; insurance number 8–10 digits; province ISO code or name; days 0–31; amounts
 * non-negative integer Rials ≤ uint128; premium shares equal to the rate table's (worker and
 * employer always, unemployment and hazard either 0 or the statutory share), total = Σ shares;
 * pension `net = gross − deductions`; dates exist in the Jalali calendar; `reason` required with
 * `supersedes`.
 *
 * @example
 * const r = validateRecord("pension", { record_id: "P-1", period: "1403-07", … });
 * if (!r.ok) for (const i of r.issues) console.log(`${i.field}: ${i.message} — ${i.hint}`);
 */
export function validateRecord<K extends RecordKind>(
  kind: K,
  fields: Readonly<Record<string, string | undefined>>,
  options: ValidateRecordOptions = {},
): ValidateRecordResult<K> {
  const issues: RecordIssue[] = [];
  const issue = (field: string, rule: string, value: string, message: string, hint: string) => {
    issues.push({ field, rule, value, message, hint });
  };
  const raw = (name: string): string => {
    const v: unknown = fields[name];
    return typeof v === "string" ? v.trim() : "";
  };
  const required = (name: string, shown: string): boolean => {
    if (raw(name) !== "") return true;
    issue(name, "required", shown, `${name} is missing`, `fill in the ${name} column`);
    return false;
  };

  const identifier = (name: string, isRequired: boolean): string | undefined => {
    const v = raw(name);
    if (v === "") {
      if (isRequired) required(name, "");
      return undefined;
    }
    const t = normalizeDigits(v);
    if (!ID_RE.test(t)) {
      issue(
        name,
        "identifier.format",
        shortClear(v),
        `${name} must be 1–64 characters of A–Z, a–z, 0–9 and . _ : / - (starting with a letter or digit)`,
        "use the record identifier of the source system, without spaces",
      );
      return undefined;
    }
    return t;
  };

  const digitsField = (name: string, min: number, max: number, mask: (s: string) => string) => {
    if (!required(name, "")) return undefined;
    const t = normalizeDigits(raw(name));
    if (!new RegExp(`^[0-9]{${min},${max}}$`).test(t)) {
      const len = min === max ? `${min}` : `${min}–${max}`;
      issue(
        name,
        `${name.replace(/_/g, "-")}.format`,
        mask(raw(name)),
        `${name} must be ${len} digits`,
        `check the ${name} column`,
      );
      return undefined;
    }
    return t;
  };

  const amount = (name: string): bigint | undefined => {
    if (!required(name, "")) return undefined;
    const r = checkRials(raw(name));
    if (r.ok) return r.value;
    const why: Record<string, string> = {
      sign: "must not be negative or signed",
      decimal: "must be whole Rials (no decimal point)",
      exponent: "must not use exponent notation",
      grouping: "has misplaced thousands separators",
      format: "is not a number",
      overflow: "is larger than 2^128 − 1",
      empty: "is empty",
    };
    issue(
      name,
      `amount.${r.problem}`,
      maskedAmount(raw(name)),
      `${name} ${why[r.problem] ?? "is invalid"}`,
      "write integer Rials with digits only, e.g. 71661840 (not Toman, no decimals)",
    );
    return undefined;
  };

  const date = (name: string, isRequired: boolean): string | undefined => {
    const v = raw(name);
    if (v === "") {
      if (isRequired) required(name, "");
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
    issue(
      name,
      `date.${r.problem}`,
      shortClear(v),
      message,
      "write a Jalali date such as 1403-07-15",
    );
    return undefined;
  };

  // ── common fields ──
  const recordId = identifier("record_id", true);
  let period: string | undefined;
  if (required("period", "")) {
    period = parsePeriod(raw("period"));
    if (period === undefined) {
      issue(
        "period",
        "period.format",
        shortClear(raw("period")),
        "period must be a Jalali year-month YYYY-MM (1300–1600, month 1–12)",
        "write e.g. 1403-07",
      );
    } else if (options.expectedPeriod !== undefined && period !== options.expectedPeriod) {
      issue(
        "period",
        "period.mismatch",
        period,
        `period ${period} differs from the batch's period ${options.expectedPeriod}`,
        "split the input by period or pass the right --period",
      );
      period = undefined;
    }
  }
  let nationalId: string | undefined;
  const person = personIdFromFields({
    national_id: raw("national_id"),
    foreign_id: raw("foreign_id"),
    nationality: raw("nationality"),
    ...(kind === "premium" ? { insurance_no: raw("insurance_no") } : {}),
  });
  if (person === undefined) {
    issue(
      "national_id",
      "required",
      "",
      "national_id is missing",
      "fill in the national_id column; for a foreign national, foreign_id (کد فراگیر اتباع) or nationality",
    );
  } else if (person.ok) {
    nationalId = personIdString(person.id);
  } else {
    const [message, hint, shown] = personIdMessage(person.field, person.problem, raw(person.field));
    const rule = person.problem.includes(".") ? person.problem : `national-id.${person.problem}`;
    // An insurance number that cannot identify a foreigner is reported once, by its own rule.
    if (!(person.problem === "insurance-no.format" && kind === "premium"))
      issue(person.field, rule, shown, message, hint);
  }
  let province: string | undefined;
  if (required("province", "")) {
    province = parseProvince(raw("province"));
    if (province === undefined) {
      issue(
        "province",
        "province.unknown",
        shortClear(raw("province")),
        "province is not an ISO 3166-2:IR code (IR-00 … IR-30) or a province name",
        "write e.g. IR-23 or تهران",
      );
    }
  }
  const supersedes = identifier("supersedes", false);
  let reason: string | undefined;
  if (raw("reason") !== "") {
    if (REASON_RE.test(raw("reason"))) reason = raw("reason");
    else
      issue(
        "reason",
        "reason.format",
        shortClear(raw("reason")),
        "reason must be a code of 1–32 characters A–Z, a–z, 0–9, . _ -",
        "use a reason code such as wage-correction",
      );
  } else if (supersedes !== undefined) {
    issue(
      "reason",
      "reason.required",
      "",
      "a correction (supersedes) needs a reason code",
      "fill in the reason column",
    );
  }
  const tail = {
    ...(supersedes === undefined ? {} : { supersedes }),
    ...(reason === undefined ? {} : { reason }),
  };

  if (kind === "premium") {
    const workshopCode = digitsField("workshop_code", 10, 10, shortClear);
    const insuranceNo = digitsField("insurance_no", 8, 10, (s) => maskTail(s, 2));
    let days: number | undefined;
    if (required("days", "")) {
      const t = normalizeDigits(raw("days"));
      if (/^[0-9]{1,2}$/.test(t) && Number(t) <= 31) days = Number(t);
      else
        issue(
          "days",
          "days.range",
          shortClear(raw("days")),
          "days must be a whole number 0–31",
          "write the days worked in the month",
        );
    }
    const wageBase = amount("wage_base");
    const workerShare = amount("worker_share");
    const employerShare = amount("employer_share");
    const unemploymentShare = amount("unemployment_share");
    const hazardShare = amount("hazard_share");
    const total = amount("total");
    const paidOn = date("paid_on", false);

    const table = options.rates ?? DEFAULT_RATE_TABLE;
    if (wageBase !== undefined && period !== undefined) {
      const year = periodYear(period);
      let rates;
      try {
        rates = ratesForYear(year, table);
      } catch {
        issue(
          "period",
          "rates.missing",
          period,
          `the rate table has no rates for ${year}`,
          "add the year to the rate table",
        );
      }
      if (rates !== undefined) {
        const expect = premiumShares(
          wageBase,
          year,
          { unemployment: true, hazardous: true },
          table,
        );
        const checkShare = (
          name: string,
          got: bigint | undefined,
          want: bigint,
          optional: boolean,
        ) => {
          if (got === undefined || got === want || (optional && got === 0n)) return;
          issue(
            name,
            "share.rate",
            maskedAmount(raw(name)),
            `${name} is not ${optional ? "0 or " : ""}the statutory share of wage_base for ${year} (rounding ${table.rounding})`,
            `recompute ${name} from wage_base with the ${year} rates, or correct wage_base`,
          );
        };
        checkShare("worker_share", workerShare, expect.worker, false);
        checkShare("employer_share", employerShare, expect.employer, false);
        checkShare("unemployment_share", unemploymentShare, expect.unemployment, true);
        checkShare("hazard_share", hazardShare, expect.hazard, true);
        if (options.enforceWageLimits === true && days !== undefined) {
          const d = BigInt(days);
          if (
            rates.maxMonthlyWage !== undefined &&
            wageBase * 30n > rates.maxMonthlyWage * d &&
            d > 0n
          ) {
            issue(
              "wage_base",
              "wage.max",
              maskedAmount(raw("wage_base")),
              `wage_base is above the ${year} maximum insurable wage for ${days} days`,
              "cap the insurable wage or check the rate table",
            );
          }
          if (rates.minMonthlyWage !== undefined && wageBase * 30n < rates.minMonthlyWage * d) {
            issue(
              "wage_base",
              "wage.min",
              maskedAmount(raw("wage_base")),
              `wage_base is below the ${year} minimum insurable wage for ${days} days`,
              "raise the insurable wage or check the rate table",
            );
          }
        }
      }
    }
    if (
      total !== undefined &&
      workerShare !== undefined &&
      employerShare !== undefined &&
      unemploymentShare !== undefined &&
      hazardShare !== undefined &&
      total !== workerShare + employerShare + unemploymentShare + hazardShare
    ) {
      issue(
        "total",
        "total.sum",
        maskedAmount(raw("total")),
        "total is not worker_share + employer_share + unemployment_share + hazard_share",
        "recompute total as the sum of the four shares",
      );
    }
    if (
      issues.length > 0 ||
      recordId === undefined ||
      period === undefined ||
      nationalId === undefined ||
      workshopCode === undefined ||
      insuranceNo === undefined ||
      province === undefined ||
      days === undefined ||
      wageBase === undefined ||
      workerShare === undefined ||
      employerShare === undefined ||
      unemploymentShare === undefined ||
      hazardShare === undefined ||
      total === undefined
    ) {
      return { ok: false, issues };
    }
    const record: PremiumRecord = {
      kind: "premium",
      recordId,
      period,
      nationalId,
      workshopCode,
      insuranceNo,
      province,
      days,
      wageBase,
      workerShare,
      employerShare,
      unemploymentShare,
      hazardShare,
      total,
      ...(paidOn === undefined ? {} : { paidOn }),
      ...tail,
    };
    return { ok: true, record } as ValidateRecordResult<K>;
  }

  if (kind !== "pension") {
    issue(
      "kind",
      "kind.unknown",
      shortClear(String(kind)),
      "kind must be premium or pension",
      "pass --kind premium or --kind pension",
    );
    return { ok: false, issues };
  }
  const pensionFile = digitsFieldLoose("pension_file");
  let category: PensionCategory | undefined;
  if (required("category", "")) {
    category =
      CATEGORIES[
        raw("category")
          .toLowerCase()
          .replace(/\u200c/g, "")
          // Arabic yeh and kaf, as Windows and Arabic keyboards write them, are the Persian letters here.
          .replace(/[\u064A\u0649]/g, "\u06CC")
          .replace(/\u0643/g, "\u06A9")
          .replace(/\s+/g, " ")
      ];
    if (category === undefined) {
      issue(
        "category",
        "category.unknown",
        shortClear(raw("category")),
        "category must be retirement, disability or survivors",
        "write retirement / disability / survivors (or بازنشستگی / ازکارافتادگی / بازماندگان)",
      );
    }
  }
  const gross = amount("gross");
  const deductions = amount("deductions");
  const net = amount("net");
  if (
    gross !== undefined &&
    deductions !== undefined &&
    net !== undefined &&
    net !== gross - deductions
  ) {
    issue(
      "net",
      "net.difference",
      maskedAmount(raw("net")),
      "net is not gross − deductions",
      "recompute net, or correct gross or deductions",
    );
  }
  const dueOn = date("due_on", true);
  const paidOn = date("paid_on", true);

  function digitsFieldLoose(name: string): string | undefined {
    if (!required(name, "")) return undefined;
    const t = normalizeDigits(raw(name));
    if (!ID_RE.test(t)) {
      issue(
        name,
        "identifier.format",
        maskTail(raw(name), 2),
        `${name} must be 1–64 characters of A–Z, a–z, 0–9 and . _ : / -`,
        `check the ${name} column`,
      );
      return undefined;
    }
    return t;
  }

  if (
    issues.length > 0 ||
    recordId === undefined ||
    period === undefined ||
    nationalId === undefined ||
    pensionFile === undefined ||
    category === undefined ||
    province === undefined ||
    gross === undefined ||
    deductions === undefined ||
    net === undefined ||
    dueOn === undefined ||
    paidOn === undefined
  ) {
    return { ok: false, issues };
  }
  const record: PensionRecord = {
    kind: "pension",
    recordId,
    period,
    nationalId,
    pensionFile,
    category,
    province,
    gross,
    deductions,
    net,
    dueOn,
    paidOn,
    ...tail,
  };
  return { ok: true, record } as ValidateRecordResult<K>;
}
