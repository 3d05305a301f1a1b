/**
 * What is anchored for a batch, read from the ledger contract: the reference an audit compares
 * the organization's export with.
 */
import { createLedgerClient, ContractRevertError } from "../chain/ledger-client.ts";
import { createRpc } from "../chain/rpc.ts";
import { InvalidInputError } from "../core/errors.ts";
import { periodFromNumber } from "../core/period.ts";
import type { RecordKind } from "../core/record.ts";

/** A batch as anchored. `source` says where the figures come from (the chain, or only the artifact). */
export interface AnchoredBatch {
  source: "chain" | "artifact";
  chainId: number | null;
  contract: string | null;
  batchId: number;
  kind: RecordKind;
  period: string;
  root: string;
  recordCount: number;
  total: bigint;
  manifestHash: string;
  supersedes: number | null;
  supersededBy: number | null;
  confirmations: number | null;
  disputes: number | null;
}

/**
 * Reads batch `batchId` from the ledger at `contract` over `rpcUrls` (fail-over between them).
 * Throws InvalidInputError for an unknown batch id.
 *
 * @example
 * const anchored = await readAnchoredBatch({ rpcUrls: ["http://127.0.0.1:8545"], contract, batchId: 3 });
 */
export async function readAnchoredBatch(params: {
  rpcUrls: readonly string[];
  contract: string;
  batchId: number;
}): Promise<AnchoredBatch> {
  const rpc = createRpc({ urls: params.rpcUrls, retries: 2, timeoutMs: 15_000 });
  const ledger = createLedgerClient({ rpc, address: params.contract });
  const chainId = Number(BigInt(await rpc.request<string>("eth_chainId")));
  let b;
  try {
    b = await ledger.getBatch(params.batchId);
  } catch (error) {
    if (error instanceof ContractRevertError && error.errorName === "LedgerUnknownBatch") {
      throw new InvalidInputError(`the ledger has no batch ${params.batchId}`, {
        details: `check --batch (the ledger at ${ledger.address} has ${await ledger.batchCount()} batches) and --contract`,
        code: "audit.batch.unknown",
      });
    }
    throw error;
  }
  const counts = await ledger.attestationCounts(params.batchId);
  return {
    source: "chain",
    chainId,
    contract: ledger.address,
    batchId: params.batchId,
    kind: b.kind === 0 ? "premium" : "pension",
    period: periodFromNumber(b.period),
    root: b.root,
    recordCount: b.recordCount,
    total: b.totalAmount,
    manifestHash: b.manifestHash,
    supersedes: b.supersedes === 0 ? null : b.supersedes,
    supersededBy: b.supersededBy === 0 ? null : b.supersededBy,
    confirmations: counts.confirmations,
    disputes: counts.disputes,
  };
}
