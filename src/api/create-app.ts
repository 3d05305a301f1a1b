import { existsSync } from "node:fs";
import path from "node:path";
import { keccak256 } from "ethers";
import express, {
  type Express,
  type NextFunction,
  type Request,
  type RequestHandler,
  type Response,
  type Router,
} from "express";
import type { Registry } from "prom-client";
import type {
  AnchorJobFn,
  ApiLog,
  BatchView,
  ChainBatchReader,
  ChainInfo,
  IndexReader,
  LedgerReader,
  StoredReceipt,
  VerifyCheck,
  VerifyReceiptFn,
  VerifyResult,
  VerifyTrust,
} from "./app-deps.ts";
import { findApiKey, type ApiKeyEntry, type ApiKeyScope } from "./api-keys.ts";
import { AUDIT_FINDINGS_FORMAT, auditFindings } from "./audit-findings.ts";
import { sendCacheable } from "./http-cache.ts";
import { createHttpMetrics } from "./http-metrics.ts";
import { parseReceiptCode } from "../core/receipt-code.ts";
import { openApiDocument } from "./openapi.ts";
import { createConcurrencyGate } from "./concurrency-gate.ts";
import { ApiProblem, sendProblem } from "./problem.ts";
import { createRateLimiter, type RateLimitOptions } from "./rate-limit.ts";
import { createRequestValidators } from "./request-validator.ts";
import { cors, securityHeaders } from "./security-headers.ts";
import { MIN_CELL_PEOPLE, suppressBreakdown, suppressStats } from "./suppress-small-cells.ts";

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

const JSON_LIMIT = "64kb";
const JSON_LIMIT_BYTES = 64 * 1024;
const JSON_TYPES = ["application/json", "application/*+json"];
const UPLOAD_TYPES = [
  "application/octet-stream",
  "text/csv",
  "application/zip",
  "application/x-ndjson",
];

/** `/api/v1/batches/{id}` → `/api/v1/batches/:id`. */
function expressPath(openApiPath: string): string {
  return openApiPath.replace(/\{([^}]+)\}/g, ":$1");
}

/** The documented projection of a batch: listed fields only, small provincial cells suppressed. */
function publicBatch(b: BatchView): Record<string, unknown> {
  const manifest: Record<string, unknown> = { status: b.manifest.status };
  if (b.manifest.byProvince !== undefined)
    manifest.byProvince = suppressBreakdown(b.manifest.byProvince);
  if (b.manifest.byCategory !== undefined)
    manifest.byCategory = suppressBreakdown(b.manifest.byCategory);
  if (b.manifest.onTime !== undefined) manifest.onTime = b.manifest.onTime;
  if (b.manifest.late !== undefined) manifest.late = b.manifest.late;
  if (b.manifest.reason !== undefined) manifest.reason = b.manifest.reason;
  const out: Record<string, unknown> = {
    batchId: b.batchId,
    kind: b.kind,
    period: b.period,
    root: b.root,
    recordCount: b.recordCount,
    total: b.total,
    manifestHash: b.manifestHash,
    idempotencyKey: b.idempotencyKey,
    headAfter: b.headAfter,
    anchorer: b.anchorer,
    anchoredAt: b.anchoredAt,
    txHash: b.txHash,
    blockNumber: b.blockNumber,
    blockHash: b.blockHash,
    supersedes: b.supersedes,
    supersededBy: b.supersededBy,
    status: b.status,
    attestations: b.attestations.map((a) => ({
      auditor: a.auditor,
      verdict: a.verdict,
      reportHash: a.reportHash,
      txHash: a.txHash,
      blockNumber: a.blockNumber,
    })),
    manifest,
  };
  if (b.sealedBy !== undefined) out.sealedBy = [...b.sealedBy];
  out.scheme = b.scheme ?? "shafaf-tree/1";
  if (b.scheme === "shafaf-tree/2" && b.totals !== undefined) {
    const persons = Number(b.totals[1]);
    out.persons = persons;
    out.lanes = persons < MIN_CELL_PEOPLE ? { suppressed: true } : namedLanes(b.kind, b.totals);
    if (b.vrfKeyId !== undefined) out.vrfKeyId = b.vrfKeyId;
  }
  return out;
}

