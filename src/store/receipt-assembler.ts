/**
 * Receipts on demand: a receipt is not stored, it is assembled when asked for from the batch
 * artifact — the record's line of `records.jsonl` (read by offset through `records.idx`), the
 * tree (`tree.bin`) for the proof — and the anchored batch's facts (chain, contract, batch id,
 * transaction). Every receipt is checked before it is returned (core `buildReceipt`: the record's
 * leaf hash MUST be the tree's leaf at its index and the proof MUST lead to the root), and the
 * tree's root MUST be the anchored root of the batch.
 *
 * A `shafaf-batch/2` artifact (a `shafaf-tree/2` batch) has no tree file: its tree is recomputed
 * once from the records and `keys.bin` (`sum-tree-artifact.ts`), and the receipt is a
 * `shafaf-receipt/2` (core `buildReceiptV2`, verified before it is returned).
 *
 * Loaded trees and offsets are kept in a small LRU bounded in bytes (a 1,000,000-leaf tree is
 * 68 MB, its offsets 8 MB): a lookup in a warm batch is one `pread` and one proof.
 */
import { createHash } from "node:crypto";
import path from "node:path";
import { InvariantError } from "../core/errors.ts";
import type { Hex } from "../core/hex.ts";
import { leafValues } from "../core/leaf.ts";
import { loadMerkleTree, type MerkleTree } from "../core/merkle-tree.ts";
import {
  buildReceipt,
  recordFromJson,
  recordToJson,
  type Receipt,
  type ReceiptRecord,
} from "../core/receipt.ts";
import type { SumTreeProof } from "../core/sum-tree-proof.ts";
import {
  artifactFileRole,
  artifactSealing,
  readBatchArtifact,
  type ArtifactRecordLine,
} from "./batch-artifact.ts";
import {
  openPrivateFileReader,
  PrivateFileError,
  readPrivateFile,
  type DataKey,
  type PrivateFileReader,
} from "./private-store.ts";
import type { SumTree } from "../core/build-sum-tree.ts";
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import { buildReceiptV2, type ReceiptV2 } from "../core/receipt-v2.ts";
import { sumTreeRecordFields } from "../core/sum-tree-record.ts";
import { loadArtifactSumTree } from "./sum-tree-artifact.ts";
import { decodeRecordOffsets, scanRecordOffsets } from "./record-offsets.ts";

/** What the assembler needs of an anchored batch (a `BatchEntry` has it). */
export interface AnchoredBatchFacts {
  batchId: number;
  jobId: string;
  chainId: number;
  contract: string;
  root: string;
  recordCount: number;
  txHash: string;
  blockNumber: number;
}

export interface ReceiptAssembler {
  /**
   * The receipt of leaf `index` of `batch`, checked against the batch's anchored root. When
   * `code` is given, the record's receipt code MUST be it. Throws `ReceiptAssemblyError` when
   * the artifact is missing or does not match (a damaged data directory, never bad user input).
   */
  assemble(batch: AnchoredBatchFacts, index: number, code?: string): Promise<Receipt | ReceiptV2>;
  /**
   * A person's material in a `shafaf-tree/2` batch for their batch key `key` (k_b): the range or
   * absence proof and their records opened (record and salt) in the proof's leaf order, i.e. a
   * `shafaf-person-proof/1` without `personId` and `vrf`. `undefined` for a v1 batch. The tree
   * and a key-sorted index of the records are cached with the batch, so a request is a binary
   * search, one proof and a `pread` per record of the person.
   */
  personBatch(batch: AnchoredBatchFacts, key: Uint8Array): Promise<PersonBatchMaterial | undefined>;
  /** Releases the cached trees and file descriptors. */
  close(): void;
}

/**
 * The artifact behind an on-demand receipt is missing or damaged (code `store.receipt.artifact`),
 * or the store was closed (`store.closed`). Not the caller's input, not retryable; no personal data.
 */
export class ReceiptAssemblyError extends InvariantError {
  override name = "ReceiptAssemblyError";
  constructor(shortMessage: string, options: { cause?: unknown; code?: string } = {}) {
    super(shortMessage, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      code: options.code ?? "store.receipt.artifact",
    });
  }
}

/** What {@link ReceiptAssembler.personBatch} returns. */
export interface PersonBatchMaterial {
  chainId: number;
  contract: Hex;
  proof: SumTreeProof;
  records: { record: ReceiptRecord; salt: Hex }[];
}

