import { recordKindRules } from "./kinds/record-kinds.ts";
import type { LedgerRecord } from "./record.ts";

/**
 * The amount a record contributes to its batch total and commits in its leaf, as its kind's
 * rules say (premium → `total`, worker + employer + unemployment + hazard; pension → `net`).
 *
 * @example
 * recordAmount(pension) // pension.net
 */
export function recordAmount(record: LedgerRecord): bigint {
  return recordKindRules(record.kind).amount(record);
}
