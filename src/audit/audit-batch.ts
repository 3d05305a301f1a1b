/**
 * An auditor's recomputation of one anchored batch.
 *
 * Three sides, named the same way everywhere (code, report, docs):
 * - **anchored**: the batch as the ledger holds it (root, count, total, manifest hash) — read from
 *   the chain, or, without a chain, from the reference artifact's descriptor (then say so).
 * - **reference**: the organization's anchored batch artifact (`shafaf-batch/1`, or
 *   `shafaf-batch/2` for a `shafaf-tree/2` batch). Its tree (v1 tree.bin; v2 recomputed from
 *   records.jsonl and keys.bin) must have the anchored root; its records.jsonl then tells which
 *   record each anchored leaf was. It is what record-level evidence is compared against.
 * - **audited** (the export): what the organization hands over today — the batch artifact itself,
 *   or its original input files plus the salts (v1 only: a v2 batch's person keys come from the
 *   VRF key, which an auditor does not hold). Everything is recomputed from it.
 *
 * A batch artifact streams (`auditBatchStreaming`, bounded memory); input files go through the
 * stages held in memory. Stages, each in its own module: read (`read-reference.ts`, the anchored side here,
 * `read-audited-export.ts`) → recompute (`recompute-batch.ts`, the pipeline's batch
 * accumulator) → compare (`compare-batch.ts`, `compare-records.ts`) → anomalies
 * (`audit-history.ts`) → report (`audit-report.ts` types, `render-audit-html.ts`).
 *
 * The report is deterministic: the same inputs and options give the same bytes (no clock, no
 * absolute paths, stable ordering), so that its keccak256 can be attested on-chain.
 */
import { keccak256 } from "ethers";
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import { buildMerkleTree, type MerkleTree } from "../core/merkle-tree.ts";
import path from "node:path";
import { createBatchAccumulator } from "../core/batch-accumulator.ts";
import { BATCH_ARTIFACT_FORMAT, BATCH_ARTIFACT_V2_FORMAT } from "../store/batch-artifact.ts";
import { InvalidInputError } from "../core/errors.ts";
import { DEFAULT_RATE_TABLE } from "../core/rates.ts";
import { laneNamesOf } from "../core/sum-tree-batch.ts";
import {
  AUDIT_REPORT_FORMAT,
  type AuditBatchResult,
  type AuditCheck,
  type AuditedExport,
  type AuditReport,
  type RecordMismatch,
} from "./audit-report.ts";

export type { AuditBatchResult, AuditedExport } from "./audit-report.ts";
import { anomalyContext, checkAnomalies } from "./audit-history.ts";
import { countPersonKeysOfColumns, createPersonNumbers } from "./count-person-keys.ts";
import { foldSumTree, sortByKey, sortLeaves } from "./fold-sum-tree.ts";
import { createDistinctSubjects } from "./subject-columns.ts";
import { joinLeaves, joinRecords, leafIdOf, type AnchoredLeaves } from "./join-leaves.ts";
import {
  readArtifactDescriptor,
  scanArtifact,
  type LeafColumns,
  type ScannedArtifact,
} from "./scan-artifact.ts";
import {
  auditCheck,
  checkPersonKeys,
  compareBatch,
  compareReference,
  countPersonKeys,
} from "./compare-batch.ts";
import { compareRecords, sortMismatches } from "./compare-records.ts";
import {
  createAnomalyFinder,
  DEFAULT_ANOMALY_SETTINGS,
  type AnomalyResult,
  type AnomalySettings,
} from "./find-anomalies.ts";
import type { AnchoredBatch } from "./read-anchored-batch.ts";
import { readAuditedExport, type ExportRead } from "./read-audited-export.ts";
import { readReference, readReferenceTree, type Reference } from "./read-reference.ts";
import {
  rebuildManifest,
  recomputeBatch,
  type Recomputed,
  type SumTreeSummary,
} from "./recompute-batch.ts";
import { renderAuditHtml } from "./render-audit-html.ts";

export interface AuditBatchParams {
  batchId: number;
  audited: AuditedExport;
  /** What is anchored, read from the chain (`readAnchoredBatch`); without it the reference's descriptor stands in. */
  anchored?: AnchoredBatch | undefined;
  /** The anchored batch artifact (reference); default: the audited artifact when auditing one. */
  referenceDir?: string | undefined;
  /** Earlier batch artifacts of any kind and period: correction targets and the previous period. */
  historyDirs?: readonly string[] | undefined;
  /** The previous period's artifact, overriding the one found in `historyDirs`. */
  previousDir?: string | undefined;
  settings?: Partial<AnomalySettings> | undefined;
  /** Written into the report as is; default null (no clock: reports are reproducible). */
  generatedAt?: string | undefined;
}

