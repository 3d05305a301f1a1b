/**
 * Read, the audited side: the export the organization hands over today — its batch artifact, or
 * its original input files plus the salts — opened into records with their salt and subject.
 * A line or row that cannot be opened is a `RecordMismatch` ("invalid", "no-salt"), not an error.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import { isHexBytes, type Hex } from "../core/hex.ts";
import type { Manifest } from "../core/manifest.ts";
import type { RateTable } from "../core/rates.ts";
import { recordFromJson } from "../core/receipt.ts";
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import { validateRecord } from "../core/validate-record.ts";
import type { IngestIssue } from "../ingest/ingest-issue.ts";
import { openInputs } from "../ingest/open-inputs.ts";
import type { SourceInfo } from "../ingest/source-info.ts";
import type { AuditedExport, RecordMismatch } from "./audit-report.ts";
import { parseManifest, readArtifactLoose, sha256hex } from "./read-artifact-loose.ts";
import type { Reference } from "./read-reference.ts";
import type { DataKey } from "../store/private-store.ts";

/** A record of the export, opened. */
export interface AuditedRecord {
  record: LedgerRecord;
  /** The line's leaf index, when the export is a batch artifact. */
  index?: number;
  salt: Hex;
  subject: Hex;
  /** `shafaf-batch/2`: the line's person key k_b from keys.bin (undefined when keys.bin is short). */
  key?: Uint8Array | undefined;
  source: string;
}

export interface ExportRead {
  records: AuditedRecord[];
  /** Lines or rows that could not be opened. */
  invalid: RecordMismatch[];
  files: { name: string; sha256: string }[];
  /** A batch artifact's integrity problems (empty: none); undefined for input files. */
  problems?: string[];
  /** A batch artifact's records.jsonl sha256 and manifest. */
  recordsSha?: string;
  /** A `shafaf-batch/2` artifact: the scheme, sha256 of keys.bin, and how many keys it holds. */
  v2?: { scheme: "shafaf-tree/2"; keysSha: string; keyCount: number; vrfKeyId: string | null };
  manifest?: Manifest | undefined;
  /** Input files: their sources and the readers' issues. */
  sources?: readonly SourceInfo[];
  ingestIssues?: readonly IngestIssue[];
}

/**
 * @example
 * const exported = await readAuditedExport({ type: "batch-artifact", dir },
 *   { kind, period, rates, reference });
 */
export async function readAuditedExport(
  audited: AuditedExport,
  ctx: {
    kind: RecordKind;
    period: string;
    rates: RateTable;
    reference: Reference | undefined;
    /** Opens a sealed artifact's files in place. */
    dataKey?: DataKey | undefined;
  },
): Promise<ExportRead> {
  return audited.type === "batch-artifact"
    ? readArtifactExport(audited.dir, ctx.dataKey)
    : readInputsExport(audited, ctx);
}

