/**
 * Recompute: from the audited records, the leaves, the tree, the manifest figures (through the
 * pipeline's own `createBatchAccumulator`) and the manifest itself, rebuilt as the pipeline
 * would have written it for these records. A `shafaf-tree/2` batch: the sum tree through core's
 * batch collector (`recompute-sum-tree.ts`), leaves named keccak256(k_b ‖ commitment), and a
 * `shafaf-manifest/2` built with the recomputed tree, as `buildBatchV2` builds it.
 */
import { createBatchAccumulator, type BatchFigures } from "../core/batch-accumulator.ts";
import { bytesToHex } from "../core/hex.ts";
import { LEAF_ENCODING, leafHashes, leafValues } from "../core/leaf.ts";
import { buildManifest, type Manifest, type ManifestInput } from "../core/manifest.ts";
import { buildMerkleTree } from "../core/merkle-tree.ts";
import type { SumTreeSummary } from "../core/fold-sum-tree.ts";

/** What the audit compares of a sum tree: its root, lanes and province subtrees. */
export type { SumTreeSummary } from "../core/fold-sum-tree.ts";
import { laneNamesOf } from "../core/sum-tree-batch.ts";
import { recomputeSumTree } from "./recompute-sum-tree.ts";
import type { SourceInfo } from "../ingest/source-info.ts";
import type { AnchoredBatch } from "./read-anchored-batch.ts";
import type { ExportRead } from "./read-audited-export.ts";
import type { Reference } from "./read-reference.ts";

export interface Recomputed {
  /** The export's leaf hashes (v2: leaf identities), 32 bytes each, in export order. */
  hashes: Uint8Array;
  leafOf: (i: number) => string;
  /** The recomputed root; undefined when no tree can be built (no records; v2: see `sum`). */
  tree: { root: string } | undefined;
  /** `shafaf-tree/2`: the recomputed sum tree (its root, lanes and province subtrees), or why there is none. */
  sum?: { tree: SumTreeSummary | undefined; problem: string | undefined };
  figures: BatchFigures;
  rebuilt: { manifest: Manifest; bytes: Uint8Array; hash: string };
  /** Audited sources that are a reference source under another name. */
  renamed: { index: number; audited: SourceInfo; reference: SourceInfo }[];
}

export const sourceLabel = (s: { name: string; entry?: string | undefined }): string =>
  s.entry === undefined ? s.name : `${s.name}!${s.entry}`;

/**
 * @example
 * const { tree, figures, rebuilt } = recomputeBatch({ anchored, reference, exported, rulesVersion });
 */
export function recomputeBatch(p: {
  anchored: AnchoredBatch;
  reference: Reference | undefined;
  exported: ExportRead;
  /** The rules version when no manifest names one (the audit's rate table). */
  rulesVersion: string;
}): Recomputed {
  if (p.anchored.v2 !== undefined) return recomputeBatchV2(p);
  const { reference, exported } = p;
  const records = exported.records;
  // The same records.jsonl bytes as the reference's give the same leaves: do not hash them twice.
  const hashes =
    exported.recordsSha !== undefined &&
    exported.recordsSha === reference?.recordsSha &&
    reference.leafHashes !== undefined &&
    reference.leafHashes.length === records.length * 32
      ? reference.leafHashes
      : leafHashes(records.map((r) => leafValues(r.record, { salt: r.salt, subject: r.subject })));
  const acc = createBatchAccumulator();
  for (const r of records) acc.add(r.record, r.subject);
  const figures = acc.figures();
  const { rebuilt, renamed } = rebuildManifest({ ...p, figures });
  return {
    hashes,
    leafOf: (i) => bytesToHex(hashes.subarray(i * 32, i * 32 + 32)),
    tree: records.length > 0 ? buildMerkleTree(hashes) : undefined,
    figures,
    rebuilt,
    renamed,
  };
}

/** {@link recomputeBatch} of a `shafaf-tree/2` batch. */
function recomputeBatchV2(p: Parameters<typeof recomputeBatch>[0]): Recomputed {
  const { reference, exported } = p;
  const records = exported.records;
  // The same records.jsonl and keys.bin as the reference's give the same tree: build it once.
  const sum =
    reference?.sumTree !== undefined &&
    reference.leafHashes !== undefined &&
    exported.recordsSha === reference.recordsSha &&
    exported.v2?.keysSha === reference.keysSha &&
    reference.leafHashes.length === records.length * 32
      ? {
          tree: reference.sumTree,
          problem: undefined,
          leafId: (i: number) => reference.tree.leafHash(i),
          leafIds: reference.leafHashes,
        }
      : recomputeSumTree(p.anchored.kind, records);
  const acc = createBatchAccumulator();
  for (const r of records) acc.add(r.record, r.subject);
  const figures = acc.figures();
  const vrfKeyId = p.anchored.v2!.vrfKeyId;
  const { rebuilt, renamed } = rebuildManifest({
    ...p,
    figures,
    ...(sum.tree === undefined
      ? {}
      : {
          tree: {
            vrfKeyId,
            laneNames: laneNamesOf(p.anchored.kind),
            lanes: [...sum.tree.lanes],
            provinces: sum.tree.provinces,
          },
        }),
  });
  return {
    hashes: sum.leafIds,
    leafOf: sum.leafId,
    tree: sum.tree === undefined ? undefined : { root: sum.tree.root.toLowerCase() },
    sum: { tree: sum.tree, problem: sum.problem },
    figures,
    rebuilt,
    renamed,
  };
}

