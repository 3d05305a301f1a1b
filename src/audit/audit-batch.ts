/**
 * An auditor's recomputation of one anchored batch.
 *
 * Three sides, named the same way everywhere (code, report, docs):
 * - **anchored**: the batch as the ledger holds it (root, count, total, manifest hash) — read from
 *   the chain, or, without a chain, from the reference artifact's descriptor (then say so).
 * - **reference**: the organization's anchored batch artifact (`shafaf-batch/1`). Its tree.bin
 *   must have the anchored root; its records.jsonl then tells which record each anchored leaf
 *   was. It is what record-level evidence is compared against.
 * - **audited** (the export): what the organization hands over today — the batch artifact itself,
 *   or its original input files plus the salts. Everything is recomputed from it.
 *
 * The report is deterministic: the same inputs and options give the same bytes (no clock, no
 * absolute paths, stable ordering), so that its keccak256 can be attested on-chain.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { keccak256 } from "ethers";
import { buildManifest, canonicalJson, manifestHash, type Manifest } from "../core/manifest.ts";
import { InvalidInputError } from "../core/errors.ts";
import { bytesToHex, isHexBytes, type Hex } from "../core/hex.ts";
import { LEAF_ENCODING, leafHashes, leafValues, type LeafValues } from "../core/leaf.ts";
import { buildMerkleTree, loadMerkleTree, type MerkleTree } from "../core/merkle-tree.ts";
import { maskNationalId } from "../core/national-id.ts";
import { DEFAULT_RATE_TABLE } from "../core/rates.ts";
import { recordFromJson, recordToJson } from "../core/receipt.ts";
import { recordAmount } from "../core/record-amount.ts";
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import { validateRecord } from "../core/validate-record.ts";
import type { IngestIssue } from "../ingest/ingest-issue.ts";
import { openInputs } from "../ingest/open-inputs.ts";
import type { SourceInfo } from "../ingest/source-info.ts";
import {
  BATCH_ARTIFACT_FORMAT,
  readBatchArtifact,
  type ArtifactRecordLine,
  type BatchArtifactDescriptor,
} from "../store/batch-artifact.ts";
import {
  DEFAULT_ANOMALY_SETTINGS,
  findAnomalies,
  type Anomaly,
  type AnomalyCheckRun,
  type AnomalySettings,
} from "./find-anomalies.ts";
import type { AnchoredBatch } from "./read-anchored-batch.ts";
import { renderAuditHtml } from "./render-audit-html.ts";

export const AUDIT_REPORT_FORMAT = "shafaf-audit/1";

/** What is audited. */
export type AuditedExport =
  | { type: "batch-artifact"; dir: string }
  | {
      type: "inputs";
      paths: readonly string[];
      /** JSON Lines: `{recordId, salt, subject}` per line, or the artifact's records.jsonl. */
      salts: string;
      encoding?: "utf8" | "cp1256" | "auto" | undefined;
      province?: string | undefined;
    };

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

export interface AuditCheck {
  name: string;
  ok: boolean;
  anchored: string | null;
  recomputed: string | null;
  detail: string;
}

/** One record-level difference between the anchored batch and the export. */
export interface RecordMismatch {
  problem: "changed" | "missing" | "added" | "duplicate" | "invalid" | "no-salt" | "leaf";
  recordId: string | null;
  /** Leaf index in the anchored batch (reference records.jsonl order), when known. */
  anchoredIndex: number | null;
  /** Where the audited record comes from: `file:line`, base names only. */
  source: string | null;
  field: string | null;
  anchored: string | null;
  recomputed: string | null;
  detail: string;
}

export interface AuditReport {
  format: typeof AUDIT_REPORT_FORMAT;
  batchId: number;
  kind: RecordKind;
  period: string;
  generatedAt: string | null;
  verdict: "match" | "mismatch";
  anchored: {
    source: "chain" | "artifact";
    chainId: number | null;
    contract: string | null;
    root: string;
    recordCount: number;
    total: string;
    manifestHash: string;
    supersedes: number | null;
    supersededBy: number | null;
    confirmations: number | null;
    disputes: number | null;
  };
  reference: {
    jobId: string;
    root: string;
    records: "used" | "unavailable";
    detail: string;
  } | null;
  audited: {
    type: AuditedExport["type"];
    files: { name: string; sha256: string }[];
    root: string | null;
    recordCount: number;
    total: string;
    manifestHash: string | null;
  };
  checks: AuditCheck[];
  mismatches: RecordMismatch[];
  anomalies: Anomaly[];
  anomalyChecks: AnomalyCheckRun[];
  indicators: { pensionsOnTime: { onTime: number; late: number; rate: string } | null };
  settings: {
    lateDays: number;
    jumpThresholdPercent: number;
    jumpMinHeadcount: number;
    rulesVersion: string;
  };
}

