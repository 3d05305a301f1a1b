/**
 * The record-id rules of one batch: an id appears once in the batch, and is not already anchored
 * for the same kind and period (unless in the batch this one supersedes, or in a superseded
 * batch). The store is asked in chunks of `LOOKUP_CHUNK` ids.
 */
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import type { LedgerStore } from "../store/ledger-store.ts";
import type { ValidationIssue } from "./issue-collector.ts";

export const LOOKUP_CHUNK = 2048;

/** Where a row is, as its issues name it. */
export type RowPlace = Pick<ValidationIssue, "file" | "line" | "entry" | "list">;

export interface RecordIdCheck {
  /**
   * Claims `record`'s id for this batch: false (and an issue) when the batch had it already;
   * true otherwise, with the already-anchored check queued (its issue comes at a `flush`). A
   * promise only when a chunk of queued ids is looked up (no promise per row).
   */
  claim(record: LedgerRecord, where: RowPlace & { line: number }): boolean | Promise<boolean>;
  /** Runs the queued already-anchored checks. */
  flush(): Promise<void>;
}

/**
 * @example
 * const ids = createRecordIdCheck({ store, kind, period, supersedes: null, report: collected.add });
 * if (!(await ids.claim(record, where))) continue;
 * …
 * await ids.flush();
 */
export function createRecordIdCheck(p: {
  /** Without a store only duplicates within the batch are found. */
  store: LedgerStore | undefined;
  kind: RecordKind;
  period: string;
  supersedes: number | null;
  report: (issue: ValidationIssue) => void;
}): RecordIdCheck {
  const seen = createFirstRows(); // record id → file and line of its first row
  const supersededCache = new Map<number, boolean>();
  // The ids to look up and where each row is: two arrays, not an issue object per row (built
  // only for an id found anchored).
  let pendingIds: string[] = [];
  let pendingWhere: (RowPlace & { line: number })[] = [];
  const isSuperseded = async (store: LedgerStore, batchId: number): Promise<boolean> => {
    let superseded = supersededCache.get(batchId);
    if (superseded === undefined) {
      superseded = ((await store.getBatch(batchId))?.supersededBy ?? null) !== null;
      supersededCache.set(batchId, superseded);
    }
    return superseded;
  };
  const flush = async (): Promise<void> => {
    if (pendingIds.length === 0 || p.store === undefined) return;
    const ids = pendingIds;
    const places = pendingWhere;
    pendingIds = [];
    pendingWhere = [];
    const found = await p.store.getRecordIds(p.kind, p.period, ids);
    for (let i = 0; i < ids.length; i++) {
      const entry = found[i];
      if (entry === undefined || entry.batchId === p.supersedes) continue;
      if (await isSuperseded(p.store, entry.batchId)) continue;
      p.report({
        ...places[i]!,
        field: "record_id",
        rule: "record-id.anchored",
        value: ids[i]!,
        message: `record_id was already anchored in batch ${entry.batchId} for ${p.kind} ${p.period}`,
        hint: `a correction goes in a new batch with --supersedes ${entry.batchId} --reason <code>`,
      });
    }
  };
  const claim = (
    record: LedgerRecord,
    where: RowPlace & { line: number },
  ): boolean | Promise<boolean> => {
    const first = seen.claim(record.recordId, where.file, where.line);
    if (first !== undefined) {
      p.report({
        ...where,
        field: "record_id",
        rule: "record-id.duplicate",
        value: record.recordId,
        message: `record_id appears twice in this batch (first at ${first})`,
        hint: "each record id must be unique within a kind and period; remove or renumber the duplicate",
      });
      return false;
    }
    if (p.store === undefined) return true; // nothing to look up
    pendingIds.push(record.recordId);
    pendingWhere.push(where);
    if (pendingIds.length >= LOOKUP_CHUNK) return flush().then(() => true);
    return true;
  };
  return { claim, flush };
}

