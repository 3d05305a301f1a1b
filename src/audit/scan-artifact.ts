/**
 * Read, streaming: one pass over a batch artifact's `records.jsonl` (and `keys.bin`) that keeps
 * no record, only fixed-size columns per record — person key, commitment (`shafaf-batch/1`: the
 * leaf hash), amount lanes, province, line — and the byte range of every line, so that a record whose leaf differs is re-read by
 * offset afterwards. Each line is parsed, turned into its commitment and lanes (core's
 * `sumTreeRecordFields`, the pipeline's own) and handed to `onRecord` (the batch accumulator, the
 * anomaly fold, the person-key columns), then dropped. The sha256s are computed on the way.
 *
 * Both sides of an artifact audit (`shafaf-batch/2` or `/1`) are read with it: the audited export (a line that cannot
 * be opened is an "invalid" mismatch) and the reference (usable only when every line is a record
 * line at its index: `firstBadLine`).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import type { LeafColumns as CoreLeafColumns } from "../core/fold-sum-tree.ts";
import { hexToBytes, isHexBytes, type Hex } from "../core/hex.ts";
import { leafHashes, leafValues, type LeafValues } from "../core/leaf.ts";
import type { Manifest } from "../core/manifest.ts";
import { recordFromJson } from "../core/receipt.ts";
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import { laneCount } from "../core/sum-tree-lanes.ts";
import { sumTreeRecordFields } from "../core/sum-tree-record.ts";
import {
  BATCH_ARTIFACT_FORMAT,
  BATCH_ARTIFACT_V2_FORMAT,
  openArtifactFile,
  type ArtifactRecordLine,
  type BatchArtifactDescriptor,
} from "../store/batch-artifact.ts";
import type { DataKey, PrivateFileReader } from "../store/private-store.ts";
import type { RecordMismatch } from "./audit-report.ts";
import { parseManifest } from "./read-artifact-loose.ts";

/**
 * The fixed-size columns of the records read (core's, with every row's line): row r is the r-th
 * line that opened. `commitments` holds a `shafaf-batch/1` row's leaf hash; a row without a key
 * in keys.bin, or a refused record, has zeros.
 */
export type LeafColumns = CoreLeafColumns & { readonly line: Uint32Array };

export interface ScannedArtifact {
  dir: string;
  descriptor: BatchArtifactDescriptor;
  manifestBytes: Uint8Array;
  manifest: Manifest | undefined;
  files: { name: string; sha256: string }[];
  recordsSha: string;
  /** `shafaf-batch/2`: sha256 of keys.bin, its size and the whole keys it holds. */
  keys: { sha: string; bytes: number; count: number } | undefined;
  /** Files whose sha256 is not the descriptor's (empty: none). */
  problems: string[];
  /** Non-blank lines of records.jsonl. */
  lines: number;
  /** Byte offset of each line in records.jsonl, then the end of the last (lines + 1 values). */
  offsets: Float64Array;
  columns: LeafColumns;
  /** Lines that could not be opened, as the audited side reports them. */
  invalid: RecordMismatch[];
  /** records.jsonl opened in place (sealed: with the data key, chunk by chunk); the caller closes it. */
  openRecords(): PrivateFileReader;
  /** The first line that is not a record line at its index (a reference is then unusable). */
  firstBadLine: number | undefined;
  /** Why no tree can be built from the rows: a record refused, or rows without a key. */
  treeProblem: string | undefined;
}

/** Per opened record, in line order: its row in the columns. */
export type OnRecord = (record: LedgerRecord, subject: Hex, row: number) => void;

const CHUNK = 4 << 20;
const KEY_BLOCK = 1 << 16;

/**
 * @example
 * const acc = createBatchAccumulator();
 * const scanned = await scanArtifact(dir, "premium", (record, subject) => acc.add(record, subject));
 */
