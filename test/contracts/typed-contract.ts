/**
 * Names the methods a test calls on an ethers `Contract`, so that strict TypeScript
 * (`noUncheckedIndexedAccess`) accepts them without generated typings. Type-only: no network.
 */
import type { BaseContract, BaseContractMethod, ContractRunner } from "ethers";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Method = BaseContractMethod<any[], any, any>;

export type Typed<N extends string> = Omit<BaseContract, "connect"> & {
  readonly [K in N]: Method;
} & {
  connect(runner: ContractRunner | null): Typed<N>;
};

/** `contract`, typed as having the methods `names`. */
export function typed<const N extends string>(
  contract: BaseContract,
  _names: readonly N[],
): Typed<N> {
  return contract as unknown as Typed<N>;
}

export const LEDGER_METHODS = [
  "anchorBatch",
  "attest",
  "pause",
  "unpause",
  "paused",
  "batchCount",
  "head",
  "getBatch",
  "batchIdOfRoot",
  "batchIdOfIdempotencyKey",
  "attestationOf",
  "attestationCounts",
  "verifyRecord",
  "verifyRecords",
  "hasRole",
  "grantRole",
  "revokeRole",
  "defaultAdmin",
  "defaultAdminDelay",
  "beginDefaultAdminTransfer",
  "acceptDefaultAdminTransfer",
  "supportsInterface",
  "ANCHORER_ROLE",
  "AUDITOR_ROLE",
  "PAUSER_ROLE",
  "VRF_KEY_ROLE",
  "anchorBatchV2",
  "registerVrfKey",
  "getBatchV2",
  "schemeOf",
  "vrfKeyCount",
  "vrfKeyIdAt",
  "currentVrfKeyId",
  "getVrfKey",
  "verifyInclusionV2",
  "verifyRangeV2",
  "verifyAbsenceV2",
] as const;
