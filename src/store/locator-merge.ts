/**
 * Merged locator tables (`shafaf-locator-merge/1`, docs/spec/locator-merge-v1.md): the locator
 * tables of several consecutive published batches merged into one sorted table of 16-byte
 * digest → (batch, line), so that a receipt lookup reads one table for the whole range instead
 * of one per batch. The digests are those of `shafaf-locators/1` (locator-table.ts), copied, never
 * recomputed.
 *
 * Invariants a reader relies on (checked as it reads, `LocatorTableError` otherwise):
 * - the header's batch directory is exactly the published batches of the range (ids, jobs, record
 *   counts), and the entry count is the sum of their record counts;
 * - entries are strictly increasing by (digest, batch ordinal, line); in a receipt-code table a
 *   digest appears at most once per batch, so the last entry of a digest is its newest batch;
 * - fence entry j is the digest of entry j·B, top entry t is fence entry t·F (two levels: the
 *   reader holds only the top in memory, 16 bytes per B·F entries).
 */
import {
  asLocatorDigest,
  cmp16,
  lastAtMost,
  LOCATOR_KINDS,
  LOCATOR_DIGEST_BYTES,
  LOCATOR_MAX_BLOCK,
  LocatorTableError,
} from "./locator-table.ts";
import type { LocatorKind, LocatorSource } from "./locator-table.ts";

export const MERGE_MAGIC = "SHAFAFLM";
export const MERGE_HEADER_BYTES = 48;
/** One batch of the directory: jobId (32) ‖ batchId (u64) ‖ recordCount (u32) ‖ reserved (u32). */
export const MERGE_BATCH_BYTES = 48;
/** One entry: digest (16) ‖ batch ordinal (u32) ‖ line (u32). */
export const MERGE_ENTRY_BYTES = 24;
/** Entries per block as written (a lookup reads one block: 1,536 bytes). */
export const MERGE_BLOCK = 64;
/** Fence entries per top entry as written (a lookup reads one fence block: 1,024 bytes). */
export const MERGE_FENCE_BLOCK = 64;
const FENCE_BYTES = 16;
/** Checked fence blocks a reader keeps per table (1 MiB: the fence of 4 M entries). */
const FENCE_CACHE_BYTES = 1 << 20;

/** A batch of a merged table's directory (the published list's facts). */
export interface MergedBatch {
  batchId: number;
  /** 64 lower-case hex digits. */
  jobId: string;
  recordCount: number;
}

/** Byte offsets of a merged table's regions. */
export function mergedLayout(
  batches: number,
  entries: number,
  block: number,
  fenceBlock: number,
): {
  entriesAt: number;
  fenceAt: number;
  topAt: number;
  blocks: number;
  tops: number;
  size: number;
} {
  const entriesAt = MERGE_HEADER_BYTES + batches * MERGE_BATCH_BYTES;
  const blocks = Math.ceil(entries / block);
  const tops = Math.ceil(blocks / fenceBlock);
  const fenceAt = entriesAt + entries * MERGE_ENTRY_BYTES;
  const topAt = fenceAt + blocks * FENCE_BYTES;
  return { entriesAt, fenceAt, topAt, blocks, tops, size: topAt + tops * FENCE_BYTES };
}

/**
 * Writes a merged table as a stream: the header and directory at once, then each entry in order
 * (`add`), then the fence and top (`finish`). Holds 16 bytes per B entries (the fence) and one
 * output buffer; checks the order, ordinals and lines of what it is given.
 *
 * @throws {LocatorTableError} an entry out of order, of an unknown batch, past its batch, or a
 * count other than the directory's sum.
 * @example
 * const enc = createMergedTableEncoder("receipt-code", batches, { file });
 * for (const e of entries) { const out = enc.add(e.digest, 0, e.ordinal, e.line); if (out) await w.write(out); }
 * for (const out of enc.finish()) await w.write(out);
 */
