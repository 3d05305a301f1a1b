import { existsSync } from "node:fs";
import express, { type Express, type Router } from "express";
import type { Registry } from "prom-client";
import type {
  AnchorJobFn,
  ApiLog,
  ChainBatchReader,
  IndexReader,
  LedgerReader,
  VerifyReceiptFn,
} from "./app-deps.ts";
import type { ApiKeyEntry } from "./api-keys.ts";
import { createConcurrencyGate } from "./concurrency-gate.ts";
import { createHttpMetrics } from "./http-metrics.ts";
import {
  apiNotFound,
  drainGuard,
  earlyBodyLimit,
  errorHandler,
  methodNotAllowed,
  notFound,
  rateLimited,
} from "./middleware.ts";
import { createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import { createReadiness } from "./readiness.ts";
import { createRequestValidators } from "./request-validator.ts";
import { batchRoutes } from "./routes/batches.ts";
import { chainRecordRoutes } from "./routes/chain-records.ts";
import { chainRoutes } from "./routes/chain.ts";
import { findingsRoutes } from "./routes/findings.ts";
import { openApiDocumentRoutes } from "./routes/openapi-document.ts";
import { operationsRoutes } from "./routes/operations.ts";
import { portalRoutes } from "./routes/portal.ts";
import { personRoutes, type PersonKeyMaterial } from "./routes/persons.ts";
import { batchTilesRoutes } from "./routes/batch-tiles.ts";
import { receiptRoutes, type LogBundleOfBatch } from "./routes/receipts.ts";
import { trustPolicyRoute } from "./routes/trust-policy.ts";
import { staffRoutes } from "./routes/staff.ts";
import { statsRoutes } from "./routes/stats.ts";
import { verifyRoutes } from "./routes/verify.ts";
import { cors, securityHeaders } from "./security-headers.ts";
import { parseReceiptCode } from "../core/receipt-code.ts";
import { createVerifyPolicy } from "./verify-policy.ts";

export interface CreateAppOptions {
  /** The indexer's views (read only). */
  index: IndexReader;
  /** The anchor pipeline's store: receipts by code and by subject (read only). */
  ledger: LedgerReader;
  /** Core's `verifyReceipt`, used on every receipt before it leaves and by POST /verify. */
  verify: VerifyReceiptFn;
  /** A live contract reader for the "root on chain" check of POST /verify. */
  chain?: ChainBatchReader;
  /** The anchor pipeline for POST /api/v1/batches; without it that endpoint answers 503. */
  anchorJob?: AnchorJobFn;
  /** Staff keys (hashes); an empty list disables the staff endpoints (every call is 401). */
  apiKeys: readonly ApiKeyEntry[];
  log: ApiLog;
  /** Folder of the built portal, served at `/`. */
  webRoot?: string;
  /** The ledger log (c2sp.org/tlog-tiles), served at `/log` (src/log/log-routes.ts). */
  logRouter?: Router;
  /** Receipts leave with their batch's log bundle (docs/spec/log-bundle-v1.md) when it has one. */
  logBundle?: LogBundleOfBatch;
  /** The trust policy text (c2sp.org/tlog-policy) served at `/trust-policy.txt` for the portal. */
  trustPolicy?: string;
  /** Origins allowed cross-origin access (`*` for any); CORS is off when absent or empty. */
  cors?: readonly string[];
  /** Token bucket per client address on public endpoints; `false` turns it off. */
  rateLimit?: RateLimitOptions | false;
  /** A JSON-RPC URL browsers may use to read the chain: shown in /chain and allowed by the CSP. */
  rpcUrlForBrowsers?: string;
  /** Largest upload accepted by POST /api/v1/batches (default 64 MiB). */
  uploadLimitBytes?: number;
  /** Express's `trust proxy` (default false: the client address is the socket's). */
  trustProxy?: boolean | number | string;
  /**
   * Receipt code canonicalisation: the text as typed → the code the ledger store is keyed by,
   * or undefined when it cannot be a code. Default: core's `parseReceiptCode` (case, spaces,
   * dashes, Persian and Arabic digits, O/0 and I/L/1, check symbol).
   */
  parseReceiptCode?: (text: string) => string | undefined;
  /**
   * Auditors' published reports by hash (`<data-dir>/audits/`). A report is used only when its
   * keccak256 is the hash attested on-chain; only its findings (names, positions, counts) are served.
   */
  auditReports?: { read(reportHash: string): Promise<Uint8Array | undefined> };
  /** Governance's names of accounts (lower-case address → `{fa, en}`), served in /chain. */
  accountNames?: Readonly<Record<string, { fa: string; en: string }>>;
  /** POST /verify calls run at once (default 4); others wait in a queue. */
  verifyConcurrency?: number;
  /** POST /verify calls that may wait (default 64); beyond, 503 `busy` with Retry-After. */
  verifyQueue?: number;
  /**
   * An alarm raised outside the index (the serve stack's: the node serves another chain than
   * the one indexed). While set, /api/v1/chain reports the head check as `mismatch` with it.
   */
  chainAlarm?: () => string | undefined;
  /**
   * "My insurance history": pi for a person identifier (the server holds the VRF key); without
   * it the key endpoints answer 503. `demoLoginCode` enables `POST /api/v1/demo/login` (npm start only).
   */
  persons?: {
    personKey?: ((personId: string) => PersonKeyMaterial) | undefined;
    demoLoginCode?: string | undefined;
  };
}

export interface ShafafApi {
  /** The Express application (a request handler for `http.createServer`). */
  app: Express;
  /** The app's own Prometheus registry. */
  metrics: Registry;
  /**
   * Starts shutting down: /readyz answers 503, new requests get 503 `shutting-down` with
   * `Connection: close`; requests already running finish normally.
   */
  drain(): void;
}

/** Core's receipt code parser as `text → code | undefined`. */
function defaultParseCode(text: string): string | undefined {
  const parsed = parseReceiptCode(text);
  return parsed.ok ? parsed.code : undefined;
}

/**
 * The transparency API: public views of anchored batches, statistics, receipts and proofs, and
 * staff endpoints behind API keys. Reads the stores, never writes them; never drives the indexer
 * or signs (uploads go to the injected `anchorJob`). The order of the mounts is the behaviour:
 * middleware, operations, staff (before the rate limit), public routes, 405/404, log, portal.
 *
 * @example
 * const api = createApp({ index, ledger, verify: verifyReceipt, apiKeys: [], log });
 * const running = await startServer({ api, port: 8080, onClosed: () => closeStores() });
 * // on SIGTERM: await running.close(); // drains, finishes in-flight requests, closes the stores
 */
export function createApp(options: CreateAppOptions): ShafafApi {
  const { index, ledger, log } = options;
  const parseCode = options.parseReceiptCode ?? defaultParseCode;
  const policy = createVerifyPolicy({
    index,
    ledger,
    verify: options.verify,
    chain: options.chain,
    parseCode,
  });
  const validators = createRequestValidators();
  const metrics = createHttpMetrics(index);
  const limiter = options.rateLimit === false ? undefined : createRateLimiter(options.rateLimit);
  const readiness = createReadiness(index);
  const uploadLimit = options.uploadLimitBytes ?? 64 * 1024 * 1024;
  const gate = createConcurrencyGate({
    concurrency: options.verifyConcurrency ?? 4,
    queue: options.verifyQueue ?? 64,
  });
  let draining = false;

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("trust proxy", options.trustProxy ?? false);
  app.set("query parser", "simple");

  app.use(metrics.middleware);
  app.use(drainGuard(() => draining));
  app.use(securityHeaders(options.rpcUrlForBrowsers));
  app.use(earlyBodyLimit(uploadLimit));
  if (options.cors !== undefined && options.cors.length > 0) app.use(cors(options.cors));

  app.use(operationsRoutes(validators, { readiness, registry: metrics.registry }));
  app.use(
    staffRoutes(validators, {
      ledger,
      anchorJob: options.anchorJob,
      apiKeys: options.apiKeys,
      limiter,
      log,
      uploadLimit,
    }),
  );

  app.use("/api", rateLimited(limiter));
  // The lookups first (receipts, person proofs: the most frequent public calls): no route before
  // them matches their paths, so the order changes no answer, only the routers a lookup passes.
  app.use(
    receiptRoutes(validators, {
      index,
      ledger,
      policy,
      parseCode,
      log,
      ...(options.logBundle === undefined ? {} : { logBundle: options.logBundle }),
    }),
  );
  app.use(
    personRoutes(validators, {
      index,
      ledger,
      personKey: options.persons?.personKey,
      demoLoginCode: options.persons?.demoLoginCode,
      logBundle: options.logBundle,
      apiKeys: options.apiKeys,
      limiter,
      log,
    }),
  );
  app.use(openApiDocumentRoutes(validators));
  app.use(batchRoutes(validators, { index }));
  app.use(batchTilesRoutes(validators, { ledger }));
  app.use(findingsRoutes(validators, { index, auditReports: options.auditReports, log }));
  app.use(statsRoutes(validators, { index }));
  app.use(verifyRoutes(validators, { policy, gate }));
  app.use(
    chainRoutes(validators, {
      index,
      readiness,
      chainAlarm: options.chainAlarm,
      rpcUrlForBrowsers: options.rpcUrlForBrowsers,
      accountNames: options.accountNames,
    }),
  );
  app.use(chainRecordRoutes(validators, { index }));

  app.use(methodNotAllowed());
  app.use("/api", apiNotFound);
  if (options.logRouter !== undefined) app.use("/log", options.logRouter);
  if (options.trustPolicy !== undefined) app.use(trustPolicyRoute(options.trustPolicy));
  if (options.webRoot !== undefined && existsSync(options.webRoot))
    app.use(portalRoutes(options.webRoot));
  app.use(notFound);
  app.use(errorHandler(log));

  return {
    app,
    metrics: metrics.registry,
    drain() {
      draining = true;
    },
  };
}
