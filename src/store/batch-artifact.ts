/**
 * The batch artifact: the durable off-chain half of a batch, enough to recompute its root and
 * manifest hash years later. Format `shafaf-batch/1`, one directory per job:
 *
 *   batches/<jobId>/artifact.json   descriptor (written last: its presence commits the artifact)
 *   batches/<jobId>/manifest.json   the canonical manifest bytes, exactly as hashed on chain
 *   batches/<jobId>/tree.bin        v1: the Merkle tree, core `MerkleTree.serialize()`
 *   batches/<jobId>/keys.bin        v2: each record's person key k_b (32 bytes), in line order; the
 *                                   tree is recomputed from these and the records (sum-tree-batch.ts)
 *   batches/<jobId>/records.jsonl   one `ArtifactRecordLine` per record, in input (leaf) order
 *   batches/<jobId>/records.idx     byte offset of each line of records.jsonl (optional; see
 *                                   docs/spec/record-offsets-v1.md): one record read without a scan
 *
 * Durability: everything is written into `batches/<jobId>.tmp-…/`, each file fsync'ed, the
 * directory fsync'ed, then renamed to `batches/<jobId>/` and the parent fsync'ed. A directory
 * named `<jobId>` therefore always holds a complete artifact; a `.tmp-` one never counts.
 *
 * Encryption at rest: written with a data key, the files that hold personal data or link it
 * (records.jsonl, records.idx, keys.bin) are `shafaf-encrypted-file/1` files (private-store.ts),
 * each bound to the role `shafaf-batch/<jobId>/<name>`, and `artifact.json` says so
 * (`encryption`). Sizes and sha256 in `files` are the plaintext's, so an artifact hashes the same
 * sealed or not. manifest.json and tree.bin (salted leaf hashes) stay plain.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdir, open, readFile, readdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { manifestHash } from "../core/manifest.ts";
import { ShafafError } from "../core/errors.ts";
import { encodeRecordOffsets } from "./record-offsets.ts";
import {
  createPrivateFileWriter,
  ENCRYPTED_FILE_FORMAT,
  ENCRYPTED_FILE_FORMATS,
  openPrivateFileReader,
  readPrivateFile,
  writePrivateFile,
  type DataKey,
  type PrivateFileReader,
  type PrivateFileWriter,
} from "./private-store.ts";

export const BATCH_ARTIFACT_FORMAT = "shafaf-batch/1";
export const BATCH_ARTIFACT_V2_FORMAT = "shafaf-batch/2";

/** `artifact.json`. Hashes are sha256 of each file's bytes (hex, no 0x). */
export interface BatchArtifactDescriptor {
  format: typeof BATCH_ARTIFACT_FORMAT | typeof BATCH_ARTIFACT_V2_FORMAT;
  /** `shafaf-batch/2` only: the tree scheme, the VRF key id and the root's lanes (decimal). */
  scheme?: "shafaf-tree/2";
  vrfKeyId?: string;
  lanes?: string[];
  jobId: string;
  kind: "premium" | "pension";
  period: string;
  recordCount: number;
  /** Σ amounts, decimal string (Rials). */
  total: string;
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  supersedes: number | null;
  reason: string | null;
  createdAt: string;
  /** Present when the private files are sealed with the data key `keyId`. */
  encryption?: ArtifactEncryption;
  files: {
    "manifest.json": { sha256: string; bytes: number };
    /** v1 only. */
    "tree.bin"?: { sha256: string; bytes: number };
    /** v2 only. */
    "keys.bin"?: { sha256: string; bytes: number };
    "records.jsonl": { sha256: string; bytes: number };
    /** Absent in artifacts written before receipts on demand (the reader then scans). */
    "records.idx"?: { sha256: string; bytes: number };
  };
}

/** `artifact.json`'s `encryption`: which files are sealed, with which data key. */
export interface ArtifactEncryption {
  /** The version its files were written in (`shafaf-encrypted-file/2`; `/1` before). */
  format: string;
  keyId: string;
  files: PrivateArtifactFile[];
}

/** The artifact files that hold personal data (national IDs, amounts, salts) or person keys. */
export type PrivateArtifactFile = "records.jsonl" | "records.idx" | "keys.bin";
export const PRIVATE_ARTIFACT_FILES: readonly PrivateArtifactFile[] = [
  "records.jsonl",
  "records.idx",
  "keys.bin",
];

