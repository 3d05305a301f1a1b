/**
 * The kinds of record Shafaf commits to. Each kind is one folder under `src/core/kinds/` (its
 * record type and every rule of its own), registered in `src/core/kinds/record-kinds.ts`. Amounts
 * are integer Rials as `bigint`; dates are canonical Jalali `YYYY-MM-DD`; periods are canonical
 * `YYYY-MM`; provinces ISO 3166-2:IR codes. Kind numbers on-chain: premium = 0, pension = 1.
 */
import type { PensionRecord } from "./kinds/pension/pension.ts";
import type { PremiumRecord } from "./kinds/premium/premium.ts";
import { RECORD_KINDS } from "./kinds/record-kinds.ts";

export type { PremiumRecord } from "./kinds/premium/premium.ts";
export type { PensionCategory, PensionRecord } from "./kinds/pension/pension.ts";

/** A record of any kind: one member per folder of `src/core/kinds/`. */
export type LedgerRecord = PremiumRecord | PensionRecord;

export type RecordKind = LedgerRecord["kind"];

const byKind = <T>(pick: (rules: (typeof RECORD_KINDS)[RecordKind]) => T) =>
  Object.fromEntries(
    Object.values(RECORD_KINDS).map((rules) => [rules.kind, pick(rules)]),
  ) as Record<RecordKind, T>;

/** The on-chain kind number (`ITransparencyLedger.Kind`). */
export const KIND_NUMBER: Readonly<Record<RecordKind, number>> = byKind((r) => r.number);

/** The input column names (CSV header, JSON Lines keys) of each kind, in canonical order. */
export const RECORD_COLUMNS: Readonly<Record<RecordKind, readonly string[]>> = byKind(
  (r) => r.columns,
);

/** Columns that may be absent or empty. */
export const OPTIONAL_COLUMNS: Readonly<Record<RecordKind, readonly string[]>> = byKind(
  (r) => r.optionalColumns,
);