/**
 * Audits batch `batchId`: recomputes leaves, tree, count, total and manifest from the audited
 * export, compares them with what is anchored, explains every difference record by record
 * against the reference artifact, and runs the anomaly checks.
 *
 * @example
 * const anchored = await readAnchoredBatch({ rpcUrls, contract, batchId: 3 });
 * const { report, json, html, reportHash } = await auditBatch({
 *   batchId: 3, anchored, audited: { type: "batch-artifact", dir: ".shafaf/batches/<jobId>" } });
 */
export async function auditBatch(params: AuditBatchParams): Promise<AuditBatchResult> {
  const settings: AnomalySettings = { ...DEFAULT_ANOMALY_SETTINGS, ...params.settings };
  // ── read: the reference (the anchored artifact), what is anchored, the audited export ──
  const referenceDir =
    params.referenceDir ??
    (params.audited.type === "batch-artifact" ? params.audited.dir : undefined);
  const streamed = await streamable(params, referenceDir);
  if (streamed !== undefined) return auditBatchStreaming(params, settings, streamed);
  const reference = referenceDir === undefined ? undefined : await readReference(referenceDir);
  const anchored = anchoredSide(params, reference);
  const { kind, period } = anchored;
  if (anchored.v2 !== undefined && params.audited.type === "inputs")
    throw new InvalidInputError(
      `batch ${params.batchId} is a shafaf-tree/2 batch: its original input files cannot be audited`,
      {
        details:
          "a shafaf-tree/2 leaf holds each person's key, derived from the organization's VRF key, which an auditor does not hold; audit the batch artifact instead (shafaf audit <data-dir>/batches/<jobId> --batch ID …), whose keys.bin carries the keys",
        code: "audit.inputs.v2",
      },
    );
  const checks: AuditCheck[] = reference === undefined ? [] : compareReference(reference, anchored);
  const exported = await readAuditedExport(params.audited, {
    kind,
    period,
    rates: settings.rates,
    reference,
  });
  if (exported.problems !== undefined) checks.push(integrityCheck(exported.problems));
  // ── recompute ──
  const recomputed = recomputeBatch({
    anchored,
    reference,
    exported,
    rulesVersion: settings.rates.version ?? DEFAULT_RATE_TABLE.version,
  });
  // ── compare ──
  checks.push(
    ...checkPersonKeys(anchored, exported, exported.records.length + exported.invalid.length, () =>
      countPersonKeys(exported.records),
    ),
    ...compareBatch(anchored, reference, recomputed, reference?.manifest ?? exported.manifest),
  );
  const mismatches = sortMismatches([
    ...exported.invalid,
    ...compareRecords(reference, anchored.root, exported.records, recomputed.leafOf),
  ]);
  // ── anomalies, then the report ──
  const found = await checkAnomalies({
    kind,
    period,
    exported,
    settings,
    historyDirs: params.historyDirs,
    previousDir: params.previousDir,
  });
  return writeReport(
    buildReport({
      params,
      settings,
      anchored,
      reference,
      exported,
      recomputed,
      checks,
      mismatches,
      found,
    }),
  );
}

/** The anchored side: from the chain, or, without one, the reference's descriptor (said so). */
function anchoredSide(
  params: AuditBatchParams,
  reference: Pick<Reference, "descriptor"> | undefined,
): AnchoredBatch {
  if (params.anchored !== undefined) return params.anchored;
  if (reference === undefined)
    throw new InvalidInputError(
      "nothing to compare with: give the chain (--rpc, --contract) or the anchored artifact",
      { code: "audit.anchored.missing" },
    );
  const d = reference.descriptor;
  return {
    source: "artifact",
    chainId: null,
    contract: null,
    batchId: params.batchId,
    kind: d.kind,
    period: d.period,
    root: d.root.toLowerCase(),
    recordCount: d.recordCount,
    total: BigInt(d.total),
    manifestHash: d.manifestHash.toLowerCase(),
    supersedes: d.supersedes,
    supersededBy: null,
    confirmations: null,
    disputes: null,
    ...(d.scheme === "shafaf-tree/2"
      ? {
          v2: {
            scheme: d.scheme,
            vrfKeyId: (d.vrfKeyId ?? "").toLowerCase(),
            lanes: (d.lanes ?? []).map((l) => BigInt(l)),
          },
        }
      : {}),
  };
}

/**
 * A batch audited from its artifact, against a reference of the same format (or none), streams:
 * `shafaf-batch/2` for a `shafaf-tree/2` batch, `shafaf-batch/1` for a `shafaf-tree/1` one. Input
 * files, and an artifact of the other scheme's format, are read whole.
 */