/**
 * The manifest of the recomputed figures. What only the pipeline knew (quarantined lists,
 * findings, coverage rules, reason) is carried from the anchored manifest; fields a manifest
 * written before they existed lacks (`people`, `timeliness`) are left out as it left them out.
 */
export function rebuildManifest(p: {
  anchored: AnchoredBatch;
  reference: Pick<Reference, "manifest"> | undefined;
  exported: Pick<ExportRead, "sources" | "manifest">;
  figures: BatchFigures;
  rulesVersion: string;
  /** `shafaf-tree/2`: the recomputed tree's facts (a `shafaf-manifest/2`). */
  tree?: ManifestInput["tree"];
}): Pick<Recomputed, "rebuilt" | "renamed"> {
  const { kind, period } = p.anchored;
  const f = p.figures;
  const refManifest = p.reference?.manifest ?? p.exported.manifest;
  const refFields = refManifest as unknown as Record<string, unknown> | undefined;
  const sources = p.exported.sources;
  // Files are compared by content: a source whose bytes are a reference source's is that source,
  // whatever it is called now (a clerk renamed the export). The rebuilt manifest keeps the
  // anchored name, and the report notes the difference.
  const renamed = sources === undefined ? [] : matchSourcesByContent(sources, refManifest?.sources);
  const manifestSources = sources?.map((s, i) => {
    const r = renamed.find((x) => x.index === i)?.reference;
    if (r === undefined) return s;
    const { entry: _entry, ...rest } = s;
    return { ...rest, name: r.name, ...(r.entry !== undefined ? { entry: r.entry } : {}) };
  });
  const rebuilt = buildManifest({
    kind,
    period,
    recordCount: f.recordCount,
    total: f.total,
    byProvince: f.byProvince,
    ...(kind === "pension" ? { byCategory: f.byCategory } : {}),
    sources: manifestSources ?? p.exported.manifest?.sources ?? refManifest?.sources ?? [],
    rulesVersion: refManifest?.rulesVersion ?? p.rulesVersion,
    leafEncoding: LEAF_ENCODING,
    ...(p.tree !== undefined ? { tree: p.tree } : {}),
    supersedes: p.anchored.supersedes,
    reason: refManifest?.reason ?? null,
    ...(refFields === undefined || "people" in refFields ? { people: f.people } : {}),
    ...(kind === "pension" && (refFields === undefined || "timeliness" in refFields)
      ? { timeliness: f.timeliness }
      : {}),
    ...(refManifest?.quarantined !== undefined ? { quarantined: refManifest.quarantined } : {}),
    ...(refManifest?.findings !== undefined ? { findings: refManifest.findings } : {}),
    ...(refManifest?.coverageRules !== undefined
      ? { coverageRules: refManifest.coverageRules }
      : {}),
  });
  return { rebuilt, renamed };
}

/**
 * Pairs each audited source with a reference source of the same SHA-256 whose name differs (each
 * reference source used once, first match in order). Sources with the same name, or whose bytes
 * no reference source has, are not listed: they are compared as they are.
 */
export function matchSourcesByContent(
  audited: readonly SourceInfo[],
  reference: readonly SourceInfo[] | undefined,
): { index: number; audited: SourceInfo; reference: SourceInfo }[] {
  if (reference === undefined) return [];
  const used = new Set<number>();
  // Identical names with identical bytes are taken first, so that a renamed copy never steals them.
  audited.forEach((a) => {
    const j = reference.findIndex(
      (r, k) => !used.has(k) && r.sha256 === a.sha256 && sourceLabel(r) === sourceLabel(a),
    );
    if (j >= 0) used.add(j);
  });
  const out: { index: number; audited: SourceInfo; reference: SourceInfo }[] = [];
  audited.forEach((a, index) => {
    if (reference.some((r) => r.sha256 === a.sha256 && sourceLabel(r) === sourceLabel(a))) return;
    const j = reference.findIndex((r, k) => !used.has(k) && r.sha256 === a.sha256);
    if (j < 0) return;
    used.add(j);
    out.push({ index, audited: a, reference: reference[j]! });
  });
  return out;
}
