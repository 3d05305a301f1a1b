import { maskNationalId } from "./national-id.ts";
import {
  maskPersonId,
  personIdFromFields,
  personIdString,
  type PersonIdProblem,
} from "./person-id.ts";
import { parsePeriod } from "./period.ts";
import { parseProvince } from "./province.ts";
import { createFieldReader, shortClear } from "./kinds/field-reader.ts";
import type { ValidateKindFields, ValidateRecordOptions } from "./kinds/record-kind-rules.ts";
import { isRecordKind, recordKindRules } from "./kinds/record-kinds.ts";
import { RECORD_VALIDATORS } from "./kinds/record-validators.ts";
import type { LedgerRecord, RecordKind } from "./record.ts";

import type { RecordIssue } from "./kinds/field-reader.ts";

export type { RecordIssue } from "./kinds/field-reader.ts";
export type { ValidateRecordOptions } from "./kinds/record-kind-rules.ts";

export type ValidateRecordResult<K extends RecordKind = RecordKind> =
  | {
      ok: true;
      record: Extract<LedgerRecord, { kind: K }>;
    }
  | { ok: false; issues: RecordIssue[] };

const REASON_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$/;

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
 * Common rules (here): digits normalised (Persian/Arabic → ASCII) in every numeric field;
 * `record_id` and `supersedes` 1–64 chars of `[A-Za-z0-9._:/-]`; period `YYYY-MM`; person
 * identifier (national ID checksum, or a foreign national's); province ISO code or name; `reason`
 * required with `supersedes`. Then the kind's own rules (`src/core/kinds/<kind>/validate-<kind>.ts`: premium
 * shares against the rate table, pension `net = gross − deductions`, …).
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
  const read = createFieldReader(fields);
  const issues = read.issues;
  const rules = isRecordKind(kind) ? recordKindRules(kind) : undefined;
  const validateKind = isRecordKind(kind)
    ? (RECORD_VALIDATORS[kind] as ValidateKindFields<LedgerRecord>)
    : undefined;

  // ── common fields ──
  const recordId = read.identifier("record_id", true);
  let period: string | undefined;
  if (read.required("period", "")) {
    period = parsePeriod(read.raw("period"));
    if (period === undefined) {
      read.issue(
        "period",
        "period.format",
        shortClear(read.raw("period")),
        "period must be a Jalali year-month YYYY-MM (1300–1600, month 1–12)",
        "write e.g. 1403-07",
      );
    } else if (options.expectedPeriod !== undefined && period !== options.expectedPeriod) {
      read.issue(
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
    national_id: read.raw("national_id"),
    foreign_id: read.raw("foreign_id"),
    nationality: read.raw("nationality"),
    ...(rules?.personFallbackColumn === "insurance_no"
      ? { insurance_no: read.raw("insurance_no") }
      : {}),
  });
  if (person === undefined) {
    read.issue(
      "national_id",
      "required",
      "",
      "national_id is missing",
      "fill in the national_id column; for a foreign national, foreign_id (کد فراگیر اتباع) or nationality",
    );
  } else if (person.ok) {
    nationalId = personIdString(person.id);
  } else {
    const [message, hint, shown] = personIdMessage(
      person.field,
      person.problem,
      read.raw(person.field),
    );
    const rule = person.problem.includes(".") ? person.problem : `national-id.${person.problem}`;
    // An insurance number that cannot identify a foreigner is reported once, by its own rule.
    if (!(
      person.problem === "insurance-no.format" && rules?.personFallbackColumn === "insurance_no"
    ))
      read.issue(person.field, rule, shown, message, hint);
  }
  let province: string | undefined;
  if (read.required("province", "")) {
    province = parseProvince(read.raw("province"));
    if (province === undefined) {
      read.issue(
        "province",
        "province.unknown",
        shortClear(read.raw("province")),
        "province is not an ISO 3166-2:IR code (IR-00 … IR-30) or a province name",
        "write e.g. IR-23 or تهران",
      );
    }
  }
  const supersedes = read.identifier("supersedes", false);
  let reason: string | undefined;
  if (read.raw("reason") !== "") {
    if (REASON_RE.test(read.raw("reason"))) reason = read.raw("reason");
    else
      read.issue(
        "reason",
        "reason.format",
        shortClear(read.raw("reason")),
        "reason must be a code of 1–32 characters A–Z, a–z, 0–9, . _ -",
        "use a reason code such as wage-correction",
      );
  } else if (supersedes !== undefined) {
    read.issue(
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

  if (rules === undefined || validateKind === undefined) {
    read.issue(
      "kind",
      "kind.unknown",
      shortClear(String(kind)),
      "kind must be premium or pension",
      "pass --kind premium or --kind pension",
    );
    return { ok: false, issues };
  }
  const common =
    recordId === undefined ||
    period === undefined ||
    nationalId === undefined ||
    province === undefined
      ? undefined
      : { recordId, period, nationalId, province, tail };
  const record = validateKind(read, common, period, options);
  if (issues.length > 0 || record === undefined) return { ok: false, issues };
  return { ok: true, record } as ValidateRecordResult<K>;
}
