/**
 * Compare, batch level: what is anchored against the reference artifact and against what was
 * recomputed from the export. Each comparison is one `AuditCheck`, in a fixed order (the
 * report's bytes depend on it).
 */
import { bytesToHex } from "../core/hex.ts";
import { canonicalJson, manifestHash, type ManifestProvince } from "../core/manifest.ts";
import { laneNamesOf } from "../core/sum-tree-batch.ts";
import type { AuditCheck } from "./audit-report.ts";
import type { AnchoredBatch } from "./read-anchored-batch.ts";
import type { AuditedRecord, ExportRead } from "./read-audited-export.ts";
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
      reference.keysSha === undefined
        ? "the reference artifact's tree.bin has the anchored root (so its leaves are the anchored leaves)"
        : "the tree recomputed from the reference artifact's records.jsonl and keys.bin has the anchored root (so its leaves are the anchored leaves)",
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
    // A v2 reference whose tree could not be recomputed keeps the reason it says.
    if (reference.tree.root !== null)
      reference.detail = "records unavailable: the reference tree is not the anchored tree";
  }
  return checks;
}

/** Renamed sources, kind and period, root, count, total, manifest hash; then provinces and fields. */
export function compareBatch(
  anchored: AnchoredBatch,
  reference: Reference | undefined,
  recomputed: Omit<Recomputed, "hashes" | "leafOf">,
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
    ...compareTreeV2(anchored, recomputed),
    ...compareProvinces(anchored, reference, recomputed),
    ...compareProvinceSubtrees(anchored, reference, recomputed),
    ...compareManifestFields(anchored, refManifest, recomputed),
  ];
}

const laneText = (lanes: readonly (bigint | string)[] | undefined, k: number): string | null =>
  lanes?.[k] === undefined ? null : String(lanes[k]);

/**
 * `shafaf-tree/2`: the tree was built (else why not), and each lane of the anchored totals
 * against the recomputed root's lanes, one check per lane named after it ("premium lane").
 */
export function compareTreeV2(
  anchored: AnchoredBatch,
  recomputed: Pick<Recomputed, "sum">,
): AuditCheck[] {
  if (anchored.v2 === undefined) return [];
  const tree = recomputed.sum?.tree;
  const out: AuditCheck[] = [];
  if (tree === undefined)
    out.push(
      auditCheck(
        "sum-tree",
        "a tree",
        null,
        `no shafaf-tree/2 tree can be recomputed from the export: ${recomputed.sum?.problem ?? "not a shafaf-batch/2 export"}`,
        false,
      ),
    );
  laneNamesOf(anchored.kind).forEach((name, k) =>
    out.push(
      auditCheck(
        `${name} lane`,
        laneText(anchored.v2!.lanes, k),
        laneText(tree?.lanes, k),
        `lane ${k} (${name}) of the batch root: the anchored totals versus the root recomputed from the export`,
      ),
    ),
  );
  return out;
}

/**
 * `shafaf-tree/2`: each province subtree recomputed from the export against the provinces list of
 * the anchored manifest (size, root, lanes), when the reference manifest is the anchored one.
 */
export function compareProvinceSubtrees(
  anchored: AnchoredBatch,
  reference: Reference | undefined,
  recomputed: Pick<Recomputed, "sum">,
): AuditCheck[] {
  if (anchored.v2 === undefined) return [];
  const listed = reference?.manifest?.provinces;
  if (listed === undefined || manifestHash(reference!.manifestBytes) !== anchored.manifestHash)
    return [
      auditCheck(
        "province subtrees",
        null,
        null,
        "province subtrees not compared: no reference manifest whose hash is the anchored manifestHash",
        false,
      ),
    ];
  const text = (p: Pick<ManifestProvince, "size" | "root"> & { lanes: readonly unknown[] }) =>
    `${p.size} leaves, root ${p.root.toLowerCase()}, lanes ${p.lanes.map(String).join("/")}`;
  const mine = new Map((recomputed.sum?.tree?.provinces ?? []).map((p) => [p.code, p]));
  const theirs = new Map(listed.map((p) => [p.code, p]));
  return [...new Set([...theirs.keys(), ...mine.keys()])].sort().map((code) => {
    const a = theirs.get(code);
    const r = mine.get(code);
    return auditCheck(
      `province ${code} subtree`,
      a === undefined ? null : text(a),
      r === undefined ? null : text(r),
      `the province subtree (leaves, root, lanes ${laneNamesOf(anchored.kind).join("/")}): the anchored manifest's provinces list versus recomputed`,
    );
  });
}

/** Within a batch: people with two or more person keys, keys shared by two or more people. */
export interface PersonKeyCounts {
  manyKeys: number;
  shared: number;
}

/**
 * `shafaf-tree/2`, checks of the export only: keys.bin holds one key per records.jsonl line, the
 * VRF key named by the export is the anchored one, and within the batch one person identifier
 * has one person key and one key belongs to one person (counts only: never an identifier).
 * `lines` is the export's number of records.jsonl lines; `personKeys` counts (called only when
 * both sides are v2).
 */
export function checkPersonKeys(
  anchored: AnchoredBatch,
  exported: Pick<ExportRead, "v2">,
  lines: number,
  personKeys: () => PersonKeyCounts,
): AuditCheck[] {
  if (anchored.v2 === undefined && exported.v2 === undefined) return [];
  const out = [
    auditCheck(
      "scheme",
      anchored.v2?.scheme ?? "standard-v1",
      exported.v2?.scheme ?? "standard-v1",
      "the tree scheme: the anchored batch's versus the audited export's",
    ),
  ];
  if (exported.v2 === undefined || anchored.v2 === undefined) return out;
  out.push(
    auditCheck(
      "person-key-count",
      `${lines} keys`,
      `${exported.v2.keyCount} keys`,
      "keys.bin holds one person key (32 bytes) per records.jsonl line",
    ),
    auditCheck(
      "vrf-key",
      anchored.v2.vrfKeyId,
      exported.v2.vrfKeyId,
      "the VRF key the export says its person keys derive from",
    ),
    personKeyCheck(personKeys()),
  );
  return out;
}

/** {@link PersonKeyCounts} of records held in memory. */
export function countPersonKeys(records: readonly AuditedRecord[]): PersonKeyCounts {
  const keysOf = new Map<string, Set<string>>();
  const peopleOf = new Map<string, Set<string>>();
  for (const r of records) {
    if (r.key === undefined) continue;
    const key = bytesToHex(r.key);
    const person = r.record.nationalId;
    (keysOf.get(person) ?? keysOf.set(person, new Set()).get(person)!).add(key);
    (peopleOf.get(key) ?? peopleOf.set(key, new Set()).get(key)!).add(person);
  }
  return {
    manyKeys: [...keysOf.values()].filter((s) => s.size > 1).length,
    shared: [...peopleOf.values()].filter((s) => s.size > 1).length,
  };
}

/** One person ↔ one key within the batch. */
function personKeyCheck({ manyKeys, shared }: PersonKeyCounts): AuditCheck {
  return auditCheck(
    "person-keys",
    "one key per person, one person per key",
    `${manyKeys} person(s) with two or more keys, ${shared} key(s) shared by two or more people`,
    "within the batch each person identifier has exactly one person key k_b and each key one person (counts only, never an identifier)",
    manyKeys === 0 && shared === 0,
  );
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
