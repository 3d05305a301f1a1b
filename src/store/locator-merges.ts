/**
 * The writer's side of merged locator tables (docs/spec/locator-merge-v1.md): which published
 * batches to merge, the streaming k-way merge of their tables into new immutable files under
 * `<data-dir>/locators/`, and the removal of files no list names any more.
 *
 * Policy (a binary counter over batch counts, LSM-style): in batch order, unmerged batches
 * accumulate; when {@link MERGE_EVERY} of them follow the last merged range they become a range,
 * and while the range before the newest covers no more batches than it, the two are merged. So
 * ranges cover strictly fewer batches from oldest to newest: at most log2(n / K) + 1 ranges and
 * K − 1 unmerged batches, and each batch's entries are rewritten O(log n) times over a history
 * of n batches (O(n log n) in all). A merge streams: one buffered block per input, the output's
 * fence (16 bytes per 64 entries) and one output buffer in memory.
 *
 * Only the holder of the ledger store calls this (one writer per data directory). The files a
 * list names are never rewritten: a new merge writes new files, the list that names them is
 * written after they are durable, and the files the list stopped naming are removed
 * {@link RETIRED_GRACE_MS} later (readers open every file of a list as they read it).
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { open, readdir, rm, stat, utimes } from "node:fs/promises";
import path from "node:path";
import { locatorRole, mergedRole, segmentsOf } from "./batch-locators.ts";
import {
  createMergedTableEncoder,
  MERGE_ENTRY_BYTES,
  mergedLayout,
  openMergedLocatorTable,
  type MergedBatch,
} from "./locator-merge.ts";
import {
  LOCATOR_ENTRY_BYTES,
  LOCATOR_FILES,
  LOCATOR_HEADER_BYTES,
  openLocatorTable,
  type LocatorKind,
} from "./locator-table.ts";
import { makePrivateDir } from "./private-files.ts";
import {
  createPrivateFileWriter,
  ENCRYPTED_FILE_HEADER_BYTES,
  isSealed,
  openPrivateFileReader,
  type DataKey,
  type PrivateFileReader,
} from "./private-store.ts";
import type { LocatorMerge, PublishedBatch } from "./published-batches.ts";

/** The folder of merged tables in the data directory. */
export const MERGE_DIR = "locators";
/** Unmerged batches that make a new range (K). */
export const MERGE_EVERY = 8;
/** How long a file the list stopped naming is kept for readers that read the list before. */
export const RETIRED_GRACE_MS = 10 * 60_000;
/** Plaintext bytes per sealed chunk (as the batch tables'). */
const SEALED_CHUNK = 4096;

const KIND_SUFFIX: Record<LocatorKind, string> = {
  "receipt-code": "receipts.lm",
  subject: "subjects.lm",
};

/** A run of consecutive listed batches: an existing range (kept as it is) or batches to merge. */
interface Segment {
  batches: PublishedBatch[];
  /** The existing range these batches are, when they are one. */
  merge?: LocatorMerge;
}

/**
 * The ranges after adding `listed` to the `kept` ranges: each new range lists the segments it
 * merges (existing ranges and single batches). Pure; see the module's policy.
 *
 * @example
 * planLocatorMerges(listed, [], 8) // 20 batches: [1–16] and four unmerged
 */
export function planLocatorMerges(
  listed: readonly PublishedBatch[],
  kept: readonly LocatorMerge[],
  every: number = MERGE_EVERY,
): { ranges: Segment[][]; unmerged: PublishedBatch[] } {
  const segments: Segment[] = segmentsOf(listed, kept).map((s) =>
    "batch" in s ? { batches: [s.batch] } : { batches: s.batches, merge: s.range },
  );
  // A stack of ranges (each a list of segments) and the single batches after the last one.
  const ranges: Segment[][] = [];
  let singles: Segment[] = [];
  const size = (r: Segment[]): number => r.reduce((s, x) => s + x.batches.length, 0);
  const settle = (): void => {
    while (ranges.length >= 2 && size(ranges.at(-2)) <= size(ranges.at(-1))) {
      const top = ranges.pop()!;
      ranges.push([...ranges.pop()!, ...top]);
    }
  };
  for (const s of segments) {
    if (s.merge !== undefined) {
      // Batches left single before an existing range stay single (only a range dropped as
      // invalid leaves them there); the range is pushed as it is.
      for (const single of singles) ranges.push([single]);
      singles = [];
      ranges.push([s]);
      settle();
      continue;
    }
    singles.push(s);
    if (singles.length >= every) {
      ranges.push(singles);
      singles = [];
      settle();
    }
  }
  // A one-batch "range" made above (singles before a kept range) stays unmerged.
  const out: Segment[][] = [];
  const unmerged: PublishedBatch[] = [];
  for (const r of ranges) {
    if (r.length === 1 && r[0]!.merge === undefined) unmerged.push(...r[0]!.batches);
    else out.push(r);
  }
  for (const s of singles) unmerged.push(...s.batches);
  return { ranges: out, unmerged };
}