async function readArtifactExport(dir: string, dataKey: DataKey | undefined): Promise<ExportRead> {
  const loose = await readArtifactLoose(dir, dataKey);
  const keys = loose.keysBytes;
  const files = [
    { name: "manifest.json", sha256: sha256hex(loose.manifestBytes) },
    { name: "records.jsonl", sha256: sha256hex(loose.recordsBytes) },
    ...(keys === undefined ? [] : [{ name: "keys.bin", sha256: sha256hex(keys) }]),
  ];
  const records: AuditedRecord[] = [];
  const invalid: RecordMismatch[] = [];
  for (const [i, line] of loose.lines.entries()) {
    const where = `records.jsonl:${i + 1}`;
    const r = recordFromJson(line.record);
    const id = typeof line.record?.recordId === "string" ? line.record.recordId : null;
    if (r === undefined || !isHexBytes(line.salt, 32) || !isHexBytes(line.subject, 32)) {
      invalid.push({
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
    records.push({
      record: r,
      salt: line.salt.toLowerCase() as Hex,
      subject: line.subject.toLowerCase() as Hex,
      source: where,
      index: i,
      ...(keys === undefined
        ? {}
        : { key: (i + 1) * 32 <= keys.length ? keys.subarray(i * 32, i * 32 + 32) : undefined }),
    });
  }
  return {
    records,
    invalid,
    files,
    problems: loose.problems,
    recordsSha: files[1]!.sha256,
    manifest: parseManifest(loose.manifestBytes),
    ...(keys === undefined
      ? {}
      : {
          v2: {
            scheme: "shafaf-tree/2" as const,
            keysSha: files[2]!.sha256,
            keyCount: Math.floor(keys.length / 32),
            vrfKeyId: loose.descriptor.vrfKeyId?.toLowerCase() ?? null,
          },
        }),
  };
}

async function readInputsExport(
  a: Extract<AuditedExport, { type: "inputs" }>,
  ctx: { kind: RecordKind; period: string; rates: RateTable; reference: Reference | undefined },
): Promise<ExportRead> {
  const salts = await readSalts(a.salts);
  const opened = openInputs(a.paths, {
    kind: ctx.kind,
    ...(a.encoding !== undefined ? { encoding: a.encoding } : {}),
    ...(a.province !== undefined ? { province: a.province } : {}),
    rates: ctx.rates,
  });
  // Lists the anchor pipeline quarantined (per-list mode) are not in the batch: skip them.
  const quarantinedLists = new Set((ctx.reference?.manifest?.quarantined ?? []).map((q) => q.list));
  const records: AuditedRecord[] = [];
  const invalid: RecordMismatch[] = [];
  for await (const row of opened.rows) {
    if (quarantinedLists.has(row.source.list ?? row.source.file)) continue;
    const where = `${path.basename(row.source.file)}${row.source.entry === undefined ? "" : `!${row.source.entry}`}:${row.source.line}`;
    const checked = validateRecord(ctx.kind, row.fields, {
      expectedPeriod: ctx.period,
      rates: ctx.rates,
    });
    if (!checked.ok) {
      for (const issue of checked.issues)
        invalid.push({
          problem: "invalid",
          recordId: row.fields.record_id ?? null,
          anchoredIndex: null,
          source: where,
          field: issue.field,
          anchored: null,
          recomputed: issue.value,
          detail: `${issue.rule}: ${issue.message}`,
        });
      continue;
    }
    const s = salts.get(checked.record.recordId);
    if (s === undefined) {
      invalid.push({
        problem: "no-salt",
        recordId: checked.record.recordId,
        anchoredIndex: ctx.reference?.lines?.get(checked.record.recordId)?.index ?? null,
        source: where,
        field: "salt",
        anchored: null,
        recomputed: null,
        detail: "the salts file has no salt for this record, so its leaf cannot be recomputed",
      });
      continue;
    }
    records.push({ record: checked.record, salt: s.salt, subject: s.subject, source: where });
  }
  const sources = opened.sources();
  const files = sources
    .map((s) => ({
      name: s.entry === undefined ? s.name : `${s.name}!${s.entry}`,
      sha256: s.sha256,
    }))
    .concat([
      { name: path.basename(a.salts), sha256: sha256hex(new Uint8Array(await readFile(a.salts))) },
    ]);
  return { records, invalid, files, sources, ingestIssues: opened.issues() };
}

/** The salts file: recordId → salt and subject. Accepts records.jsonl lines too. */
export async function readSalts(file: string): Promise<Map<string, { salt: Hex; subject: Hex }>> {
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
    if (out.has(recordId))
      throw new InvalidInputError(
        `${path.basename(file)}:${n}: record ${recordId} has a second salt`,
        {
          code: "audit.salts.duplicate",
        },
      );
    out.set(recordId, {
      salt: o.salt.toLowerCase() as Hex,
      subject: o.subject.toLowerCase() as Hex,
    });
  }
  return out;
}
