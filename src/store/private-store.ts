/**
 * Personal data at rest: the one module through which the data directory's private files are
 * written and read (`shafaf-encrypted-file/2`, docs/spec/encrypted-file-v2.md; files of version 1,
 * docs/spec/encrypted-file-v1.md, are still read). With a data key a file is sealed in chunks
 * with AES-256-GCM under a per-file key (HKDF of the data key and a random per-file salt), its
 * role bound as associated data, each chunk compressed (raw DEFLATE) before it is sealed when
 * that makes it smaller (version 2); without a key it is written plain
 * (data directories made before encryption at rest). Either way it is written to a temporary
 * file, fsync'ed and renamed (mode 0600): a killed process never leaves half a file.
 *
 * Invariants:
 * - A sealed file MUST NOT be returned unless every chunk read authenticated under the expected
 *   key and role; the header's plaintext length is authenticated by the final chunk.
 * - Errors name the file, the check that failed and the fix; never the key or the plaintext.
 * - A plain file is returned only when the caller says plain is allowed (`allowPlain`).
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from "node:zlib";
import { dataKeyId } from "../core/data-key-id.ts";
import { ShafafError } from "../core/errors.ts";

/** The version new files are written in (compressed chunks and a chunk table). */
export const ENCRYPTED_FILE_FORMAT = "shafaf-encrypted-file/2";
/** Every version this module reads (an artifact descriptor may name either). */
export const ENCRYPTED_FILE_FORMATS: readonly string[] = [
  "shafaf-encrypted-file/1",
  ENCRYPTED_FILE_FORMAT,
];
/** HKDF info prefix of the file key: unchanged since version 1 (the version is in every AD). */
const FILE_KEY_INFO = "shafaf-encrypted-file/1";
/** "SHAFAFEF". */
const MAGIC = Buffer.from("SHAFAFEF", "latin1");
/** Chunk methods of version 2: the byte before a chunk's data, inside the seal. */
const METHOD_STORED = 0;
const METHOD_DEFLATE = 1;
/**
 * zlib level of the writer: on artifact lines 3 measured as fast as 1 and 4 % smaller (168 vs 175
 * bytes per record), ≈ 4 µs of CPU per record; compressing in the thread pool cost 1.7× the CPU.
 */
const DEFLATE_LEVEL = 3;
export const ENCRYPTED_FILE_HEADER_BYTES = 64;
/** Header bytes covered by every chunk's associated data (all but the plaintext length). */
const FIXED_HEADER = 56;
const TAG = 16;
/** Default plaintext bytes per chunk: one receipt lookup decrypts at most two of them. */
export const DEFAULT_CHUNK_BYTES = 16 * 1024;
const MIN_CHUNK = 1024;
const MAX_CHUNK = 16 * 1024 * 1024;

/** The organization's data-encryption key (32 bytes) and its public id. */
export interface DataKey {
  /** 16 hex digits: SHA-256("shafaf-data-key/1" ‖ 0x00 ‖ key)[0..8]. Not secret. */
  readonly id: string;
  readonly bytes: Uint8Array;
}

/**
 * The data key of 32 secret bytes, with its id.
 *
 * @example
 * const key = dataKeyOf(randomBytes(32));
 */
export function dataKeyOf(bytes: Uint8Array): DataKey {
  if (bytes.length !== 32)
    throw new PrivateFileError("a data key is 32 bytes", { code: "store.private.key" });
  return { id: dataKeyId(bytes), bytes: Uint8Array.from(bytes) };
}

/** Which check refused a private file (the last part of its error code). */
export type PrivateFileFailure =
  | "no-key"
  | "wrong-key"
  | "role"
  | "format"
  | "truncated"
  | "trailing"
  | "tampered"
  | "plain"
  | "key";

/**
 * A private file that cannot be read: sealed and no key given (`store.private.no-key`), sealed
 * with another key (`wrong-key`), belonging to another role or place (`role`), shorter or longer
 * than its header says (`truncated`, `trailing`), a chunk that does not authenticate
 * (`tampered`), not a sealed file (`format`), or plain where sealed is required (`plain`).
 * Not retryable; no key or personal data in it.
 */
