/**
 * A scripted ledger history for tests that need what the real indexer writes: events encoded
 * with the ledger's ABI into raw logs, served by a scripted JSON-RPC node on 127.0.0.1 (the true
 * boundary), and indexed by the real `createIndexer` into a real index store. Used by the golden
 * format test and by the API fixture, so the API is tested against views the indexer writes.
 * Nothing here runs at import time.
 */
import { AbiCoder, id, Interface, keccak256, toUtf8Bytes } from "ethers";
import { loadLedgerArtifact } from "../../src/chain/artifact.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { nextLogHead, nextLogHeadV2 } from "../../src/core/log-head.ts";
import { createIndexer } from "../../src/indexer/create-indexer.ts";
import type { WritableIndexStore } from "../../src/store/index-store.ts";
import { block, hash, startFakeNode } from "../chain/fake-node.ts";

export const A = (n: number) => "0x" + n.toString(16).padStart(40, "0");
export const H = (s: string) => keccak256(toUtf8Bytes(s));

/** Optional overrides of an anchor's event fields (defaults derive from the batch id). */
export interface AnchorOptions {
  root?: string;
  anchorer?: string;
}

export type LedgerHistory = Awaited<ReturnType<typeof ledgerHistory>>;

/** A scripted ledger history at `address`: encoded logs, the head after them, manifests held. */
export async function ledgerHistory(address: string) {
  const iface = new Interface((await loadLedgerArtifact()).abi);
  const manifests = new Map<string, Uint8Array>();
  const logs: Record<string, unknown>[] = [];
  const h = { head: "0x" + "00".repeat(32) };
  let logIndex = 0;
  /** Appends one log; returns its transaction hash. */
  const emit = (blockNumber: number, name: string, args: unknown[]): string => {
    const { data, topics } = iface.encodeEventLog(iface.getEvent(name)!, args);
    const transactionHash = H(`tx ${blockNumber} ${logIndex}`);
    logs.push({
      address,
      topics,
      data,
      blockNumber: "0x" + blockNumber.toString(16),
      blockHash: hash(blockNumber),
      transactionHash,
      transactionIndex: "0x0",
      logIndex: "0x" + (logIndex++).toString(16),
      removed: false,
    });
    return transactionHash;
  };
  const manifestOf = (id: number, manifest?: object) => {
    const bytes = toUtf8Bytes(JSON.stringify(manifest ?? { id }));
    const manifestHash = keccak256(bytes);
    if (manifest !== undefined) manifests.set(manifestHash, bytes);
    return manifestHash;
  };
  /** Emits BatchAnchored (and BatchSuperseded when `supersedes` ≠ 0); returns the anchor's tx hash. */
  const anchorAt = (
    blockNumber: number,
    id: number,
    kind: 0 | 1,
    period: number,
    count: number,
    total: bigint,
    supersedes: number,
    manifest?: object,
    options: AnchorOptions = {},
  ): string => {
    const manifestHash = manifestOf(id, manifest);
    const root = options.root ?? H(`root ${id}`);
    h.head = nextLogHead(h.head, {
      batchId: id,
      root,
      kind,
      period,
      recordCount: count,
      totalAmount: total,
      manifestHash,
    });
    const txHash = emit(blockNumber, "BatchAnchored", [
      id,
      root,
      period,
      kind,
      count,
      total,
      manifestHash,
      supersedes,
      H(`key ${id}`),
      h.head,
      options.anchorer ?? A(0xa1),
    ]);
    if (supersedes !== 0) emit(blockNumber, "BatchSuperseded", [supersedes, id]);
    return txHash;
  };
  const anchorV2At = (
    blockNumber: number,
    id: number,
    kind: 0 | 1,
    period: number,
    totals: bigint[],
    supersedes: number,
    vrfKeyId: string,
    manifest?: object,
    options: AnchorOptions = {},
  ) => {
    const manifestHash = manifestOf(id, manifest);
    const root = options.root ?? H(`root ${id}`);
    h.head = nextLogHeadV2(h.head, {
      batchId: id,
      root,
      kind,
      period,
      totals,
      manifestHash,
      vrfKeyId,
    });
    emit(blockNumber, "BatchAnchoredV2", [
      id,
      root,
      period,
      kind,
      totals,
      manifestHash,
      supersedes,
      H(`key ${id}`),
      h.head,
      vrfKeyId,
      options.anchorer ?? A(0xa1),
    ]);
    if (supersedes !== 0) emit(blockNumber, "BatchSuperseded", [supersedes, id]);
  };
  return { address, logs, manifests, emit, anchorAt, anchorV2At, head: () => h.head };
}

