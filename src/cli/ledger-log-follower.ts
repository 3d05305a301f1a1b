/**
 * Keeps the ledger log (docs/spec/log-entry-v1.md) in step with the indexer: after each indexed
 * range that anchored batches (and once at start), it reads the indexed batch views and appends
 * the batches beyond the log's size, signs a checkpoint and has the witnesses cosign it, then —
 * when it holds an account with LOG_ROLE — records the checkpoint on the ledger, which checks it
 * is a consistent extension of the one it recorded before. Runs are serialized and coalesced: a
 * request while one runs makes exactly one more run.
 */
import type { HDNodeWallet, Wallet } from "ethers";
import {
  recordLogCheckpoint,
  type RecordLogCheckpointReturnType,
} from "../chain/record-log-checkpoint.ts";
import { InvariantError } from "../core/errors.ts";
import type { LedgerLogBatch } from "../core/ledger-log-entry.ts";
import { syncLedgerLog, type SyncLedgerLogResult } from "../log/sync-ledger-log.ts";
import type { TiledLog } from "../log/tiled-log.ts";
import type { WitnessEndpoint } from "../log/witness-client.ts";
import type { BatchView, IndexStore } from "../store/index-store.ts";

/**
 * The log batch of an indexed batch view. The view carries no tree scheme unless the indexer
 * indexes `BatchAnchoredV2`; a view without one came from `BatchAnchored`, i.e. `shafaf-tree/1`.
 */
export function logBatchOfView(
  view: BatchView,
  chain: { chainId: number; contract: string },
): LedgerLogBatch {
  const scheme = (view as BatchView & { scheme?: unknown }).scheme ?? "shafaf-tree/1";
  if (scheme !== "shafaf-tree/1" && scheme !== "shafaf-tree/2")
    throw new InvariantError(
      `batch ${view.batchId}'s view names the tree scheme ${JSON.stringify(scheme)}, which the log entry does not know`,
      {
        code: "log.scheme",
        details: "docs/spec/log-entry-v1.md lists shafaf-tree/1 and shafaf-tree/2",
      },
    );
  return {
    chainId: chain.chainId,
    contract: chain.contract,
    batchId: view.batchId,
    scheme,
    kind: view.kind,
    period: view.period,
    root: view.root,
    manifestHash: view.manifestHash,
    idempotencyKey: view.idempotencyKey,
    recordCount: view.recordCount,
    total: view.total,
    supersedes: view.supersedes,
    txHash: view.txHash,
  };
}

/** Every indexed batch, as log batches (none before the indexer's first write). */
export async function indexedLogBatches(index: IndexStore): Promise<LedgerLogBatch[]> {
  const info = await index.getChainInfo();
  if (info === undefined) return [];
  const out: LedgerLogBatch[] = [];
  let cursor: string | undefined;
  do {
    const page = await index.listBatches({
      limit: 1000,
      ...(cursor === undefined ? {} : { cursor }),
    });
    for (const v of page.items) out.push(logBatchOfView(v, info));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return out;
}

/** Records the log's current checkpoint on the ledger (see {@link logCheckpointRecorder}). */
export type LogCheckpointRecorder = (log: TiledLog) => Promise<RecordLogCheckpointReturnType>;

/**
 * A recorder signing with `wallet` (LOG_ROLE on `address`): the log's size and root now, with
 * the consistency proof from the size the ledger holds, read from the log's tiles.
 *
 * @example
 * const recordOnChain = logCheckpointRecorder({ wallet, address: contract });
 */
export function logCheckpointRecorder(options: {
  wallet: Wallet | HDNodeWallet;
  address: string;
  chainId?: number;
  rpcUrl?: string;
}): LogCheckpointRecorder {
  return (log) =>
    recordLogCheckpoint({
      ...options,
      size: log.size(),
      root: log.rootHash(),
      rootAt: (n) => log.rootHash(n),
      consistencyProof: (n) => log.consistencyProof(n),
    });
}

/** One run: the log's sync, and what recording its checkpoint on the ledger gave. */
export type LedgerLogRun = SyncLedgerLogResult & {
  /** Set when a recorder is configured and the log is not empty. */
  onChain?: RecordLogCheckpointReturnType;
  /** Why recording on the ledger failed (the log itself was synced). */
  onChainError?: unknown;
};

export interface LedgerLogFollower {
  /** Asks for a run; resolves when a run that started after this call has finished. */
  sync(): Promise<void>;
  /** Resolves when no run is running or queued. */
  idle(): Promise<void>;
  /** The last run's result, if any. */
  readonly last: LedgerLogRun | undefined;
}

/**
 * @example
 * const follower = createLedgerLogFollower({ index, log, witnesses, report });
 * createIndexer({ …, onUpdate: (u) => { if (u.anchored.length > 0) void follower.sync(); } });
 */
export function createLedgerLogFollower(deps: {
  index: IndexStore;
  log: TiledLog;
  witnesses: readonly WitnessEndpoint[];
  /** Records each new checkpoint on the ledger; absent: the log is not recorded on chain. */
  recordOnChain?: LogCheckpointRecorder | undefined;
  /** Called after each run with its result or error; never throws into the indexer. */
  report: (result: LedgerLogRun | undefined, error?: unknown) => void;
}): LedgerLogFollower {
  const knownSizes = new Map<string, number>();
  let last: LedgerLogRun | undefined;
  let running: Promise<void> | undefined;
  let again: Promise<void> | undefined;
  const run = async () => {
    try {
      const run: LedgerLogRun = await syncLedgerLog({
        log: deps.log,
        batches: await indexedLogBatches(deps.index),
        witnesses: deps.witnesses,
        knownSizes,
      });
      if (deps.recordOnChain !== undefined && deps.log.size() > 0) {
        try {
          run.onChain = await deps.recordOnChain(deps.log);
        } catch (error) {
          run.onChainError = error;
        }
      }
      last = run;
      deps.report(last);
    } catch (error) {
      deps.report(undefined, error);
    }
  };
  const start = (): Promise<void> => {
    running = run().finally(() => {
      running = undefined;
    });
    return running;
  };
  return {
    sync() {
      if (running === undefined) return start();
      again ??= running.then(() => {
        again = undefined;
        return start();
      });
      return again;
    },
    async idle() {
      while (running !== undefined || again !== undefined) await (again ?? running);
    },
    get last() {
      return last;
    },
  };
}