export async function scanArtifact(
  dir: string,
  /** The kind of the tree; default the descriptor's. */
  kindOfTree: RecordKind | undefined,
  onRecord?: OnRecord,
  /** Opens the files artifact.json says are sealed, in place: nothing plain is written. */
  dataKey?: DataKey,
): Promise<ScannedArtifact> {
  const where = (f: string) => path.join(dir, f);
  const descriptor = await readArtifactDescriptor(dir);
  const kind = kindOfTree ?? descriptor.kind;
  const v2 = (descriptor.format as string) === BATCH_ARTIFACT_V2_FORMAT;
  const manifestBytes = new Uint8Array(await readFile(where("manifest.json")));
  const manifestSha = sha256hex(manifestBytes);
  const problems: string[] = [];
  const openRecords = () => openArtifactFile(dir, descriptor, "records.jsonl", dataKey);
  const records = openRecords();
  // Columns sized once (no doubling: no slack, no copies).
  const expected = rowsFor(descriptor, records.size);
  let keys: ReturnType<typeof openKeys> | undefined;
  try {
    keys = v2 ? openKeys(dir, descriptor, dataKey) : undefined;
  } catch (error) {
    records.close();
    throw error;
  }
  const cols = createColumns(kind, expected);
  // `shafaf-batch/1`: leaf hashes, 4,096 leaves per WebAssembly call, into the commitment column.
  const pending: { row: number; values: LeafValues }[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    cols.setCommitments(pending[0]!.row, leafHashes(pending.map((p) => p.values)));
    pending.length = 0;
  };
  const invalid: RecordMismatch[] = [];
  let firstBadLine: number | undefined;
  let refused: string | undefined;
  let keyless = 0;
  let offsets = new Float64Array(expected + 1);
  let lines = 0;
  const addLine = (start: number, end: number, text: string, n: number): void => {
    if (text.trim() === "") return;
    let line: ArtifactRecordLine;
    try {
      line = JSON.parse(text) as ArtifactRecordLine;
    } catch {
      throw new InvalidInputError(`${where("records.jsonl")}:${n}: not a JSON line`, {
        details: "the records file of the artifact is damaged; restore it from a backup",
        code: "audit.artifact.records",
      });
    }
    const i = lines++;
    if (lines + 1 > offsets.length) {
      const grown = new Float64Array(Math.max(1 << 16, offsets.length * 2));
      grown.set(offsets);
      offsets = grown;
    }
    offsets[i] = start;
    offsets[i + 1] = end;
    const record = recordFromJson(line.record);
    if (record === undefined || !isHexBytes(line.salt, 32) || !isHexBytes(line.subject, 32)) {
      firstBadLine ??= i;
      invalid.push({
        problem: "invalid",
        recordId: typeof line.record?.recordId === "string" ? line.record.recordId : null,
        anchoredIndex: null,
        source: `records.jsonl:${i + 1}`,
        field: null,
        anchored: null,
        recomputed: null,
        detail: "the line's record, salt or subject is malformed",
      });
      return;
    }
    if (line.index !== i) firstBadLine ??= i;
    const row = cols.count;
    if (!v2) {
      pending.push({
        row,
        values: leafValues(record, { salt: line.salt, subject: line.subject }),
      });
      cols.push(record.province, undefined, undefined, undefined, i);
      if (pending.length === 4096) flush();
      onRecord?.(record, line.subject.toLowerCase() as Hex, row);
      return;
    }
    const key = keys?.at(i);
    if (key === undefined) keyless++;
    try {
      if (record.kind !== kind)
        throw new InvalidInputError(`a ${record.kind} record in a ${kind} batch`, {
          details: `record ${row}`,
          code: "core.sum-tree.kind",
        });
      const fields = sumTreeRecordFields(record, hexToBytes(line.salt));
      cols.push(record.province, key, fields.commitment, fields.amounts, i);
    } catch (error) {
      // Another kind's record, or an amount of 2^64 or more: no tree, and no leaf either.
      refused ??= `record ${row + 1}: ${(error as Error).message}`;
      cols.push(record.province, key, undefined, undefined, i);
    }
    onRecord?.(record, line.subject.toLowerCase() as Hex, row);
  };
  let recordsSha: string;
  try {
    recordsSha = readLines(records, addLine);
  } catch (error) {
    keys?.close();
    throw error;
  }
  flush();
  const keySummary = keys?.finish();
  if (recordsSha !== descriptor.files["records.jsonl"].sha256)
    problems.push("records.jsonl does not match the sha256 in artifact.json");
  if (manifestSha !== descriptor.files["manifest.json"].sha256)
    problems.push("manifest.json does not match the sha256 in artifact.json");
  if (keySummary !== undefined && keySummary.sha !== descriptor.files["keys.bin"]?.sha256)
    problems.push("keys.bin does not match the sha256 in artifact.json");
  const columns = cols.done();
  return {
    dir,
    descriptor,
    manifestBytes,
    manifest: parseManifest(manifestBytes),
    files: [
      { name: "manifest.json", sha256: manifestSha },
      { name: "records.jsonl", sha256: recordsSha },
      ...(keySummary === undefined ? [] : [{ name: "keys.bin", sha256: keySummary.sha }]),
    ],
    recordsSha,
    keys: keySummary,
    problems,
    lines,
    offsets: offsets.subarray(0, lines + 1),
    columns,
    invalid,
    openRecords,
    firstBadLine,
    treeProblem:
      refused ??
      (keyless > 0
        ? `${keyless} record(s) have no person key in keys.bin`
        : columns.count === 0
          ? "no records"
          : undefined),
  };
}

