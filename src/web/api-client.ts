/**
 * Typed reads of the public API (`/api/v1`, docs/DESIGN.md "Public API"). The portal trusts these
 * answers only for display; a receipt's verdict never rests on them (it reads the chain).
 */
import { ShafafError } from "../core/errors.ts";

export type Kind = "premium" | "pension";
export type BatchStatus = "anchored" | "attested" | "disputed" | "superseded";

/** A figure, or `{ suppressed: true }` where it covers fewer than 10 people. */
export interface Cell {
  count?: number;
  total?: string;
  suppressed?: boolean;
}

export interface BatchView {
  batchId: number;
  kind: Kind;
  period: string;
  root: string;
  recordCount: number;
  total: string;
  manifestHash: string;
  idempotencyKey: string;
  headAfter: string;
  anchorer: string;
  anchoredAt: number;
  txHash: string;
  blockNumber: number;
  blockHash: string;
  supersedes: number | null;
  supersededBy: number | null;
  status: BatchStatus;
  attestations: {
    auditor: string;
    verdict: "confirmed" | "disputed";
    reportHash: string;
    txHash: string;
    blockNumber: number;
  }[];
  manifest: {
    status: "verified" | "mismatch" | "missing";
    byProvince?: Record<string, Cell>;
    byCategory?: Record<string, Cell>;
    onTime?: number;
    late?: number;
    reason?: string;
  };
  sealedBy?: string[];
  /** Absent from servers older than the scheme field: read as "shafaf-tree/1". */
  scheme?: "shafaf-tree/1" | "shafaf-tree/2";
  /** shafaf-tree/2 only. */
  persons?: number;
  lanes?: Record<string, string> | { suppressed: true };
  vrfKeyId?: string;
}

export interface PeriodStat {
  period: string;
  kind: Kind;
  batches: number;
  recordCount?: number;
  total?: string;
  people?: number;
  onTime?: number;
  late?: number;
  corrections: number;
  suppressed?: boolean;
}

export interface ProvinceStat extends Cell {
  period: string;
  kind: Kind;
  province: string;
}

export interface Stats {
  periods: PeriodStat[];
  provinces: ProvinceStat[];
}

export interface ChainInfo {
  chainId: number;
  contract: string;
  batchCount: number;
  lastIndexedBlock: number;
  headBlock?: number;
  paused?: boolean;
  rpcUrl?: string;
  /** Governance's names of accounts: lower-case address → `{ fa, en }`. */
  names?: Record<string, { fa: string; en: string }>;
  headCheck?: { status: "ok" | "mismatch" | "pending"; onChain?: string; recomputed?: string };
}

export interface BatchQuery {
  kind?: Kind | undefined;
  status?: BatchStatus | undefined;
  from?: string | undefined;
  to?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/**
 * An HTTP answer other than 2xx. `status` 404 means "no such thing"; retryable for 429 and 5xx
 * (the server, not the question, failed).
 */
export class ApiError extends ShafafError {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`GET ${path} answered ${status}${detail === "" ? "" : `: ${detail}`}`, {
      retryable: status === 429 || status >= 500,
      code: `web.api.http-${status}`,
    });
  }
}

const BASE = "/api/v1";

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(BASE + path, { headers: { accept: "application/json" } });
  if (!res.ok) {
    let detail = "";
    try {
      const problem = (await res.json()) as { title?: string; detail?: string };
      detail = problem.detail ?? problem.title ?? "";
    } catch {
      // not JSON: the status says enough
    }
    throw new ApiError(res.status, path, detail);
  }
  return (await res.json()) as T;
}

/** `GET /batches` with the given filters; newest first. */
export function listBatches(
  query: BatchQuery,
): Promise<{ items: BatchView[]; nextCursor?: string | null }> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== "") params.set(key, String(value));
  }
  const qs = params.toString();
  return getJson(`/batches${qs === "" ? "" : `?${qs}`}`);
}

/** `GET /batches/{id}`. */
export function getBatch(batchId: number): Promise<BatchView> {
  return getJson(`/batches/${batchId}`);
}

/** `GET /stats`. */
export function getStats(): Promise<Stats> {
  return getJson("/stats");
}

/** `GET /chain`. */
export function getChainInfo(): Promise<ChainInfo> {
  return getJson("/chain");
}

/** What an auditor's report found (`shafaf-findings/1`): names, positions and counts only. */
export interface Findings {
  batchId: number;
  index: number;
  auditor: string;
  verdict: "confirmed" | "disputed";
  reportHash: string;
  report: "published" | "unpublished" | "unreadable";
  findings?: {
    reportVerdict: "match" | "mismatch";
    failedChecks: string[];
    recordCount: number;
    records: { position: number | null; problem: string; field: string | null }[];
    anomalyCount: number;
  };
}

/** `GET /batches/{id}/attestations/{index}/findings`. */
export function getFindings(batchId: number, index: number): Promise<Findings> {
  return getJson(`/batches/${batchId}/attestations/${index}/findings`);
}

/** `GET /receipts/{code}`: the receipt as JSON, not yet checked. */
export function getReceipt(code: string): Promise<unknown> {
  return getJson(`/receipts/${encodeURIComponent(code)}`);
}
