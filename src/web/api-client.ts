/**
 * Typed reads of the public API (`/api/v1`, docs/DESIGN.md "Public API"). The portal trusts these
 * answers only for display; a receipt's verdict never rests on them (it reads the chain).
 */
import { ShafafError } from "../core/errors.ts";
import { mirrorApiFile, MIRROR_META } from "../core/mirror-layout.ts";
import type {
  PublicBatchesPage as BatchesPage,
  BatchStatus,
  Findings,
  Kind,
  PublicBatch as BatchView,
  PublicChainInfo as ChainInfo,
  Stats,
} from "../core/public-views.ts";

/** The wire types live in src/core/public-views.ts (shared with the API's projections). */
export type {
  BatchStatus,
  Cell,
  Findings,
  Kind,
  PeriodStat,
  ProvinceStat,
  PublicBatch as BatchView,
  PublicChainInfo as ChainInfo,
  Stats,
} from "../core/public-views.ts";

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

/**
 * True when this page is a static mirror's portal (docs/spec/mirror-v1.md): index.html carries
 * `<meta name="shafaf-mirror">`, and every read is a file of the mirror's layout, relative to the
 * page (a mirror may sit under any prefix). Receipts are not in a mirror.
 */
export function isStaticMirror(): boolean {
  return (
    typeof document !== "undefined" &&
    document.querySelector(`meta[name="${MIRROR_META}"]`) !== null
  );
}

async function getJson<T>(path: string): Promise<T> {
  const url = isStaticMirror() ? mirrorApiFile(path) : BASE + path;
  const res = await fetch(url, { headers: { accept: "application/json" } });
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

/**
 * A mirror's whole listing (`api/v1/batches.json`, the API's order: newest first) filtered and
 * paged as `GET /batches` does; the cursor is the offset into the filtered list.
 */
async function listMirroredBatches(query: BatchQuery): Promise<BatchesPage> {
  const all = (await getJson<BatchesPage>("/batches")).items;
  const matched = all.filter(
    (b) =>
      (query.kind === undefined || b.kind === query.kind) &&
      (query.status === undefined || b.status === query.status) &&
      (query.from === undefined || query.from === "" || b.period >= query.from) &&
      (query.to === undefined || query.to === "" || b.period <= query.to),
  );
  const start = query.cursor === undefined ? 0 : Math.max(0, Number(query.cursor) || 0);
  const end = start + (query.limit ?? 20);
  return {
    items: matched.slice(start, end),
    nextCursor: end < matched.length ? String(end) : null,
  };
}

/** `GET /batches` with the given filters; newest first. */
export function listBatches(query: BatchQuery): Promise<BatchesPage> {
  if (isStaticMirror()) return listMirroredBatches(query);
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

/** `GET /batches/{id}/attestations/{index}/findings`. */
export function getFindings(batchId: number, index: number): Promise<Findings> {
  return getJson(`/batches/${batchId}/attestations/${index}/findings`);
}

/** `GET /receipts/{code}`: the receipt as JSON, not yet checked. */
export function getReceipt(code: string): Promise<unknown> {
  if (isStaticMirror())
    return Promise.reject(
      new ApiError(
        404,
        "/receipts",
        "a static mirror publishes no receipts: open your receipt file",
      ),
    );
  return getJson(`/receipts/${encodeURIComponent(code)}`);
}

/**
 * `GET /trust-policy.txt` (outside the API): the trust policy this site publishes for its
 * witnessed ledger log (c2sp.org/tlog-policy text), or undefined when the site has none.
 * Trusting it is trusting this site to name the log key and the witnesses (README "Offline receipts").
 */
export async function getTrustPolicy(): Promise<string | undefined> {
  let res: Response;
  try {
    const url = isStaticMirror() ? "trust-policy.txt" : "/trust-policy.txt";
    res = await fetch(url, { headers: { accept: "text/plain" } });
  } catch {
    return undefined;
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new ApiError(res.status, "/trust-policy.txt", "");
  return res.text();
}