export function createMergedTableEncoder(
  kind: LocatorKind,
  batches: readonly MergedBatch[],
  options: { file: string; block?: number; fenceBlock?: number; bufferBytes?: number },
): {
  /** The header and directory (write first). */
  readonly head: Buffer;
  /** Adds the next entry (digest at `digests[at … at + 16)`); a full output buffer, or undefined. */
  add(digests: Buffer, at: number, ordinal: number, line: number): Buffer | undefined;
  /** The entries left, the fence and the top. */
  finish(): Buffer[];
} {
  const fail = (problem: string): never => {
    throw new LocatorTableError(options.file, problem);
  };
  const block = options.block ?? MERGE_BLOCK;
  const fenceBlock = options.fenceBlock ?? MERGE_FENCE_BLOCK;
  for (const b of [block, fenceBlock])
    if (!Number.isInteger(b) || b < 1 || b > LOCATOR_MAX_BLOCK)
      throw new RangeError(`block size ${b} outside 1…${LOCATOR_MAX_BLOCK}`);
  let n = 0;
  for (let i = 0; i < batches.length; i++) {
    const b = batches[i]!;
    if (i > 0 && b.batchId <= batches[i - 1]!.batchId)
      throw new RangeError("merged batches are in increasing batch order");
    if (!/^[0-9a-f]{64}$/.test(b.jobId)) throw new RangeError("a job id is 64 hex digits");
    n += b.recordCount;
  }
  if (!Number.isSafeInteger(n)) throw new RangeError("too many entries");
  const head = Buffer.alloc(MERGE_HEADER_BYTES + batches.length * MERGE_BATCH_BYTES);
  head.write(MERGE_MAGIC, 0, "latin1");
  head.writeUInt32LE(1, 8);
  head.writeUInt32LE(LOCATOR_KINDS[kind], 12);
  head.writeUInt32LE(batches.length, 16);
  head.writeUInt32LE(block, 20);
  head.writeUInt32LE(fenceBlock, 24);
  head.writeBigUInt64LE(BigInt(n), 32);
  batches.forEach((b, i) => {
    const at = MERGE_HEADER_BYTES + i * MERGE_BATCH_BYTES;
    head.write(b.jobId, at, "hex");
    head.writeBigUInt64LE(BigInt(b.batchId), at + 32);
    head.writeUInt32LE(b.recordCount, at + 40);
  });
  const unique = kind === "receipt-code";
  const bufferEntries = Math.max(
    1,
    Math.floor((options.bufferBytes ?? 1 << 16) / MERGE_ENTRY_BYTES),
  );
  let out = Buffer.allocUnsafe(bufferEntries * MERGE_ENTRY_BYTES);
  let used = 0;
  let fence = Buffer.allocUnsafe(FENCE_BYTES * 64);
  let fences = 0;
  let count = 0;
  // The previous entry, for the order check.
  const prev = Buffer.alloc(LOCATOR_DIGEST_BYTES);
  let prevOrdinal = -1;
  let prevLine = -1;
  return {
    head,
    add(digests, at, ordinal, line) {
      if (count >= n) fail(`more entries than the batches' ${n} records`);
      if (ordinal >= batches.length) fail(`entry ${count} names batch ordinal ${ordinal}`);
      if (line >= batches[ordinal]!.recordCount) fail(`entry ${count} points past its batch`);
      if (count > 0) {
        const c = digests.compare(prev, 0, LOCATOR_DIGEST_BYTES, at, at + LOCATOR_DIGEST_BYTES);
        const inOrder =
          c > 0 ||
          (c === 0 &&
            (ordinal > prevOrdinal || (!unique && ordinal === prevOrdinal && line > prevLine)));
        if (!inOrder) fail(`entry ${count} is out of order`);
      }
      digests.copy(prev, 0, at, at + LOCATOR_DIGEST_BYTES);
      prevOrdinal = ordinal;
      prevLine = line;
      if (count % block === 0) {
        if ((fences + 1) * FENCE_BYTES > fence.length) {
          const grown = Buffer.allocUnsafe(fence.length * 2);
          fence.copy(grown, 0, 0, fences * FENCE_BYTES);
          fence = grown;
        }
        digests.copy(fence, fences * FENCE_BYTES, at, at + LOCATOR_DIGEST_BYTES);
        fences++;
      }
      count++;
      const o = used * MERGE_ENTRY_BYTES;
      digests.copy(out, o, at, at + LOCATOR_DIGEST_BYTES);
      out.writeUInt32LE(ordinal, o + 16);
      out.writeUInt32LE(line, o + 20);
      used++;
      if (used < bufferEntries) return undefined;
      const full = out;
      out = Buffer.allocUnsafe(bufferEntries * MERGE_ENTRY_BYTES);
      used = 0;
      return full;
    },
    finish() {
      if (count !== n) fail(`${count} entries for the batches' ${n} records`);
      const tops = Math.ceil(fences / fenceBlock);
      const top = Buffer.allocUnsafe(tops * FENCE_BYTES);
      for (let t = 0; t < tops; t++)
        fence.copy(top, t * FENCE_BYTES, t * fenceBlock * FENCE_BYTES, (t * fenceBlock + 1) * 16);
      return [out.subarray(0, used * MERGE_ENTRY_BYTES), fence.subarray(0, fences * 16), top];
    },
  };
}

