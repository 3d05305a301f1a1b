/**
 * The streaming audit's two sides, read and recomputed (`auditBatchStreaming` in
 * `audit-batch.ts`): the export scanned once into columns (the batch accumulator, the anomaly
 * fold and the person numbers see each record on the way), the reference scanned too unless it
 * is the export itself, each side's tree (`shafaf-tree/2` folded, v1 built from leaf hashes), the
 * reference described as `readReference` describes one, and the join of the export's leaves with
 * the anchored ones, run on demand.
 */
import path from "node:path";
import { createBatchAccumulator, type BatchFigures } from "../core/batch-accumulator.ts";
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import { buildMerkleTree, type MerkleTree } from "../core/merkle-tree.ts";
import type { RecordMismatch } from "./audit-report.ts";
import type { PersonKeyCounts } from "./compare-batch.ts";
import { countPersonKeysOfColumns, createPersonNumbers } from "./count-person-keys.ts";
import { createAnomalyFinder, type AnomalyFinder, type AnomalySettings } from "./find-anomalies.ts";
import { foldSumTree, sortByKey, sortLeaves } from "../core/fold-sum-tree.ts";
import { joinLeaves, joinRecords, leafIdOf, type AnchoredLeaves } from "./join-leaves.ts";
import type { AnchoredBatch } from "./read-anchored-batch.ts";
import { readReferenceTree, type Reference } from "./read-reference.ts";
import type { SumTreeSummary } from "./recompute-batch.ts";
import {
  announcedRows,
  scanArtifact,
  type LeafColumns,
  type ScannedArtifact,
} from "./scan-artifact.ts";
import type { DataKey } from "../store/private-store.ts";

export interface StreamedSides {
  audited: ScannedArtifact;
  /** Undefined without a reference artifact. */
  reference: Reference | undefined;
  /** `shafaf-tree/2`: the export's tree, or why there is none. */
  sum: { tree: SumTreeSummary | undefined; problem: string | undefined };
  /** `shafaf-tree/1`: the export's tree (undefined without records). */
  v1Tree: MerkleTree | undefined;
  figures: BatchFigures;
  /** Every audited record added; its history and previous period are read once it finishes. */
  finder: AnomalyFinder;
  /** One person ↔ one key, counted from the columns. */
  personKeys: () => PersonKeyCounts;
  /** The record-level evidence: call only when the reference's tree is the anchored tree. */
  joinWithAnchored: () => RecordMismatch[];
}

/**
 * @example
 * const sides = await readStreamedSides({ auditedDir, referenceDir, anchored, settings });
 */
export async function readStreamedSides(s: {
  auditedDir: string;
  referenceDir: string | undefined;
  anchored: AnchoredBatch;
  settings: AnomalySettings;
  /** Opens sealed artifacts in place (nothing plain is written). */
  dataKey?: DataKey | undefined;
}): Promise<StreamedSides> {
  const { anchored } = s;
  const { kind, period } = anchored;
  const same =
    s.referenceDir !== undefined && path.resolve(s.referenceDir) === path.resolve(s.auditedDir);
  const referenceTree =
    anchored.v2 === undefined && s.referenceDir !== undefined
      ? await readReferenceTree(s.referenceDir)
      : undefined;
  const referenceScan =
    s.referenceDir === undefined || same
      ? undefined
      : await scanArtifact(s.referenceDir, undefined, undefined, s.dataKey);
  const expected = await announcedRows(s.auditedDir, s.dataKey);
  const finder = createAnomalyFinder({
    expectedRecords: expected,
    kind,
    period,
    ingestIssues: undefined,
    hadDbfInputs: false,
    settings: s.settings,
  });
  // The accumulator's people are the finder's distinct subjects: both see every record below, so
  // the subjects are held once, in the finder's column.
  const acc = createBatchAccumulator({
    people: {
      add: () => undefined,
      get size() {
        return finder.distinctSubjects();
      },
    },
  });
  const personNumbers = createPersonNumbers();
  let persons = new Float64Array(Math.max(1, expected));
  const audited = await scanArtifact(
    s.auditedDir,
    kind,
    (record, subject, row) => {
      acc.add(record, subject);
      finder.add(record, subject);
      if (row === persons.length) {
        const grown = new Float64Array(persons.length * 2);
        grown.set(persons);
        persons = grown;
      }
      persons[row] = personNumbers.of(record.nationalId);
    },
    s.dataKey,
  );
  const v1 = anchored.v2 === undefined;
  const order = v1 ? sortByLeafHash(audited.columns) : sortLeaves(audited.columns);
  const sum = v1 ? { tree: undefined, problem: undefined } : foldOrProblem(audited, order);
  const v1Tree =
    v1 && audited.columns.count > 0 ? buildMerkleTree(audited.columns.commitments) : undefined;
  const refScanned = s.referenceDir === undefined ? undefined : same ? audited : referenceScan!;
  const refSide =
    refScanned === undefined || v1
      ? undefined
      : same
        ? { scanned: audited, order, sum }
        : (() => {
            const o = sortLeaves(refScanned.columns);
            return { scanned: refScanned, order: o, sum: foldOrProblem(refScanned, o) };
          })();
  const reference =
    refScanned === undefined
      ? undefined
      : v1
        ? referenceOfV1(refScanned, referenceTree!)
        : referenceOf(refSide!.scanned, refSide!.sum);
  const c = audited.columns;
  return {
    audited,
    reference,
    sum,
    v1Tree,
    figures: acc.figures(),
    finder,
    personKeys: () => {
      const keyed = new Uint32Array(c.count);
      let n = 0;
      for (let r = 0; r < c.count; r++) if (c.line[r]! < (audited.keys?.count ?? 0)) keyed[n++] = r;
      return countPersonKeysOfColumns(keyed.subarray(0, n), c.keys, persons);
    },
    joinWithAnchored: () =>
      v1
        ? joinRecords(
            { scanned: audited, order },
            anchoredLeavesV1(
              referenceTree!,
              reference?.lines === undefined ? undefined : refScanned,
              c,
            ),
            (x, y) => sameHash(c.commitments, x, c.commitments, y),
            (row) => bytesToHex(c.commitments.subarray(row * 32, row * 32 + 32)),
          )
        : joinLeaves({ scanned: audited, order }, refSide!),
  };
}