export interface SyncOptions {
  /** The node's head block; the indexer catches up to `headBlock - confirmations`. */
  headBlock: number;
  confirmations: number;
  /** `${role}!${account}` pairs for which the contract's hasRole answers true. */
  holders?: string[];
  /** Answer qbft_getValidatorsByBlockNumber with these (absent: the method is unknown, as on Hardhat). */
  validators?: string[];
  /** First block to read (absent: the indexer bisects eth_getCode, code from block 1). */
  fromBlock?: number;
  /** Block timestamps (unix s; absent: fake-node's 1_700_000_000 + n). */
  timestamp?: (blockNumber: number) => number;
  /** The indexer's blocks per committed range (absent: its default). */
  blocksPerCommit?: number;
  /** The indexer's undo window in blocks (absent: its default). */
  reorgWindow?: number;
}

/** Serves `h` from a scripted node and runs the real indexer once over it into `store`. */
export async function indexScripted(
  h: LedgerHistory,
  store: WritableIndexStore,
  options: SyncOptions,
): Promise<void> {
  const { logs, manifests } = h;
  const holders = options.holders ?? [];
  const node = await startFakeNode(({ method, params }) => {
    switch (method) {
      case "eth_chainId":
        return { result: "0x7a69" };
      case "eth_blockNumber":
        return { result: "0x" + options.headBlock.toString(16) };
      case "eth_getBlockByNumber":
        return {
          result:
            options.timestamp === undefined
              ? block(Number(params[0]))
              : {
                  ...block(Number(params[0])),
                  timestamp: "0x" + options.timestamp(Number(params[0])).toString(16),
                },
        };
      case "eth_getCode":
        return {
          result: params[1] === "latest" || Number(params[1]) >= 1 ? "0x6080" : "0x",
        };
      case "eth_getLogs": {
        const q = params[0] as { fromBlock: string; toBlock: string };
        return {
          result: logs.filter(
            (l) =>
              Number(l.blockNumber) >= Number(q.fromBlock) &&
              Number(l.blockNumber) <= Number(q.toBlock),
          ),
        };
      }
      case "eth_call": {
        // the contract's state after the history: head, roles (hasRole) and pause
        const data = (params[0] as { data: string }).data;
        const coder = AbiCoder.defaultAbiCoder();
        if (data.startsWith(id("hasRole(bytes32,address)").slice(0, 10))) {
          const [role, account] = coder.decode(["bytes32", "address"], "0x" + data.slice(10));
          const key = `${String(role)}!${String(account).toLowerCase()}`;
          return { result: coder.encode(["bool"], [holders.includes(key)]) };
        }
        if (data.startsWith(id("paused()").slice(0, 10)))
          return { result: coder.encode(["bool"], [false]) };
        return { result: coder.encode(["bytes32"], [h.head()]) };
      }
      case "qbft_getValidatorsByBlockNumber":
        if (options.validators !== undefined) return { result: options.validators };
        return { error: { code: -32601, message: `method ${method} not found` } };
      default:
        return { error: { code: -32601, message: `method ${method} not found` } };
    }
  });
  try {
    await createIndexer({
      rpc: createRpc({ url: node.url, retries: 0 }),
      store,
      address: h.address,
      confirmations: options.confirmations,
      ...(options.fromBlock === undefined ? {} : { fromBlock: options.fromBlock }),
      ...(options.blocksPerCommit === undefined
        ? {}
        : { blocksPerCommit: options.blocksPerCommit }),
      ...(options.reorgWindow === undefined ? {} : { reorgWindow: options.reorgWindow }),
      manifestSource: (_id, hash) => manifests.get(hash),
    }).syncOnce();
  } finally {
    await node.close();
  }
}
