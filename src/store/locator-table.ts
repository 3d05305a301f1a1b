/**
 * A batch's locator tables (`shafaf-locators/1`, docs/spec/locators-v1.md): a sorted table of
 * 16-byte digests → line index of the batch artifact's `records.jsonl`, binary-searchable with one
 * positioned read per lookup (the table's block fence is held in memory). `receipts.loc` finds the
 * line of a receipt code (unique keys), `subjects.loc` the lines of a subject pseudonym.
 *
 * The table holds digests, never a code: a code cannot be read back from it, and a digest found
 * in it opens nothing by itself (the line it points at MUST carry the code asked for, and the
 * receipt assembled from it is verified against the anchored root). A damaged table can make a
 * receipt unavailable, never a wrong one.
 *
 * Invariants a reader relies on (checked as it reads, `LocatorTableError` otherwise):
 * - the file is exactly `32 + 20n + 16⌈n/B⌉` bytes, `n` = the batch's record count;
 * - entries are strictly increasing by (digest, line); receipt codes' digests strictly increasing;
 * - fence entry j is the digest of entry j·B; every line is below the record count.
 */
import { hash } from "node:crypto";
import { ShafafError } from "../core/errors.ts";

/** The table's kinds (header field `kind`). */
export const LOCATOR_KINDS = { "receipt-code": 1, subject: 2 } as const;
export type LocatorKind = keyof typeof LOCATOR_KINDS;

/** File names in the artifact folder. */
export const LOCATOR_FILES: Record<LocatorKind, string> = {
  "receipt-code": "receipts.loc",
  subject: "subjects.loc",
};

export const LOCATOR_MAGIC = "SHAFAFLC";
export const LOCATOR_HEADER_BYTES = 32;
export const LOCATOR_ENTRY_BYTES = 20;
export const LOCATOR_DIGEST_BYTES = 16;
/** Entries per block as written (a lookup reads one block: 1,280 bytes). */
export const LOCATOR_BLOCK = 64;
/** The largest block (entries per fence entry) a reader accepts, of every locator format. */
export const LOCATOR_MAX_BLOCK = 4096;

/**
 * A locator table that cannot be read as `shafaf-locators/1` (code `store.locators`): a damaged
 * or foreign file. Not the caller's input, not retryable; names no code or person.
 */
export class LocatorTableError extends ShafafError {
  override name = "LocatorTableError";
  constructor(file: string, problem: string) {
    super(`${file}: ${problem}`, {
      code: "store.locators",
      details:
        "the locator table is damaged: rebuild it from the artifact with `shafaf data publish` (or restore the data directory from its backup)",
    });
  }
}

/**
 * The digest a table is keyed by: SHA-256("shafaf-locators/1" ‖ 0x00 ‖ kind ‖ 0x00 ‖ key)[0..16],
 * `key` the receipt code as the artifact holds it (canonical, grouped) or the subject pseudonym
 * (0x-hex, lower case).
 *
 * @example
 * locatorDigest("receipt-code", "7K3M-Q9XA-…") // 16 bytes
 */
export function locatorDigest(kind: LocatorKind, key: string): Buffer {
  // One-shot `crypto.hash`: half the CPU of a `createHash` object per key (measured, 400,000
  // digests: 321 ms against 674 ms), and the locator pass makes two per record.
  return hash(
    "sha256",
    `shafaf-locators/1\u0000${kind}\u0000${kind === "subject" ? key.toLowerCase() : key}`,
    "buffer",
  ).subarray(0, LOCATOR_DIGEST_BYTES);
}

/**
 * The digests of a table's keys in line order, 16 bytes each in one growing buffer (no key is
 * kept): what {@link encodeLocatorTableOfDigests} sorts.
 *
 * @example
 * const d = createLocatorDigests("subject");
 * for (const line of lines) d.add(line.subject);
 * const bytes = encodeLocatorTableOfDigests("subject", d.bytes());
 */
export function createLocatorDigests(kind: LocatorKind): {
  add(key: string): void;
  readonly count: number;
  /** The digests so far, `16 · count` bytes (a view, valid until the next `add`). */
  bytes(): Buffer;
} {
  let buf = Buffer.allocUnsafe(LOCATOR_DIGEST_BYTES * 1024);
  let count = 0;
  return {
    add(key) {
      if ((count + 1) * LOCATOR_DIGEST_BYTES > buf.length) {
        const grown = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(grown, 0, 0, count * LOCATOR_DIGEST_BYTES);
        buf = grown;
      }
      locatorDigest(kind, key).copy(buf, count * LOCATOR_DIGEST_BYTES);
      count++;
    },
    get count() {
      return count;
    },
    bytes: () => buf.subarray(0, count * LOCATOR_DIGEST_BYTES),
  };
}

/**
 * The bytes of a table of `keys[i]` → line i, for `recordCount = keys.length` lines.
 *
 * @example
 * const bytes = encodeLocatorTable("receipt-code", artifactCodes);
 */