export class PrivateFileError extends ShafafError {
  override name = "PrivateFileError";
  readonly failure: PrivateFileFailure;
  constructor(
    shortMessage: string,
    options: { details?: string; code: `store.private.${PrivateFileFailure}`; cause?: unknown },
  ) {
    super(shortMessage, options);
    this.failure = options.code.slice("store.private.".length) as PrivateFileFailure;
  }
}

/** What the readers of this module throw. */
export type PrivateFileErrorType = PrivateFileError;

const NO_KEY_FIX =
  "give the data directory's key: --data-key FILE (the keystore made by `shafaf keys new-data`), its password from SHAFAF_KEYSTORE_PASSWORD or the prompt";

function fail(
  file: string,
  failure: PrivateFileFailure,
  what: string,
  details: string,
  cause?: unknown,
): never {
  throw new PrivateFileError(`${file}: ${what}`, {
    details,
    code: `store.private.${failure}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

const roleDigest = (role: string): Buffer =>
  createHash("sha256").update(role, "utf8").digest().subarray(0, 8);

function fileKey(key: DataKey, salt: Uint8Array, role: string): Buffer {
  const info = Buffer.concat([
    Buffer.from(`${FILE_KEY_INFO}\u0000`, "utf8"),
    Buffer.from(role, "utf8"),
  ]);
  return Buffer.from(hkdfSync("sha256", key.bytes, salt, info, 32));
}

function nonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64LE(BigInt(index), 0);
  return n;
}

/**
 * Associated data of a chunk: the fixed header and a last-chunk flag; the last chunk also binds
 * the plaintext length and (version 2) the SHA-256 of the chunk table.
 */
function chunkAad(header: Buffer, last: boolean, table?: Buffer): Buffer {
  if (!last) return Buffer.concat([header.subarray(0, FIXED_HEADER), Buffer.from([0])]);
  const parts = [header.subarray(0, FIXED_HEADER), Buffer.from([1]), header.subarray(56, 64)];
  if (table !== undefined) parts.push(createHash("sha256").update(table).digest());
  return Buffer.concat(parts);
}

/** A version-2 chunk body: the method byte, then the DEFLATE data when it is smaller. */
function chunkBody(plain: Buffer, deflated: Buffer | undefined): Buffer {
  if (deflated !== undefined && deflated.length < plain.length) {
    const b = Buffer.allocUnsafe(deflated.length + 1);
    b[0] = METHOD_DEFLATE;
    deflated.copy(b, 1);
    return b;
  }
  const b = Buffer.allocUnsafe(plain.length + 1);
  b[0] = METHOD_STORED;
  plain.copy(b, 1);
  return b;
}

const deflateOptions = { level: DEFLATE_LEVEL, strategy: zlibConstants.Z_DEFAULT_STRATEGY };

/** Encodes a chunk body in this thread (in-memory sealing: small files, vectors). */
const bodyOf = (plain: Buffer, deflate?: (b: Uint8Array) => Uint8Array, compress = true): Buffer =>
  chunkBody(
    plain,
    plain.length === 0 || !compress
      ? undefined
      : deflate !== undefined
        ? Buffer.from(deflate(plain))
        : deflateRawSync(plain, deflateOptions),
  );

/** True when `bytes` begin like a sealed file (the magic). */
export function isSealed(bytes: Uint8Array): boolean {
  return bytes.length >= MAGIC.length && MAGIC.equals(Buffer.from(bytes.subarray(0, 8)));
}

/** The fixed 64-byte header of a new file (its length field written at the end). */
function newHeader(
  key: DataKey,
  role: string,
  version: 1 | 2,
  chunkBytes: number,
  salt: Uint8Array,
): Buffer {
  if (!Number.isInteger(chunkBytes) || chunkBytes < MIN_CHUNK || chunkBytes > MAX_CHUNK)
    throw new RangeError(`chunk size ${chunkBytes} outside ${MIN_CHUNK}…${MAX_CHUNK}`);
  if (salt.length !== 24) throw new RangeError("the file salt is 24 bytes");
  const header = Buffer.alloc(ENCRYPTED_FILE_HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(version, 8);
  header.writeUInt32LE(chunkBytes, 12);
  Buffer.from(key.id, "hex").copy(header, 16);
  roleDigest(role).copy(header, 24);
  Buffer.from(salt).copy(header, 32);
  return header;
}

/** AES-256-GCM of chunk `index`: ciphertext ‖ tag. */
function sealChunk(k: Buffer, index: number, aad: Buffer, body: Buffer): Buffer {
  const c = createCipheriv("aes-256-gcm", k, nonce(index));
  c.setAAD(aad);
  const out = Buffer.allocUnsafe(body.length + TAG);
  let at = c.update(body).copy(out, 0);
  at += c.final().copy(out, at);
  c.getAuthTag().copy(out, at);
  return out;
}

/** Cuts plaintext into chunks of `chunkBytes`, holding back the last one (sealed at the end). */
function createChunker(chunkBytes: number) {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let total = 0;
  return {
    get total() {
      return total;
    },
    /** The whole chunks `plain` completes, except a last one (strictly more must follow). */
    push(plain: Uint8Array): Buffer[] {
      total += plain.length;
      // A copy: the caller may reuse its buffer once `write` returns.
      pending.push(Buffer.from(plain));
      pendingBytes += plain.length;
      const out: Buffer[] = [];
      if (pendingBytes > chunkBytes) {
        const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
        let at = 0;
        while (all.length - at > chunkBytes) {
          out.push(all.subarray(at, at + chunkBytes));
          at += chunkBytes;
        }
        pending = [all.subarray(at)];
        pendingBytes = all.length - at;
      }
      return out;
    },
    last(): Buffer {
      const b = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      return b;
    },
  };
}

/**
 * Seals `plain` for `role` in memory: the bytes of a `shafaf-encrypted-file/2` (or `/1` with
 * `version: 1`, kept for the test vectors of files written before). `salt` (24 bytes) and
 * `deflate` (a compressor whose output does not depend on the zlib build) are for test vectors
 * only; leave them out.
 *
 * @example
 * const sealed = sealBytes(bytes, key, "shafaf-batch/<job>/keys.bin");
 */
export function sealBytes(
  plain: Uint8Array,
  key: DataKey,
  role: string,
  options: {
    chunkBytes?: number;
    salt?: Uint8Array;
    version?: 1 | 2;
    deflate?: (bytes: Uint8Array) => Uint8Array;
    /** False for bytes known not to compress (random keys): every chunk stored. */
    compress?: boolean;
  } = {},
): Uint8Array {
  const version = options.version ?? 2;
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const salt = options.salt ?? randomBytes(24);
  const header = newHeader(key, role, version, chunkBytes, salt);
  const k = fileKey(key, salt, role);
  const chunker = createChunker(chunkBytes);
  const whole = chunker.push(plain);
  const body = (c: Buffer): Buffer =>
    version === 1 ? c : bodyOf(c, options.deflate, options.compress);
  const bodies = whole.map(body);
  const lastBody = body(chunker.last());
  header.writeBigUInt64LE(BigInt(chunker.total), 56);
  const sealed = bodies.map((b, i) => sealChunk(k, i, chunkAad(header, false), b));
  let table: Buffer | undefined;
  if (version === 2) {
    table = Buffer.allocUnsafe(4 * (bodies.length + 1));
    sealed.forEach((s, i) => table!.writeUInt32LE(s.length, 4 * i));
    table.writeUInt32LE(lastBody.length + TAG, 4 * bodies.length);
  }
  sealed.push(sealChunk(k, bodies.length, chunkAad(header, true, table), lastBody));
  const all = Buffer.concat([header, ...sealed, ...(table === undefined ? [] : [table])]);
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength);
}

interface Layout {
  header: Buffer;
  version: 1 | 2;
  chunkBytes: number;
  plainBytes: number;
  chunks: number;
  fileKey: Buffer;
  /** Version 2: the chunk table as read (bound to the last chunk) and each chunk's position. */
  table?: Buffer;
  positions?: Float64Array;
}

/** Checks a sealed file's header against the key, role and file size (no decryption yet). */
function readLayout(
  file: string,
  header: Buffer,
  fileBytes: number,
  key: DataKey | undefined,
  role: string,
  readTail: (length: number) => Buffer,
): Layout {
  if (fileBytes < ENCRYPTED_FILE_HEADER_BYTES)
    fail(
      file,
      "truncated",
      "the encrypted file is shorter than its header",
      "the file was cut short; restore it from the data directory's backup",
    );
  const version = header.readUInt32LE(8);
  if (version !== 1 && version !== 2)
    fail(
      file,
      "format",
      `an encrypted file of version ${version}`,
      `this version reads ${ENCRYPTED_FILE_FORMATS.join(" and ")}; upgrade shafaf`,
    );
  const keyId = header.subarray(16, 24).toString("hex");
  if (key === undefined)
    fail(file, "no-key", `encrypted with data key ${keyId}, and no data key was given`, NO_KEY_FIX);
  if (keyId !== key.id)
    fail(
      file,
      "wrong-key",
      `encrypted with data key ${keyId}, not with the given key ${key.id}`,
      "give the keystore of the data key this directory was encrypted with (`shafaf keys show-data FILE` prints a keystore's key id)",
    );
  if (!timingSafeEqual(header.subarray(24, 32), roleDigest(role)))
    fail(
      file,
      "role",
      `this encrypted file belongs to another place than ${role}`,
      "a file was copied or moved from another batch or folder; restore the right file from the backup",
    );
  const chunkBytes = header.readUInt32LE(12);
  if (chunkBytes < MIN_CHUNK || chunkBytes > MAX_CHUNK)
    fail(file, "format", `chunk size ${chunkBytes} out of range`, "the header is damaged");
  const plain = header.readBigUInt64LE(56);
  if (plain > BigInt(Number.MAX_SAFE_INTEGER))
    fail(file, "format", "plaintext length too large", "the header is damaged");
  const plainBytes = Number(plain);
  const chunks = Math.max(1, Math.ceil(plainBytes / chunkBytes));
  const fk = fileKey(key, header.subarray(32, 56), role);
  const sizeCheck = (expected: number): void => {
    if (fileBytes < expected)
      fail(
        file,
        "truncated",
        `the encrypted file has ${fileBytes} bytes, its header promises ${expected}`,
        "the file was cut short (or its header altered); restore it from the data directory's backup",
      );
    if (fileBytes > expected)
      fail(
        file,
        "trailing",
        `the encrypted file has ${fileBytes} bytes, its header promises ${expected}`,
        "bytes were appended (or its header altered); restore it from the data directory's backup",
      );
  };
  if (version === 1) {
    sizeCheck(ENCRYPTED_FILE_HEADER_BYTES + plainBytes + chunks * TAG);
    return { header, version, chunkBytes, plainBytes, chunks, fileKey: fk };
  }
  // Version 2: the chunk table (n × uint32) ends the file; each length is checked before any
  // position is trusted, and the table itself is authenticated by the last chunk.
  if (fileBytes < ENCRYPTED_FILE_HEADER_BYTES + chunks * (TAG + 1 + 4))
    fail(
      file,
      "truncated",
      `the encrypted file has ${fileBytes} bytes, too few for its ${chunks} chunks`,
      "the file was cut short (or its header altered); restore it from the data directory's backup",
    );
  const table = readTail(4 * chunks);
  const positions = new Float64Array(chunks + 1);
  positions[0] = ENCRYPTED_FILE_HEADER_BYTES;
  for (let i = 0; i < chunks; i++) {
    const n = table.readUInt32LE(4 * i);
    const max = (i === chunks - 1 ? plainBytes - i * chunkBytes : chunkBytes) + 1 + TAG;
    if (n < 1 + TAG || n > max)
      fail(
        file,
        "format",
        `the chunk table gives chunk ${i} ${n} bytes, outside ${1 + TAG}…${max}`,
        "the table at the end of the file is damaged, or bytes were appended or cut; restore the file from the data directory's backup",
      );
    positions[i + 1] = positions[i]! + n;
  }
  sizeCheck(positions[chunks]! + 4 * chunks);
  return { header, version, chunkBytes, plainBytes, chunks, fileKey: fk, table, positions };
}

/** Ciphertext position and length (tag included) and plaintext length of chunk `i`. */
function chunkAt(l: Layout, i: number): { position: number; sealed: number; plain: number } {
  const plain = i === l.chunks - 1 ? l.plainBytes - i * l.chunkBytes : l.chunkBytes;
  if (l.positions === undefined)
    return {
      position: ENCRYPTED_FILE_HEADER_BYTES + i * (l.chunkBytes + TAG),
      sealed: plain + TAG,
      plain,
    };
  return { position: l.positions[i]!, sealed: l.positions[i + 1]! - l.positions[i]!, plain };
}

function openChunk(file: string, l: Layout, i: number, sealed: Buffer): Buffer {
  const last = i === l.chunks - 1;
  const { plain } = chunkAt(l, i);
  const body = sealed.length - TAG;
  let opened: Buffer;
  try {
    const d = createDecipheriv("aes-256-gcm", l.fileKey, nonce(i));
    d.setAAD(chunkAad(l.header, last, l.table));
    d.setAuthTag(sealed.subarray(body, body + TAG));
    opened = Buffer.concat([d.update(sealed.subarray(0, body)), d.final()]);
  } catch (error) {
    return fail(
      file,
      "tampered",
      `chunk ${i} of the encrypted file does not authenticate`,
      "its bytes were altered (or chunks moved); restore the file from the data directory's backup",
      error,
    );
  }
  if (l.version === 1) return opened;
  // Authenticated: what follows can only fail for a writer that broke the format.
  const method = opened[0];
  let out: Buffer | undefined;
  if (method === METHOD_STORED) out = opened.subarray(1);
  else if (method === METHOD_DEFLATE) {
    try {
      out = inflateRawSync(opened.subarray(1), { maxOutputLength: Math.max(1, plain) });
    } catch {
      out = undefined;
    }
  }
  if (out === undefined || out.length !== plain)
    fail(
      file,
      "format",
      `chunk ${i} of the encrypted file does not decode to its ${plain} bytes`,
      "the file was written by a faulty writer; restore it from the data directory's backup",
    );
  return out;
}

/**
 * Opens `sealed` (a whole file's bytes) for `role`; plain bytes are returned as they are only
 * when `allowPlain`.
 *
 * @throws {PrivateFileError} every failure by name (see {@link PrivateFileFailure}).
 * @example
 * const keys = openBytes(await readFile(file), key, role, { file });
 */
export function openBytes(
  sealed: Uint8Array,
  key: DataKey | undefined,
  role: string,
  options: { file?: string; allowPlain?: boolean } = {},
): Uint8Array {
  const file = options.file ?? role;
  if (!isSealed(sealed)) {
    if (options.allowPlain === true) return sealed;
    return fail(
      file,
      "plain",
      "not an encrypted file, where one is required",
      "the data directory says this file is sealed (shafaf-encrypted-file); restore it from the backup",
    );
  }
  const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const l = readLayout(
    file,
    Buffer.from(buf.subarray(0, ENCRYPTED_FILE_HEADER_BYTES)),
    buf.length,
    key,
    role,
    (length) => Buffer.from(buf.subarray(buf.length - length)),
  );
  const out = Buffer.allocUnsafe(l.plainBytes);
  // The last chunk first: it authenticates the length and the chunk table.
  const order = [l.chunks - 1, ...Array.from({ length: l.chunks - 1 }, (_, i) => i)];
  for (const i of order) {
    const { position, sealed: n } = chunkAt(l, i);
    openChunk(file, l, i, buf.subarray(position, position + n)).copy(out, i * l.chunkBytes);
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Streams a private file to disk: `write` in order, then `close` renames it into place. */
export interface PrivateFileWriter {
  write(bytes: Uint8Array): Promise<void>;
  /** Seals the last chunk, fsyncs, renames the temporary file to `file`. Returns the plaintext length. */
  close(): Promise<{ plainBytes: number }>;
  /** Removes the temporary file. Safe after a failed close. */
  abort(): Promise<void>;
}

/**
 * Starts writing `file` (mode 0600) for `role`: sealed when `key` is given (version 2, each chunk
 * compressed when that makes it smaller), plain otherwise. Nothing is visible at `file` until `close` (temporary file, fsync, rename,
 * fsync of the folder).
 *
 * @example
 * const w = await createPrivateFileWriter(file, "shafaf-batch/<job>/records.jsonl", key);
 * await w.write(bytes); await w.close();
 */
export async function createPrivateFileWriter(
  file: string,
  role: string,
  key: DataKey | undefined,
  options: {
    chunkBytes?: number;
    fsyncDir?: boolean;
    /** False for bytes known not to compress (random keys): every chunk stored. */
    compress?: boolean;
  } = {},
): Promise<PrivateFileWriter> {
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const salt = randomBytes(24);
  const header = key === undefined ? undefined : newHeader(key, role, 2, chunkBytes, salt);
  const fh: FileHandle = await open(tmp, "wx", 0o600);
  const k = key === undefined ? undefined : fileKey(key, salt, role);
  const chunker = createChunker(chunkBytes);
  const lengths: number[] = [];
  let position = 0;
  let plainBytes = 0;
  let done = false;
  const put = async (bytes: Buffer): Promise<void> => {
    if (bytes.length === 0) return;
    await fh.write(bytes, 0, bytes.length, position);
    position += bytes.length;
  };
  if (header !== undefined) await put(header); // rewritten with the length at close
  return {
    async write(bytes) {
      plainBytes += bytes.length;
      if (header === undefined) {
        await put(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
        return;
      }
      for (const c of chunker.push(bytes)) {
        const body = bodyOf(c, undefined, options.compress);
        const sealed = sealChunk(k!, lengths.length, chunkAad(header, false), body);
        lengths.push(sealed.length);
        await put(sealed);
      }
    },
    async close() {
      if (header !== undefined) {
        const lastBody = bodyOf(chunker.last(), undefined, options.compress);
        lengths.push(lastBody.length + TAG);
        const table = Buffer.allocUnsafe(4 * lengths.length);
        lengths.forEach((n, i) => table.writeUInt32LE(n, 4 * i));
        header.writeBigUInt64LE(BigInt(chunker.total), 56);
        await put(sealChunk(k!, lengths.length - 1, chunkAad(header, true, table), lastBody));
        await put(table);
        await fh.write(header, 0, header.length, 0);
      }
      await fh.sync();
      await fh.close();
      done = true;
      await rename(tmp, file);
      if (options.fsyncDir !== false) await fsyncDir(path.dirname(file));
      return { plainBytes };
    },
    async abort() {
      if (!done) {
        done = true;
        await fh.close().catch(() => undefined);
      }
      await rm(tmp, { force: true });
    },
  };
}
/**
 * Writes `bytes` to `file` for `role` durably (temporary file, fsync, rename; mode 0600): sealed
 * with `key`, plain without one.
 *
 * @example
 * await writePrivateFile(path.join(dir, "keys.bin"), keys, "shafaf-batch/<job>/keys.bin", key);
 */
export async function writePrivateFile(
  file: string,
  bytes: Uint8Array,
  role: string,
  key: DataKey | undefined,
  options: { fsyncDir?: boolean; compress?: boolean } = {},
): Promise<void> {
  const w = await createPrivateFileWriter(file, role, key, options);
  try {
    // 1 MiB at a time: the sealed copy is never held whole beside the plaintext.
    for (let at = 0; at < bytes.length; at += 1 << 20)
      await w.write(bytes.subarray(at, Math.min(bytes.length, at + (1 << 20))));
    await w.close();
  } catch (error) {
    await w.abort();
    throw error;
  }
}

/**
 * Reads a whole private file: opened with `key` when sealed; a plain file only when
 * `allowPlain` (else `store.private.plain`).
 *
 * @throws {PrivateFileError} every failure by name; the file system's errors as they are.
 * @example
 * const keys = await readPrivateFile(file, role, key, { allowPlain: false });
 */
// Async by contract (callers await it; a failure is a rejection), synchronous reads inside.
// eslint-disable-next-line @typescript-eslint/require-await
export async function readPrivateFile(
  file: string,
  role: string,
  key: DataKey | undefined,
  options: { allowPlain: boolean },
): Promise<Uint8Array> {
  // Chunk by chunk into one plaintext buffer: the sealed bytes are never held whole beside it
  // (a batch's keys.bin is 32 bytes per record: 480 MB at 15 M records).
  const reader = openPrivateFileReader(file, role, key, options);
  try {
    const out = new Uint8Array(reader.size);
    let at = 0;
    for (const chunk of reader.chunks()) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  } finally {
    reader.close();
  }
}

/** Random access to a private file's plaintext, synchronous (one `pread` per chunk touched). */
export interface PrivateFileReader {
  /** Plaintext length. */
  readonly size: number;
  readonly sealed: boolean;
  /** Plaintext bytes [offset, offset + length). */
  read(offset: number, length: number): Buffer;
  /** Every plaintext chunk in order (a sealed file authenticates each; ≤ chunk size each). */
  chunks(): Iterable<Buffer>;
  close(): void;
}

/**
 * Opens `file` for random access by plaintext offset. A sealed file's header is checked and its
 * final chunk authenticated at once (so a truncated or mislabelled file fails here, not at the
 * first lookup); a plain file is accepted only when `allowPlain`.
 *
 * @example
 * const r = openPrivateFileReader(file, role, key, { allowPlain: false });
 * const line = r.read(start, end - start);
 */
export function openPrivateFileReader(
  file: string,
  role: string,
  key: DataKey | undefined,
  options: { allowPlain: boolean },
): PrivateFileReader {
  const fd = openSync(file, "r");
  let open = true;
  // Idempotent: a closed descriptor's number may already belong to another file.
  const close = (): void => {
    if (open) closeSync(fd);
    open = false;
  };
  try {
    const fileBytes = fstatSync(fd).size;
    const head = Buffer.alloc(Math.min(ENCRYPTED_FILE_HEADER_BYTES, fileBytes));
    preadFully(fd, head, 0);
    const pread = (length: number, position: number): Buffer => {
      const b = Buffer.allocUnsafe(length);
      if (preadFully(fd, b, position) !== length)
        fail(file, "truncated", "the file is shorter than expected", "restore it from the backup");
      return b;
    };
    if (!isSealed(head)) {
      if (!options.allowPlain)
        fail(
          file,
          "plain",
          "not an encrypted file, where one is required",
          "the data directory says this file is sealed (shafaf-encrypted-file); restore it from the backup",
        );
      return {
        size: fileBytes,
        sealed: false,
        read: (offset, length) => pread(length, offset),
        *chunks() {
          for (let at = 0; at < fileBytes; at += 1 << 20)
            yield pread(Math.min(1 << 20, fileBytes - at), at);
        },
        close,
      };
    }
    const l = readLayout(file, head, fileBytes, key, role, (length) =>
      pread(length, fileBytes - length),
    );
    const chunk = (i: number): Buffer => {
      const { position, sealed } = chunkAt(l, i);
      return openChunk(file, l, i, pread(sealed, position));
    };
    // Authenticates the length (and a version-2 chunk table): a cut or relabelled file fails now.
    chunk(l.chunks - 1);
    let cached: { i: number; plain: Buffer } | undefined;
    const cachedChunk = (i: number): Buffer => {
      if (cached?.i !== i) cached = { i, plain: chunk(i) };
      return cached.plain;
    };
    return {
      size: l.plainBytes,
      sealed: true,
      read(offset, length) {
        if (offset < 0 || length < 0 || offset + length > l.plainBytes)
          throw new RangeError(`bytes ${offset}+${length} outside the file's ${l.plainBytes}`);
        const out = Buffer.allocUnsafe(length);
        let done = 0;
        while (done < length) {
          const at = offset + done;
          const i = Math.floor(at / l.chunkBytes);
          const plain = cachedChunk(i);
          const from = at - i * l.chunkBytes;
          done += plain.copy(out, done, from, Math.min(plain.length, from + length - done));
        }
        return out;
      },
      *chunks() {
        for (let i = 0; i < l.chunks; i++) yield chunk(i);
      },
      close,
    };
  } catch (error) {
    close();
    throw error;
  }
}

