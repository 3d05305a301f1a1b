/**
 * Checks a batch manifest's bytes against the anchored `manifestHash` and extracts the figures
 * the public views show. A manifest whose keccak256 differs from the chain's is `mismatch` and
 * contributes nothing; only `verified` manifests feed provincial totals.
 */
import { manifestHash as hashOfManifest } from "../core/manifest.ts";
import type { Breakdown, ManifestView } from "../store/index-store.ts";

/** Where the indexer gets a batch's manifest bytes (the anchor pipeline's ledger store, in the CLI). */
export type ManifestSource = (
  batchId: number,
  manifestHash: string,
) => Promise<Uint8Array | undefined> | Uint8Array | undefined;

/** One decoder for every manifest (strict: invalid UTF-8 throws, and the manifest is `mismatch`). */
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** `people` is not part of BatchView but feeds PeriodStat.people when a manifest states it. */
export type CheckedManifest = ManifestView & { people?: number };

/**
 * @example
 * const view = manifestView(bytes, batch.manifestHash); // { status: "verified", byProvince: … }
 */
export function manifestView(bytes: Uint8Array | undefined, manifestHash: string): CheckedManifest {
  if (bytes === undefined) return { status: "missing" };
  if (hashOfManifest(bytes) !== manifestHash.toLowerCase()) return { status: "mismatch" };
  let parsed: unknown;
  try {
    parsed = JSON.parse(UTF8.decode(bytes));
  } catch {
    return { status: "mismatch" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { status: "mismatch" };
  }
  const m = parsed as Record<string, unknown>;
  const view: CheckedManifest = { status: "verified" };
  const byProvince = breakdown(m.byProvince);
  if (byProvince !== undefined) view.byProvince = byProvince;
  const byCategory = breakdown(m.byCategory);
  if (byCategory !== undefined) view.byCategory = byCategory;
  const timeliness = (
    typeof m.timeliness === "object" && m.timeliness !== null ? m.timeliness : m
  ) as Record<string, unknown>;
  if (isCount(timeliness.onTime)) view.onTime = timeliness.onTime;
  if (isCount(timeliness.late)) view.late = timeliness.late;
  if (typeof m.reason === "string" && m.reason !== "") view.reason = m.reason;
  if (isCount(m.people)) view.people = m.people;
  return view;
}

function breakdown(x: unknown): Record<string, Breakdown> | undefined {
  if (typeof x !== "object" || x === null || Array.isArray(x)) return undefined;
  const out: Record<string, Breakdown> = {};
  for (const key of Object.keys(x).sort()) {
    const cell = (x as Record<string, unknown>)[key] as Record<string, unknown> | null;
    if (typeof cell !== "object" || cell === null) continue;
    if (!isCount(cell.count)) continue;
    if (typeof cell.total !== "string" || !/^(0|[1-9]\d*)$/.test(cell.total)) continue;
    out[key] = { count: cell.count, total: cell.total };
  }
  return out;
}

function isCount(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}
