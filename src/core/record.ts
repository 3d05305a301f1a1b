/**
 * The two kinds of record Shafaf commits to. Amounts are integer Rials as `bigint`; dates are
 * canonical Jalali `YYYY-MM-DD`; periods are canonical `YYYY-MM`; provinces ISO 3166-2:IR codes.
 * Kind numbers on-chain: premium = 0, pension = 1.
 */
export type RecordKind = "premium" | "pension";

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

export type PensionCategory = "retirement" | "disability" | "survivors";

/** One beneficiary's monthly pension payment. */
export interface PensionRecord {
  kind: "pension";
  recordId: string;
  period: string;
  /** The person's canonical identifier, as in {@link PremiumRecord.nationalId}. */
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

export type LedgerRecord = PremiumRecord | PensionRecord;

/** The on-chain kind number (`ITransparencyLedger.Kind`). */
export const KIND_NUMBER: Readonly<Record<RecordKind, number>> = { premium: 0, pension: 1 };

/** The input column names (CSV header, JSON Lines keys) of each kind, in canonical order. */
export const RECORD_COLUMNS: Readonly<Record<RecordKind, readonly string[]>> = {
  premium: [
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
  pension: [
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
};

/** Columns that may be absent or empty. */
export const OPTIONAL_COLUMNS: Readonly<Record<RecordKind, readonly string[]>> = {
  premium: ["paid_on", "supersedes", "reason", "foreign_id", "nationality"],
  pension: ["supersedes", "reason", "foreign_id", "nationality"],
};
