/**
 * Compare, batch level: what is anchored against the reference artifact and against what was
 * recomputed from the export. Each comparison is one `AuditCheck`, in a fixed order (the
 * report's bytes depend on it).
 */
import { canonicalJson, manifestHash } from "../core/manifest.ts";
import type { AuditCheck } from "./audit-report.ts";
import type { AnchoredBatch } from "./read-anchored-batch.ts";
import type { Reference } from "./read-reference.ts";
import { sourceLabel, type Recomputed } from "./recompute-batch.ts";

/** A check; `ok` defaults to "the two sides are equal". */
export const auditCheck = (
  name: string,
  anchored: string | null,
  recomputed: string | null,
  detail: string,
  ok?: boolean,
): AuditCheck => ({ name, ok: ok ?? anchored === recomputed, anchored, recomputed, detail });

/**
 * The reference has the anchored root and manifest. A reference whose tree is not the anchored
 * tree explains no leaf: its records are set unavailable (MUST run before the export is read).
 */
export function compareReference(reference: Reference, anchored: AnchoredBatch): AuditCheck[] {
  const checks = [
    auditCheck(
      "reference-root",
      anchored.root,
      reference.tree.root,
      "the reference artifact's tree.bin has the anchored root (so its leaves are the anchored leaves)",
    ),
    auditCheck(
      "reference-manifest",
      anchored.manifestHash,
      manifestHash(reference.manifestBytes),
      "keccak256 of the reference artifact's manifest.json is the anchored manifestHash",
    ),
  ];
  if (reference.tree.root !== anchored.root) {
    reference.lines = undefined;
    reference.byIndex = undefined;
    reference.detail = "records unavailable: the reference tree is not the anchored tree";
  }
  return checks;
}

/** Renamed sources, kind and period, root, count, total, manifest hash; then provinces and fields. */
export function compareBatch(
  anchored: AnchoredBatch,
  reference: Reference | undefined,
  recomputed: Recomputed,
  /** The anchored manifest as given: the reference's, else the audited artifact's. */
  refManifest: object | undefined,
): AuditCheck[] {
  const { figures: f, rebuilt } = recomputed;
  return [
    ...recomputed.renamed.map(({ audited: a, reference: r }) =>
      auditCheck(
        "source-name",
        sourceLabel(r),
        sourceLabel(a),
        `same bytes (sha256 ${a.sha256}) under another name: compared by content, not by name`,
        true,
      ),
    ),
    auditCheck(
      "kind-period",
      `${anchored.kind} ${anchored.period}`,
      `${rebuilt.manifest.kind} ${rebuilt.manifest.period}`,
      "kind and period of the batch",
    ),
    auditCheck(
      "root",
      anchored.root,
      recomputed.tree?.root ?? null,
      "the Merkle root recomputed from the export's records, salts and subjects",
    ),
    auditCheck(
      "record-count",
      String(anchored.recordCount),
      String(f.recordCount),
      "number of records",
    ),
    auditCheck(
      "total",
      anchored.total.toString(),
      f.total.toString(),
      "Σ amounts in Rials (premium total, pension net)",
    ),
    auditCheck(
      "manifest-hash",
      anchored.manifestHash,
      rebuilt.hash,
      "keccak256 of the manifest rebuilt from the export",
    ),
    ...compareProvinces(anchored, reference, recomputed),
    ...compareManifestFields(anchored, refManifest, recomputed),
  ];
}

/** Each province's count and total, when the reference manifest is the anchored one. */
export function compareProvinces(
  anchored: AnchoredBatch,
  reference: Reference | undefined,
  recomputed: Pick<Recomputed, "figures">,
): AuditCheck[] {
  if (
    reference?.manifest?.byProvince === undefined ||
    manifestHash(reference.manifestBytes) !== anchored.manifestHash
  )
    return [
      auditCheck(
        "provinces",
        null,
        null,
        "provincial totals not compared: no reference manifest whose hash is the anchored manifestHash",
        false,
      ),
    ];
  const anchoredCells = reference.manifest.byProvince;
  const mine = recomputed.figures.byProvince;
  const provinces = [...new Set([...Object.keys(anchoredCells), ...mine.keys()])].sort();
  return provinces.map((p) => {
    const a = anchoredCells[p];
    const r = mine.get(p);
    return auditCheck(
      `province ${p}`,
      a === undefined ? null : `${a.count} records, ${a.total} Rials`,
      r === undefined ? null : `${r.count} records, ${r.total.toString()} Rials`,
      "provincial count and total: anchored manifest versus recomputed",
    );
  });
}

/** When the manifest hashes differ: each top-level field that differs. */
export function compareManifestFields(
  anchored: AnchoredBatch,
  refManifest: object | undefined,
  recomputed: Pick<Recomputed, "rebuilt">,
): AuditCheck[] {
  if (recomputed.rebuilt.hash === anchored.manifestHash || refManifest === undefined) return [];
  const ref = refManifest as Record<string, unknown>;
  const mine = recomputed.rebuilt.manifest as unknown as Record<string, unknown>;
  const out: AuditCheck[] = [];
  for (const key of [...new Set([...Object.keys(ref), ...Object.keys(mine)])].sort()) {
    const a = ref[key] === undefined ? undefined : canonicalJson(ref[key]);
    const b = mine[key] === undefined ? undefined : canonicalJson(mine[key]);
    if (a !== b)
      out.push(
        auditCheck(
          `manifest.${key}`,
          a ?? null,
          b ?? null,
          "the manifest field that differs (anchored manifest versus rebuilt)",
        ),
      );
  }
  return out;
}