/** The associated-data role of an artifact file: a file moved to another batch does not open. */
export const artifactFileRole = (jobId: string, name: PrivateArtifactFile): string =>
  `shafaf-batch/${jobId}/${name}`;

/**
 * Random access, by plaintext offset, to a private file of the artifact in `dir`, read in place:
 * a file `descriptor` says is sealed opens only with `dataKey` under its role (each chunk
 * authenticated as read), any other is read as it is. Nothing plain is written anywhere.
 *
 * @throws {PrivateFileError} a sealed file with no key, the wrong key, moved, cut or altered, or
 * a plain file where artifact.json says sealed; {BatchArtifactError} an unknown `encryption`.
 * @example
 * const records = openArtifactFile(dir, descriptor, "records.jsonl", dataKey);
 * try { for (const chunk of records.chunks()) hash.update(chunk); } finally { records.close(); }
 */
export function openArtifactFile(
  dir: string,
  descriptor: BatchArtifactDescriptor,
  name: PrivateArtifactFile,
  dataKey: DataKey | undefined,
): PrivateFileReader {
  return openPrivateFileReader(...artifactFileAccess(dir, descriptor, name, dataKey));
}

/**
 * The whole plaintext of a private artifact file ({@link openArtifactFile}).
 *
 * @example
 * const keys = await readArtifactFile(dir, descriptor, "keys.bin", dataKey);
 */
export async function readArtifactFile(
  dir: string,
  descriptor: BatchArtifactDescriptor,
  name: PrivateArtifactFile,
  dataKey: DataKey | undefined,
): Promise<Uint8Array> {
  return readPrivateFile(...artifactFileAccess(dir, descriptor, name, dataKey));
}

const artifactFileAccess = (
  dir: string,
  descriptor: BatchArtifactDescriptor,
  name: PrivateArtifactFile,
  dataKey: DataKey | undefined,
): [string, string, DataKey | undefined, { allowPlain: boolean }] => [
  path.join(dir, name),
  artifactFileRole(descriptor.jobId, name),
  dataKey,
  { allowPlain: !artifactSealing(dir, descriptor).has(name) },
];

/**
 * One line of `records.jsonl`. `record` is the core record with amounts as decimal strings;
 * `salt` (bytes32 hex) and `subject` (HMAC pseudonym, bytes32 hex) are the leaf's secret inputs;
 * `code` is the receipt code fixed before anchoring, so that a resumed job issues the same codes.
 */
export interface ArtifactRecordLine {
  index: number;
  code: string;
  salt: string;
  subject: string;
  source: { file: string; line: number; entry?: string };
  record: Record<string, string | number>;
}

/** Lines `first`, `first + 1`, … of `records.jsonl`: their codes, subjects and record ids. */
export interface ArtifactRecordKeys {
  first: number;
  codes: string[];
  subjects: string[];
  recordIds: string[];
}

export interface BatchArtifact {
  dir: string;
  descriptor: BatchArtifactDescriptor;
  manifestBytes: Uint8Array;
  manifest: unknown;
  /** v1: `tree.bin`; empty for v2. */
  tree: Uint8Array;
  /** v2: `keys.bin` (k_b of line i at i·32); undefined for v1. */
  keys?: Uint8Array;
  /** Streams `records.jsonl`; throws at the end if its sha256 differs from the descriptor's. */
  records(): AsyncIterable<ArtifactRecordLine>;
  /**
   * What the locator pass needs of each line (its code, subject and record id), in line order,
   * a chunk of lines at a time (synchronous reads, one per chunk of the file), from the line's
   * bytes without `JSON.parse` (a line not as the writer writes it is parsed); the same checks
   * and errors as {@link records}.
   */
  recordKeys(): Iterable<ArtifactRecordKeys>;
  /** The data key the artifact was opened with (its sealed files, and the tiles derived from it). */
  dataKey?: DataKey;
}

/** A batch artifact folder that is missing, incomplete or altered. Not retryable. */
export class BatchArtifactError extends ShafafError {
  override name = "BatchArtifactError";
  constructor(shortMessage: string, options?: { cause?: unknown }) {
    super(shortMessage, { ...options, code: "store.artifact" });
  }
}