/** `shafaf-batch/1` rows ordered by their leaf hash (the commitment column), then row. */
function sortByLeafHash(c: LeafColumns): Uint32Array {
  const rows = new Uint32Array(c.count);
  for (let r = 0; r < c.count; r++) rows[r] = r;
  sortByKey(rows, c.commitments, c.commitments);
  return rows;
}

const sameHash = (a: Uint8Array, x: number, b: Uint8Array, y: number): boolean => {
  for (let k = 0; k < 32; k++) if (a[x * 32 + k] !== b[y * 32 + k]) return false;
  return true;
};

/** A `shafaf-tree/1` batch's anchored leaves (its reference's tree.bin) for the join. */
function anchoredLeavesV1(
  tree: MerkleTree,
  lines: ScannedArtifact | undefined,
  audited: LeafColumns,
): AnchoredLeaves {
  const a = audited.commitments;
  const n = tree.length;
  const ids = new Uint8Array(n * 32);
  for (let i = 0; i < n; i++) ids.set(hexToBytes(tree.leafHash(i)), i * 32);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  sortByKey(order, ids, ids);
  return {
    count: n,
    order,
    cmp: (row, i) => {
      for (let k = 0; k < 32; k++) {
        const d = a[row * 32 + k]! - ids[i * 32 + k]!;
        if (d !== 0) return d;
      }
      return 0;
    },
    same: (i, j) => sameHash(ids, i, ids, j),
    leafHash: (i) => tree.leafHash(i),
    lines,
  };
}

/**
 * A scanned `shafaf-batch/1` reference as `readReference` describes one: its records explain the
 * anchored leaves only when every line is a record line that hashes to the leaf at its index.
 */
function referenceOfV1(scanned: ScannedArtifact, tree: MerkleTree): Reference {
  const c = scanned.columns;
  let detail = "records.jsonl opens every anchored leaf";
  if (scanned.problems.length > 0) detail = `records unavailable: ${scanned.problems.join("; ")}`;
  else if (scanned.lines !== tree.length)
    detail = `records unavailable: records.jsonl has ${scanned.lines} lines, the tree ${tree.length} leaves`;
  else if (scanned.firstBadLine !== undefined)
    detail = `records unavailable: line ${scanned.firstBadLine + 1} is not a record line`;
  else
    for (let i = 0; i < c.count; i++)
      if (bytesToHex(c.commitments.subarray(i * 32, i * 32 + 32)) !== tree.leafHash(i)) {
        detail = `records unavailable: line ${i + 1} does not hash to the anchored leaf at index ${i}`;
        break;
      }
  return {
    descriptor: scanned.descriptor,
    manifest: scanned.manifest,
    manifestBytes: scanned.manifestBytes,
    tree,
    // Read on demand by the join (`joinRecords`); a Map here says "usable".
    lines: detail.startsWith("records unavailable") ? undefined : new Map(),
    byIndex: undefined,
    detail,
    recordsSha: scanned.recordsSha,
    leafHashes: undefined,
  };
}

/** The recomputed tree of a scanned side, or why there is none. */
function foldOrProblem(
  scanned: ScannedArtifact,
  order: Uint32Array,
): { tree: SumTreeSummary | undefined; problem: string | undefined } {
  if (scanned.columns.count > 0 && scanned.treeProblem === undefined) {
    try {
      return { tree: foldSumTree(scanned.columns, order), problem: undefined };
    } catch (error) {
      return { tree: undefined, problem: (error as Error).message };
    }
  }
  return { tree: undefined, problem: scanned.treeProblem ?? "no tree" };
}

/** A scanned `shafaf-batch/2` reference as `readReference` describes one (its lines stay on disk). */
function referenceOf(
  scanned: ScannedArtifact,
  sum: { tree: SumTreeSummary | undefined; problem: string | undefined },
): Reference {
  const base = {
    descriptor: scanned.descriptor,
    manifest: scanned.manifest,
    manifestBytes: scanned.manifestBytes,
    recordsSha: scanned.recordsSha,
    keysSha: scanned.keys?.sha ?? "",
    leafHashes: undefined,
    byIndex: undefined,
  };
  const unavailable = (detail: string): Reference => ({
    ...base,
    tree: { root: null, length: 0, leafHash: () => "" },
    lines: undefined,
    detail: `records unavailable: ${detail}`,
  });
  const keyBytes = scanned.keys?.bytes ?? 0;
  if (scanned.problems.length > 0) return unavailable(scanned.problems.join("; "));
  if (keyBytes !== scanned.lines * 32)
    return unavailable(
      `keys.bin holds ${keyBytes / 32} keys, records.jsonl ${scanned.lines} lines`,
    );
  if (scanned.firstBadLine !== undefined)
    return unavailable(`line ${scanned.firstBadLine + 1} is not a record line`);
  if (sum.tree === undefined) return unavailable(sum.problem ?? "no tree");
  return {
    ...base,
    tree: {
      root: sum.tree.root.toLowerCase(),
      length: scanned.lines,
      leafHash: (i) => leafIdOf(scanned.columns, i),
    },
    // Read on demand by the join (`joinLeaves`); a Map here says "usable".
    lines: new Map(),
    detail: "records.jsonl and keys.bin give the tree",
  };
}