/** What {@link updateLocatorMerges} did. */
export interface LocatorMergeResult {
  /** The ranges the new list names. */
  merged: LocatorMerge[];
  /** Ranges written now. */
  written: LocatorMerge[];
}

/**
 * Brings the merged tables up to date for the batches about to be listed: keeps the ranges of
 * the previous list that are still valid (same batches, files present, sealed exactly when the
 * batch tables are, opening as a reader opens them), plans new ranges, and writes each new
 * range's two tables (durable before this returns). The caller then writes the list naming
 * `merged`, then calls {@link removeRetiredLocatorFiles}.
 *
 * @throws {LocatorTableError} a batch table that cannot be read or merges out of order (nothing
 * is named: the list stays as it was).
 * @example
 * const { merged } = await updateLocatorMerges({ dataDir, dataKey, listed, previous });
 */
export async function updateLocatorMerges(params: {
  dataDir: string;
  /** The data key the tables are sealed with, undefined for a plain data directory. */
  dataKey: DataKey | undefined;
  /**
   * True for a directory bound to a data key: without `dataKey` nothing is written then (the
   * previous list's ranges that are still valid are kept, no new range is made).
   */
  sealed?: boolean;
  /** False: write nothing, keep the previous list's ranges that are still valid. */
  write?: boolean;
  listed: readonly PublishedBatch[];
  /** The list being replaced (its ranges are kept when still valid). */
  previous?: { batches: readonly PublishedBatch[]; merged?: readonly LocatorMerge[] } | undefined;
  every?: number;
}): Promise<LocatorMergeResult> {
  const { dataDir, dataKey, listed } = params;
  const kept: LocatorMerge[] = [];
  for (const m of params.previous?.merged ?? []) {
    const sealed = params.sealed ?? dataKey !== undefined;
    if (
      rangeHolds(m, params.previous!.batches, listed) &&
      (await sealedAsWanted(dataDir, m, sealed)) &&
      opensAsListed(dataDir, dataKey, m, inRange(listed, m), sealed)
    )
      kept.push(m);
  }
  if (params.write === false || (params.sealed === true && dataKey === undefined))
    return { merged: kept, written: [] };
  const plan = planLocatorMerges(listed, kept, params.every ?? MERGE_EVERY);
  const merged: LocatorMerge[] = [];
  const written: LocatorMerge[] = [];
  for (const range of plan.ranges) {
    if (range.length === 1 && range[0]!.merge !== undefined) {
      merged.push(range[0]!.merge);
      continue;
    }
    const batches = range.flatMap((s) => s.batches);
    const first = batches[0]!.batchId;
    const last = batches.at(-1).batchId;
    const stem = `${first}-${last}-${randomBytes(4).toString("hex")}`;
    const m: LocatorMerge = {
      first,
      last,
      receipts: `${MERGE_DIR}/${stem}.${KIND_SUFFIX["receipt-code"]}`,
      subjects: `${MERGE_DIR}/${stem}.${KIND_SUFFIX.subject}`,
    };
    await makePrivateDir(path.join(dataDir, MERGE_DIR));
    await writeMergedTable(dataDir, dataKey, "receipt-code", range, m.receipts);
    crashHook("locator-merge");
    await writeMergedTable(dataDir, dataKey, "subject", range, m.subjects);
    merged.push(m);
    written.push(m);
  }
  return { merged, written };
}

/**
 * Whether range `m` of a list whose batches were `listed` is still the merged table of
 * `batches`: the batches with ids in it are exactly the listed ones there (ids, jobs, record
 * counts: its table's directory), and there is one at least. A batch with an id inside the range
 * that the list did not name (completed after the list was written) breaks it.
 *
 * @example
 * const usable = list.merged.filter((m) => rangeHolds(m, list.batches, batchesNow));
 */
export function rangeHolds(
  m: { first: number; last: number },
  listed: readonly MergedBatch[],
  batches: readonly MergedBatch[],
): boolean {
  const before = inRange(listed, m);
  const now = inRange(batches, m);
  return (
    now.length > 0 &&
    before.length === now.length &&
    before.every(
      (b, i) =>
        b.batchId === now[i]!.batchId &&
        b.jobId === now[i]!.jobId &&
        b.recordCount === now[i]!.recordCount,
    )
  );
}

/** The listed batches of range `m`. */
export function inRange<B extends { batchId: number }>(
  batches: readonly B[],
  m: { first: number; last: number },
): B[] {
  return batches.filter((b) => b.batchId >= m.first && b.batchId <= m.last);
}