async function streamable(
  params: AuditBatchParams,
  referenceDir: string | undefined,
): Promise<
  { auditedDir: string; referenceDir: string | undefined; anchored: AnchoredBatch } | undefined
> {
  if (params.audited.type !== "batch-artifact") return undefined;
  const audited = await readArtifactDescriptor(params.audited.dir);
  const reference =
    referenceDir === undefined ? undefined : await readArtifactDescriptor(referenceDir);
  const anchored = anchoredSide(
    params,
    reference === undefined ? undefined : { descriptor: reference },
  );
  const format = anchored.v2 === undefined ? BATCH_ARTIFACT_FORMAT : BATCH_ARTIFACT_V2_FORMAT;
  if (audited.format !== format || (reference !== undefined && reference.format !== format))
    return undefined;
  return { auditedDir: params.audited.dir, referenceDir, anchored };
}

/**
 * {@link auditBatch} of a batch artifact with bounded memory: one streaming pass over the export
 * (and one over the reference, unless it is the export itself) keeps fixed-size columns only;
 * the batch accumulator, the anomaly fold and the person-key columns see each record once; a
 * `shafaf-tree/2` tree is folded chunk by chunk, a `shafaf-tree/1` tree built from the column of
 * leaf hashes; record-level evidence comes from a merge-join of the export's leaves with the
 * anchored ones in one sort order, opening only the records that differ. The report is the one
 * the in-memory stages write, byte for byte (test/audit/stream-audit.test.ts).
 */
