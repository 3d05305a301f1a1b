/**
 * The premium kind (حق بیمه): one insured worker in one workshop's monthly insurance list. Every
 * rule Shafaf has about premiums that is not shared with other kinds lives in this folder: here
 * the record and what commits, publishes and decodes it; in `validate-premium.ts` the input rules
 * (kept apart so that the portal, which verifies but never validates input, does not bundle them).
 */
import type { RecordKindRules } from "../record-kind-rules.ts";

/** One insured worker in one workshop's monthly insurance list. */
export interface PremiumRecord {
  kind: "premium";
  recordId: string;
  period: string /* "1403-07" */;
  /**
   * The person's canonical identifier (`person-id-v1`, `src/core/person-id.ts`): a national ID's
   * 10 digits, or `foreign:<code>` / `insured:<insurance no>:<ISO alpha-3>` for a foreign national.
   * The field keeps its v1 name so that every existing leaf, receipt and vector stays identical.
   */
  nationalId: string;
  workshopCode: string;
  insuranceNo: string;
  province: string /* "IR-23" */;
  days: number;
  wageBase: bigint;
  workerShare: bigint;
  employerShare: bigint;
  unemploymentShare: bigint;
  hazardShare: bigint;
  total: bigint;
  paidOn?: string /* "1403-08-02" */;
  supersedes?: string;
  reason?: string;
}

export const PREMIUM_FIELDS_DOMAIN = "shafaf/premium-fields/v1";

const AMOUNT_FIELDS = [
  "wageBase",
  "workerShare",
  "employerShare",
  "unemploymentShare",
  "hazardShare",
  "total",
] as const;

/** The premium's rules; its input validation is `validatePremium` (`validate-premium.ts`). */
export const PREMIUM_KIND = {
  kind: "premium",
  number: 0,
  columns: [
    "record_id",
    "period",
    "national_id",
    "workshop_code",
    "insurance_no",
    "province",
    "days",
    "wage_base",
    "worker_share",
    "employer_share",
    "unemployment_share",
    "hazard_share",
    "total",
    "paid_on",
    "supersedes",
    "reason",
    "foreign_id",
    "nationality",
  ],
  optionalColumns: ["paid_on", "supersedes", "reason", "foreign_id", "nationality"],
  personFallbackColumn: "insurance_no",

  amountFields: AMOUNT_FIELDS,

  fieldsDomain: PREMIUM_FIELDS_DOMAIN,
  fieldsTypes: [
    "string",
    "string",
    "string",
    "string",
    "uint256",
    "uint256",
    "uint256",
    "uint256",
    "uint256",
    "uint256",
    "string",
    "string",
    "string",
  ],
  fieldsValues: (r) => [
    r.nationalId,
    r.workshopCode,
    r.insuranceNo,
    r.province,
    BigInt(r.days),
    r.wageBase,
    r.workerShare,
    r.employerShare,
    r.unemploymentShare,
    r.hazardShare,
    r.paidOn ?? "",
    r.supersedes ?? "",
    r.reason ?? "",
  ],
  /** worker + employer + unemployment + hazard. */
  amount: (r) => r.total,

  sumTreeLanes: ["records", "persons", "insurableWage", "days", "premium"],
  sumTreeAmounts: (r) => [r.wageBase, BigInt(r.days), r.total],

  fromJson({ json, str, amount }, common, tail) {
    const days = json.days;
    const paidOn = str("paidOn", true);
    const text = { workshopCode: str("workshopCode"), insuranceNo: str("insuranceNo") };
    const money = AMOUNT_FIELDS.map(amount);
    if (typeof days !== "number" || !Number.isInteger(days) || days < 0 || days > 31)
      return undefined;
    if (
      paidOn === null ||
      Object.values(text).some((v) => typeof v !== "string") ||
      money.some((m) => m === null)
    )
      return undefined;
    const [wageBase, workerShare, employerShare, unemploymentShare, hazardShare, total] =
      money as bigint[];
    return {
      kind: "premium",
      ...common,
      workshopCode: text.workshopCode!,
      insuranceNo: text.insuranceNo!,
      days,
      wageBase: wageBase!,
      workerShare: workerShare!,
      employerShare: employerShare!,
      unemploymentShare: unemploymentShare!,
      hazardShare: hazardShare!,
      total: total!,
      ...(paidOn === undefined ? {} : { paidOn }),
      ...tail,
    };
  },
} as const satisfies RecordKindRules<PremiumRecord>;