export interface AuditBatchResult {
  report: AuditReport;
  /** The report as JSON, UTF-8, 2-space indented, trailing newline: the bytes whose keccak256 is attested. */
  json: Uint8Array;
  /** The self-contained HTML page (Persian and English headings). */
  html: Uint8Array;
  /** keccak256 of `json`. */
  reportHash: string;
}

const sourceLabel = (s: { name: string; entry?: string | undefined }): string =>
  s.entry === undefined ? s.name : `${s.name}!${s.entry}`;

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

/** A record of the export, opened. */
interface AuditedRecord {
  record: LedgerRecord;
  /** The line's leaf index, when the export is a batch artifact. */
  index?: number;
  salt: Hex;
  subject: Hex;
  source: string;
}

interface ReferenceLine {
  index: number;
  salt: string;
  subject: string;
  record: Record<string, string | number>;
}

const sha256hex = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");
const text = (v: unknown): string =>
  typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
const display = (field: string, v: unknown): string | null =>
  v === undefined || v === null ? null : field === "nationalId" ? maskNationalId(text(v)) : text(v);

/** Reads an artifact directory tolerantly: integrity problems become findings, not exceptions. */
async function readArtifactLoose(dir: string): Promise<{
  descriptor: BatchArtifactDescriptor;
  manifestBytes: Uint8Array;
  recordsBytes: Uint8Array;
  lines: ArtifactRecordLine[];
  problems: string[];
}> {
  const where = (f: string) => path.join(dir, f);
  let descriptor: BatchArtifactDescriptor;
  try {
    descriptor = JSON.parse(
      await readFile(where("artifact.json"), "utf8"),
    ) as BatchArtifactDescriptor;
  } catch (error) {
    throw new InvalidInputError(`${where("artifact.json")}: not a readable batch artifact`, {
      details: `give a batch artifact directory (batches/<jobId>/ under the data directory) holding artifact.json (${(error as Error).message})`,
      code: "audit.artifact",
    });
  }
  if ((descriptor.format as string) !== BATCH_ARTIFACT_FORMAT) {
    throw new InvalidInputError(
      `${where("artifact.json")}: format ${String(descriptor.format)}, this version reads ${BATCH_ARTIFACT_FORMAT}`,
      { code: "audit.artifact.format" },
    );
  }
  const manifestBytes = new Uint8Array(await readFile(where("manifest.json")));
  const recordsBytes = new Uint8Array(await readFile(where("records.jsonl")));
  const problems: string[] = [];
  if (sha256hex(recordsBytes) !== descriptor.files["records.jsonl"].sha256)
    problems.push("records.jsonl does not match the sha256 in artifact.json");
  if (sha256hex(manifestBytes) !== descriptor.files["manifest.json"].sha256)
    problems.push("manifest.json does not match the sha256 in artifact.json");
  const lines: ArtifactRecordLine[] = [];
  const text = new TextDecoder().decode(recordsBytes);
  let n = 0;
  for (const raw of text.split("\n")) {
    n++;
    if (raw.trim() === "") continue;
    try {
      lines.push(JSON.parse(raw) as ArtifactRecordLine);
    } catch {
      throw new InvalidInputError(`${where("records.jsonl")}:${n}: not a JSON line`, {
        details: "the records file of the artifact is damaged; restore it from a backup",
        code: "audit.artifact.records",
      });
    }
  }
  return { descriptor, manifestBytes, recordsBytes, lines, problems };
}