async function auditBatchStreaming(
  params: AuditBatchParams,
  settings: AnomalySettings,
  s: { auditedDir: string; referenceDir: string | undefined; anchored: AnchoredBatch },
): Promise<AuditBatchResult> {
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
      : await scanArtifact(s.referenceDir, undefined);
  const acc = createBatchAccumulator({ people: createDistinctSubjects() });
  const { history, previous } = await anomalyContext({ ...params, kind, period });
  const finder = createAnomalyFinder({
    kind,
    period,
    ingestIssues: undefined,
    hadDbfInputs: false,
    history,
    previous,
    settings,
  });
  const personNumbers = createPersonNumbers();
  let persons = new Float64Array(1 << 14);
  const audited = await scanArtifact(s.auditedDir, kind, (record, subject, row) => {
    acc.add(record, subject);
    finder.add(record, subject);
    if (row === persons.length) {
      const grown = new Float64Array(persons.length * 2);
      grown.set(persons);
      persons = grown;
    }
    persons[row] = personNumbers.of(record.nationalId);
  });
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
  const checks: AuditCheck[] = reference === undefined ? [] : compareReference(reference, anchored);
  checks.push(integrityCheck(audited.problems));
  const figures = acc.figures();
  const exportedV2 =
    audited.keys === undefined
      ? {}
      : {
          v2: {
            scheme: "shafaf-tree/2" as const,
            keysSha: audited.keys.sha,
            keyCount: audited.keys.count,
            vrfKeyId: audited.descriptor.vrfKeyId?.toLowerCase() ?? null,
          },
        };
  const { rebuilt } = rebuildManifest({
    anchored,
    reference,
    exported: { manifest: audited.manifest },
    figures,
    rulesVersion: settings.rates.version ?? DEFAULT_RATE_TABLE.version,
    ...(sum.tree === undefined
      ? {}
      : {
          tree: {
            vrfKeyId: anchored.v2!.vrfKeyId,
            laneNames: laneNamesOf(kind),
            lanes: [...sum.tree.lanes],
            provinces: sum.tree.provinces,
          },
        }),
  });
  const recomputed = v1
    ? {
        tree: v1Tree === undefined ? undefined : { root: v1Tree.root },
        figures,
        rebuilt,
        renamed: [],
      }
    : {
        tree: sum.tree === undefined ? undefined : { root: sum.tree.root.toLowerCase() },
        sum,
        figures,
        rebuilt,
        renamed: [],
      };
  const c = audited.columns;
  checks.push(
    ...checkPersonKeys(anchored, exportedV2, audited.lines, () => {
      const keyed = new Uint32Array(c.count);
      let n = 0;
      for (let r = 0; r < c.count; r++) if (c.line[r]! < (audited.keys?.count ?? 0)) keyed[n++] = r;
      return countPersonKeysOfColumns(keyed.subarray(0, n), c.keys, persons);
    }),
    ...compareBatch(anchored, reference, recomputed, reference?.manifest ?? audited.manifest),
  );
  const mismatches = sortMismatches([
    ...audited.invalid,
    ...(reference === undefined || reference.tree.root !== anchored.root
      ? []
      : v1
        ? await joinRecords(
            { scanned: audited, order },
            anchoredLeavesV1(
              referenceTree!,
              reference.lines === undefined ? undefined : refScanned,
              audited.columns,
            ),
            (x, y) => sameHash(audited.columns.commitments, x, audited.columns.commitments, y),
            (row) => bytesToHex(audited.columns.commitments.subarray(row * 32, row * 32 + 32)),
          )
        : await joinLeaves({ scanned: audited, order }, refSide!)),
  ]);
  return writeReport(
    buildReport({
      params,
      settings,
      anchored,
      reference,
      exported: { files: audited.files },
      recomputed,
      checks,
      mismatches,
      found: finder.finish(),
    }),
  );
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

const integrityCheck = (problems: readonly string[]): AuditCheck =>
  auditCheck(
    "export-integrity",
    "sha256 as in artifact.json",
    problems.length === 0 ? "sha256 as in artifact.json" : problems.join("; "),
    "the audited artifact's files match the sha256 its descriptor recorded when it was written",
  );

/** The report: the verdict is "match" only when every check is ok and no record differs. */
export function buildReport(p: {
  params: AuditBatchParams;
  settings: AnomalySettings;
  anchored: AnchoredBatch;
  reference: Reference | undefined;
  exported: Pick<ExportRead, "files">;
  recomputed: Omit<Recomputed, "hashes" | "leafOf" | "renamed">;
  checks: AuditCheck[];
  mismatches: RecordMismatch[];
  found: AnomalyResult;
}): AuditReport {
  const { anchored, reference, recomputed, settings } = p;
  const ok = p.checks.every((c) => c.ok) && p.mismatches.length === 0;
  const v2 = anchored.v2;
  const names = laneNamesOf(anchored.kind);
  const lanesOf = (lanes: readonly bigint[]) =>
    Object.fromEntries(names.map((n, k) => [n, (lanes[k] ?? 0n).toString()]));
  const sumTree = recomputed.sum?.tree;
  // A v1 report has none of the v2 fields, so its bytes are those it always had.
  return {
    format: AUDIT_REPORT_FORMAT,
    ...(v2 !== undefined ? { scheme: v2.scheme } : {}),
    batchId: p.params.batchId,
    kind: anchored.kind,
    period: anchored.period,
    generatedAt: p.params.generatedAt ?? null,
    verdict: ok ? "match" : "mismatch",
    anchored: {
      source: anchored.source,
      chainId: anchored.chainId,
      contract: anchored.contract,
      root: anchored.root,
      recordCount: anchored.recordCount,
      total: anchored.total.toString(),
      manifestHash: anchored.manifestHash,
      supersedes: anchored.supersedes,
      supersededBy: anchored.supersededBy,
      confirmations: anchored.confirmations,
      disputes: anchored.disputes,
      ...(v2 !== undefined ? { vrfKeyId: v2.vrfKeyId, lanes: lanesOf(v2.lanes) } : {}),
    },
    reference:
      reference === undefined
        ? null
        : {
            jobId: reference.descriptor.jobId,
            root: reference.tree.root,
            records: reference.lines === undefined ? "unavailable" : "used",
            detail: reference.detail,
          },
    audited: {
      type: p.params.audited.type,
      files: p.exported.files,
      root: recomputed.tree?.root ?? null,
      recordCount: recomputed.figures.recordCount,
      total: recomputed.figures.total.toString(),
      manifestHash: recomputed.rebuilt.hash,
      ...(v2 !== undefined ? { lanes: sumTree === undefined ? null : lanesOf(sumTree.lanes) } : {}),
    },
    checks: p.checks,
    mismatches: p.mismatches,
    anomalies: p.found.anomalies,
    anomalyChecks: p.found.checks,
    indicators: { pensionsOnTime: p.found.pensionsOnTime },
    settings: {
      lateDays: settings.lateDays,
      jumpThresholdPercent: settings.jumpThresholdPercent,
      jumpMinHeadcount: settings.jumpMinHeadcount,
      rulesVersion: settings.rates.version,
    },
  };
}

/** The report's bytes: JSON (2-space, trailing newline), its keccak256, and the HTML page. */
export function writeReport(report: AuditReport): AuditBatchResult {
  const json = new TextEncoder().encode(JSON.stringify(report, null, 2) + "\n");
  const reportHash = keccak256(json);
  const html = new TextEncoder().encode(renderAuditHtml(report, reportHash));
  return { report, json, html, reportHash };
}
