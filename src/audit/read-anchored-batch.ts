/**
 * What is anchored for a batch, read from the ledger contract: the reference an audit compares
 * the organization's export with. A `shafaf-tree/2` batch is read with `getBatchV2`: its record
 * count and total are its root's lanes (`records`, and `premium` or `net`).
 */
import { createLedgerClient, ContractRevertError } from "../chain/ledger-client.ts";
import { createRpc } from "../chain/rpc.ts";
import { InvalidInputError } from "../core/errors.ts";
import { periodFromNumber } from "../core/period.ts";
import type { RecordKind } from "../core/record.ts";
import { SUM_TREE_LANES } from "../core/sum-tree-lanes.ts";

/** What a `shafaf-tree/2` batch anchors besides the v1 fields. */
export interface AnchoredTreeV2 {
  scheme: "shafaf-tree/2";
  /** keccak256 of the registered VRF public key, 0x-hex lower case. */
  vrfKeyId: string;
  /** The root's lanes in the kind's lane order (`SUM_TREE_LANES`). */
  lanes: bigint[];
}

/** The lane a v1 figure is in: the record count, and the batch total (premium total, pension net). */
const TOTAL_LANE = { premium: "premium", pension: "net" } as const satisfies Record<
  RecordKind,
  string
>;

/** The v1 figures of a v2 batch from its root's lanes (in the kind's lane order). */
export function figuresOfLanes(
  kind: RecordKind,
  lanes: readonly bigint[],
): { recordCount: number; total: bigint } {
  const names: readonly string[] = SUM_TREE_LANES[kind];
  return {
    recordCount: Number(lanes[names.indexOf("records")] ?? 0n),
    total: lanes[names.indexOf(TOTAL_LANE[kind])] ?? 0n,
  };
}

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
  /** A `shafaf-tree/2` batch; absent for a v1 (`standard-v1`) batch. */
  v2?: AnchoredTreeV2;
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
  let scheme;
  try {
    scheme = await ledger.schemeOf(params.batchId);
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
  if (scheme === "shafaf-tree/2") {
    const b = await ledger.getBatchV2(params.batchId);
    const kind: RecordKind = b.kind === 0 ? "premium" : "pension";
    // The chain keeps six lanes; a kind with fewer leaves the rest 0 (tree-v2.md §4).
    const lanes = b.totals.slice(0, SUM_TREE_LANES[kind].length);
    return {
      source: "chain",
      chainId,
      contract: ledger.address,
      batchId: params.batchId,
      kind,
      period: periodFromNumber(b.period),
      root: b.root,
      ...figuresOfLanes(kind, lanes),
      manifestHash: b.manifestHash,
      supersedes: b.supersedes === 0 ? null : b.supersedes,
      supersededBy: b.supersededBy === 0 ? null : b.supersededBy,
      confirmations: counts.confirmations,
      disputes: counts.disputes,
      v2: { scheme, vrfKeyId: b.vrfKeyId.toLowerCase(), lanes },
    };
  }
  const b = await ledger.getBatch(params.batchId);
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