/** Both files of `m` exist and are sealed exactly when the directory is. */
async function sealedAsWanted(dataDir: string, m: LocatorMerge, sealed: boolean): Promise<boolean> {
  for (const file of [m.receipts, m.subjects]) {
    const head = await fileHead(path.join(dataDir, file));
    if (head === undefined || isSealed(head) !== sealed) return false;
  }
  return true;
}

/**
 * Both tables of `m` open as a reader opens them (header, directory against the listed batches,
 * length, top entries: what `openMergedLocatorTable` checks before any lookup), so that a damaged
 * one is merged again rather than kept — `shafaf data publish` is the fix a reader's refusal names.
 * A sealed range without the data key cannot be read here; it is kept as it is.
 */
function opensAsListed(
  dataDir: string,
  dataKey: DataKey | undefined,
  m: LocatorMerge,
  listed: readonly PublishedBatch[],
  sealed: boolean,
): boolean {
  if (sealed && dataKey === undefined) return true;
  const batches = listed.map((b) => ({
    batchId: b.batchId,
    jobId: b.jobId,
    recordCount: b.recordCount,
  }));
  for (const [kind, rel] of [
    ["receipt-code", m.receipts],
    ["subject", m.subjects],
  ] as const) {
    let reader: PrivateFileReader | undefined;
    try {
      const file = path.join(dataDir, rel);
      reader = openPrivateFileReader(file, mergedRole(rel), dataKey, { allowPlain: !sealed });
      openMergedLocatorTable(reader, { file, kind, batches });
    } catch {
      return false;
    } finally {
      reader?.close();
    }
  }
  return true;
}

