/**
 * The whole log verified from events: the head recomputed over every `BatchAnchored` and
 * `BatchAnchoredV2` event (ITransparencyLedger.sol's formulas, `nextLogHead`, `nextLogHeadV2`) and compared with the contract's `head()`,
 * all read at one pinned block so that a batch anchored meanwhile cannot cause a false alarm.
 * A node that hides, alters or invents an event is caught: ids must run 1..batchCount() without
 * a gap, each event's `headAfter` must be the recomputed head, and the last one `head()`.
 */
import { getLogs } from "../chain/get-logs.ts";
import { createLedgerClient } from "../chain/ledger-client.ts";
import { LEDGER_EVENT_TOPICS } from "../core/ledger-abi.ts";
import { nextLogHead, nextLogHeadV2 } from "../core/log-head.ts";
import { fromQuantity, type Rpc } from "../chain/rpc.ts";

export interface VerifyLogHeadResult {
  status: "ok" | "mismatch";
  /** The block every read was made at. */
  atBlock: number;
  batchCount: number;
  /** BatchAnchored and BatchAnchoredV2 events folded into the recomputed head. */
  batchesChecked: number;
  onChainHead: string;
  recomputedHead: string;
  /** What is wrong, first problem first (empty when ok). */
  problems: string[];
}

const ZERO = "0x" + "0".repeat(64);

/**
 * @example
 * const r = await verifyLogHead({ rpc: createRpc({ url }), contract: "0x…" });
 * console.log(`${r.batchesChecked} batches, head ${r.status}`);
 */
export async function verifyLogHead(params: {
  rpc: Rpc;
  contract: string;
  /** First block to read events from (default 0; the deployment block saves time on long chains). */
  fromBlock?: number | undefined;
}): Promise<VerifyLogHeadResult> {
  const { rpc } = params;
  const ledger = createLedgerClient({ rpc, address: params.contract });
  const atBlock = fromQuantity(await rpc.request("eth_blockNumber"), "eth_blockNumber");
  await ledger.assertDeployed(atBlock);
  const [batchCount, onChainHead] = await Promise.all([
    ledger.batchCount(atBlock),
    ledger.head(atBlock),
  ]);
  const { logs } = await getLogs({
    rpc,
    address: ledger.address,
    topic0: [LEDGER_EVENT_TOPICS.BatchAnchored, LEDGER_EVENT_TOPICS.BatchAnchoredV2],
    fromBlock: params.fromBlock ?? 0,
    toBlock: atBlock,
  });
  const problems: string[] = [];
  let head = ZERO;
  let expectedId = 1;
  let checked = 0;
  for (const log of logs) {
    const e = ledger.decodeLog(log);
    if (e?.type !== "BatchAnchored" && e?.type !== "BatchAnchoredV2") continue;
    if (e.batchId !== expectedId) {
      problems.push(
        e.batchId > expectedId
          ? `batch ${expectedId}${e.batchId - 1 > expectedId ? `..${e.batchId - 1}` : ""}: no BatchAnchored event (the node hides it, or --from-block is after it)`
          : `batch ${e.batchId}: a second BatchAnchored event (block ${e.blockNumber})`,
      );
      if (e.batchId < expectedId) continue;
      expectedId = e.batchId;
    }
    head = e.type === "BatchAnchored" ? nextLogHead(head, e) : nextLogHeadV2(head, e);
    checked++;
    if (head !== e.headAfter.toLowerCase() && problems.length < 100) {
      problems.push(
        `batch ${e.batchId}: the event's headAfter ${e.headAfter} is not the recomputed head ${head}`,
      );
    }
    expectedId++;
  }
  if (expectedId - 1 !== batchCount)
    problems.push(
      `the events reach batch ${expectedId - 1}; batchCount() is ${batchCount} at block ${atBlock}`,
    );
  if (head !== onChainHead)
    problems.push(`head() is ${onChainHead}; the head recomputed from events is ${head}`);
  return {
    status: problems.length === 0 ? "ok" : "mismatch",
    atBlock,
    batchCount,
    batchesChecked: checked,
    onChainHead,
    recomputedHead: head,
    problems,
  };
}
