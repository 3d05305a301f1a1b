/**
 * The serving stack shared by `shafaf serve` and `npm start`: the indexer (embedded, following
 * the chain in the background), the API over the index and ledger stores, core's receipt
 * verifier, a live chain reader for POST /verify, and the portal when it is built.
 */
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ApiKeyEntry } from "../api/api-keys.ts";
import type { AnchorJobFn, ApiLog, ChainBatchReader, LedgerReader } from "../api/app-deps.ts";
import { createApp } from "../api/create-app.ts";
import type { PersonKeyMaterial } from "../api/routes/persons.ts";
import { bytesToHex } from "../core/hex.ts";
import { personVrfInput } from "../core/person-key.ts";
import { vrfProve, vrfSecretKey } from "../core/vrf.ts";
import type { RateLimitOptions } from "../api/rate-limit.ts";
import { startServer } from "../api/start-server.ts";
import { ChainMismatchError, isRetryable } from "../chain/errors.ts";
import { ContractRevertError, createLedgerClient } from "../chain/ledger-client.ts";
import { createRpc, type Rpc } from "../chain/rpc.ts";
import { parseTrustPolicy } from "../core/tlog-policy.ts";
import { createLogBundleSource } from "../log/log-bundle-source.ts";
import { verifyDocument } from "../core/verify-document.ts";
import { createLogRouter } from "../log/log-routes.ts";
import type { TiledLog } from "../log/tiled-log.ts";
import type { WitnessEndpoint } from "../log/witness-client.ts";
import {
  createLedgerLogFollower,
  type LedgerLogFollower,
  type LogCheckpointRecorder,
} from "./ledger-log-follower.ts";
import { createArtifactManifestSource } from "../indexer/artifact-manifest-source.ts";
import { createIndexer, type Indexer } from "../indexer/create-indexer.ts";
import { readAccountNames } from "../store/account-names.ts";
import { createAuditReportFolder } from "../store/audit-report-folder.ts";
import type { WritableIndexStore } from "../store/index-store.ts";

/** Where `scripts/build-web.ts` puts the portal. */
/**
 * pi for a person identifier under the VRF key `seed` (its public key with it): what
 * `POST /api/v1/persons/key` and the demo's login return. Throws `InvalidInputError` for an
 * identifier that is not a person-id-v1 (never named in the error).
 */
export function personKeyProver(seed: Uint8Array): (personId: string) => PersonKeyMaterial {
  const key = vrfSecretKey(seed);
  const vrfPublicKey = bytesToHex(key.publicKey);
  return (personId) => ({
    vrfPublicKey,
    proof: bytesToHex(vrfProve(key, personVrfInput(personId))),
  });
}

export const WEB_ROOT = path.resolve(import.meta.dirname, "../web/dist");

export interface ServeStackOptions {
  rpcUrls: readonly string[];
  contract: string;
  host: string;
  port: number;
  dataDir: string;
  confirmations: number;
  /** Opened by the caller; closed by `close()`. */
  index: WritableIndexStore;
  /**
   * Where receipts, person proofs and public batch files come from: `shafaf serve`'s published
   * store (the anchor's published files), or a ledger store. Opened by the caller; closed by
   * `close()`.
   */
  ledger: LedgerReader & { close(): Promise<void> };
  apiKeys: readonly ApiKeyEntry[];
  anchorJob?: AnchorJobFn | undefined;
  rateLimit: RateLimitOptions | false;
  trustProxy: number;
  cors?: readonly string[] | undefined;
  publicRpc?: string | undefined;
  log: ApiLog & { line(level: string, message: string): void };
  /**
   * The ledger log: served at `/log`, appended (and cosigned by `witnesses`) as the indexer sees
   * anchored batches. Absent: no log.
   */
  ledgerLog?:
    | {
        log: TiledLog;
        witnesses: readonly WitnessEndpoint[];
        /** Records each new checkpoint on the ledger (an account with LOG_ROLE). */
        recordOnChain?: LogCheckpointRecorder | undefined;
        /**
         * The trust policy file (c2sp.org/tlog-policy): served at `/trust-policy.txt`, and a
         * receipt's log bundle leaves only with a checkpoint that satisfies it.
         */
        policyFile?: string | undefined;
      }
    | undefined;
  /** "My insurance history": the server's VRF key (pi per person) and the demo's one-time code. */
  persons?:
    | { personKey?: ((personId: string) => PersonKeyMaterial) | undefined; demoLoginCode?: string }
    | undefined;
  /** How often the chain is checked again after it turned out to be another chain (default 30 s). */
  mismatchRetryMs?: number;
}