/** The salts file: recordId → salt and subject. Accepts records.jsonl lines too. */
async function readSalts(file: string): Promise<Map<string, { salt: Hex; subject: Hex }>> {
  const text = await readFile(file, "utf8");
  const out = new Map<string, { salt: Hex; subject: Hex }>();
  let n = 0;
  for (const raw of text.split("\n")) {
    n++;
    if (raw.trim() === "") continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw new InvalidInputError(`${path.basename(file)}:${n}: not a JSON line`, {
        details: 'each line of the salts file is {"recordId":"…","salt":"0x…","subject":"0x…"}',
        code: "audit.salts",
      });
    }
    const rec = o.record as Record<string, unknown> | undefined;
    const recordId = typeof o.recordId === "string" ? o.recordId : rec?.recordId;
    if (typeof recordId !== "string" || !isHexBytes(o.salt, 32) || !isHexBytes(o.subject, 32)) {
      throw new InvalidInputError(
        `${path.basename(file)}:${n}: recordId, salt or subject missing`,
        {
          details:
            'each line needs "recordId" (or "record.recordId"), "salt" and "subject" as 0x + 64 hex digits',
          code: "audit.salts",
        },
      );
    }
    if (out.has(recordId)) {
      throw new InvalidInputError(
        `${path.basename(file)}:${n}: record ${recordId} has a second salt`,
        {
          code: "audit.salts.duplicate",
        },
      );
    }
    out.set(recordId, {
      salt: o.salt.toLowerCase() as Hex,
      subject: o.subject.toLowerCase() as Hex,
    });
  }
  return out;
}

/** Record ids → periods, and the descriptors, of every artifact in `dirs` (folders of artifacts or artifacts). */
async function readHistory(
  dirs: readonly string[],
  kind: RecordKind,
): Promise<{
  ids: Map<string, string[]>;
  artifacts: { dir: string; descriptor: BatchArtifactDescriptor }[];
}> {
  const { readdir, stat } = await import("node:fs/promises");
  const found: string[] = [];
  for (const d of dirs) {
    const isArtifact = await stat(path.join(d, "artifact.json")).then(
      () => true,
      () => false,
    );
    if (isArtifact) found.push(d);
    else {
      let names: string[];
      try {
        names = (await readdir(d)).sort();
      } catch {
        throw new InvalidInputError(`${d}: no such folder of batch artifacts`, {
          code: "audit.history",
        });
      }
      for (const name of names) {
        if (name.includes(".tmp-")) continue;
        const sub = path.join(d, name);
        if (
          await stat(path.join(sub, "artifact.json")).then(
            () => true,
            () => false,
          )
        )
          found.push(sub);
      }
    }
  }
  const ids = new Map<string, string[]>();
  const artifacts: { dir: string; descriptor: BatchArtifactDescriptor }[] = [];
  for (const dir of found) {
    const a = await readBatchArtifact(dir);
    if (a === undefined) continue;
    artifacts.push({ dir, descriptor: a.descriptor });
    if (a.descriptor.kind !== kind) continue;
    for await (const line of a.records()) {
      const id = String(line.record.recordId);
      const periods = ids.get(id) ?? [];
      if (!periods.includes(a.descriptor.period)) periods.push(a.descriptor.period);
      ids.set(id, periods);
    }
  }
  return { ids, artifacts };
}

