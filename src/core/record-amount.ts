import type { LedgerRecord } from "./record.ts";

/**
 * The amount a record contributes to its batch total and commits in its leaf:
 * premium → `total` (worker + employer + unemployment + hazard), pension → `net`.
 *
 * @example
 * recordAmount(pension) // pension.net
 */
export function recordAmount(record: LedgerRecord): bigint {
  return record.kind === "premium" ? record.total : record.net;
}
