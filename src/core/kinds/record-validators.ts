/**
 * The registry of record kinds' input validation: one {@link ValidateKindFields} per kind. Apart
 * from `RECORD_KINDS` so that what verifies (the portal) does not bundle what validates input.
 */
import type { LedgerRecord, RecordKind } from "../record.ts";
import { validatePension } from "./pension/validate-pension.ts";
import { validatePremium } from "./premium/validate-premium.ts";
import type { ValidateKindFields } from "./record-kind-rules.ts";

export const RECORD_VALIDATORS: {
  readonly [K in RecordKind]: ValidateKindFields<Extract<LedgerRecord, { kind: K }>>;
} = {
  premium: validatePremium,
  pension: validatePension,
};