function preadFully(fd: number, buffer: Buffer, position: number): number {
  let read = 0;
  while (read < buffer.length) {
    const n = readSync(fd, buffer, read, buffer.length - read, position + read);
    if (n === 0) break;
    read += n;
  }
  return read;
}

/** `<data-dir>/data-key.json`: the id of the data key a data directory is bound to. */
export const DATA_KEY_BINDING_FILE = "data-key.json";
const BINDING_FORMAT = "shafaf-data-key-binding/1";

/**
 * Binds `dataDir` to `key` (writes `data-key.json` with its id the first time) and returns the
 * bound key id, or undefined for a directory never bound (plain, as before encryption at rest).
 * Opening without a key a directory that is bound succeeds (what it holds in plain, such as jobs,
 * stays readable); every sealed file then refuses with `store.private.no-key`, and
 * {@link requireDataKey} refuses before anything is written.
 *
 * @throws {PrivateFileError} `store.private.wrong-key` when the directory is bound to another key.
 * @example
 * const boundId = await bindDataKey(".shafaf", key);
 */
export async function bindDataKey(
  dataDir: string,
  key: DataKey | undefined,
): Promise<string | undefined> {
  const file = path.join(dataDir, DATA_KEY_BINDING_FILE);
  let bound: string | undefined;
  try {
    const fh = await open(file, "r");
    try {
      const parsed = JSON.parse(await fh.readFile("utf8")) as { format?: unknown; keyId?: unknown };
      if (
        parsed.format !== BINDING_FORMAT ||
        typeof parsed.keyId !== "string" ||
        !/^[0-9a-f]{16}$/.test(parsed.keyId)
      )
        throw new SyntaxError("not a binding");
      bound = parsed.keyId;
    } finally {
      await fh.close();
    }
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT")
      fail(
        file,
        "format",
        `not a ${BINDING_FORMAT} file`,
        "it names the data key of this directory; restore it from the backup",
        error,
      );
  }
  if (key === undefined) return bound;
  if (bound !== undefined && bound !== key.id)
    fail(
      dataDir,
      "wrong-key",
      `the data directory is encrypted with data key ${bound}, not with the given key ${key.id}`,
      "give the keystore of its data key (`shafaf keys show-data FILE` prints a keystore's key id)",
    );
  if (bound === undefined)
    await writePrivateFile(
      file,
      Buffer.from(JSON.stringify({ format: BINDING_FORMAT, keyId: key.id }) + "\n"),
      "binding",
      undefined,
    );
  return key.id;
}

/**
 * The key to write private files of a data directory with: `key`, or undefined for a directory
 * never bound to one. Refuses to write plain files into a bound directory.
 *
 * @throws {PrivateFileError} `store.private.no-key`.
 * @example
 * const key = requireDataKey(store.dataDir, store.dataKeyId, store.dataKey);
 */
export function requireDataKey(
  dataDir: string,
  boundId: string | undefined,
  key: DataKey | undefined,
): DataKey | undefined {
  if (boundId !== undefined && key === undefined)
    fail(
      dataDir,
      "no-key",
      `the data directory is encrypted with data key ${boundId}, and no data key was given`,
      NO_KEY_FIX,
    );
  return key;
}