/**
 * The bytes of a merged table of `entries` (any order; sorted here), for vectors and tests. The
 * writer streams instead (`createMergedTableEncoder`).
 *
 * @example
 * const bytes = encodeMergedLocatorTable("receipt-code", batches, entries, { block: 2 });
 */
export function encodeMergedLocatorTable(
  kind: LocatorKind,
  batches: readonly MergedBatch[],
  entries: readonly { digest: Uint8Array; ordinal: number; line: number }[],
  options: { block?: number; fenceBlock?: number } = {},
): Uint8Array {
  const sorted = [...entries].sort(
    (a, b) => Buffer.compare(a.digest, b.digest) || a.ordinal - b.ordinal || a.line - b.line,
  );
  const enc = createMergedTableEncoder(kind, batches, { file: "(in memory)", ...options });
  const parts: Buffer[] = [enc.head];
  for (const e of sorted) {
    const full = enc.add(Buffer.from(e.digest), 0, e.ordinal, e.line);
    if (full !== undefined) parts.push(full);
  }
  parts.push(...enc.finish());
  return new Uint8Array(Buffer.concat(parts));
}

/** A hit in a merged table: the batch's position in the directory and the line. */
export interface MergedHit {
  ordinal: number;
  line: number;
}

/** An opened merged table: lookups by digest, two block reads each. */
export interface MergedLocatorTable {
  readonly kind: LocatorKind;
  readonly count: number;
  readonly batches: readonly MergedBatch[];
  /** The newest batch's line of `digest` (receipt codes), or undefined. */
  find(digest: Uint8Array): MergedHit | undefined;
  /** Every (batch, line) of `digest`, in batch order then line order (subjects). */
  findAll(digest: Uint8Array): MergedHit[];
}

/**
 * Opens a merged table from `source`, checking its header, directory (against `expect.batches`,
 * the published batches of its range), size and top. Lookups check the blocks they read.
 *
 * @throws {LocatorTableError} a wrong magic, version, kind, directory, count, block size, length,
 * reserved bytes or top.
 * @example
 * const table = openMergedLocatorTable(source, { file, kind: "receipt-code", batches });
 * const hit = table.find(locatorDigest("receipt-code", code)); // { ordinal, line }
 */