export function encodeLocatorTable(
  kind: LocatorKind,
  keys: readonly string[],
  options: { block?: number } = {},
): Uint8Array {
  const digests = createLocatorDigests(kind);
  for (const key of keys) digests.add(key);
  return encodeLocatorTableOfDigests(kind, digests.bytes(), options);
}

/**
 * The bytes of a table of line i → `digests[16i … 16i + 16)` (the key's {@link locatorDigest}),
 * for `digests.length / 16` lines: the same bytes as {@link encodeLocatorTable} of the keys.
 *
 * @throws {RangeError} a block size out of range, more than 2^32 - 1 lines, two equal receipt
 * code digests.
 */
export function encodeLocatorTableOfDigests(
  kind: LocatorKind,
  digests: Buffer,
  options: { block?: number } = {},
): Uint8Array {
  if (digests.length % LOCATOR_DIGEST_BYTES !== 0)
    throw new RangeError("locator digests are 16 bytes each");
  const n = digests.length / LOCATOR_DIGEST_BYTES;
  const block = options.block ?? LOCATOR_BLOCK;
  if (!Number.isInteger(block) || block < 1 || block > LOCATOR_MAX_BLOCK)
    throw new RangeError(`block size ${block} outside 1…${LOCATOR_MAX_BLOCK}`);
  if (n > 0xffffffff) throw new RangeError("a locator table holds at most 2^32 - 1 entries");
  // The first 6 bytes of each digest as an exact number: most comparisons end there.
  const head = new Float64Array(n);
  for (let i = 0; i < n; i++) head[i] = digests.readUIntBE(i * LOCATOR_DIGEST_BYTES, 6);
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort(
    (a, b) =>
      head[a]! - head[b]! ||
      digests.compare(
        digests,
        b * LOCATOR_DIGEST_BYTES,
        (b + 1) * LOCATOR_DIGEST_BYTES,
        a * LOCATOR_DIGEST_BYTES,
        (a + 1) * LOCATOR_DIGEST_BYTES,
      ) ||
      a - b,
  );
  const blocks = Math.ceil(n / block);
  const out = Buffer.alloc(LOCATOR_HEADER_BYTES + n * LOCATOR_ENTRY_BYTES + blocks * 16);
  out.write(LOCATOR_MAGIC, 0, "latin1");
  out.writeUInt32LE(1, 8);
  out.writeUInt32LE(LOCATOR_KINDS[kind], 12);
  out.writeUInt32LE(n, 16);
  out.writeUInt32LE(n, 20);
  out.writeUInt32LE(block, 24);
  const fenceAt = LOCATOR_HEADER_BYTES + n * LOCATOR_ENTRY_BYTES;
  for (let j = 0; j < n; j++) {
    const i = order[j]!;
    const at = LOCATOR_HEADER_BYTES + j * LOCATOR_ENTRY_BYTES;
    digests.copy(out, at, i * LOCATOR_DIGEST_BYTES, (i + 1) * LOCATOR_DIGEST_BYTES);
    out.writeUInt32LE(i, at + LOCATOR_DIGEST_BYTES);
    if (j > 0 && kind === "receipt-code" && out.compare(out, at - 20, at - 4, at, at + 16) === 0)
      throw new RangeError("two receipt codes of the batch are the same");
    if (j % block === 0) digests.copy(out, fenceAt + (j / block) * 16, i * 16, (i + 1) * 16);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** Random access to a table's bytes (a plain file, a sealed one, or bytes in memory). */
export interface LocatorSource {
  readonly size: number;
  read(offset: number, length: number): Buffer;
}

/** An opened table: lookups by digest, one block read each. */
export interface LocatorTable {
  readonly kind: LocatorKind;
  readonly count: number;
  /** The line of `digest` (receipt codes), or undefined. */
  find(digest: Uint8Array): number | undefined;
  /** Every line of `digest` in increasing order (subjects). */
  findAll(digest: Uint8Array): number[];
}

/**
 * Opens a table from `source`, checking its header, size and fence against the batch's
 * `recordCount`. Lookups check the block they read.
 *
 * @throws {LocatorTableError} a wrong magic, version, kind, count, block size, length or fence.
 * @example
 * const table = openLocatorTable(source, { file, kind: "receipt-code", recordCount });
 * const line = table.find(locatorDigest("receipt-code", code));
 */
export function openLocatorTable(
  source: LocatorSource,
  expect: { file: string; kind: LocatorKind; recordCount: number },
): LocatorTable {
  const fail = (problem: string): never => {
    throw new LocatorTableError(expect.file, problem);
  };
  if (source.size < LOCATOR_HEADER_BYTES) fail("shorter than its header");
  const h = source.read(0, LOCATOR_HEADER_BYTES);
  if (h.toString("latin1", 0, 8) !== LOCATOR_MAGIC) fail("bad magic (not a shafaf-locators/1)");
  const version = h.readUInt32LE(8);
  if (version !== 1) fail(`unsupported version ${version}`);
  const kindNumber = h.readUInt32LE(12);
  if (kindNumber !== LOCATOR_KINDS[expect.kind])
    fail(`kind ${kindNumber}, expected ${LOCATOR_KINDS[expect.kind]} (${expect.kind})`);
  const n = h.readUInt32LE(16);
  const recordCount = h.readUInt32LE(20);
  const block = h.readUInt32LE(24);
  if (h.readUInt32LE(28) !== 0) fail("reserved bytes are not 0");
  if (recordCount !== expect.recordCount)
    fail(`${recordCount} records, the batch has ${expect.recordCount}`);
  if (n !== recordCount) fail(`${n} entries for ${recordCount} records`);
  if (block < 1 || block > LOCATOR_MAX_BLOCK)
    fail(`block size ${block} outside 1…${LOCATOR_MAX_BLOCK}`);
  const blocks = Math.ceil(n / block);
  const fenceAt = LOCATOR_HEADER_BYTES + n * LOCATOR_ENTRY_BYTES;
  if (source.size !== fenceAt + blocks * 16)
    fail(`length ${source.size}, expected ${fenceAt + blocks * 16}`);
  const fence = blocks === 0 ? Buffer.alloc(0) : source.read(fenceAt, blocks * 16);
  const unique = expect.kind === "receipt-code";
  for (let j = 1; j < blocks; j++) {
    // fence[j] against fence[j - 1]: > 0 when it increases.
    const c = cmp16(fence, j * 16, fence, (j - 1) * 16);
    if (c < 0 || (unique && c === 0)) fail(`fence entry ${j} does not increase`);
  }

  /** Block j's entries, checked against its fence entry, order and line bound. */
  const readBlock = (j: number): Buffer => {
    const first = j * block;
    const count = Math.min(block, n - first);
    const b = source.read(LOCATOR_HEADER_BYTES + first * LOCATOR_ENTRY_BYTES, count * 20);
    if (cmp16(b, 0, fence, j * 16) !== 0) fail(`block ${j} does not start with its fence entry`);
    for (let e = 0; e < count; e++) {
      const at = e * 20;
      if (b.readUInt32LE(at + 16) >= recordCount) fail(`entry ${first + e} points past the batch`);
      if (e === 0) continue;
      // This entry's digest against the one before: > 0 when it increases.
      const c = cmp16(b, at, b, at - 20);
      if (c < 0 || (c === 0 && (unique || b.readUInt32LE(at + 16) <= b.readUInt32LE(at - 4))))
        fail(`entry ${first + e} is out of order`);
    }
    return b;
  };
  /** The last block whose fence entry is ≤ digest (strictly < when `before`), or -1. */
  const blockOf = (digest: Buffer, before: boolean): number =>
    lastAtMost(fence, blocks, 16, digest, before);
  return {
    kind: expect.kind,
    count: n,
    find(d) {
      const digest = asLocatorDigest(d);
      const j = blockOf(digest, false);
      if (j < 0) return undefined;
      const b = readBlock(j);
      const e = lastAtMost(b, b.length / 20, 20, digest, false);
      if (e < 0 || cmp16(b, e * 20, digest, 0) !== 0) return undefined;
      return b.readUInt32LE(e * 20 + 16);
    },
    findAll(d) {
      const digest = asLocatorDigest(d);
      const lines: number[] = [];
      for (let j = Math.max(0, blockOf(digest, true)); j < blocks; j++) {
        const b = readBlock(j);
        for (let at = 0; at < b.length; at += 20) {
          const c = cmp16(b, at, digest, 0);
          if (c === 0) lines.push(b.readUInt32LE(at + 16));
          else if (c > 0) return lines;
        }
      }
      return lines;
    },
  };
}

/**
 * The 16 bytes of `a` at `ai` against those of `b` at `bi`, as unsigned bytes in order: < 0, 0 or
 * > 0. Four big-endian word reads: a lookup compares a few hundred digests, and `Buffer#compare`
 * costs a native call each (measured: the block checks were most of a lookup's CPU).
 */
export function cmp16(a: Buffer, ai: number, b: Buffer, bi: number): number {
  for (let k = 0; k < 16; k += 4) {
    const d = a.readUInt32BE(ai + k) - b.readUInt32BE(bi + k);
    if (d !== 0) return d;
  }
  return 0;
}

/** A {@link LocatorSource} over bytes in memory (vectors, tests). */
export function bytesSource(bytes: Uint8Array): LocatorSource {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    size: b.length,
    read(offset, length) {
      if (offset + length > b.length) throw new RangeError("read past the end");
      return b.subarray(offset, offset + length);
    },
  };
}

/**
 * The last of `count` 16-byte keys at `stride` in `buf` that is ≤ `d` (strictly < when
 * `before`), or -1: the one binary search of every locator table's fence and blocks.
 */
export function lastAtMost(
  buf: Buffer,
  count: number,
  stride: number,
  d: Buffer,
  before: boolean,
): number {
  let lo = 0;
  let hi = count - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = cmp16(buf, mid * stride, d, 0);
    if (c < 0 || (c === 0 && !before)) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** A 16-byte locator digest as a Buffer view (no copy); RangeError for another length. */
export function asLocatorDigest(d: Uint8Array): Buffer {
  if (d.length !== LOCATOR_DIGEST_BYTES) throw new RangeError("a locator digest is 16 bytes");
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}
