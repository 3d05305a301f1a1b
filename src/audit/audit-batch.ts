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
import { InvalidInputError } from "../core/errors.ts";
import { DEFAULT_RATE_TABLE } from "../core/rates.ts";
import { laneNamesOf } from "../core/sum-tree-batch.ts";
import { BATCH_ARTIFACT_FORMAT, BATCH_ARTIFACT_V2_FORMAT } from "../store/batch-artifact.ts";
import type { DataKey } from "../store/private-store.ts";
import {
  AUDIT_REPORT_FORMAT,
  type AuditBatchResult,
  type AuditCheck,
  type AuditedExport,
  type AuditReport,
  type RecordMismatch,
} from "./audit-report.ts";

export type { AuditBatchResult, AuditedExport } from "./audit-report.ts";
import { checkAnomalies, finishWithHistory } from "./audit-history.ts";
import {
  auditCheck,
  checkPersonKeys,
  compareBatch,
  compareReference,
  countPersonKeys,
} from "./compare-batch.ts";
import { compareRecords, sortMismatches } from "./compare-records.ts";
import {
  DEFAULT_ANOMALY_SETTINGS,
  type AnomalyResult,
  type AnomalySettings,
} from "./find-anomalies.ts";
import type { AnchoredBatch } from "./read-anchored-batch.ts";
import { readAuditedExport, type ExportRead } from "./read-audited-export.ts";
import { readReference, type Reference } from "./read-reference.ts";
import { rebuildManifest, recomputeBatch, type Recomputed } from "./recompute-batch.ts";
import { renderAuditHtml } from "./render-audit-html.ts";
import { readArtifactDescriptor } from "./scan-artifact.ts";
import { readStreamedSides } from "./stream-sides.ts";

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
  /**
   * The data key of sealed artifacts (encryption at rest): their private files are opened in
   * place, chunk by chunk, and nothing plain is written anywhere.
   */
  dataKey?: DataKey | undefined;
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
  const reference =
    referenceDir === undefined ? undefined : await readReference(referenceDir, params.dataKey);
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
    dataKey: params.dataKey,
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
    dataKey: params.dataKey,
    audited: {
      dirs: referenceDir === undefined ? [] : [referenceDir],
      kind,
      root: anchored.root,
    },
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
  const sides = await readStreamedSides({ ...s, dataKey: params.dataKey, settings });
  const { audited, reference, sum, v1Tree, figures } = sides;
  const checks: AuditCheck[] = reference === undefined ? [] : compareReference(reference, anchored);
  checks.push(integrityCheck(audited.problems));
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
            laneNames: laneNamesOf(anchored.kind),
            lanes: [...sum.tree.lanes],
            provinces: sum.tree.provinces,
          },
        }),
  });
  const recomputed =
    anchored.v2 === undefined
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
  checks.push(
    ...checkPersonKeys(anchored, exportedV2, audited.lines, sides.personKeys),
    ...compareBatch(anchored, reference, recomputed, reference?.manifest ?? audited.manifest),
  );
  const mismatches = sortMismatches([
    ...audited.invalid,
    ...(reference === undefined || reference.tree.root !== anchored.root
      ? []
      : sides.joinWithAnchored()),
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
      // The history is read now, for the corrections' targets only (audit-history.ts).
      found: await finishWithHistory(sides.finder, {
        kind: anchored.kind,
        period: anchored.period,
        historyDirs: params.historyDirs,
        previousDir: params.previousDir,
        dataKey: params.dataKey,
        audited: {
          dirs: [s.auditedDir, ...(s.referenceDir === undefined ? [] : [s.referenceDir])],
          kind: anchored.kind,
          root: anchored.root,
        },
      }),
    }),
  );
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