export interface ServeStack {
  readonly url: string;
  readonly indexer: Indexer;
  /** The ledger log's follower, when a log is configured. */
  readonly ledgerLog: LedgerLogFollower | undefined;
  /** True when the portal is served at `/`. */
  readonly portal: boolean;
  /**
   * Starts following the chain; resolves when `close()` stops it, rejects on a fatal indexer
   * error. When the node serves another chain than the one indexed (another genesis, chain id or
   * contract), it keeps serving what is indexed with an alarm and checks the chain again.
   */
  follow(): Promise<void>;
  /** The alarm raised while the node serves another chain, else undefined. */
  readonly alarm: string | undefined;
  /** Stops the indexer, then the server (gracefully), then closes the stores. Idempotent. */
  close(): Promise<void>;
}

/** How long one live read of a batch answers the "root on chain" checks of POST /verify. */
const CHAIN_READ_TTL_MS = 2_000;

/**
 * The contract's own view of a batch, for the "root on chain" check of POST /verify. Concurrent
 * and back-to-back verifications of one batch share one `eth_call` for `CHAIN_READ_TTL_MS` (a
 * burst of verifications must not become a burst of calls to the node); failures are not kept.
 */
function chainReader(rpc: Rpc, address: string): ChainBatchReader {
  const client = createLedgerClient({ rpc, address });
  const recent = new Map<number, { at: number; read: ReturnType<ChainBatchReader["readBatch"]> }>();
  const read = async (batchId: number) => {
    try {
      const { batch } = await client.readBatch(batchId, "latest");
      return { root: batch.root, supersededBy: batch.supersededBy };
    } catch (error) {
      if (error instanceof ContractRevertError && error.errorName === "LedgerUnknownBatch")
        return undefined;
      throw error;
    }
  };
  return {
    readBatch(batchId) {
      const now = Date.now();
      const kept = recent.get(batchId);
      if (kept !== undefined && now - kept.at < CHAIN_READ_TTL_MS) return kept.read;
      if (recent.size > 1_000) recent.clear();
      const pending = read(batchId);
      recent.set(batchId, { at: now, read: pending });
      pending.catch(() => {
        if (recent.get(batchId)?.read === pending) recent.delete(batchId);
      });
      return pending;
    },
  };
}

/**
 * The portal is built into WEB_ROOT on first use (esbuild, well under a second). Where the build
 * tools are absent (a production install without dev dependencies) the API is served alone.
 */
async function ensurePortal(log: ServeStackOptions["log"]): Promise<boolean> {
  if (existsSync(path.join(WEB_ROOT, "index.html"))) return true;
  try {
    const { buildWeb } = await import("./build-web.ts");
    await buildWeb({ outDir: WEB_ROOT });
    return true;
  } catch (error) {
    log.warn("portal-not-built", {
      message: (error as Error).message,
      hint: "run `npm run build:web` where the dev dependencies are installed",
    });
    return false;
  }
}

/**
 * Builds and starts the stack; the indexer does not run until `follow()`.
 *
 * @example
 * const stack = await startServeStack({ rpcUrls: [url], contract, host: "127.0.0.1", port: 8080, … });
 * const following = stack.follow();
 * // … on SIGINT: await stack.close(); await following;
 */