export function openMergedLocatorTable(
  source: LocatorSource,
  expect: { file: string; kind: LocatorKind; batches: readonly MergedBatch[] },
): MergedLocatorTable {
  const fail = (problem: string): never => {
    throw new LocatorTableError(expect.file, problem);
  };
  if (source.size < MERGE_HEADER_BYTES) fail("shorter than its header");
  const h = source.read(0, MERGE_HEADER_BYTES);
  if (h.toString("latin1", 0, 8) !== MERGE_MAGIC) fail("bad magic (not a shafaf-locator-merge/1)");
  const version = h.readUInt32LE(8);
  if (version !== 1) fail(`unsupported version ${version}`);
  const kindNumber = h.readUInt32LE(12);
  if (kindNumber !== LOCATOR_KINDS[expect.kind])
    fail(`kind ${kindNumber}, expected ${LOCATOR_KINDS[expect.kind]} (${expect.kind})`);
  const m = h.readUInt32LE(16);
  const block = h.readUInt32LE(20);
  const fenceBlock = h.readUInt32LE(24);
  if (h.readUInt32LE(28) !== 0 || h.readBigUInt64LE(40) !== 0n) fail("reserved bytes are not 0");
  const n64 = h.readBigUInt64LE(32);
  if (block < 1 || block > LOCATOR_MAX_BLOCK)
    fail(`block size ${block} outside 1…${LOCATOR_MAX_BLOCK}`);
  if (fenceBlock < 1 || fenceBlock > LOCATOR_MAX_BLOCK)
    fail(`fence block size ${fenceBlock} outside 1…${LOCATOR_MAX_BLOCK}`);
  if (m !== expect.batches.length)
    fail(`${m} batches, the published range has ${expect.batches.length}`);
  if (source.size < MERGE_HEADER_BYTES + m * MERGE_BATCH_BYTES) fail("shorter than its directory");
  const dir = source.read(MERGE_HEADER_BYTES, m * MERGE_BATCH_BYTES);
  let sum = 0;
  const counts = new Uint32Array(m);
  for (let i = 0; i < m; i++) {
    const at = i * MERGE_BATCH_BYTES;
    const want = expect.batches[i]!;
    const batchId = dir.readBigUInt64LE(at + 32);
    if (batchId !== BigInt(want.batchId))
      fail(`directory entry ${i} is batch ${batchId}, the published range's is ${want.batchId}`);
    if (dir.toString("hex", at, at + 32) !== want.jobId)
      fail(`directory entry ${i}: batch ${want.batchId}'s job is not the published one`);
    const rc = dir.readUInt32LE(at + 40);
    if (rc !== want.recordCount)
      fail(`batch ${want.batchId} has ${rc} records, the published batch ${want.recordCount}`);
    if (dir.readUInt32LE(at + 44) !== 0) fail(`batch ${i}: reserved bytes are not 0`);
    counts[i] = rc;
    sum += rc;
  }
  if (n64 !== BigInt(sum)) fail(`${n64} entries for the batches' ${sum} records`);
  const n = sum;
  const l = mergedLayout(m, n, block, fenceBlock);
  if (source.size !== l.size) fail(`length ${source.size}, expected ${l.size}`);
  const top = l.tops === 0 ? Buffer.alloc(0) : source.read(l.topAt, l.tops * FENCE_BYTES);
  for (let t = 1; t < l.tops; t++)
    if (cmp16(top, t * 16, top, (t - 1) * 16) < 0) fail(`top entry ${t} does not increase`);
  const unique = expect.kind === "receipt-code";

  /** Fence entries [t·F, (t+1)·F) checked against top entry t and their order. */
  const readFenceBlock = (t: number): Buffer => {
    const first = t * fenceBlock;
    const count = Math.min(fenceBlock, l.blocks - first);
    const f = source.read(l.fenceAt + first * FENCE_BYTES, count * FENCE_BYTES);
    if (cmp16(f, 0, top, t * 16) !== 0) fail(`fence block ${t} does not start with its top entry`);
    for (let e = 1; e < count; e++)
      if (cmp16(f, e * 16, f, (e - 1) * 16) < 0) fail(`fence entry ${first + e} does not increase`);
    return f;
  };
  // Fence blocks already read and checked, up to FENCE_CACHE_BYTES: a table of up to 4 M
  // entries keeps its whole fence after a warm-up, a larger one its most recent blocks.
  const fenceCache = new Map<number, Buffer>();
  const fenceBlockAt = (t: number): Buffer => {
    let f = fenceCache.get(t);
    if (f === undefined) {
      f = readFenceBlock(t);
      if ((fenceCache.size + 1) * fenceBlock * FENCE_BYTES > FENCE_CACHE_BYTES) fenceCache.clear();
      fenceCache.set(t, f);
    }
    return f;
  };
  const fenceEntry = (j: number): { f: Buffer; at: number } => {
    const t = Math.floor(j / fenceBlock);
    return { f: fenceBlockAt(t), at: (j - t * fenceBlock) * 16 };
  };
  /** Block j's entries, checked against its fence entry, order, ordinals and lines. */
  const readBlock = (j: number): Buffer => {
    const first = j * block;
    const count = Math.min(block, n - first);
    const b = source.read(l.entriesAt + first * MERGE_ENTRY_BYTES, count * MERGE_ENTRY_BYTES);
    const { f, at: fat } = fenceEntry(j);
    if (cmp16(b, 0, f, fat) !== 0) fail(`block ${j} does not start with its fence entry`);
    for (let e = 0; e < count; e++) {
      const at = e * MERGE_ENTRY_BYTES;
      const ordinal = b.readUInt32LE(at + 16);
      const line = b.readUInt32LE(at + 20);
      if (ordinal >= m) fail(`entry ${first + e} names batch ordinal ${ordinal}`);
      if (line >= counts[ordinal]!) fail(`entry ${first + e} points past its batch`);
      if (e === 0) continue;
      const c = cmp16(b, at, b, at - MERGE_ENTRY_BYTES);
      const po = b.readUInt32LE(at - 8);
      const pl = b.readUInt32LE(at - 4);
      if (!(c > 0 || (c === 0 && (ordinal > po || (!unique && ordinal === po && line > pl)))))
        fail(`entry ${first + e} is out of order`);
    }
    return b;
  };
  /** The last block whose fence entry is ≤ digest (< when `before`), or -1. */
  const blockOf = (d: Buffer, before: boolean): number => {
    const t = lastAtMost(top, l.tops, 16, d, before);
    if (t < 0) return -1;
    const f = fenceBlockAt(t);
    return t * fenceBlock + lastAtMost(f, f.length / 16, 16, d, before);
  };
  const hitAt = (b: Buffer, at: number): MergedHit => ({
    ordinal: b.readUInt32LE(at + 16),
    line: b.readUInt32LE(at + 20),
  });
  return {
    kind: expect.kind,
    count: n,
    batches: expect.batches,
    find(d) {
      const digest = asLocatorDigest(d);
      const j = blockOf(digest, false);
      if (j < 0) return undefined;
      const b = readBlock(j);
      // The last entry ≤ digest in the block: the newest batch's, when it is the digest.
      const e = lastAtMost(b, b.length / MERGE_ENTRY_BYTES, MERGE_ENTRY_BYTES, digest, false);
      if (e < 0 || cmp16(b, e * MERGE_ENTRY_BYTES, digest, 0) !== 0) return undefined;
      return hitAt(b, e * MERGE_ENTRY_BYTES);
    },
    findAll(d) {
      const digest = asLocatorDigest(d);
      const hits: MergedHit[] = [];
      for (let j = Math.max(0, blockOf(digest, true)); j < l.blocks; j++) {
        const b = readBlock(j);
        for (let at = 0; at < b.length; at += MERGE_ENTRY_BYTES) {
          const c = cmp16(b, at, digest, 0);
          if (c === 0) hits.push(hitAt(b, at));
          else if (c > 0) return hits;
        }
      }
      return hits;
    },
  };
}