export interface CreateReceiptAssemblerParams {
  /** `<data-dir>/batches`. */
  batchesDir: string;
  /** Upper bound of the cached trees and offsets, in bytes (default 512 MiB; one batch always fits). */
  cacheBytes?: number;
  /** The data key of sealed artifacts (encryption at rest); plain artifacts need none. */
  dataKey?: DataKey | undefined;
}

interface Loaded {
  /** v1: the Merkle tree; v2: the sum tree and the person keys (line order). */
  tree?: MerkleTree;
  sum?: { tree: SumTree; keys: Uint8Array; byKey?: Uint32Array };
  offsets: Float64Array;
  /** records.jsonl, by plaintext offset (sealed or plain). */
  reader: PrivateFileReader;
  file: string;
  bytes: number;
}

const sha256hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/**
 * @example
 * const assembler = createReceiptAssembler({ batchesDir: store.batchesDir });
 * const receipt = await assembler.assemble(batchEntry, 41);
 */
export function createReceiptAssembler(params: CreateReceiptAssemblerParams): ReceiptAssembler {
  const cacheBytes = params.cacheBytes ?? 512 * 2 ** 20;
  /** batchId → loading or loaded batch; Map order is recency (oldest first). */
  const cache = new Map<number, Promise<Loaded>>();
  const sizes = new Map<number, Loaded>();
  let closed = false;

  const release = (loaded: Loaded): void => {
    try {
      loaded.reader.close();
    } catch {
      // already closed
    }
  };

  const evict = (): void => {
    let total = 0;
    for (const l of sizes.values()) total += l.bytes;
    for (const [batchId, loaded] of sizes) {
      if (total <= cacheBytes || sizes.size <= 1) break;
      sizes.delete(batchId);
      cache.delete(batchId);
      release(loaded);
      total -= loaded.bytes;
    }
  };

  async function load(batch: AnchoredBatchFacts): Promise<Loaded> {
    const dir = path.join(params.batchesDir, batch.jobId);
    const artifact = await readBatchArtifact(dir, { dataKey: params.dataKey });
    if (artifact === undefined) {
      throw new ReceiptAssemblyError(
        `the artifact of batch ${batch.batchId} is missing from ${params.batchesDir}; restore the data directory from its backup`,
      );
    }
    const d = artifact.descriptor;
    if (d.recordCount !== batch.recordCount || d.root.toLowerCase() !== batch.root.toLowerCase()) {
      throw new ReceiptAssemblyError(
        `the artifact in ${dir} does not belong to batch ${batch.batchId} (root or record count differ)`,
      );
    }
    let tree: MerkleTree | undefined;
    let sum: Loaded["sum"];
    try {
      if (artifact.keys !== undefined)
        sum = { tree: await loadArtifactSumTree(artifact), keys: artifact.keys };
      else tree = loadMerkleTree(artifact.tree, { expectedRoot: batch.root });
    } catch (error) {
      throw new ReceiptAssemblyError(
        `${dir}/${sum === undefined && artifact.keys === undefined ? "tree.bin" : "keys.bin"}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const file = path.join(dir, "records.jsonl");
    const jsonlBytes = d.files["records.jsonl"].bytes;
    const sealed = artifactSealing(dir, d);
    let offsets: Float64Array;
    try {
      const idx = d.files["records.idx"];
      if (idx === undefined) {
        offsets = await scanRecordOffsets(file, d.recordCount);
        if (offsets[d.recordCount] !== jsonlBytes) throw new RangeError("length differs");
      } else {
        const bytes = await readPrivateFile(
          path.join(dir, "records.idx"),
          artifactFileRole(d.jobId, "records.idx"),
          params.dataKey,
          { allowPlain: !sealed.has("records.idx") },
        );
        if (sha256hex(bytes) !== idx.sha256)
          throw new RangeError("sha256 differs from artifact.json");
        offsets = decodeRecordOffsets(bytes, d.recordCount, jsonlBytes);
      }
    } catch (error) {
      if (isMissingKey(error)) throw error;
      throw new ReceiptAssemblyError(
        `${dir}: cannot locate the records (${(error as Error).message}); the artifact is damaged`,
        { cause: error },
      );
    }
    const reader = openPrivateFileReader(
      file,
      artifactFileRole(d.jobId, "records.jsonl"),
      params.dataKey,
      { allowPlain: !sealed.has("records.jsonl") },
    );
    if (reader.size !== jsonlBytes) {
      reader.close();
      throw new ReceiptAssemblyError(
        `${file} has ${reader.size} bytes, artifact.json says ${jsonlBytes}; the artifact is damaged`,
      );
    }
    return {
      ...(tree !== undefined ? { tree } : {}),
      ...(sum !== undefined ? { sum } : {}),
      offsets,
      reader,
      file,
      // A v2 tree holds ≈ 8 nodes of 32 + lanes bytes per leaf besides the keys, and the
      // key-sorted index of person proofs 4 bytes per record once it is built.
      bytes:
        (tree !== undefined
          ? tree.nodes.length + 4 * tree.length
          : batch.recordCount * (32 + 4 + 2 * (64 + 16 * 6))) + offsets.byteLength,
    };
  }

  async function get(batch: AnchoredBatchFacts): Promise<Loaded> {
    const cached = cache.get(batch.batchId);
    if (cached !== undefined) {
      cache.delete(batch.batchId);
      cache.set(batch.batchId, cached);
      const loaded = sizes.get(batch.batchId);
      if (loaded !== undefined) {
        sizes.delete(batch.batchId);
        sizes.set(batch.batchId, loaded);
      }
      return cached;
    }
    const loading = load(batch);
    cache.set(batch.batchId, loading);
    try {
      const loaded = await loading;
      if (closed || cache.get(batch.batchId) !== loading) {
        release(loaded);
        throw new ReceiptAssemblyError("the ledger store was closed", { code: "store.closed" });
      }
      sizes.set(batch.batchId, loaded);
      evict();
      return loaded;
    } catch (error) {
      if (cache.get(batch.batchId) === loading) cache.delete(batch.batchId);
      throw error;
    }
  }

  return {
    async assemble(batch, index, code) {
      if (closed)
        throw new ReceiptAssemblyError("the ledger store was closed", { code: "store.closed" });
      if (!Number.isSafeInteger(index) || index < 0 || index >= batch.recordCount) {
        throw new ReceiptAssemblyError(`batch ${batch.batchId} has no leaf ${index}`);
      }
      const loaded = await get(batch);
      const where = `batch ${batch.batchId}, leaf ${index}`;
      const line = readLine(loaded, index, where);
      if (line.index !== index || (code !== undefined && line.code !== code)) {
        throw new ReceiptAssemblyError(
          `${loaded.file}: the record of ${where} is not the one its index points at`,
        );
      }
      const record = recordFromJson(line.record);
      if (record === undefined) {
        throw new ReceiptAssemblyError(`${loaded.file}: the record of ${where} is damaged`);
      }
      if (loaded.sum !== undefined)
        return assembleV2(batch, loaded.sum, index, line, record, where);
      const values = leafValues(record, { salt: line.salt as Hex, subject: line.subject as Hex });
      try {
        // Checks the leaf hash against the tree and the proof against the (anchored) root.
        return buildReceipt({
          chainId: batch.chainId,
          contract: batch.contract,
          batchId: batch.batchId,
          tree: loaded.tree!,
          index,
          record,
          values,
          code: line.code,
          anchor: { txHash: batch.txHash, blockNumber: batch.blockNumber },
        });
      } catch (error) {
        throw new ReceiptAssemblyError(
          `the receipt of ${where} does not verify against the anchored root; the artifact is damaged`,
          { cause: error },
        );
      }
    },

    async personBatch(batch, key) {
      if (closed)
        throw new ReceiptAssemblyError("the ledger store was closed", { code: "store.closed" });
      const loaded = await get(batch);
      const sum = loaded.sum;
      if (sum === undefined) return undefined;
      const where = `batch ${batch.batchId}`;
      if (sum.tree.root.toLowerCase() !== batch.root.toLowerCase())
        throw new ReceiptAssemblyError(
          `the tree of ${where} does not have the anchored root; the artifact is damaged`,
        );
      sum.byKey ??= sortedByKey(sum.keys, batch.recordCount);
      const byCommitment = new Map<string, { record: ReceiptRecord; salt: Hex }>();
      for (const index of linesOfKey(sum.keys, sum.byKey, key)) {
        const line = readLine(loaded, index, `${where}, leaf ${index}`);
        const record = line.index === index ? recordFromJson(line.record) : undefined;
        if (record === undefined)
          throw new ReceiptAssemblyError(
            `${loaded.file}: the record of ${where}, leaf ${index} is damaged`,
          );
        const salt = hexToBytes(line.salt);
        byCommitment.set(bytesToHex(sumTreeRecordFields(record, salt).commitment), {
          record: recordToJson(record),
          salt: bytesToHex(salt),
        });
      }
      const proof = sum.tree.personProof(key, batch.batchId);
      const keyHex = bytesToHex(key);
      const records: PersonBatchMaterial["records"] = [];
      for (const w of proof.windows)
        for (const leaf of w.leaves) {
          if (leaf.key !== keyHex) continue;
          const r = byCommitment.get(leaf.commitment);
          if (r === undefined)
            throw new ReceiptAssemblyError(
              `a leaf of ${where} has no record in records.jsonl; the artifact is damaged`,
            );
          records.push(r);
        }
      if (records.length !== byCommitment.size)
        throw new ReceiptAssemblyError(
          `a record of ${where} has no leaf in its tree; the artifact is damaged`,
        );
      return {
        chainId: batch.chainId,
        contract: batch.contract.toLowerCase() as Hex,
        proof,
        records,
      };
    },

    close() {
      closed = true;
      for (const loaded of sizes.values()) release(loaded);
      sizes.clear();
      cache.clear();
    },
  };
}

/** The `shafaf-receipt/2` of line `index`: its leaf is the one of its key with its commitment. */
function assembleV2(
  batch: AnchoredBatchFacts,
  sum: { tree: SumTree; keys: Uint8Array },
  index: number,
  line: ArtifactRecordLine,
  record: NonNullable<ReturnType<typeof recordFromJson>>,
  where: string,
): ReceiptV2 {
  try {
    if (sum.tree.root.toLowerCase() !== batch.root.toLowerCase())
      throw new RangeError("the tree's root is not the anchored root");
    const salt = hexToBytes(line.salt);
    const key = sum.keys.subarray(index * 32, index * 32 + 32);
    const commitment = bytesToHex(sumTreeRecordFields(record, salt).commitment);
    const leaf = sum.tree
      .indicesOf(key)
      .find((i) => bytesToHex(sum.tree.leaf(i).commitment) === commitment);
    if (leaf === undefined) throw new RangeError("no leaf of the record's key opens to it");
    return buildReceiptV2({
      chainId: batch.chainId,
      contract: batch.contract,
      batchId: batch.batchId,
      code: line.code,
      tree: sum.tree,
      index: leaf,
      record,
      salt,
    });
  } catch (error) {
    throw new ReceiptAssemblyError(
      `the receipt of ${where} does not verify against the anchored root; the artifact is damaged`,
      { cause: error },
    );
  }
}

/** Line `index` of the batch's `records.jsonl`, read by its offset. */
function readLine(loaded: Loaded, index: number, where: string): ArtifactRecordLine {
  const start = loaded.offsets[index]!;
  const length = loaded.offsets[index + 1]! - start;
  try {
    const buffer = loaded.reader.read(start, length);
    return JSON.parse(buffer.toString("utf8")) as ArtifactRecordLine;
  } catch (error) {
    throw new ReceiptAssemblyError(`${loaded.file}: the record of ${where} is unreadable`, {
      cause: error,
    });
  }
}

/** No data key, or another one: the operator's fix (give the key), not a damaged artifact. */
const isMissingKey = (error: unknown): boolean =>
  error instanceof PrivateFileError &&
  (error.failure === "no-key" || error.failure === "wrong-key");

/** Compares key i of `keys` with `key` (32 bytes each). */
function compareKey(keys: Uint8Array, i: number, key: Uint8Array): number {
  const at = i * 32;
  for (let j = 0; j < 32; j++) {
    const d = keys[at + j]! - key[j]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Line indices 0…n−1 sorted by their person key (once per cached batch). */
function sortedByKey(keys: Uint8Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => compareKey(keys, a, keys.subarray(b * 32, b * 32 + 32)) || a - b);
}

/** The line indices whose person key is `key`: a binary search in the sorted index. */
function linesOfKey(keys: Uint8Array, byKey: Uint32Array, key: Uint8Array): number[] {
  let lo = 0;
  let hi = byKey.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKey(keys, byKey[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let i = lo; i < byKey.length && compareKey(keys, byKey[i]!, key) === 0; i++)
    out.push(byKey[i]!);
  return out;
}
