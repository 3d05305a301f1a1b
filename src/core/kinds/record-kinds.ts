/**
 * The registry of record kinds: one {@link RecordKindRules} per kind, keyed by its name. A new kind
 * is a folder beside this file (`<kind>/<kind>.ts`, `<kind>/validate-<kind>.ts`), a line here and
 * in `record-validators.ts`, its member in `LedgerRecord` (`src/core/record.ts`), and its number
 * in the contract's `Kind` enum.
 */
import type { LedgerRecord, RecordKind } from "../record.ts";
import { PENSION_KIND } from "./pension/pension.ts";
import { PREMIUM_KIND } from "./premium/premium.ts";
import type { RecordKindRules } from "./record-kind-rules.ts";

export const RECORD_KINDS = {
  premium: PREMIUM_KIND,
  pension: PENSION_KIND,
} as const satisfies { [K in RecordKind]: RecordKindRules<Extract<LedgerRecord, { kind: K }>> };

/**
 * The rules of a kind, typed for any record (the generic code's view).
 *
 * @example
 * recordKindRules(record.kind).amount(record)
 */
export function recordKindRules(kind: RecordKind): RecordKindRules {
  return RECORD_KINDS[kind];
}

/** True for the name of a registered kind (never for `"constructor"` and other inherited keys). */
export function isRecordKind(value: unknown): value is RecordKind {
  return typeof value === "string" && Object.hasOwn(RECORD_KINDS, value);
}

/** The kind of an on-chain kind number, `undefined` for a number no kind has. */
export function recordKindOfNumber(n: number): RecordKind | undefined {
  for (const rules of Object.values(RECORD_KINDS)) if (rules.number === n) return rules.kind;
  return undefined;
}
