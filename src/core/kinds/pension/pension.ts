/**
 * The pension kind (مستمری): one beneficiary's monthly pension payment. Every rule Shafaf has
 * about pensions that is not shared with other kinds lives in this folder: here the record and
 * what commits, publishes and decodes it; in `validate-pension.ts` the input rules.
 */
import type { RecordKindRules } from "../record-kind-rules.ts";

export type PensionCategory = "retirement" | "disability" | "survivors";

/** One beneficiary's monthly pension payment. */
export interface PensionRecord {
  kind: "pension";
  recordId: string;
  period: string;
  /** The person's canonical identifier, as in `PremiumRecord.nationalId`. */
  nationalId: string;
  pensionFile: string;
  category: PensionCategory;
  province: string;
  gross: bigint;
  deductions: bigint;
  net: bigint;
  dueOn: string;
  paidOn: string;
  supersedes?: string;
  reason?: string;
}

export const PENSION_FIELDS_DOMAIN = "shafaf/pension-fields/v1";

const AMOUNT_FIELDS = ["gross", "deductions", "net"] as const;

/**
 * The pension's rules; its input validation is `validatePension` (`validate-pension.ts`). On time
 * means paid on or before the due date.
 */
export const PENSION_KIND = {
  kind: "pension",
  number: 1,
  columns: [
    "record_id",
    "period",
    "national_id",
    "pension_file",
    "category",
    "province",
    "gross",
    "deductions",
    "net",
    "due_on",
    "paid_on",
    "supersedes",
    "reason",
    "foreign_id",
    "nationality",
  ],
  optionalColumns: ["supersedes", "reason", "foreign_id", "nationality"],

  amountFields: AMOUNT_FIELDS,

  fieldsDomain: PENSION_FIELDS_DOMAIN,
  fieldsTypes: [
    "string",
    "string",
    "string",
    "string",
    "uint256",
    "uint256",
    "string",
    "string",
    "string",
    "string",
  ],
  fieldsValues: (r) => [
    r.nationalId,
    r.pensionFile,
    r.category,
    r.province,
    r.gross,
    r.deductions,
    r.dueOn,
    r.paidOn,
    r.supersedes ?? "",
    r.reason ?? "",
  ],
  amount: (r) => r.net,

  sumTreeLanes: ["records", "persons", "gross", "deductions", "net", "onTime"],
  sumTreeAmounts: (r) => [r.gross, r.deductions, r.net, paidOnTime(r) ? 1n : 0n],

  fromJson({ json, str, amount }, common, tail) {
    const text = { pensionFile: str("pensionFile"), dueOn: str("dueOn"), paidOn: str("paidOn") };
    const category = json.category;
    const money = AMOUNT_FIELDS.map(amount);
    if (category !== "retirement" && category !== "disability" && category !== "survivors")
      return undefined;
    if (Object.values(text).some((v) => typeof v !== "string") || money.some((m) => m === null))
      return undefined;
    const [gross, deductions, net] = money as bigint[];
    return {
      kind: "pension",
      ...common,
      pensionFile: text.pensionFile!,
      category,
      gross: gross!,
      deductions: deductions!,
      net: net!,
      dueOn: text.dueOn!,
      paidOn: text.paidOn!,
      ...tail,
    };
  },

  category: (r) => r.category,
  onTime: (r) => paidOnTime(r),
} as const satisfies RecordKindRules<PensionRecord>;

/** Paid on or before the due date. Canonical `YYYY-MM-DD` Jalali dates compare as strings. */
function paidOnTime(r: PensionRecord): boolean {
  return r.paidOn <= r.dueOn;
}