/**
 * The first row of each record id of a batch, in fixed-size columns instead of a `Map` of
 * strings (≈ 30 bytes per record for a 10-character ASCII id instead of ≈ 150, and no
 * 2^24-entry ceiling): the ids packed in one byte buffer (a character below 0x80 in one byte,
 * any other as 0xff and its two UTF-16 bytes), where each ends, the line of each row and the rows
 * where the file changes, and an open-addressing table of row numbers (load ≤ 1/2).
 */
function createFirstRows(): {
  /** Undefined (and the id is claimed by this row) when new; "file:line" of its first row otherwise. */
  claim(id: string, file: string, line: number): string | undefined;
} {
  let bytes = new Uint8Array(1 << 16);
  let used = 0;
  let ends = new Uint32Array(4096);
  let lines = new Uint32Array(4096);
  /** The files in row order: file `fileNames[k]` from row `fileStarts[k]` on. */
  const fileStarts: number[] = [];
  const fileNames: string[] = [];
  let rows = 0;
  let table = new Int32Array(1 << 13).fill(-1);
  let scratch = new Uint8Array(256);
  /** `id` packed into `scratch`; its length. */
  const pack = (id: string): number => {
    if (scratch.length < 3 * id.length) scratch = new Uint8Array(3 * id.length);
    let n = 0;
    for (let k = 0; k < id.length; k++) {
      const c = id.charCodeAt(k);
      if (c < 0x80) scratch[n++] = c;
      else {
        scratch[n++] = 0xff;
        scratch[n++] = c >> 8;
        scratch[n++] = c & 0xff;
      }
    }
    return n;
  };
  const hashOf = (from: number, to: number, b: Uint8Array): number => {
    let h = 0x811c9dc5;
    for (let k = from; k < to; k++) h = Math.imul(h ^ b[k]!, 0x01000193);
    return h >>> 0;
  };
  const startOf = (row: number): number => (row === 0 ? 0 : ends[row - 1]!);
  const equals = (row: number, n: number): boolean => {
    const from = startOf(row);
    if (ends[row]! - from !== n) return false;
    for (let k = 0; k < n; k++) if (bytes[from + k] !== scratch[k]) return false;
    return true;
  };
  const place = (row: number, h: number): void => {
    const mask = table.length - 1;
    let slot = h & mask;
    while (table[slot] !== -1) slot = (slot + 1) & mask;
    table[slot] = row;
  };
  const fileOf = (row: number): string => {
    let lo = 0;
    let hi = fileStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (fileStarts[mid]! <= row) lo = mid;
      else hi = mid - 1;
    }
    return fileNames[lo]!;
  };
  const grown = <T extends Uint8Array | Uint32Array>(a: T, size: number): T => {
    const b = new (a.constructor as new (n: number) => T)(size);
    b.set(a);
    return b;
  };
  return {
    claim(id, file, line) {
      const n = pack(id);
      const h = hashOf(0, n, scratch);
      const mask = table.length - 1;
      for (let slot = h & mask; table[slot] !== -1; slot = (slot + 1) & mask) {
        const row = table[slot]!;
        if (equals(row, n)) return `${fileOf(row)}:${lines[row]}`;
      }
      if (rows === ends.length) {
        ends = grown(ends, rows * 2);
        lines = grown(lines, rows * 2);
      }
      if (used + n > bytes.length) bytes = grown(bytes, Math.max(bytes.length * 2, used + n));
      bytes.set(scratch.subarray(0, n), used);
      used += n;
      if (fileNames.length === 0 || fileNames[fileNames.length - 1] !== file) {
        fileStarts.push(rows);
        fileNames.push(file);
      }
      ends[rows] = used;
      lines[rows] = line;
      rows++;
      if (rows * 2 > table.length) {
        table = new Int32Array(table.length * 2).fill(-1);
        for (let r = 0; r < rows; r++) place(r, hashOf(startOf(r), ends[r]!, bytes));
      } else place(rows - 1, h);
      return undefined;
    },
  };
}
