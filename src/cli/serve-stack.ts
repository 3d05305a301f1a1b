/**
 * The serving stack shared by `shafaf serve` and `npm start`: the indexer (embedded, following
 * the chain in the background), the API over the index and ledger stores, core's receipt
 * verifier, a live chain reader for POST /verify, and the portal when it is built.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import type { ApiKeyEntry } from "../api/api-keys.ts";
import type { AnchorJobFn, ApiLog, ChainBatchReader } from "../api/app-deps.ts";
import { createApp } from "../api/create-app.ts";
import type { RateLimitOptions } from "../api/rate-limit.ts";
import { startServer } from "../api/start-server.ts";
import { ContractRevertError, createLedgerClient } from "../chain/ledger-client.ts";
import { createRpc, type Rpc } from "../chain/rpc.ts";
import { verifyReceipt } from "../core/verify-receipt.ts";
import { createArtifactManifestSource } from "../indexer/artifact-manifest-source.ts";
import { createIndexer, type Indexer } from "../indexer/create-indexer.ts";
import type { WritableIndexStore } from "../store/index-store.ts";
import type { LedgerStore } from "../store/ledger-store.ts";

/** Where `scripts/build-web.ts` puts the portal. */
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
  /** Opened by the caller; closed by `close()`. */
  ledger: LedgerStore;
  apiKeys: readonly ApiKeyEntry[];
  anchorJob?: AnchorJobFn | undefined;
  rateLimit: RateLimitOptions | false;
  trustProxy: number;
  cors?: readonly string[] | undefined;
  publicRpc?: string | undefined;
  log: ApiLog & { line(level: string, message: string): void };
}

export interface ServeStack {
  readonly url: string;
  readonly indexer: Indexer;
  /** True when the portal is served at `/`. */
  readonly portal: boolean;
  /** Starts following the chain; resolves when `close()` stops it, rejects on a fatal indexer error. */
  follow(): Promise<void>;
  /** Stops the indexer, then the server (gracefully), then closes the stores. Idempotent. */
  close(): Promise<void>;
}

/** The contract's own view of a batch, for the "root on chain" check of POST /verify. */
function chainReader(rpc: Rpc, address: string): ChainBatchReader {
  const client = createLedgerClient({ rpc, address });
  return {
    async readBatch(batchId) {
      try {
        const b = await client.getBatch(batchId, "latest");
        return { root: b.root, supersededBy: b.supersededBy };
      } catch (error) {
        if (error instanceof ContractRevertError && error.errorName === "LedgerUnknownBatch")
          return undefined;
        throw error;
      }
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
  });
  const portal = await ensurePortal(log);
  const api = createApp({
    index,
    ledger,
    verify: verifyReceipt,
    chain: chainReader(rpc, options.contract),
    apiKeys: options.apiKeys,
    log,
    rateLimit: options.rateLimit,
    trustProxy: options.trustProxy,
    ...(options.anchorJob === undefined ? {} : { anchorJob: options.anchorJob }),
    ...(portal ? { webRoot: WEB_ROOT } : {}),
    ...(options.cors === undefined ? {} : { cors: options.cors }),
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
  return {
    url: running.url,
    indexer,
    portal,
    follow: () => indexer.start(),
    close() {
      closing ??= (async () => {
        await indexer.stop();
        await running.close();
      })();
      return closing;
    },
  };
}