/** A v2 batch's amount lanes (2 …) by name, tree-v2.md §4. */
function namedLanes(kind: BatchView["kind"], totals: readonly string[]): Record<string, string> {
  const [, , a, b, c, d] = totals;
  return kind === "premium"
    ? { insurableWage: a!, days: b!, premium: c! }
    : { gross: a!, deductions: b!, net: c!, onTime: d! };
}

function isCaughtUp(info: ChainInfo): boolean {
  return info.lastIndexedBlock >= info.headBlock - info.confirmations;
}

function sameHex(a: unknown, b: unknown): boolean {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

/** The batch id of a stored receipt (`shafaf-receipt/1` member `batchId`), if well formed. */
function receiptBatchId(receipt: StoredReceipt): number | undefined {
  const id = receipt.batchId;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

function toCheck(c: unknown): VerifyCheck {
  const x = (c ?? {}) as Record<string, unknown>;
  const check: VerifyCheck = {
    name: typeof x.name === "string" ? x.name : "unnamed",
    ok: x.ok === true,
    detail: typeof x.detail === "string" ? x.detail : "",
  };
  if (x.expected !== undefined)
    check.expected = typeof x.expected === "string" ? x.expected : JSON.stringify(x.expected);
  if (x.computed !== undefined)
    check.computed = typeof x.computed === "string" ? x.computed : JSON.stringify(x.computed);
  if (x.outcome === "pass" || x.outcome === "fail" || x.outcome === "inconclusive") {
    check.outcome = x.outcome;
  }
  return check;
}

async function safeVerify(
  verify: VerifyReceiptFn,
  receipt: unknown,
  trust: VerifyTrust,
): Promise<VerifyResult> {
  try {
    const r = await verify(receipt, trust);
    return { status: r.status, checks: (r.checks ?? []).map(toCheck) };
  } catch {
    // verifyReceipt MUST NOT throw; if it does, the receipt is not verified.
    return {
      status: "failed",
      checks: [{ name: "verifier", ok: false, detail: "the verifier rejected the receipt" }],
    };
  }
}

/**
 * The transparency API: public views of anchored batches, statistics, receipts and proofs, and
 * staff endpoints behind API keys. Reads the stores, never writes them; never drives the indexer
 * or signs (uploads go to the injected `anchorJob`).
 *
 * @example
 * const api = createApp({ index, ledger, verify: verifyReceipt, apiKeys: [], log });
 * const running = await startServer({ api, port: 8080, onClosed: () => closeStores() });
 * // on SIGTERM: await running.close(); // drains, finishes in-flight requests, closes the stores
 */
export function createApp(options: CreateAppOptions): ShafafApi {
  const { index, ledger, verify, log } = options;
  const parseCode =
    options.parseReceiptCode ??
    ((text: string) => {
      const parsed = parseReceiptCode(text);
      return parsed.ok ? parsed.code : undefined;
    });
  /** The chain and contract of the index (fixed for a store's life), read once. */
  let binding: { chainId: number; contract: string } | undefined;
  const trustFor = async (root: string): Promise<VerifyTrust> => {
    if (binding === undefined) {
      const info = await index.getChainInfo();
      if (info !== undefined) binding = { chainId: info.chainId, contract: info.contract };
    }
    return binding === undefined ? { root } : { root, ...binding };
  };
  const validator = createRequestValidators();
  const metrics = createHttpMetrics(index);
  const limiter = options.rateLimit === false ? undefined : createRateLimiter(options.rateLimit);
  let draining = false;
  let caughtUpOnce = false;
  const uploadLimit = options.uploadLimitBytes ?? 64 * 1024 * 1024;
  const verifyGate = createConcurrencyGate({
    concurrency: options.verifyConcurrency ?? 4,
    queue: options.verifyQueue ?? 64,
  });

  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("trust proxy", options.trustProxy ?? false);
  app.set("query parser", "simple");

  /** Registers a documented operation; the label for metrics is the OpenAPI path. */
  const route = (method: "get" | "post", openApiPath: string, ...handlers: RequestHandler[]) => {
    const label: RequestHandler = (_req, res, next) => {
      res.locals.route = openApiPath;
      next();
    };
    app[method](expressPath(openApiPath), label, ...handlers);
  };
  const validate = (method: string, openApiPath: string) => validator(`${method} ${openApiPath}`);

  const rateLimited: RequestHandler = (req, _res, next) => {
    if (limiter === undefined) return next();
    const verdict = limiter.take(req.ip ?? "unknown");
    if (verdict.ok) return next();
    next(
      new ApiProblem("rate-limited", `slow down: try again in ${verdict.retryAfterSeconds} s`, {
        headers: { "Retry-After": String(verdict.retryAfterSeconds) },
        extensions: { retryAfter: verdict.retryAfterSeconds },
      }),
    );
  };

  const requireScope =
    (scope: ApiKeyScope): RequestHandler =>
    (req, res, next) => {
      const started = Date.now();
      let keyId: string | null = null;
      res.once("finish", () => {
        log.info("staff-call", {
          keyId,
          method: req.method,
          route: res.locals.route as string,
          status: res.statusCode,
          ms: Date.now() - started,
        });
      });
      const header = req.headers.authorization;
      const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : undefined;
      const challenge = { "WWW-Authenticate": 'Bearer realm="shafaf-staff"' };
      if (token === undefined || token === "") {
        return next(
          new ApiProblem(
            "unauthorized",
            "send the staff API key as `Authorization: Bearer <key>`",
            {
              headers: challenge,
            },
          ),
        );
      }
      const key = findApiKey(options.apiKeys, token);
      if (key === undefined) {
        // Guessing keys costs the guesser the public rate limit (a 256-bit key is not guessable;
        // this bounds the noise and the hashing work).
        const verdict = limiter?.take(req.ip ?? "unknown");
        if (verdict !== undefined && !verdict.ok) {
          return next(
            new ApiProblem(
              "rate-limited",
              `slow down: try again in ${verdict.retryAfterSeconds} s`,
              {
                headers: { "Retry-After": String(verdict.retryAfterSeconds) },
                extensions: { retryAfter: verdict.retryAfterSeconds },
              },
            ),
          );
        }
        return next(
          new ApiProblem(
            "unauthorized",
            "the API key is not known to this server (was it revoked?)",
            {
              headers: challenge,
            },
          ),
        );
      }
      keyId = key.id;
      res.locals.apiKeyId = key.id;
      if (!key.scopes.includes(scope)) {
        return next(
          new ApiProblem(
            "forbidden",
            `this endpoint needs the "${scope}" scope; key "${key.id}" has ${key.scopes.join(", ")}`,
            {
              extensions: { requiredScope: scope },
            },
          ),
        );
      }
      next();
    };

  app.use(metrics.middleware);
  app.use((_req, res, next) => {
    if (draining) {
      res.setHeader("Connection", "close");
      return next(
        new ApiProblem("shutting-down", "this server is stopping; retry on another instance"),
      );
    }
    next();
  });
  app.use(securityHeaders(options.rpcUrlForBrowsers));
  // A declared Content-Length over the route's limit is refused before any byte of the body is
  // read, and the connection closed: the body parsers would otherwise drain it all first.
  app.use((req, _res, next) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    const limit =
      req.method === "POST" && req.path === "/api/v1/batches" ? uploadLimit : JSON_LIMIT_BYTES;
    if (!(declared > limit)) return next();
    next(
      new ApiProblem(
        "body-too-large",
        `the declared body of ${declared} bytes is larger than this endpoint accepts (${limit} bytes)`,
        { headers: { Connection: "close" } },
      ),
    );
  });
  if (options.cors !== undefined && options.cors.length > 0) app.use(cors(options.cors));

  // ── operations (not rate limited: probes and scrapers poll them) ──
  route("get", "/healthz", (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.json({ status: "ok" });
  });

  route("get", "/readyz", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    if (!caughtUpOnce) {
      try {
        const info = await index.getChainInfo();
        if (info !== undefined && isCaughtUp(info)) caughtUpOnce = true;
      } catch {
        // not ready
      }
    }
    if (caughtUpOnce) res.json({ ready: true, reason: "the indexer has caught up with the chain" });
    else
      res
        .status(503)
        .json({ ready: false, reason: "the indexer has not caught up with the chain yet" });
  });

  route("get", "/metrics", async (_req, res) => {
    res.setHeader("Cache-Control", "no-store");
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  // ── staff: authenticate before anything is read ──
  route(
    "post",
    "/api/v1/batches",
    requireScope("anchor"),
    (req, res, next) => {
      // Query first: a bad request is refused before a large body is read.
      res.locals.query = validate("POST", "/api/v1/batches")(req).query;
      if (options.anchorJob === undefined) {
        return next(
          new ApiProblem(
            "anchoring-unavailable",
            "this server was started without an anchor pipeline; anchor with `shafaf anchor` or start `shafaf serve` with a signer",
          ),
        );
      }
      if (!req.is(UPLOAD_TYPES)) {
        return next(
          new ApiProblem(
            "unsupported-media-type",
            `send the file as the raw body with Content-Type one of ${UPLOAD_TYPES.join(", ")}`,
          ),
        );
      }
      next();
    },
    express.raw({ type: UPLOAD_TYPES, limit: uploadLimit }),
    async (req, res) => {
      const query = res.locals.query as Record<string, unknown>;
      const anchorJob = options.anchorJob!;
      const body = req.body as unknown;
      if (!Buffer.isBuffer(body) || body.length === 0) {
        throw new ApiProblem(
          "invalid-request",
          "the request body is empty: send the file's bytes",
          {
            extensions: { errors: [{ in: "body", pointer: "/", message: "empty" }] },
          },
        );
      }
      const upload = {
        kind: query.kind as "premium" | "pension",
        period: query.period as string,
        format: query.format as "csv" | "jsonl" | "sso-zip",
        bytes: new Uint8Array(body.buffer, body.byteOffset, body.length),
        uploadedBy: res.locals.apiKeyId as string,
        ...(query.supersedes === undefined ? {} : { supersedes: query.supersedes as number }),
        ...(query.reason === undefined ? {} : { reason: query.reason as string }),
        ...(query.province === undefined ? {} : { province: query.province as string }),
      };
      let outcome;
      try {
        outcome = await anchorJob(upload);
      } catch (error) {
        const issues = (error as { issues?: unknown }).issues;
        if (Array.isArray(issues)) {
          throw new ApiProblem(
            "upload-rejected",
            `${issues.length} record issue(s); fix the file and upload it again`,
            {
              extensions: {
                issues: issues.slice(0, 100).map((raw: unknown) => {
                  const i = (raw ?? {}) as Record<string, unknown>;
                  return Object.fromEntries(
                    ["line", "field", "rule", "message", "hint"]
                      .filter((k) => i[k] !== undefined)
                      .map((k) => [k, i[k]]),
                  );
                }),
              },
            },
          );
        }
        log.error("anchor-failed", { keyId: upload.uploadedBy, error: (error as Error).name });
        throw new ApiProblem(
          "anchor-failed",
          "the pipeline could not anchor the file; uploading it again resumes safely",
          {
            cause: error,
          },
        );
      }
      res
        .status(201)
        .location(`/api/v1/batches/${outcome.batchId}`)
        .setHeader("Cache-Control", "no-store")
        .json({
          batchId: outcome.batchId,
          txHash: outcome.txHash,
          root: outcome.root,
          recordCount: outcome.recordCount,
          total: outcome.total,
        });
    },
  );

  route(
    "get",
    "/api/v1/subjects/{pseudonym}/receipts",
    requireScope("subjects:read"),
    async (req, res) => {
      const { params } = validate("GET", "/api/v1/subjects/{pseudonym}/receipts")(req);
      const items = await ledger.listReceiptsBySubject((params.pseudonym as string).toLowerCase());
      res.setHeader("Cache-Control", "no-store");
      res.json({ items });
    },
  );

  // ── public ──
  app.use("/api", rateLimited);

  route("get", "/api/v1/openapi.json", (_req, res) => {
    res.setHeader("Cache-Control", "public, max-age=300");
    res.json(openApiDocument);
  });

  route("get", "/api/v1/batches", async (req, res) => {
    const { query } = validate("GET", "/api/v1/batches")(req);
    const from = query.from as string | undefined;
    const to = query.to as string | undefined;
    if (from !== undefined && to !== undefined && from > to) {
      throw new ApiProblem("invalid-request", `from (${from}) is after to (${to})`, {
        extensions: { errors: [{ in: "query", name: "from", message: "must not be after `to`" }] },
      });
    }
    const page = await index.listBatches({
      limit: query.limit as number,
      ...(query.kind === undefined ? {} : { kind: query.kind as "premium" | "pension" }),
      ...(from === undefined ? {} : { fromPeriod: from }),
      ...(to === undefined ? {} : { toPeriod: to }),
      ...(query.status === undefined ? {} : { status: query.status as BatchView["status"] }),
      ...(query.cursor === undefined ? {} : { cursor: query.cursor as string }),
    });
    res.setHeader("Cache-Control", "public, max-age=10");
    res.json({ items: page.items.map(publicBatch), nextCursor: page.nextCursor ?? null });
  });

  route("get", "/api/v1/batches/{id}", async (req, res) => {
    const { params } = validate("GET", "/api/v1/batches/{id}")(req);
    const batch = await index.getBatch(params.id as number);
    if (batch === undefined) {
      throw new ApiProblem(
        "batch-not-found",
        `batch ${String(params.id)} is not indexed; list batches at /api/v1/batches`,
      );
    }
    // Anchored fields never change; status, attestations and supersession may: revalidate often.
    sendCacheable(req, res, publicBatch(batch), "public, max-age=30, must-revalidate");
  });

  route("get", "/api/v1/batches/{id}/attestations/{index}/findings", async (req, res) => {
    const { params } = validate("GET", "/api/v1/batches/{id}/attestations/{index}/findings")(req);
    const batch = await index.getBatch(params.id as number);
    if (batch === undefined) {
      throw new ApiProblem(
        "batch-not-found",
        `batch ${String(params.id)} is not indexed; list batches at /api/v1/batches`,
      );
    }
    const position = params.index as number;
    const attestation = batch.attestations[position];
    if (attestation === undefined) {
      throw new ApiProblem(
        "attestation-not-found",
        `batch ${batch.batchId} has ${batch.attestations.length} attestation(s); number them from 0`,
      );
    }
    let bytes: Uint8Array | undefined;
    try {
      bytes = await options.auditReports?.read(attestation.reportHash);
    } catch (error) {
      log.warn("audit-report-unreadable", { batchId: batch.batchId, error: (error as Error).name });
      bytes = undefined;
    }
    // Trust no file: only the bytes whose hash the auditor attested on-chain are the report.
    if (bytes !== undefined && keccak256(bytes) !== attestation.reportHash.toLowerCase()) {
      log.warn("audit-report-mismatch", { batchId: batch.batchId, attestation: position });
      bytes = undefined;
    }
    const findings = bytes === undefined ? undefined : auditFindings(bytes);
    res.setHeader("Cache-Control", "public, max-age=60");
    res.json({
      format: AUDIT_FINDINGS_FORMAT,
      batchId: batch.batchId,
      index: position,
      auditor: attestation.auditor,
      verdict: attestation.verdict,
      reportHash: attestation.reportHash,
      report:
        bytes === undefined ? "unpublished" : findings === undefined ? "unreadable" : "published",
      ...(findings === undefined ? {} : { findings }),
    });
  });

  route("get", "/api/v1/stats", async (req, res) => {
    validate("GET", "/api/v1/stats")(req);
    const stats = suppressStats(await index.getStats());
    sendCacheable(
      req,
      res,
      { minCellPeople: MIN_CELL_PEOPLE, ...stats },
      "public, max-age=60, must-revalidate",
    );
  });

  route("get", "/api/v1/receipts/{code}", async (req, res) => {
    const { params } = validate("GET", "/api/v1/receipts/{code}")(req);
    const code = parseCode(params.code as string);
    if (code === undefined) {
      throw new ApiProblem(
        "receipt-not-found",
        "this is not a receipt code: check it against the printed receipt",
        {
          extensions: {
            hint: "a code is 27 letters and digits, usually printed in groups of four; spaces, dashes and Persian digits are fine",
          },
        },
      );
    }
    const receipt = await ledger.getReceiptByCode(code);
    if (receipt === undefined) {
      throw new ApiProblem(
        "receipt-not-found",
        "no receipt has this code: check it against the printed receipt",
      );
    }
    const batchId = receiptBatchId(receipt);
    if (batchId === undefined) {
      log.error("receipt-integrity", { batchId: null, failed: ["batchId"] });
      throw new ApiProblem(
        "receipt-integrity",
        "this receipt could not be verified against the anchored root; the operators have been alerted",
      );
    }
    const batch = await index.getBatch(batchId);
    if (batch === undefined) {
      throw new ApiProblem(
        "batch-not-indexed",
        `batch ${batchId} is not indexed yet; retry shortly`,
        {
          headers: { "Retry-After": "5" },
        },
      );
    }
    const result = await safeVerify(verify, receipt, await trustFor(batch.root));
    if (result.status !== "verified" || !sameHex(receipt.root, batch.root)) {
      // Never hand out a proof that does not verify (STYLE habit 5). The code is a bearer secret: not logged.
      log.error("receipt-integrity", {
        batchId,
        failed: result.checks.filter((c) => !c.ok).map((c) => c.name),
      });
      throw new ApiProblem(
        "receipt-integrity",
        "this receipt could not be verified against the anchored root; the operators have been alerted",
      );
    }
    sendCacheable(req, res, receipt, "private, max-age=3600");
  });

  route(
    "post",
    "/api/v1/verify",
    (req, _res, next) => {
      // The media type first: a non-JSON body is refused before it is read.
      next(
        req.is(JSON_TYPES)
          ? undefined
          : new ApiProblem(
              "unsupported-media-type",
              "send the receipt as JSON with Content-Type: application/json",
            ),
      );
    },
    (_req, res, next) => {
      // Bounded: at most `verifyConcurrency` run, `verifyQueue` wait (their bodies unread), the
      // rest are told to come back, so that verification cannot starve the read endpoints.
      const release = verifyGate.tryEnter();
      if (release === undefined) {
        return next(
          new ApiProblem("busy", "too many receipts are being verified; retry in a second", {
            headers: { "Retry-After": "1" },
            extensions: { retryAfter: 1 },
          }),
        );
      }
      res.once("close", release.leave);
      release.entered.then(() => next(), next);
    },
    express.json({ limit: JSON_LIMIT, type: JSON_TYPES, strict: true }),
    async (req, res) => {
      if (!req.is(JSON_TYPES)) {
        throw new ApiProblem(
          "unsupported-media-type",
          "send the receipt as JSON with Content-Type: application/json",
        );
      }
      const { body } = validate("POST", "/api/v1/verify")(req);
      const receipt = body as StoredReceipt & { batchId: number; root: string };
      const checks: VerifyCheck[] = [];
      let status: VerifyResult["status"] = "verified";
      const worsen = (s: VerifyResult["status"]) => {
        if (s === "failed" || (s === "inconclusive" && status === "verified")) status = s;
      };

      const indexed = await index.getBatch(receipt.batchId);
      let onChain: { root: string; supersededBy: number } | undefined;
      let chainError = false;
      if (options.chain !== undefined) {
        try {
          onChain = await options.chain.readBatch(receipt.batchId);
        } catch {
          chainError = true;
        }
      }
      const trustedRoot = indexed?.root ?? onChain?.root;
      if (trustedRoot === undefined) {
        worsen("inconclusive");
        checks.push({
          name: "batch",
          ok: false,
          detail: `batch ${receipt.batchId} is neither indexed nor readable on chain`,
        });
      } else {
        const core = await safeVerify(verify, receipt, await trustFor(trustedRoot));
        checks.push(...core.checks);
        worsen(core.status);
        const bound = await codeBinding(receipt);
        if (bound.outcome === "fail") worsen("failed");
        if (bound.outcome === "inconclusive") worsen("inconclusive");
        checks.push(bound);
      }
      if (indexed !== undefined) {
        const ok = sameHex(indexed.root, receipt.root);
        if (!ok) worsen("failed");
        checks.push({
          name: "root-indexed",
          ok,
          expected: indexed.root,
          computed: receipt.root,
          detail: ok
            ? `batch ${indexed.batchId}'s indexed root matches`
            : "the receipt's root is not the indexed root of its batch",
        });
      }
      if (options.chain !== undefined) {
        if (chainError) {
          worsen("inconclusive");
          checks.push({
            name: "root-on-chain",
            ok: false,
            detail: "the chain did not answer; the on-chain root was not read",
          });
        } else if (onChain === undefined) {
          worsen("failed");
          checks.push({
            name: "root-on-chain",
            ok: false,
            detail: `the contract has no batch ${receipt.batchId}`,
          });
        } else {
          const ok = sameHex(onChain.root, receipt.root);
          if (!ok) worsen("failed");
          checks.push({
            name: "root-on-chain",
            ok,
            expected: onChain.root,
            computed: receipt.root,
            detail: ok
              ? "the contract's root for the batch matches (live eth_call)"
              : "the contract's root for the batch differs",
          });
        }
      }
      const supersededBy =
        onChain !== undefined && onChain.supersededBy !== 0
          ? onChain.supersededBy
          : (indexed?.supersededBy ?? null);
      let current: boolean | undefined;
      if (indexed !== undefined || onChain !== undefined) {
        current = supersededBy === null;
        checks.push({
          name: "superseded",
          ok: current,
          detail: current
            ? "the batch is current (not corrected)"
            : `the batch was corrected by batch ${supersededBy}`,
        });
      }
      if (indexed !== undefined) {
        const confirmed = indexed.attestations.filter((a) => a.verdict === "confirmed").length;
        const disputed = indexed.attestations.length - confirmed;
        checks.push({
          name: "attestations",
          ok: disputed === 0,
          detail: `${confirmed} auditor(s) confirm the batch, ${disputed} dispute it`,
        });
      }
      res.setHeader("Cache-Control", "no-store");
      res.json({ status, ...(current === undefined ? {} : { current }), checks });
    },
  );

  /**
   * The code is not part of the leaf: a receipt with its code replaced still proves its record.
   * "verified" vouches for the code only when the receipt this server stores under that code is
   * the same record (batch, root and leaf values; the salt makes leaf values unique).
   */
  async function codeBinding(
    receipt: StoredReceipt & { batchId: number; root: string },
  ): Promise<VerifyCheck> {
    const code = typeof receipt.code === "string" ? parseCode(receipt.code) : undefined;
    const stored = code === undefined ? undefined : await ledger.getReceiptByCode(code);
    if (stored === undefined) {
      return {
        name: "code-bound",
        ok: false,
        outcome: "inconclusive",
        detail:
          "this server holds no receipt under this code: the record is proven, the code is not",
      };
    }
    const same =
      stored.batchId === receipt.batchId &&
      sameHex(String(stored.root), receipt.root) &&
      JSON.stringify(stored.values).toLowerCase() === JSON.stringify(receipt.values).toLowerCase();
    return same
      ? {
          name: "code-bound",
          ok: true,
          outcome: "pass",
          detail: "the code fetches this very record from this server",
        }
      : {
          name: "code-bound",
          ok: false,
          outcome: "fail",
          detail: "the code belongs to another record: this receipt's code was replaced",
        };
  }

  route("get", "/api/v1/chain", async (req, res) => {
    validate("GET", "/api/v1/chain")(req);
    const info = await index.getChainInfo();
    if (info === undefined)
      throw new ApiProblem("not-ready", "the indexer has written nothing yet; retry shortly", {
        headers: { "Retry-After": "5" },
      });
    const caughtUp = isCaughtUp(info);
    if (caughtUp) caughtUpOnce = true;
    const headCheck: Record<string, unknown> = { status: info.headCheck.status };
    for (const k of ["onChain", "recomputed", "atBlock", "detail"] as const)
      if (info.headCheck[k] !== undefined) headCheck[k] = info.headCheck[k];
    const alarm = options.chainAlarm?.();
    if (alarm !== undefined) {
      headCheck.status = "mismatch";
      headCheck.detail = alarm;
    }
    res.setHeader("Cache-Control", "no-store");
    res.json({
      chainId: info.chainId,
      contract: info.contract,
      genesisHash: info.genesisHash,
      deployBlock: info.deployBlock,
      headBlock: info.headBlock,
      lastIndexedBlock: info.lastIndexedBlock,
      lastIndexedHash: info.lastIndexedHash,
      lag: Math.max(0, info.headBlock - info.lastIndexedBlock),
      confirmations: info.confirmations,
      batchCount: info.batchCount,
      paused: info.paused,
      caughtUp,
      headCheck,
      ...(options.rpcUrlForBrowsers === undefined ? {} : { rpcUrl: options.rpcUrlForBrowsers }),
      ...(options.accountNames === undefined || Object.keys(options.accountNames).length === 0
        ? {}
        : { names: options.accountNames }),
    });
  });

  route("get", "/api/v1/vrf-keys", async (req, res) => {
    validate("GET", "/api/v1/vrf-keys")(req);
    const keys = await index.listVrfKeys();
    sendCacheable(
      req,
      res,
      {
        items: keys.map((k) => ({
          keyId: k.keyId,
          publicKey: k.publicKey,
          index: k.index,
          registrar: k.registrar,
          registeredAtBlock: k.registeredAtBlock,
          registeredAt: k.registeredAt,
          txHash: k.txHash,
        })),
      },
      "public, max-age=30, must-revalidate",
    );
  });

  route("get", "/api/v1/events", async (req, res) => {
    const { query } = validate("GET", "/api/v1/events")(req);
    const page = await index.listEvents({
      limit: query.limit as number,
      ...(query.cursor === undefined ? {} : { cursor: query.cursor as string }),
    });
    res.setHeader("Cache-Control", "public, max-age=10");
    res.json({
      items: page.items.map((e) => ({
        type: e.type,
        blockNumber: e.blockNumber,
        logIndex: e.logIndex,
        txHash: e.txHash,
        args: e.args,
      })),
      nextCursor: page.nextCursor ?? null,
    });
  });

  // ── a documented path with another method: 405; anything else under /api: 404 ──
  const documented = Object.entries(openApiDocument.paths as Record<string, object>).map(
    ([p, item]) => ({
      pattern: new RegExp(`^${p.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
      allow: Object.keys(item).map((m) => m.toUpperCase()),
    }),
  );
  app.use((req, res, next) => {
    const match = documented.find((d) => d.pattern.test(req.path));
    if (match === undefined) return next();
    res.locals.route = "method-not-allowed";
    res.setHeader(
      "Allow",
      [...match.allow, ...(match.allow.includes("GET") ? ["HEAD"] : [])].join(", "),
    );
    next(
      new ApiProblem(
        "method-not-allowed",
        `${req.method} is not allowed here; use ${match.allow.join(" or ")}`,
      ),
    );
  });
  app.use("/api", (req, _res, next) => {
    next(new ApiProblem("not-found", "no such endpoint; see /api/v1/openapi.json"));
  });

  if (options.logRouter !== undefined) app.use("/log", options.logRouter);

  if (options.webRoot !== undefined && existsSync(options.webRoot)) {
    const webRoot = options.webRoot;
    app.use(express.static(webRoot, { index: "index.html", maxAge: "5m", fallthrough: true }));
    // Client-side routes of the portal: any other GET for a page gets the portal's index.html.
    app.use((req, res, next) => {
      if (
        (req.method !== "GET" && req.method !== "HEAD") ||
        !req.accepts("html") ||
        path.extname(req.path) !== ""
      )
        return next();
      res.locals.route = "portal";
      res.setHeader("Cache-Control", "no-cache");
      res.sendFile(path.join(webRoot, "index.html"), (error) => {
        if (error) next();
      });
    });
  }

  app.use((_req, _res, next) => {
    next(
      new ApiProblem(
        "not-found",
        "nothing here; the API is under /api/v1 (see /api/v1/openapi.json)",
      ),
    );
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let problem: ApiProblem;
    const e = error as { type?: string; status?: number; name?: string; code?: string };
    if (error instanceof ApiProblem) problem = error;
    else if (e.type === "entity.too.large")
      problem = new ApiProblem("body-too-large", "the body is larger than this endpoint accepts");
    else if (e.type === "entity.parse.failed")
      problem = new ApiProblem("malformed-body", "the body is not valid JSON");
    else if (e.type === "charset.unsupported" || e.type === "encoding.unsupported") {
      problem = new ApiProblem("unsupported-media-type", "send UTF-8 without content encoding");
    } else if (typeof e.status === "number" && e.status >= 400 && e.status < 500) {
      problem = new ApiProblem("invalid-request", "the request could not be read");
    } else if (e.code === "LEVEL_DATABASE_NOT_OPEN" || e.code === "LEVEL_DATABASE_CLOSED") {
      problem = new ApiProblem("upstream-unavailable", "a store is not open; retry shortly", {
        headers: { "Retry-After": "5" },
      });
    } else {
      log.error("internal-error", {
        route: res.locals.route as string | undefined,
        error: e.name ?? "unknown",
        code: e.code,
      });
      problem = new ApiProblem("internal", "the server failed; the operators have the details");
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (
      problem.status >= 500 &&
      problem.slug !== "internal" &&
      problem.slug !== "receipt-integrity"
    ) {
      log.warn("unavailable", {
        route: res.locals.route as string | undefined,
        problem: problem.slug,
      });
    }
    sendProblem(res, problem, (res.locals.route as string | undefined) ?? req.path);
  });

  return {
    app,
    metrics: metrics.registry,
    drain() {
      draining = true;
    },
  };
}