export async function startServeStack(options: ServeStackOptions): Promise<ServeStack> {
  const { index, ledger, log } = options;
  const rpc = createRpc({ urls: [...options.rpcUrls] });
  const ledgerLog =
    options.ledgerLog === undefined
      ? undefined
      : createLedgerLogFollower({
          index,
          log: options.ledgerLog.log,
          witnesses: options.ledgerLog.witnesses,
          recordOnChain: options.ledgerLog.recordOnChain,
          report(result, error) {
            if (error !== undefined) {
              const e = error as { shortMessage?: string; message?: string; code?: string };
              log.error("ledger-log", {
                message: e.shortMessage ?? e.message,
                code: e.code,
                hint: "the log is not appended until this is resolved; see docs/spec/log-entry-v1.md",
              });
            } else if (result !== undefined && result.appended > 0) {
              log.info("ledger-log", {
                appended: result.appended,
                size: result.size,
                cosigned: result.cosign.filter((o) => o.ok).map((o) => o.name),
                notCosigned: result.cosign
                  .filter((o) => !o.ok)
                  .map((o) => ({ name: o.name, detail: o.detail })),
                ...(result.waitingBefore === undefined
                  ? {}
                  : { waitingForBatch: result.waitingBefore }),
              });
            }
            if (result?.onChain?.status === "recorded") {
              log.info("ledger-log-on-chain", {
                size: result.onChain.size,
                previousSize: result.onChain.previousSize,
                txHash: result.onChain.txHash,
              });
            } else if (result?.onChain?.status === "chain-ahead") {
              log.info("ledger-log-on-chain", {
                size: result.onChain.size,
                recordedSize: result.onChain.recordedSize,
                detail: "the ledger holds a larger checkpoint; compared when the log reaches it",
              });
            } else if (result?.onChainError !== undefined) {
              const e = result.onChainError as {
                shortMessage?: string;
                message?: string;
                code?: string;
              };
              log.error("ledger-log-on-chain", {
                message: e.shortMessage ?? e.message,
                code: e.code,
                hint: "the log is served and cosigned; its checkpoint is recorded on the ledger at the next run",
              });
            }
          },
        });
  const indexer = createIndexer({
    rpc,
    store: index,
    address: options.contract,
    confirmations: options.confirmations,
    log: {
      info: (m) => log.line("info", m),
      warn: (m) => log.line("warn", m),
      error: (m) => log.line("error", m),
    },
    manifestSource: createArtifactManifestSource(path.join(options.dataDir, "batches")),
    ...(ledgerLog === undefined
      ? {}
      : {
          onUpdate: (update: { anchored: number[] }) => {
            if (update.anchored.length > 0) void ledgerLog.sync();
          },
        }),
  });
  const portal = await ensurePortal(log);
  const policyFile = options.ledgerLog?.policyFile;
  const trustPolicy = policyFile === undefined ? undefined : await readFile(policyFile, "utf8");
  // Auditors' reports and governance's account names live beside the stores (README "Auditors' findings").
  const accountNames = await readAccountNames(path.join(options.dataDir, "names.json"));
  let alarm: string | undefined;
  const api = createApp({
    auditReports: createAuditReportFolder(path.join(options.dataDir, "audits")),
    accountNames,
    chainAlarm: () => alarm,
    index,
    ledger,
    verify: verifyDocument, // shafaf-receipt/1 (core's verifyReceipt, unchanged) and /2
    chain: chainReader(rpc, options.contract),
    apiKeys: options.apiKeys,
    log,
    rateLimit: options.rateLimit,
    trustProxy: options.trustProxy,
    ...(options.anchorJob === undefined ? {} : { anchorJob: options.anchorJob }),
    ...(portal ? { webRoot: WEB_ROOT } : {}),
    ...(options.ledgerLog === undefined
      ? {}
      : {
          logRouter: createLogRouter({ dir: options.ledgerLog.log.dir }),
          logBundle: createLogBundleSource({
            log: options.ledgerLog.log,
            ...(trustPolicy === undefined
              ? {}
              : { policy: parseTrustPolicy(trustPolicy, policyFile) }),
          }),
          ...(trustPolicy === undefined ? {} : { trustPolicy }),
        }),
    ...(options.cors === undefined ? {} : { cors: options.cors }),
    ...(options.persons === undefined ? {} : { persons: options.persons }),
    ...(options.publicRpc === undefined ? {} : { rpcUrlForBrowsers: options.publicRpc }),
  });
  const running = await startServer({
    api,
    host: options.host,
    port: options.port,
    onClosed: async () => {
      await index.close();
      await ledger.close();
    },
  });
  let closing: Promise<void> | undefined;
  let wakeFollow: (() => void) | undefined;
  async function follow(): Promise<void> {
    for (;;) {
      try {
        if (alarm !== undefined) {
          await indexer.syncOnce(); // throws again while the node serves another chain
          alarm = undefined;
          log.info("chain-mismatch-cleared", {});
        }
        void ledgerLog?.sync(); // what was indexed before this start
        await indexer.start();
        return;
      } catch (error) {
        if (closing !== undefined) return;
        if (error instanceof ChainMismatchError) {
          if (alarm === undefined) {
            log.error("chain-mismatch", {
              message: error.shortMessage,
              code: error.code,
              hint: "serving the indexed views with an alarm; point --rpc at the indexed chain, or --reindex",
            });
          }
          alarm = `ALARM: ${error.shortMessage}. The views are those indexed before; nothing newer is followed.`;
        } else if (alarm === undefined || !isRetryable(error)) {
          throw error;
        } // else: the node did not answer the re-check; keep the alarm and wait
      }
      await new Promise<void>((resolve) => {
        wakeFollow = resolve;
        setTimeout(resolve, options.mismatchRetryMs ?? 30_000).unref();
      });
      wakeFollow = undefined;
      if (closing !== undefined) return;
    }
  }
  return {
    url: running.url,
    indexer,
    ledgerLog,
    portal,
    follow,
    get alarm() {
      return alarm;
    },
    close() {
      closing ??= (async () => {
        wakeFollow?.();
        await indexer.stop();
        await ledgerLog?.idle();
        await running.close();
      })();
      return closing;
    },
  };
}