/**
 * The rows to size a scan's columns for: the count artifact.json announces, bounded by what
 * records.jsonl can hold (a line is longer than its 66-character salt). More rows still fit.
 *
 * @example
 * const finder = createAnomalyFinder({ ...input, expectedRecords: await announcedRows(dir, dataKey) });
 */
export async function announcedRows(dir: string, dataKey?: DataKey): Promise<number> {
  const descriptor = await readArtifactDescriptor(dir);
  const records = openArtifactFile(dir, descriptor, "records.jsonl", dataKey);
  records.close();
  return rowsFor(descriptor, records.size);
}

const rowsFor = (descriptor: BatchArtifactDescriptor, recordsBytes: number): number =>
  Math.max(0, Math.min(Math.floor(recordsBytes / 66), Number(descriptor.recordCount) || 0));

const sha256hex = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

/** A batch artifact's descriptor (`shafaf-batch/1` or `/2`), checked for format and scheme. */
export async function readArtifactDescriptor(dir: string): Promise<BatchArtifactDescriptor> {
  const file = path.join(dir, "artifact.json");
  let descriptor: BatchArtifactDescriptor;
  try {
    descriptor = JSON.parse(await readFile(file, "utf8")) as BatchArtifactDescriptor;
  } catch (error) {
    throw new InvalidInputError(`${file}: not a readable batch artifact`, {
      details: `give a batch artifact directory (batches/<jobId>/ under the data directory) holding artifact.json (${(error as Error).message})`,
      code: "audit.artifact",
    });
  }
  const format = descriptor.format as string;
  const v2 = format === BATCH_ARTIFACT_V2_FORMAT;
  if (
    (format !== BATCH_ARTIFACT_FORMAT && !v2) ||
    (v2 && (descriptor.scheme as string | undefined) !== "shafaf-tree/2")
  )
    throw new InvalidInputError(
      `${file}: format ${String(descriptor.format)}${v2 ? ` with scheme ${String(descriptor.scheme)}` : ""}, this version reads ${BATCH_ARTIFACT_FORMAT} and ${BATCH_ARTIFACT_V2_FORMAT} (scheme shafaf-tree/2)`,
      { code: "audit.artifact.format" },
    );
  return descriptor;
}

/**
 * Calls `each(start, end, text, lineNumber)` for every line of `file` (without its "\n"), a chunk
 * at a time, and closes it; returns the plaintext's sha256. Only one line's text exists at a time.
 */
function readLines(
  file: PrivateFileReader,
  each: (start: number, end: number, text: string, n: number) => void,
): string {
  const hash = createHash("sha256");
  try {
    let buffer = Buffer.allocUnsafe(CHUNK);
    let held = 0; // bytes of a line begun in an earlier chunk, at buffer[0..held)
    let position = 0; // file offset of buffer[0]
    let n = 0;
    for (const chunk of file.chunks()) {
      hash.update(chunk);
      if (held + chunk.length > buffer.length) {
        const grown = Buffer.allocUnsafe(Math.max(buffer.length * 2, held + chunk.length));
        buffer.copy(grown, 0, 0, held);
        buffer = grown;
      }
      chunk.copy(buffer, held);
      const end = held + chunk.length;
      let from = 0;
      for (;;) {
        const nl = buffer.indexOf(0x0a, from);
        if (nl < 0 || nl >= end) break;
        n++;
        each(position + from, position + nl + 1, buffer.toString("utf8", from, nl), n);
        from = nl + 1;
      }
      buffer.copy(buffer, 0, from, end);
      position += from;
      held = end - from;
    }
    if (held > 0) each(position, position + held, buffer.toString("utf8", 0, held), n + 1);
    return hash.digest("hex");
  } finally {
    file.close();
  }
}