function previousPeriod(period: string): string {
  const [y, m] = period.split("-").map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

async function recordsOf(dir: string): Promise<LedgerRecord[]> {
  const a = await readBatchArtifact(dir);
  if (a === undefined)
    throw new InvalidInputError(`${dir}: no batch artifact`, { code: "audit.previous" });
  const out: LedgerRecord[] = [];
  for await (const line of a.records()) {
    const r = recordFromJson(line.record);
    if (r !== undefined) out.push(r);
  }
  return out;
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
  const checks: AuditCheck[] = [];
  const mismatches: RecordMismatch[] = [];
  const check = (
    name: string,
    anchored: string | null,
    recomputed: string | null,
    detail: string,
    ok?: boolean,
  ) => void checks.push({ name, ok: ok ?? anchored === recomputed, anchored, recomputed, detail });

  // ── the reference: the anchored artifact ──
  const referenceDir =
    params.referenceDir ??
    (params.audited.type === "batch-artifact" ? params.audited.dir : undefined);
  let reference:
    | {
        descriptor: BatchArtifactDescriptor;
        manifest: Manifest | undefined;
        manifestBytes: Uint8Array;
        tree: MerkleTree;
        lines: Map<string, ReferenceLine> | undefined;
        byIndex: ReferenceLine[] | undefined;
        detail: string;
        /** sha256 of records.jsonl, and its lines' leaf hashes when every line opens its anchored leaf. */
        recordsSha: string;
        leafHashes: Uint8Array | undefined;
      }
    | undefined;
  if (referenceDir !== undefined) {
    const loose = await readArtifactLoose(referenceDir);
    let tree: MerkleTree;
    try {
      tree = loadMerkleTree(new Uint8Array(await readFile(path.join(referenceDir, "tree.bin"))), {
        full: true,
      });
    } catch (error) {
      throw new InvalidInputError(
        `${path.join(referenceDir, "tree.bin")}: the anchored tree cannot be read`,
        {
          details: `${(error as Error).message}; restore the artifact from a backup`,
          code: "audit.reference.tree",
        },
      );
    }
    let manifest: Manifest | undefined;
    try {
      manifest = JSON.parse(new TextDecoder().decode(loose.manifestBytes)) as Manifest;
    } catch {
      manifest = undefined;
    }
    // The reference's records explain leaves only when each one hashes to the anchored leaf at its index.
    let lines: Map<string, ReferenceLine> | undefined;
    let refHashes: Uint8Array | undefined;
    let byIndex: ReferenceLine[] | undefined;
    let detail = "records.jsonl opens every anchored leaf";
    if (loose.problems.length > 0) detail = `records unavailable: ${loose.problems.join("; ")}`;
    else if (loose.lines.length !== tree.length)
      detail = `records unavailable: records.jsonl has ${loose.lines.length} lines, the tree ${tree.length} leaves`;
    else {
      const values: LeafValues[] = [];
      const parsed: ReferenceLine[] = [];
      let bad: string | undefined;
      for (const [i, line] of loose.lines.entries()) {
        const r = recordFromJson(line.record);
        if (
          r === undefined ||
          line.index !== i ||
          !isHexBytes(line.salt, 32) ||
          !isHexBytes(line.subject, 32)
        ) {
          bad = `line ${i + 1} is not a record line`;
          break;
        }
        values.push(leafValues(r, { salt: line.salt, subject: line.subject }));
        parsed.push({
          index: i,
          salt: line.salt.toLowerCase(),
          subject: line.subject.toLowerCase(),
          record: line.record,
        });
      }
      if (bad === undefined) {
        const hashes = leafHashes(values);
        refHashes = hashes;
        for (let i = 0; i < parsed.length; i++) {
          if (bytesToHex(hashes.subarray(i * 32, i * 32 + 32)) !== tree.leafHash(i)) {
            bad = `line ${i + 1} does not hash to the anchored leaf at index ${i}`;
            break;
          }
        }
      }
      if (bad !== undefined) {
        detail = `records unavailable: ${bad}`;
        refHashes = undefined;
      } else {
        lines = new Map(parsed.map((l) => [String(l.record.recordId), l]));
        byIndex = parsed;
      }
    }
    reference = {
      descriptor: loose.descriptor,
      manifest,
      manifestBytes: loose.manifestBytes,
      tree,
      lines,
      byIndex,
      detail,
      recordsSha: sha256hex(loose.recordsBytes),
      leafHashes: refHashes,
    };
  }

  // ── what is anchored ──
  let anchored: AnchoredBatch;
  if (params.anchored !== undefined) anchored = params.anchored;
  else if (reference !== undefined) {
    const d = reference.descriptor;
    anchored = {
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
    };
  } else {
    throw new InvalidInputError(
      "nothing to compare with: give the chain (--rpc, --contract) or the anchored artifact",
      {
        code: "audit.anchored.missing",
      },
    );
  }
  const kind = anchored.kind;
  const period = anchored.period;

  if (reference !== undefined) {
    check(
      "reference-root",
      anchored.root,
      reference.tree.root,
      "the reference artifact's tree.bin has the anchored root (so its leaves are the anchored leaves)",
    );
    check(
      "reference-manifest",
      anchored.manifestHash,
      manifestHash(reference.manifestBytes),
      "keccak256 of the reference artifact's manifest.json is the anchored manifestHash",
    );
    if (reference.tree.root !== anchored.root) {
      reference.lines = undefined;
      reference.byIndex = undefined;
      reference.detail = "records unavailable: the reference tree is not the anchored tree";
    }
  }

  // ── the audited export ──
  const audited: AuditedRecord[] = [];
  let files: { name: string; sha256: string }[];
  let exportRecordsSha: string | undefined;
  let sources: readonly SourceInfo[] | undefined;
  let ingestIssues: readonly IngestIssue[] | undefined;
  let hadDbf = false;
  let exportManifest: Manifest | undefined;
  if (params.audited.type === "batch-artifact") {
    const dir = params.audited.dir;
    const loose = await readArtifactLoose(dir);
    files = [
      { name: "manifest.json", sha256: sha256hex(loose.manifestBytes) },
      { name: "records.jsonl", sha256: sha256hex(loose.recordsBytes) },
    ];
    exportRecordsSha = files[1]!.sha256;
    check(
      "export-integrity",
      "sha256 as in artifact.json",
      loose.problems.length === 0 ? "sha256 as in artifact.json" : loose.problems.join("; "),
      "the audited artifact's files match the sha256 its descriptor recorded when it was written",
    );
    try {
      exportManifest = JSON.parse(new TextDecoder().decode(loose.manifestBytes)) as Manifest;
    } catch {
      exportManifest = undefined;
    }
    for (const [i, line] of loose.lines.entries()) {
      const where = `records.jsonl:${i + 1}`;
      const r = recordFromJson(line.record);
      const id = typeof line.record?.recordId === "string" ? line.record.recordId : null;
      if (r === undefined || !isHexBytes(line.salt, 32) || !isHexBytes(line.subject, 32)) {
        mismatches.push({
          problem: "invalid",
          recordId: id,
          anchoredIndex: null,
          source: where,
          field: null,
          anchored: null,
          recomputed: null,
          detail: "the line's record, salt or subject is malformed",
        });
        continue;
      }
      audited.push({
        record: r,
        salt: line.salt.toLowerCase() as Hex,
        subject: line.subject.toLowerCase() as Hex,
        source: where,
        index: i,
      });
    }
  } else {
    const a = params.audited;
    const salts = await readSalts(a.salts);
    const opened = openInputs(a.paths, {
      kind,
      ...(a.encoding !== undefined ? { encoding: a.encoding } : {}),
      ...(a.province !== undefined ? { province: a.province } : {}),
      rates: settings.rates,
    });
    // Lists the anchor pipeline quarantined (per-list mode) are not in the batch: skip them.
    const quarantinedLists = new Set(
      ((reference?.manifest ?? exportManifest)?.quarantined ?? []).map((q) => q.list),
    );
    for await (const row of opened.rows) {
      if (quarantinedLists.has(row.source.list ?? row.source.file)) continue;
      const where = `${path.basename(row.source.file)}${row.source.entry === undefined ? "" : `!${row.source.entry}`}:${row.source.line}`;
      const checked = validateRecord(kind, row.fields, {
        expectedPeriod: period,
        rates: settings.rates,
      });
      if (!checked.ok) {
        for (const issue of checked.issues) {
          mismatches.push({
            problem: "invalid",
            recordId: row.fields.record_id ?? null,
            anchoredIndex: null,
            source: where,
            field: issue.field,
            anchored: null,
            recomputed: issue.value,
            detail: `${issue.rule}: ${issue.message}`,
          });
        }
        continue;
      }
      const s = salts.get(checked.record.recordId);
      if (s === undefined) {
        mismatches.push({
          problem: "no-salt",
          recordId: checked.record.recordId,
          anchoredIndex: reference?.lines?.get(checked.record.recordId)?.index ?? null,
          source: where,
          field: "salt",
          anchored: null,
          recomputed: null,
          detail: "the salts file has no salt for this record, so its leaf cannot be recomputed",
        });
        continue;
      }
      audited.push({ record: checked.record, salt: s.salt, subject: s.subject, source: where });
    }
    sources = opened.sources();
    ingestIssues = opened.issues();
    hadDbf = sources.some((s) => s.format === "sso-dbf");
    files = [...sources]
      .map((s) => ({
        name: s.entry === undefined ? s.name : `${s.name}!${s.entry}`,
        sha256: s.sha256,
      }))
      .concat([
        {
          name: path.basename(a.salts),
          sha256: sha256hex(new Uint8Array(await readFile(a.salts))),
        },
      ]);
  }

  // ── recompute leaves, tree, totals, manifest ──
  // The same records.jsonl bytes as the reference's give the same leaves: do not hash them twice.
  const hashes =
    exportRecordsSha !== undefined &&
    exportRecordsSha === reference?.recordsSha &&
    reference.leafHashes !== undefined &&
    reference.leafHashes.length === audited.length * 32
      ? reference.leafHashes
      : leafHashes(audited.map((r) => leafValues(r.record, { salt: r.salt, subject: r.subject })));
  const leafOf = (i: number): string => bytesToHex(hashes.subarray(i * 32, i * 32 + 32));
  const tree = audited.length > 0 ? buildMerkleTree(hashes) : undefined;
  let total = 0n;
  const byProvince = new Map<string, { count: number; total: bigint }>();
  const byCategory = new Map<string, { count: number; total: bigint }>();
  for (const { record } of audited) {
    const amount = recordAmount(record);
    total += amount;
    const p = byProvince.get(record.province) ?? { count: 0, total: 0n };
    p.count++;
    p.total += amount;
    byProvince.set(record.province, p);
    if (record.kind === "pension") {
      const c = byCategory.get(record.category) ?? { count: 0, total: 0n };
      c.count++;
      c.total += amount;
      byCategory.set(record.category, c);
    }
  }
  const people = new Set(audited.map((r) => r.subject)).size;
  const timeliness = { onTime: 0, late: 0 };
  for (const { record } of audited)
    if (record.kind === "pension") {
      // Canonical YYYY-MM-DD Jalali dates compare as strings (the anchor pipeline's rule).
      if (record.paidOn <= record.dueOn) timeliness.onTime++;
      else timeliness.late++;
    }
  const refManifest = reference?.manifest ?? exportManifest;
  // Manifests written before `people`/`timeliness` existed do not carry them: follow the reference.
  const refFields = refManifest as unknown as Record<string, unknown> | undefined;
  const optional = {
    ...(refFields === undefined || "people" in refFields ? { people } : {}),
    ...(kind === "pension" && (refFields === undefined || "timeliness" in refFields)
      ? { timeliness }
      : {}),
  };
  const rulesVersion =
    refManifest?.rulesVersion ?? settings.rates.version ?? DEFAULT_RATE_TABLE.version;
  // Files are compared by content: a source whose bytes are a reference source's is that source,
  // whatever it is called now (a clerk renamed the export). The rebuilt manifest keeps the
  // anchored name, and the report notes the difference.
  const renamed = sources === undefined ? [] : matchSourcesByContent(sources, refManifest?.sources);
  const manifestSources =
    sources === undefined
      ? undefined
      : sources.map((s, i) => {
          const r = renamed.find((x) => x.index === i)?.reference;
          if (r === undefined) return s;
          const { entry: _entry, ...rest } = s;
          return { ...rest, name: r.name, ...(r.entry !== undefined ? { entry: r.entry } : {}) };
        });
  const rebuilt = buildManifest({
    kind,
    period,
    recordCount: audited.length,
    total,
    byProvince,
    ...(kind === "pension" ? { byCategory } : {}),
    sources: manifestSources ?? exportManifest?.sources ?? refManifest?.sources ?? [],
    rulesVersion,
    leafEncoding: LEAF_ENCODING,
    supersedes: anchored.supersedes,
    reason: refManifest?.reason ?? null,
    ...optional,
    // What the pipeline recorded of the lists it left out and of the findings that refused
    // nothing; the records above are recomputed, these are carried for the hash and shown.
    ...(refManifest?.quarantined !== undefined ? { quarantined: refManifest.quarantined } : {}),
    ...(refManifest?.findings !== undefined ? { findings: refManifest.findings } : {}),
    ...(refManifest?.coverageRules !== undefined
      ? { coverageRules: refManifest.coverageRules }
      : {}),
  });

  for (const { audited: a, reference: r } of renamed) {
    check(
      "source-name",
      sourceLabel(r),
      sourceLabel(a),
      `same bytes (sha256 ${a.sha256}) under another name: compared by content, not by name`,
      true,
    );
  }
  check(
    "kind-period",
    `${anchored.kind} ${anchored.period}`,
    `${kind} ${period}`,
    "kind and period of the batch",
  );
  check(
    "root",
    anchored.root,
    tree?.root ?? null,
    "the Merkle root recomputed from the export's records, salts and subjects",
  );
  check("record-count", String(anchored.recordCount), String(audited.length), "number of records");
  check(
    "total",
    anchored.total.toString(),
    total.toString(),
    "Σ amounts in Rials (premium total, pension net)",
  );
  check(
    "manifest-hash",
    anchored.manifestHash,
    rebuilt.hash,
    "keccak256 of the manifest rebuilt from the export",
  );
  if (
    reference?.manifest?.byProvince !== undefined &&
    manifestHash(reference.manifestBytes) === anchored.manifestHash
  ) {
    const anchoredCells = reference.manifest.byProvince;
    const provinces = [...new Set([...Object.keys(anchoredCells), ...byProvince.keys()])].sort();
    for (const p of provinces) {
      const a = anchoredCells[p];
      const r = byProvince.get(p);
      check(
        `province ${p}`,
        a === undefined ? null : `${a.count} records, ${a.total} Rials`,
        r === undefined ? null : `${r.count} records, ${r.total.toString()} Rials`,
        "provincial count and total: anchored manifest versus recomputed",
      );
    }
  } else {
    check(
      "provinces",
      null,
      null,
      "provincial totals not compared: no reference manifest whose hash is the anchored manifestHash",
      false,
    );
  }
  if (rebuilt.hash !== anchored.manifestHash && refManifest !== undefined) {
    const ref = refManifest as unknown as Record<string, unknown>;
    const mine = rebuilt.manifest as unknown as Record<string, unknown>;
    for (const key of [...new Set([...Object.keys(ref), ...Object.keys(mine)])].sort()) {
      const a = ref[key] === undefined ? undefined : canonicalJson(ref[key]);
      const b = mine[key] === undefined ? undefined : canonicalJson(mine[key]);
      if (a !== b)
        check(
          `manifest.${key}`,
          a ?? null,
          b ?? null,
          "the manifest field that differs (anchored manifest versus rebuilt)",
        );
    }
  }

  // ── record-level evidence: each audited leaf against the anchored leaves ──
  const anchoredLeaves = new Map<string, number>();
  if (reference !== undefined && reference.tree.root === anchored.root)
    for (let i = 0; i < reference.tree.length; i++)
      anchoredLeaves.set(reference.tree.leafHash(i), i);
  const canCompareLeaves = anchoredLeaves.size > 0;
  if (canCompareLeaves) {
    const matched = new Set<number>();
    const explained = new Set<number>();
    const saltOwner = new Map<string, string>();
    for (const l of reference?.byIndex ?? []) saltOwner.set(l.salt, String(l.record.recordId));
    for (let i = 0; i < audited.length; i++) {
      const r = audited[i]!;
      const leaf = leafOf(i);
      const idx = anchoredLeaves.get(leaf);
      const base = { recordId: r.record.recordId, source: r.source };
      if (idx !== undefined && !matched.has(idx)) {
        matched.add(idx);
        continue;
      }
      if (idx !== undefined) {
        mismatches.push({
          ...base,
          problem: "duplicate",
          anchoredIndex: idx,
          field: null,
          anchored: null,
          recomputed: null,
          detail: "the same record appears again in the export",
        });
        continue;
      }
      const ref = reference?.lines?.get(r.record.recordId);
      if (
        ref === undefined &&
        reference?.lines === undefined &&
        r.index !== undefined &&
        r.index < reference!.tree.length &&
        !matched.has(r.index) &&
        !explained.has(r.index)
      ) {
        // No usable reference records: the artifact line is compared with the anchored leaf at its index.
        explained.add(r.index);
        mismatches.push({
          ...base,
          problem: "leaf",
          anchoredIndex: r.index,
          field: null,
          anchored: reference!.tree.leafHash(r.index),
          recomputed: leaf,
          detail: `the record's leaf differs from the anchored leaf at index ${r.index}: a value, its salt or its subject was changed (the reference records are unavailable, so the field cannot be named)`,
        });
        continue;
      }
      if (ref === undefined) {
        mismatches.push({
          ...base,
          problem: reference?.lines === undefined ? "leaf" : "added",
          anchoredIndex: null,
          field: null,
          anchored: null,
          recomputed: leaf,
          detail:
            reference?.lines === undefined
              ? "the record's leaf is not among the anchored leaves (the reference records are unavailable, so the differing field cannot be named)"
              : "the record is not in the anchored batch",
        });
        continue;
      }
      explained.add(ref.index);
      const mine = recordToJson(r.record) as Record<string, unknown>;
      const keys = [...new Set([...Object.keys(ref.record), ...Object.keys(mine)])].sort();
      let named = 0;
      for (const k of keys) {
        const a = ref.record[k];
        const b = mine[k];
        if (text(a) === text(b)) continue;
        named++;
        mismatches.push({
          ...base,
          problem: "changed",
          anchoredIndex: ref.index,
          field: k,
          anchored: display(k, a),
          recomputed: display(k, b),
          detail: `${k} differs from the anchored record`,
        });
      }
      if (ref.salt !== r.salt) {
        named++;
        const owner = saltOwner.get(r.salt);
        mismatches.push({
          ...base,
          problem: "changed",
          anchoredIndex: ref.index,
          field: "salt",
          anchored: `the salt anchored for ${r.record.recordId}`,
          recomputed:
            owner === undefined
              ? "a salt not anchored for any record"
              : `the salt anchored for ${owner}`,
          detail:
            owner === undefined
              ? "the export's salt is not the anchored one"
              : `the export gives this record the salt of record ${owner} (salts swapped or copied)`,
        });
      }
      if (ref.subject !== r.subject) {
        named++;
        mismatches.push({
          ...base,
          problem: "changed",
          anchoredIndex: ref.index,
          field: "subject",
          anchored: ref.subject,
          recomputed: r.subject,
          detail: "the subject pseudonym differs from the anchored one",
        });
      }
      if (named === 0)
        mismatches.push({
          ...base,
          problem: "leaf",
          anchoredIndex: ref.index,
          field: null,
          anchored: reference!.tree.leafHash(ref.index),
          recomputed: leaf,
          detail: "the leaf differs although no field does",
        });
    }
    for (let i = 0; i < reference!.tree.length; i++) {
      if (matched.has(i) || explained.has(i)) continue;
      const ref = reference!.byIndex?.[i];
      mismatches.push({
        problem: "missing",
        recordId: ref === undefined ? null : String(ref.record.recordId),
        anchoredIndex: i,
        source: null,
        field: null,
        anchored: reference!.tree.leafHash(i),
        recomputed: null,
        detail: "an anchored record is missing from the export",
      });
    }
  }
  mismatches.sort((a, b) => {
    const ka = `${a.recordId ?? "~"}\0${a.problem}\0${a.field ?? ""}\0${a.source ?? ""}`;
    const kb = `${b.recordId ?? "~"}\0${b.problem}\0${b.field ?? ""}\0${b.source ?? ""}`;
    return ka < kb ? -1 : ka > kb ? 1 : (a.anchoredIndex ?? -1) - (b.anchoredIndex ?? -1);
  });

  // ── anomalies ──
  const historyDirs = params.historyDirs ?? [];
  const history = historyDirs.length > 0 ? await readHistory(historyDirs, kind) : undefined;
  let previous: { period: string; records: LedgerRecord[] } | undefined;
  const prevPeriod = previousPeriod(period);
  if (params.previousDir !== undefined) {
    previous = { period: prevPeriod, records: await recordsOf(params.previousDir) };
  } else if (history !== undefined) {
    const candidates = history.artifacts
      .filter((a) => a.descriptor.kind === kind && a.descriptor.period === prevPeriod)
      .sort((a, b) => (a.descriptor.createdAt < b.descriptor.createdAt ? 1 : -1));
    if (candidates[0] !== undefined)
      previous = { period: prevPeriod, records: await recordsOf(candidates[0].dir) };
  }
  const found = findAnomalies({
    kind,
    period,
    records: audited.map((r) => ({ record: r.record, subject: r.subject })),
    ingestIssues,
    hadDbfInputs: hadDbf,
    history: history?.ids,
    previous,
    settings,
  });

  const ok = checks.every((c) => c.ok) && mismatches.length === 0;
  const report: AuditReport = {
    format: AUDIT_REPORT_FORMAT,
    batchId: params.batchId,
    kind,
    period,
    generatedAt: params.generatedAt ?? null,
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
      type: params.audited.type,
      files,
      root: tree?.root ?? null,
      recordCount: audited.length,
      total: total.toString(),
      manifestHash: rebuilt.hash,
    },
    checks,
    mismatches,
    anomalies: found.anomalies,
    anomalyChecks: found.checks,
    indicators: { pensionsOnTime: found.pensionsOnTime },
    settings: {
      lateDays: settings.lateDays,
      jumpThresholdPercent: settings.jumpThresholdPercent,
      jumpMinHeadcount: settings.jumpMinHeadcount,
      rulesVersion: settings.rates.version,
    },
  };
  const json = new TextEncoder().encode(JSON.stringify(report, null, 2) + "\n");
  const html = new TextEncoder().encode(renderAuditHtml(report, keccak256(json)));
  return { report, json, html, reportHash: keccak256(json) };
}
