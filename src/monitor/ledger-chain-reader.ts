/**
 * The monitor's view of the ledger contract: the chain id, the block number, `batchCount()` and a
 * batch's facts (`getBatch` or `getBatchV2` after `schemeOf`) at a block, and the
 * RoleGranted / RoleRevoked events of a block range (windowed `eth_getLogs`, each log checked
 * against its block's header), with role hashes shown by name.
 */
import { getLogs } from "../chain/get-logs.ts";
import { createLedgerClient } from "../chain/ledger-client.ts";
import { ROLE_NAMES } from "../chain/ledger-events.ts";
import { fromQuantity, type Rpc } from "../chain/rpc.ts";
import { LEDGER_EVENT_TOPICS } from "../core/ledger-abi.ts";
import { periodFromNumber } from "../core/period.ts";
import type { ChainReader } from "./monitor-round.ts";

/**
 * @example
 * const chain = ledgerChainReader({ rpc: createRpc({ url }), contract: "0x5FbD…" });
 */
export function ledgerChainReader(deps: { rpc: Rpc; contract: string }): ChainReader {
  const ledger = createLedgerClient({ rpc: deps.rpc, address: deps.contract });
  return {
    contract: ledger.address,
    async blockNumber() {
      return fromQuantity(await deps.rpc.request("eth_blockNumber"), "eth_blockNumber");
    },
    async chainId() {
      return fromQuantity(await deps.rpc.request("eth_chainId"), "eth_chainId");
    },
    batchCount: (block) => ledger.batchCount(block),
    async batch(batchId, block) {
      const read = await ledger.readBatch(batchId, block);
      const v2 = read.scheme === "shafaf-tree/2";
      const b = read.batch;
      return {
        scheme: v2 ? "shafaf-tree/2" : "shafaf-tree/1",
        kind: b.kind === 0 ? "premium" : "pension",
        period: periodFromNumber(b.period),
        root: b.root,
        manifestHash: b.manifestHash,
        idempotencyKey: b.idempotencyKey,
        supersedes: b.supersedes === 0 ? null : b.supersedes,
      };
    },
    async roleEvents(fromBlock, toBlock) {
      const { logs } = await getLogs({
        rpc: deps.rpc,
        address: ledger.address,
        topic0: [LEDGER_EVENT_TOPICS.RoleGranted, LEDGER_EVENT_TOPICS.RoleRevoked],
        fromBlock,
        toBlock,
      });
      const out: Awaited<ReturnType<ChainReader["roleEvents"]>> = [];
      for (const log of logs) {
        const e = ledger.decodeLog(log);
        if (e?.type !== "RoleGranted" && e?.type !== "RoleRevoked") continue;
        out.push({
          type: e.type,
          role: ROLE_NAMES.get(e.role) ?? e.role,
          account: e.account,
          sender: e.sender,
          blockNumber: e.blockNumber,
        });
      }
      return out;
    },
  };
}