/** keys.bin read in place a block at a time by line, and hashed whole at the end. */
function openKeys(
  dir: string,
  descriptor: BatchArtifactDescriptor,
  dataKey: DataKey | undefined,
): {
  at(line: number): Uint8Array | undefined;
  finish(): { sha: string; bytes: number; count: number };
  close(): void;
} {
  let file: PrivateFileReader;
  try {
    file = openArtifactFile(dir, descriptor, "keys.bin", dataKey);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    throw new InvalidInputError(`${path.join(dir, "keys.bin")}: cannot be read`, {
      details: `a ${BATCH_ARTIFACT_V2_FORMAT} artifact holds keys.bin, each record's person key (${(error as Error).message}); restore it from a backup`,
      code: "audit.artifact.keys",
    });
  }
  const size = file.size;
  const count = Math.floor(size / 32);
  const hash = createHash("sha256");
  let block: Buffer = Buffer.alloc(0);
  let first = 0;
  let have = 0;
  let hashed = 0;
  const readBlock = (from: number): void => {
    // keys.bin is read in line order, so each block is hashed as it is first read.
    const bytes = Math.min(KEY_BLOCK * 32, size - from * 32);
    block = file.read(from * 32, bytes);
    if (from * 32 === hashed) {
      hash.update(block);
      hashed += bytes;
    }
    first = from;
    have = Math.floor(bytes / 32);
  };
  return {
    at(line) {
      if (line >= count) return undefined;
      if (line < first || line >= first + have) readBlock(line - (line % KEY_BLOCK));
      return block.subarray((line - first) * 32, (line - first) * 32 + 32);
    },
    finish() {
      try {
        while (hashed < size) {
          const rest = file.read(hashed, Math.min(1 << 20, size - hashed));
          hash.update(rest);
          hashed += rest.length;
        }
        return { sha: hash.digest("hex"), bytes: size, count };
      } finally {
        file.close();
      }
    },
    close: () => file.close(),
  };
}

/** Columns of `expected` rows, doubled if more come. */
function createColumns(kind: RecordKind, expected: number) {
  const amountsN = laneCount(kind) - 2;
  let cap = Math.max(1, expected);
  let keys = new Uint8Array(cap * 32);
  let commitments = new Uint8Array(cap * 32);
  let amounts = new BigUint64Array(cap * amountsN);
  let province = new Uint16Array(cap);
  let line = new Uint32Array(cap);
  const codes: string[] = [];
  const codeIndex = new Map<string, number>();
  let n = 0;
  const grow = <T extends Uint8Array | BigUint64Array | Uint16Array | Uint32Array>(
    a: T,
    make: (len: number) => T,
  ): T => {
    const b = make(a.length * 2);
    b.set(a as never);
    return b;
  };
  return {
    get count() {
      return n;
    },
    push(
      code: string,
      key: Uint8Array | undefined,
      commitment: Uint8Array | undefined,
      laneValues: readonly bigint[] | undefined,
      lineNo: number,
    ): void {
      if (n === cap) {
        keys = grow(keys, (l) => new Uint8Array(l));
        commitments = grow(commitments, (l) => new Uint8Array(l));
        amounts = grow(amounts, (l) => new BigUint64Array(l));
        province = grow(province, (l) => new Uint16Array(l));
        line = grow(line, (l) => new Uint32Array(l));
        cap *= 2;
      }
      let p = codeIndex.get(code);
      if (p === undefined) {
        p = codes.length;
        codes.push(code);
        codeIndex.set(code, p);
      }
      province[n] = p;
      line[n] = lineNo;
      if (key !== undefined) keys.set(key, n * 32);
      if (commitment !== undefined) commitments.set(commitment, n * 32);
      if (laneValues !== undefined)
        for (let k = 0; k < amountsN; k++) amounts[n * amountsN + k] = laneValues[k]!;
      n++;
    },
    /** Rows `from`, `from + 1`, … get the 32-byte values of `bytes` in the commitment column. */
    setCommitments(from: number, bytes: Uint8Array): void {
      commitments.set(bytes, from * 32);
    },
    done: (): LeafColumns => ({
      kind,
      count: n,
      keys: keys.subarray(0, n * 32),
      commitments: commitments.subarray(0, n * 32),
      amounts: amounts.subarray(0, n * amountsN),
      province: province.subarray(0, n),
      codes,
      line: line.subarray(0, n),
    }),
  };
}