const sha256hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeFileDurably(file: string, bytes: Uint8Array | string): Promise<void> {
  const fh = await open(file, "wx", 0o600);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Streams an artifact into a temporary directory; `commit` makes it durable and visible. */
export interface BatchArtifactWriter {
  /**
   * The temporary folder being written (`batches/<jobId>.tmp-…`), renamed by `commit`: what else
   * the caller stages in it (the batch's tiles, under a `tiles.tmp-…` name) moves with it.
   */
  readonly dir: string;
  /** The data key the private files are sealed with (undefined: a plain artifact). */
  readonly dataKey: DataKey | undefined;
  /**
   * Appends one record line (buffered). Lines MUST come in input order, index 0, 1, 2, … A
   * promise only when the buffer is written out (about once per MiB; no promise per line) or
   * when it is refused: rejected with {@link BatchArtifactError} for a line out of order.
   */
  append(line: ArtifactRecordLine): Promise<void> | undefined;
  /** Writes the other files, fsyncs, renames into place. Returns the final directory. */
  commit(input: {
    manifestBytes: Uint8Array;
    /** v1: the serialized tree. Exactly one of `tree` and `keys`. */
    tree?: Uint8Array;
    /** v2: the person keys, 32 bytes per record in line order (`descriptor.scheme` set). */
    keys?: Uint8Array;
    descriptor: Omit<BatchArtifactDescriptor, "format" | "files" | "jobId">;
  }): Promise<{ dir: string; descriptor: BatchArtifactDescriptor }>;
  /** Removes the temporary directory. Safe after a failed commit. */
  abort(): Promise<void>;
}

const FLUSH_BYTES = 1 << 20;
/** The pending buffer: a flush's worth of lines and room for one more long one. */
const PENDING_BYTES = FLUSH_BYTES + (1 << 16);

/**
 * Starts writing the artifact of `jobId` under `batchesDir`.
 *
 * @example
 * const w = await createBatchArtifactWriter(store.batchesDir, jobId);
 * for (const line of lines) await w.append(line);
 * await w.commit({ manifestBytes, tree: tree.serialize(), descriptor });
 */
export async function createBatchArtifactWriter(
  batchesDir: string,
  jobId: string,
  options: { dataKey?: DataKey | undefined } = {},
): Promise<BatchArtifactWriter> {
  const dataKey = options.dataKey;
  if (!/^[0-9a-f]{16,64}$/.test(jobId)) throw new BatchArtifactError(`invalid job id ${jobId}`);
  await mkdir(batchesDir, { recursive: true, mode: 0o700 });
  const tmp = path.join(
    batchesDir,
    `${jobId}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`,
  );
  await mkdir(tmp, { mode: 0o700 });
  const recordsFile = path.join(tmp, "records.jsonl");
  const fh: PrivateFileWriter = await createPrivateFileWriter(
    recordsFile,
    artifactFileRole(jobId, "records.jsonl"),
    dataKey,
    { fsyncDir: false },
  );
  const hash = createHash("sha256");
  let bytes = 0;
  /** Offset of each line, then the file length (records.idx). */
  let offsets = new Float64Array(1024);
  // Lines are encoded straight into a fresh buffer (one per flush: the file writer may keep
  // the chunk it is given), so the UTF-8 length of each line comes from the encoding itself.
  let pending = Buffer.allocUnsafe(PENDING_BYTES);
  let pendingBytes = 0;
  let expected = 0;
  let closed = false;

  async function flush(): Promise<void> {
    if (pendingBytes === 0) return;
    const chunk = pending.subarray(0, pendingBytes);
    pending = Buffer.allocUnsafe(PENDING_BYTES);
    pendingBytes = 0;
    hash.update(chunk);
    bytes += chunk.length;
    await fh.write(chunk);
  }

  /** Puts one line's JSON text and its newline into the pending buffer (room checked). */
  function put(text: string): Promise<void> | undefined {
    offsets[expected] = bytes + pendingBytes;
    expected++;
    // UTF-8 length: the offsets are byte offsets (records carry Persian text).
    pendingBytes += pending.write(text, pendingBytes, "utf8");
    pending[pendingBytes++] = 0x0a; // \n
    return pendingBytes >= FLUSH_BYTES ? flush() : undefined;
  }

  return {
    dir: tmp,
    dataKey,
    append(line) {
      if (line.index !== expected) {
        return Promise.reject(
          new BatchArtifactError(
            `record lines out of order: got ${line.index}, expected ${expected}`,
          ),
        );
      }
      const text = JSON.stringify(line); // the newline is written after it, not concatenated
      if (expected + 1 >= offsets.length) {
        const grown = new Float64Array(offsets.length * 2);
        grown.set(offsets);
        offsets = grown;
      }
      // At most 3 UTF-8 bytes per UTF-16 code unit: a line that might not fit goes after a flush.
      if (pendingBytes + 3 * text.length + 1 > pending.length)
        return flush().then(() => {
          if (3 * text.length + 1 > pending.length)
            pending = Buffer.allocUnsafe(3 * text.length + 1);
          return put(text);
        });
      return put(text);
    },

    async commit({ manifestBytes, tree, keys, descriptor }) {
      if (descriptor.recordCount !== expected) {
        throw new BatchArtifactError(
          `descriptor says ${descriptor.recordCount} records but ${expected} were written`,
        );
      }
      const v2 = descriptor.scheme === "shafaf-tree/2";
      const second = v2 ? keys : tree;
      if (second === undefined || (v2 ? tree : keys) !== undefined)
        throw new BatchArtifactError(
          v2
            ? "a shafaf-batch/2 artifact has keys.bin and no tree.bin"
            : "a shafaf-batch/1 artifact has tree.bin and no keys.bin",
        );
      if (v2 && second.length !== expected * 32)
        throw new BatchArtifactError(
          `keys.bin holds ${second.length / 32} keys for ${expected} records`,
        );
      const secondName = v2 ? "keys.bin" : "tree.bin";
      await flush();
      closed = true;
      await fh.close();
      await writeFileDurably(path.join(tmp, "manifest.json"), manifestBytes);
      if (v2)
        await writePrivateFile(
          path.join(tmp, "keys.bin"),
          second,
          artifactFileRole(jobId, "keys.bin"),
          dataKey,
          { fsyncDir: false, compress: false }, // random 32-byte keys do not compress
        );
      else await writeFileDurably(path.join(tmp, "tree.bin"), second);
      offsets[expected] = bytes;
      const idx = encodeRecordOffsets(offsets.subarray(0, expected + 1));
      await writePrivateFile(
        path.join(tmp, "records.idx"),
        idx,
        artifactFileRole(jobId, "records.idx"),
        dataKey,
        { fsyncDir: false },
      );
      const full: BatchArtifactDescriptor = {
        format: v2 ? BATCH_ARTIFACT_V2_FORMAT : BATCH_ARTIFACT_FORMAT,
        jobId,
        ...descriptor,
        ...(dataKey === undefined
          ? {}
          : {
              encryption: {
                format: ENCRYPTED_FILE_FORMAT,
                keyId: dataKey.id,
                files: v2
                  ? ["records.jsonl", "records.idx", "keys.bin"]
                  : ["records.jsonl", "records.idx"],
              },
            }),
        files: {
          "manifest.json": { sha256: sha256hex(manifestBytes), bytes: manifestBytes.length },
          [secondName]: { sha256: sha256hex(second), bytes: second.length },
          "records.jsonl": { sha256: hash.digest("hex"), bytes },
          "records.idx": { sha256: sha256hex(idx), bytes: idx.length },
        },
      };
      await writeFileDurably(path.join(tmp, "artifact.json"), JSON.stringify(full, null, 2) + "\n");
      await fsyncDir(tmp);
      const final = path.join(batchesDir, jobId);
      await rename(tmp, final);
      await fsyncDir(batchesDir);
      return { dir: final, descriptor: full };
    },

    async abort() {
      if (!closed) {
        closed = true;
        await fh.abort().catch(() => undefined);
      }
      await rm(tmp, { recursive: true, force: true });
    },
  };
}

/** Removes temporary artifact directories left by killed processes (never a committed one). */
export async function removeStaleArtifactTemps(
  batchesDir: string,
  jobId?: string,
): Promise<number> {
  let names: string[];
  try {
    names = await readdir(batchesDir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const m = /^([0-9a-f]+)\.tmp-/.exec(name);
    if (m === null || (jobId !== undefined && m[1] !== jobId)) continue;
    await rm(path.join(batchesDir, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

/** What {@link readBatchArtifact} and {@link createBatchArtifactWriter} throw: a missing, incomplete or altered artifact. */
export type BatchArtifactErrorType = BatchArtifactError;

/**
 * Reads and checks a committed artifact: the descriptor's format, the sha256 of manifest.json and
 * tree.bin, and that keccak256(manifest.json) is the descriptor's manifestHash. Returns undefined
 * when `dir` holds no committed artifact. A sealed artifact (`encryption`) needs `dataKey`; its
 * private files MUST be sealed with it, and a plain artifact's MUST be plain.
 *
 * @throws {BatchArtifactError} a damaged or altered artifact; {PrivateFileError} a sealed file
 * with no key, the wrong key, moved from elsewhere, cut short or altered.
 */
export async function readBatchArtifact(
  dir: string,
  options: {
    dataKey?: DataKey | undefined;
    /**
     * Only records.jsonl will be read (`records()`, `recordKeys()`, which still check its
     * sha256 and count): keys.bin or tree.bin is neither read nor checked, and `tree`/`keys` are
     * empty. For a pass that holds a line at a time (the audit's history), whose memory must not
     * be the 32 bytes per record of a whole keys.bin.
     */
    recordsOnly?: boolean | undefined;
  } = {},
): Promise<BatchArtifact | undefined> {
  let descriptorText: string;
  try {
    descriptorText = await readFile(path.join(dir, "artifact.json"), "utf8");
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
  let descriptor: BatchArtifactDescriptor;
  try {
    descriptor = JSON.parse(descriptorText) as BatchArtifactDescriptor;
  } catch (error) {
    throw new BatchArtifactError(`${dir}/artifact.json is not JSON`, { cause: error });
  }
  const format: unknown = descriptor.format;
  if (format !== BATCH_ARTIFACT_FORMAT && format !== BATCH_ARTIFACT_V2_FORMAT) {
    throw new BatchArtifactError(
      `${dir}/artifact.json has format ${String(format)}; this version reads ${BATCH_ARTIFACT_FORMAT} and ${BATCH_ARTIFACT_V2_FORMAT}`,
    );
  }
  const v2 = format === BATCH_ARTIFACT_V2_FORMAT;
  if (v2 && descriptor.scheme !== "shafaf-tree/2")
    throw new BatchArtifactError(
      `${dir}/artifact.json: a ${format} artifact names scheme shafaf-tree/2`,
    );
  const secondName = v2 ? "keys.bin" : "tree.bin";
  artifactSealing(dir, descriptor);
  const manifestBytes = new Uint8Array(await readFile(path.join(dir, "manifest.json")));
  const recordsOnly = options.recordsOnly === true;
  const second = recordsOnly
    ? new Uint8Array(0)
    : v2
      ? await readArtifactFile(dir, descriptor, "keys.bin", options.dataKey)
      : new Uint8Array(await readFile(path.join(dir, "tree.bin")));
  for (const [name, bytes] of [
    ["manifest.json", manifestBytes],
    ...(recordsOnly ? [] : [[secondName, second] as const]),
  ] as const) {
    const want = descriptor.files[name]?.sha256;
    if (want === undefined || sha256hex(bytes) !== want) {
      throw new BatchArtifactError(
        `${dir}/${name} does not match the sha256 in artifact.json; the artifact is damaged`,
      );
    }
  }
  if (manifestHash(manifestBytes) !== descriptor.manifestHash) {
    throw new BatchArtifactError(
      `${dir}/manifest.json does not hash to the manifestHash in artifact.json`,
    );
  }
  const manifest: unknown = JSON.parse(new TextDecoder().decode(manifestBytes));
  const recordsFile = path.join(dir, "records.jsonl");
  return {
    dir,
    descriptor,
    manifestBytes,
    manifest,
    tree: v2 ? new Uint8Array(0) : second,
    ...(v2 ? { keys: second } : {}),
    ...(options.dataKey === undefined ? {} : { dataKey: options.dataKey }),
    async *records() {
      const hash = createHash("sha256");
      const reader = openRecords();
      const stream = Readable.from(reader.chunks(), { objectMode: false });
      stream.on("data", (chunk) => hash.update(chunk as Buffer));
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      let expected = 0;
      try {
        for await (const text of lines) {
          const line = JSON.parse(text) as ArtifactRecordLine;
          if (line.index !== expected) {
            throw new BatchArtifactError(
              `${recordsFile}:${expected + 1}: index ${line.index}, expected ${expected}`,
            );
          }
          expected++;
          yield line;
        }
        checkEnd(expected, hash);
      } finally {
        // A caller that stops early leaves the stream paused: release the file now.
        stream.destroy();
        reader.close();
      }
    },
    *recordKeys() {
      const hash = createHash("sha256");
      const reader = openRecords();
      let expected = 0;
      /** The bytes after the last newline of the chunks read so far. */
      let carry: Buffer | undefined;
      try {
        for (const chunk of reader.chunks()) {
          hash.update(chunk);
          const buf = carry === undefined ? chunk : Buffer.concat([carry, chunk]);
          const out: ArtifactRecordKeys = {
            first: expected,
            codes: [],
            subjects: [],
            recordIds: [],
          };
          let start = 0;
          for (let end = buf.indexOf(10, start); end >= 0; end = buf.indexOf(10, start)) {
            // A line ending in \r\n is a line ending in \n for the reader (`crlfDelay: Infinity`).
            const stop = end > start && buf[end - 1] === 13 ? end - 1 : end;
            keysOfLine(buf, start, stop, expected, out);
            expected++;
            start = end + 1;
          }
          carry = start < buf.length ? buf.subarray(start) : undefined;
          if (out.codes.length > 0) yield out;
        }
        if (carry !== undefined) {
          const out: ArtifactRecordKeys = {
            first: expected,
            codes: [],
            subjects: [],
            recordIds: [],
          };
          keysOfLine(carry, 0, carry.length, expected, out);
          expected++;
          yield out;
        }
        checkEnd(expected, hash);
      } finally {
        reader.close();
      }
    },
  };

  function openRecords(): ReturnType<typeof openPrivateFileReader> {
    return openArtifactFile(dir, descriptor, "records.jsonl", options.dataKey);
  }

  function checkEnd(count: number, hash: ReturnType<typeof createHash>): void {
    if (count !== descriptor.recordCount) {
      throw new BatchArtifactError(
        `${recordsFile} has ${count} records; artifact.json says ${descriptor.recordCount}`,
      );
    }
    if (hash.digest("hex") !== descriptor.files["records.jsonl"].sha256) {
      throw new BatchArtifactError(
        `${recordsFile} does not match the sha256 in artifact.json; the artifact is damaged`,
      );
    }
  }

  /**
   * Line `index` (bytes [start, stop) of `buf`) into `out`. The line as the writer writes it
   * (`{"index":…,"code":"…","salt":"…","subject":"…","source":{…},"record":{"kind":"…",
   * "recordId":"…",…}}`, JSON.stringify of an `ArtifactRecordLine`) is read from its bytes: each
   * string taken has no backslash (and code, salt and subject are ASCII), so its bytes are its
   * value. Any other line is parsed. `,"record":{"` cannot occur inside a JSON string (every `"`
   * in one follows a `\`), and `source` holds no object, so its first occurrence after `source`
   * is the record's.
   */
  function keysOfLine(
    buf: Buffer,
    start: number,
    stop: number,
    index: number,
    out: ArtifactRecordKeys,
  ): void {
    const fast = fastKeys(buf, start, stop, index);
    if (fast !== undefined) {
      out.codes.push(fast[0]);
      out.subjects.push(fast[1]);
      out.recordIds.push(fast[2]);
      return;
    }
    const line = JSON.parse(buf.toString("utf8", start, stop)) as ArtifactRecordLine;
    if (line.index !== index) {
      throw new BatchArtifactError(
        `${recordsFile}:${index + 1}: index ${line.index}, expected ${index}`,
      );
    }
    const recordId: unknown = line.record?.["recordId"];
    if (
      typeof line.code !== "string" ||
      typeof line.subject !== "string" ||
      typeof recordId !== "string"
    )
      throw new BatchArtifactError(
        `${recordsFile}:${index + 1}: a record line without its code, subject or record id; the artifact is damaged`,
      );
    out.codes.push(line.code);
    out.subjects.push(line.subject);
    out.recordIds.push(recordId);
  }
}

const LINE_HEAD = Buffer.from('{"index":', "latin1");
const CODE_HEAD = Buffer.from(',"code":"', "latin1");
const SALT_HEAD = Buffer.from('","salt":"', "latin1");
const SUBJECT_HEAD = Buffer.from('","subject":"', "latin1");
const SOURCE_HEAD = Buffer.from('","source":{', "latin1");
const RECORD_HEAD = Buffer.from(',"record":{"', "latin1");
const KIND_HEAD = Buffer.from('kind":"', "latin1");
const RECORD_ID_HEAD = Buffer.from('recordId":"', "latin1");

/** Whether `buf` holds `bytes` at `at`. */
function holds(buf: Buffer, at: number, bytes: Buffer): boolean {
  if (at + bytes.length > buf.length) return false;
  for (let k = 0; k < bytes.length; k++) if (buf[at + k] !== bytes[k]) return false;
  return true;
}

/** The end of the JSON string whose value starts at `at` (its closing `"`), if it has no `\`. */
function plainStringEnd(buf: Buffer, at: number, stop: number, ascii: boolean): number {
  for (let k = at; k < stop; k++) {
    const c = buf[k]!;
    if (c === 34) return k;
    if (c === 92 || c < 0x20 || (ascii && c >= 0x80)) return -1;
  }
  return -1;
}

/**
 * Code, subject and record id of the line `buf[start, stop)` whose index is `index`, when the
 * line is as the writer writes it; undefined otherwise (the caller parses it).
 */
function fastKeys(
  buf: Buffer,
  start: number,
  stop: number,
  index: number,
): [string, string, string] | undefined {
  if (!holds(buf, start, LINE_HEAD)) return undefined;
  let at = start + LINE_HEAD.length;
  // The index as JSON.stringify writes a non-negative integer: no sign, no leading zero.
  let n = 0;
  const digitsFrom = at;
  while (at < stop && buf[at]! >= 48 && buf[at]! <= 57) n = n * 10 + buf[at++]! - 48;
  if (at === digitsFrom || at - digitsFrom > 15 || n !== index) return undefined;
  if (buf[digitsFrom] === 48 && at - digitsFrom > 1) return undefined;
  if (!holds(buf, at, CODE_HEAD)) return undefined;
  const codeAt = at + CODE_HEAD.length;
  const codeEnd = plainStringEnd(buf, codeAt, stop, true);
  if (codeEnd < 0 || !holds(buf, codeEnd, SALT_HEAD)) return undefined;
  const saltEnd = plainStringEnd(buf, codeEnd + SALT_HEAD.length, stop, true);
  if (saltEnd < 0 || !holds(buf, saltEnd, SUBJECT_HEAD)) return undefined;
  const subjectAt = saltEnd + SUBJECT_HEAD.length;
  const subjectEnd = plainStringEnd(buf, subjectAt, stop, true);
  if (subjectEnd < 0 || !holds(buf, subjectEnd, SOURCE_HEAD)) return undefined;
  const recordHead = buf.indexOf(RECORD_HEAD, subjectEnd + SOURCE_HEAD.length);
  if (recordHead < 0 || recordHead >= stop) return undefined;
  // The record's first member is its `kind` (recordToJson of a validated record), then its id.
  let idHead = recordHead + RECORD_HEAD.length;
  if (holds(buf, idHead, KIND_HEAD)) {
    const kindEnd = plainStringEnd(buf, idHead + KIND_HEAD.length, stop, true);
    if (kindEnd < 0 || buf[kindEnd + 1] !== 44 || buf[kindEnd + 2] !== 34) return undefined;
    idHead = kindEnd + 3;
  }
  if (!holds(buf, idHead, RECORD_ID_HEAD)) return undefined;
  const idAt = idHead + RECORD_ID_HEAD.length;
  const idEnd = plainStringEnd(buf, idAt, stop, false);
  // The line ends with the record's and the line's `}`.
  if (idEnd < 0 || buf[stop - 1] !== 125) return undefined;
  return [
    buf.toString("latin1", codeAt, codeEnd),
    buf.toString("latin1", subjectAt, subjectEnd),
    buf.toString("utf8", idAt, idEnd),
  ];
}

/**
 * The private files `descriptor` says are sealed (empty for a plain artifact). A descriptor whose
 * `encryption` is not understood is refused rather than read as plain.
 */
export function artifactSealing(
  dir: string,
  descriptor: BatchArtifactDescriptor,
): ReadonlySet<PrivateArtifactFile> {
  const e: unknown = descriptor.encryption;
  if (e === undefined) return new Set();
  const enc = e as Partial<ArtifactEncryption>;
  if (
    typeof enc.format !== "string" ||
    !ENCRYPTED_FILE_FORMATS.includes(enc.format) ||
    !Array.isArray(enc.files) ||
    !enc.files.every((f) => PRIVATE_ARTIFACT_FILES.includes(f))
  )
    throw new BatchArtifactError(
      `${dir}/artifact.json: encryption ${JSON.stringify(enc.format)} is not one of ${ENCRYPTED_FILE_FORMATS.join(", ")}; upgrade shafaf`,
    );
  return new Set(enc.files);
}
