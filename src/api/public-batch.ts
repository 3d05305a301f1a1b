import type { PublicBatch, PublicBatchesPage } from "../core/public-views.ts";
import type { BatchView } from "./app-deps.ts";
import { MIN_CELL_PEOPLE, suppressBreakdown } from "./suppress-small-cells.ts";

/** A v2 batch's amount lanes (2 …) by name, tree-v2.md §4. */
export function namedLanes(
  kind: BatchView["kind"],
  totals: readonly string[],
): Record<string, string> {
  const [, , a, b, c, d] = totals;
  return kind === "premium"
    ? { insurableWage: a!, days: b!, premium: c! }
    : { gross: a!, deductions: b!, net: c!, onTime: d! };
}

/** The manifest's documented members; provincial and category cells below the floor suppressed. */
function publicManifest(m: BatchView["manifest"]): PublicBatch["manifest"] {
  const manifest: PublicBatch["manifest"] = { status: m.status };
  if (m.byProvince !== undefined) manifest.byProvince = suppressBreakdown(m.byProvince);
  if (m.byCategory !== undefined) manifest.byCategory = suppressBreakdown(m.byCategory);
  if (m.onTime !== undefined) manifest.onTime = m.onTime;
  if (m.late !== undefined) manifest.late = m.late;
  if (m.reason !== undefined) manifest.reason = m.reason;
  return manifest;
}

/**
 * The documented projection of a batch (OpenAPI `Batch`): listed fields only, in a fixed order,
 * small provincial cells suppressed, a v2 batch's lanes hidden below {@link MIN_CELL_PEOPLE}.
 */
export function publicBatch(b: BatchView): PublicBatch {
  const out: PublicBatch = {
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
    manifest: publicManifest(b.manifest),
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

/** One page of `GET /api/v1/batches` (OpenAPI `BatchPage`). */
export function publicBatchesPage(page: {
  items: readonly BatchView[];
  nextCursor?: string | undefined;
}): PublicBatchesPage {
  return { items: page.items.map(publicBatch), nextCursor: page.nextCursor ?? null };
}