async function fileHead(file: string): Promise<Buffer | undefined> {
  let fh;
  try {
    fh = await open(file, "r");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  try {
    const head = Buffer.alloc(ENCRYPTED_FILE_HEADER_BYTES);
    const { bytesRead } = await fh.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Kills the process at `step` when `SHAFAF_TEST_CRASH_AT` names it (the kill -9 tests):
 * `locator-merge-write` with a merged table half written, `locator-merge` with one of a range's
 * two tables in place and the list not yet naming it.
 */
function crashHook(step: "locator-merge-write" | "locator-merge"): void {
  if (process.env.SHAFAF_TEST_CRASH_AT === step) process.kill(process.pid, "SIGKILL");
}

/** Entries of one input table read in order, a buffer of them at a time. */
interface Cursor {
  buf: Buffer;
  /** Offset of the current entry in `buf`. */
  at: number;
  ordinal: number;
  line: number;
}

/** Writes the merged table of `range`'s segments for `kind` to `<dataDir>/<file>`. */
async function writeMergedTable(
  dataDir: string,
  dataKey: DataKey | undefined,
  kind: LocatorKind,
  range: Segment[],
  file: string,
): Promise<void> {
  const allowPlain = dataKey === undefined;
  const batches: MergedBatch[] = range.flatMap((s) =>
    s.batches.map((b) => ({ batchId: b.batchId, jobId: b.jobId, recordCount: b.recordCount })),
  );
  const readers: PrivateFileReader[] = [];
  const inputs: { next(): Cursor | undefined }[] = [];
  const out = await createPrivateFileWriter(path.join(dataDir, file), mergedRole(file), dataKey, {
    chunkBytes: SEALED_CHUNK,
    compress: false,
  });
  try {
    let base = 0;
    for (const s of range) {
      if (s.merge !== undefined) {
        const rel = kind === "subject" ? s.merge.subjects : s.merge.receipts;
        const at = path.join(dataDir, rel);
        const reader = openPrivateFileReader(at, mergedRole(rel), dataKey, { allowPlain });
        readers.push(reader);
        const own = batches.slice(base, base + s.batches.length);
        const table = openMergedLocatorTable(reader, { file: at, kind, batches: own });
        const l = mergedLayout(own.length, table.count, 1, 1);
        inputs.push(stream(reader, l.entriesAt, table.count, MERGE_ENTRY_BYTES, base, true));
      } else {
        const b = s.batches[0]!;
        const at = path.join(dataDir, "batches", b.jobId, LOCATOR_FILES[kind]);
        const reader = openPrivateFileReader(at, locatorRole(b.jobId, kind), dataKey, {
          allowPlain,
        });
        readers.push(reader);
        openLocatorTable(reader, { file: at, kind, recordCount: b.recordCount });
        inputs.push(
          stream(reader, LOCATOR_HEADER_BYTES, b.recordCount, LOCATOR_ENTRY_BYTES, base, false),
        );
      }
      base += s.batches.length;
    }
    const enc = createMergedTableEncoder(kind, batches, { file: path.join(dataDir, file) });
    await out.write(enc.head);
    crashHook("locator-merge-write");
    // A binary min-heap of the inputs' current entries by (digest, input): inputs are in batch
    // order, so equal digests come out in (ordinal, line) order.
    const heap: { c: Cursor; input: number }[] = [];
    const less = (x: { c: Cursor; input: number }, y: { c: Cursor; input: number }): boolean => {
      const c = x.c.buf.compare(y.c.buf, y.c.at, y.c.at + 16, x.c.at, x.c.at + 16);
      return c < 0 || (c === 0 && x.input < y.input);
    };
    const push = (e: { c: Cursor; input: number }): void => {
      heap.push(e);
      for (let i = heap.length - 1; i > 0;) {
        const p = (i - 1) >> 1;
        if (!less(heap[i]!, heap[p]!)) break;
        [heap[i], heap[p]] = [heap[p]!, heap[i]!];
        i = p;
      }
    };
    const siftDown = (): void => {
      for (let i = 0; ;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) return;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    };
    inputs.forEach((input, i) => {
      const c = input.next();
      if (c !== undefined) push({ c, input: i });
    });
    while (heap.length > 0) {
      const top = heap[0]!;
      const full = enc.add(top.c.buf, top.c.at, top.c.ordinal, top.c.line);
      if (full !== undefined) await out.write(full);
      const c = inputs[top.input]!.next();
      if (c === undefined) {
        const last = heap.pop()!;
        if (heap.length > 0) heap[0] = last;
      } else top.c = c;
      siftDown();
    }
    for (const part of enc.finish()) await out.write(part);
    await out.close();
  } catch (error) {
    await out.abort();
    throw error;
  } finally {
    for (const r of readers) r.close();
  }
}

/**
 * The entries of a table region in order, `ENTRIES_PER_READ` at a time, each with its ordinal in
 * the output (`base` + the entry's own ordinal for a merged input, `base` for a batch table).
 */
function stream(
  reader: PrivateFileReader,
  at: number,
  count: number,
  width: number,
  base: number,
  merged: boolean,
): { next(): Cursor | undefined } {
  const per = Math.max(1, Math.floor((1 << 16) / width));
  let i = 0;
  let buf: Buffer = Buffer.alloc(0);
  let first = 0;
  const cursor: Cursor = { buf, at: 0, ordinal: base, line: 0 };
  return {
    next() {
      if (i >= count) return undefined;
      if (i - first >= buf.length / width || buf.length === 0) {
        first = i;
        buf = reader.read(at + i * width, Math.min(per, count - i) * width);
        cursor.buf = buf;
      }
      const o = (i - first) * width;
      cursor.at = o;
      cursor.ordinal = merged ? base + buf.readUInt32LE(o + 16) : base;
      cursor.line = buf.readUInt32LE(o + (merged ? 20 : 16));
      i++;
      return cursor;
    },
  };
}

/**
 * Removes from `<dataDir>/locators/` what no reader can need: temporary files of an interrupted
 * merge, at once; files `current` does not name and `previous` (the list just replaced) named,
 * after {@link RETIRED_GRACE_MS} (their time is set now, the start of the grace); any other file
 * not named, once its time is older than the grace; any plain file not named in a sealed
 * directory, at once.
 * Call after the list naming `current` is durable.
 *
 * @example
 * await removeRetiredLocatorFiles(dataDir, previous?.merged ?? [], merged, { sealed: true });
 */
export async function removeRetiredLocatorFiles(
  dataDir: string,
  previous: readonly LocatorMerge[],
  current: readonly LocatorMerge[],
  options: { sealed: boolean; graceMs?: number; now?: number },
): Promise<string[]> {
  const dir = path.join(dataDir, MERGE_DIR);
  if (!existsSync(dir)) return [];
  const names = (ms: readonly LocatorMerge[]) =>
    new Set(ms.flatMap((m) => [m.receipts, m.subjects].map((f) => path.basename(f))));
  const named = names(current);
  const retired = names(previous);
  const grace = options.graceMs ?? RETIRED_GRACE_MS;
  const now = options.now ?? Date.now();
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    if (named.has(name)) continue;
    const file = path.join(dir, name);
    let remove = name.startsWith(".") && name.includes(".tmp-");
    // A plain file no list names in a sealed directory: no reader opens it there (plain tables
    // are refused), whether the list just replaced named it or a publish killed before its list
    // wrote it before the directory was sealed.
    if (!remove && options.sealed) {
      const head = await fileHead(file);
      remove = head !== undefined && !isSealed(head);
    }
    if (!remove && retired.has(name)) {
      await utimes(file, now / 1000, now / 1000);
      continue;
    }
    if (!remove) remove = now - (await stat(file)).mtimeMs >= grace;
    if (remove) {
      await rm(file, { force: true });
      removed.push(name);
    }
  }
  return removed;
}
