/**
 * Receipts on demand: a receipt is not stored, it is assembled when asked for from the batch
 * artifact — the record's line of `records.jsonl` (read by offset through `records.idx`), the
 * tree (`tree.bin`) for the proof — and the anchored batch's facts (chain, contract, batch id,
 * transaction). Every receipt is checked before it is returned (core `buildReceipt`: the record's
 * leaf hash MUST be the tree's leaf at its index and the proof MUST lead to the root), and the
 * tree's root MUST be the anchored root of the batch.
 *
 * A `shafaf-batch/2` artifact (a `shafaf-tree/2` batch) has no tree file: its receipts and person
 * proofs are assembled from the batch's tiles (`batch-tiles.ts`, docs/spec/batch-tiles-v1.md,
 * written from the artifact once if the batch has none) and the records as the leaves'
 * openings (`tiled-batch.ts`), and the receipt is a `shafaf-receipt/2` (core `buildReceiptV2`,
 * verified before it is returned). No whole tree is recomputed or held.
 *
 * Loaded trees and offsets are kept in a small LRU bounded in bytes (a 1,000,000-leaf tree is
 * 68 MB, its offsets 8 MB): a lookup in a warm batch is one `pread` and one proof.
 */
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
import { readBatchArtifact, type ArtifactRecordLine } from "./batch-artifact.ts";
import { PrivateFileError, type DataKey } from "./private-store.ts";
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import { buildReceiptV2, type ReceiptV2 } from "../core/receipt-v2.ts";
import { sumTreeProofRulesBreak } from "../core/verify-sum-tree-proof.ts";
import { sumTreeRecordFields } from "../core/sum-tree-record.ts";
import {
  openRecordLines,
  openTiledBatch,
  type RecordLines,
  type TiledBatch,
} from "./tiled-batch.ts";

/**
 * Receipts assembled here from a batch's verified tile windows, and the anchored root each was
 * proven against by construction (see DESIGN.md "Lookups from verified windows"): every node of
 * its proof was read from a window whose fold was checked, up a chain of verified windows, against
 * a province root of that batch root; its leaf hashes to a verified level-0 entry; its record and
 * salt open the leaf. Keyed by the object handed out: a receipt from anywhere else (stored whole,
 * parsed from a request, copied) is not in it.
 */
const provenRoots = new WeakMap<object, string>();

/**
 * The anchored root a receipt object returned by this assembler was proven against by
 * construction, or undefined for any other object (the caller then verifies it in full).
 */
export function receiptProvenRoot(receipt: object): string | undefined {
  return provenRoots.get(receipt);
}

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
  assemble(
    batch: AnchoredBatchFacts,
    index: number,
    code?: string,
    options?: { verify?: boolean },
  ): Promise<Receipt | ReceiptV2>;
  /**
   * A person's material in a `shafaf-tree/2` batch for their batch key `key` (k_b): the range or
   * absence proof and their records opened (record and salt) in the proof's leaf order, i.e. a
   * `shafaf-person-proof/1` without `personId` and `vrf`. `undefined` for a v1 batch. From the
   * batch's tiles: a binary search of each province's leaf keys (`pread`s of the private leaf
   * index), the windows' tiles, and a `pread` per leaf opened.
   */
  personBatch(batch: AnchoredBatchFacts, key: Uint8Array): Promise<PersonBatchMaterial | undefined>;
  /** What the lookups cost so far, by path taken (counters since the assembler was created). */
  stats(): AssemblerStats;
  /** Releases the cached trees and file descriptors. */
  close(): void;
}

/**
 * Counters of an assembler's work. The fast path of a lookup opens a batch once (its line offsets
 * from `records.idx`, its tiles as stored) and then answers from it; `lineScans` and
 * `tileRebuilds` count the batches opened the slow way (an artifact without `records.idx`, a v2
 * batch without tiles), which a published data directory never needs.
 */
export interface AssemblerStats {
  /** Batches opened (loaded into the cache; again after an eviction). */
  batchesOpened: number;
  /** Batches whose line offsets were found by scanning `records.jsonl`. */
  lineScans: number;
  /** v2 batches whose tiles were written from the artifact as they were opened. */
  tileRebuilds: number;
  /** Receipts assembled. */
  receipts: number;
  /** Person proofs assembled. */
  personProofs: number;
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
  /** v1: the Merkle tree; v2: the tree answered from the batch's tiles. */
  tree?: MerkleTree;
  sum?: TiledBatch;
  lines: RecordLines;
  file: string;
  bytes: number;
}

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
  const counts: AssemblerStats = {
    batchesOpened: 0,
    lineScans: 0,
    tileRebuilds: 0,
    receipts: 0,
    personProofs: 0,
  };

  const release = (loaded: Loaded): void => {
    loaded.lines.close();
    loaded.sum?.close();
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
    let lines: RecordLines;
    try {
      lines = await openRecordLines(artifact);
    } catch (error) {
      // No data key, or another one: the operator's fix (give the key), not a damaged artifact.
      if (isMissingKey(error)) throw error;
      throw new ReceiptAssemblyError((error as Error).message, { cause: error });
    }
    let tree: MerkleTree | undefined;
    let sum: TiledBatch | undefined;
    try {
      if (artifact.keys !== undefined) sum = await openTiledBatch(artifact, lines);
      else tree = loadMerkleTree(artifact.tree, { expectedRoot: batch.root });
    } catch (error) {
      lines.close();
      if (isMissingKey(error)) throw error;
      throw new ReceiptAssemblyError(
        `${dir}/${artifact.keys === undefined ? "tree.bin" : "tiles"}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    counts.batchesOpened++;
    if (lines.scanned) counts.lineScans++;
    if (sum?.rebuilt === true) counts.tileRebuilds++;
    return {
      ...(tree !== undefined ? { tree } : {}),
      ...(sum !== undefined ? { sum } : {}),
      lines,
      file: lines.file,
      // A v2 batch holds its line offsets, at most 32 MiB of folded tile windows (core's cache)
      // and 8 MiB of leaf-index blocks (the tiles reader's), whatever its size; a v1 batch its
      // whole tree.
      bytes:
        (tree !== undefined ? tree.nodes.length + 4 * tree.length : 40 * 2 ** 20) + lines.bytes,
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
    async assemble(batch, index, code, options = {}) {
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
      counts.receipts++;
      if (loaded.sum !== undefined)
        return assembleV2(batch, loaded.sum, index, line, record, where, options.verify ?? true);
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
      try {
        if (sum.tree.root.toLowerCase() !== batch.root.toLowerCase())
          throw new RangeError("the tree's root is not the anchored root");
        // Proven by construction against the anchored root (DESIGN.md "Lookups from verified
        // windows": every node from a window verified as it was folded, every leaf against its
        // verified entry); what a fold does not show — order, the range rule around the key,
        // one window per province, the claim — is checked before it leaves.
        const proof = sum.tree.personProof(key, batch.batchId);
        const broken = sumTreeProofRulesBreak(proof);
        if (broken !== undefined || proof.root.hash !== batch.root.toLowerCase())
          throw new RangeError(`the proof from the tiles breaks: ${broken ?? "its root"}`);
        const keyHex = bytesToHex(key);
        const records: PersonBatchMaterial["records"] = [];
        for (const w of proof.windows)
          w.leaves.forEach((leaf, k) => {
            if (leaf.key !== keyHex) return;
            const line = loaded.lines.line(sum.tiles.leafLine(w.batchIndex + k));
            const record = recordFromJson(line.record);
            if (record === undefined) throw new RangeError(`line ${line.index + 1} is damaged`);
            // The leaf's commitment was computed from this line's JSON and checked against its
            // tile; the opening handed out is the typed record, which MUST commit to it too.
            const fields = sumTreeRecordFields(record, hexToBytes(line.salt));
            if (bytesToHex(fields.commitment) !== leaf.commitment)
              throw new RangeError(`line ${line.index + 1} does not open its leaf`);
            records.push({ record: recordToJson(record), salt: line.salt as Hex });
          });
        counts.personProofs++;
        return {
          chainId: batch.chainId,
          contract: batch.contract.toLowerCase() as Hex,
          proof,
          records,
        };
      } catch (error) {
        throw new ReceiptAssemblyError(
          `the person proof of ${where} cannot be assembled from its tiles; the artifact is damaged`,
          { cause: error },
        );
      }
    },

    stats: () => ({ ...counts }),

    close() {
      closed = true;
      for (const loaded of sizes.values()) release(loaded);
      sizes.clear();
      cache.clear();
    },
  };
}

/** The `shafaf-receipt/2` of line `index`: its leaf from the tiles' line index, opened by the line. */
function assembleV2(
  batch: AnchoredBatchFacts,
  sum: TiledBatch,
  index: number,
  line: ArtifactRecordLine,
  record: NonNullable<ReturnType<typeof recordFromJson>>,
  where: string,
  verify: boolean,
): ReceiptV2 {
  try {
    if (sum.tree.root.toLowerCase() !== batch.root.toLowerCase())
      throw new RangeError("the tree's root is not the anchored root");
    const leaf = sum.tiles.lineLeaf(index);
    if (sum.tiles.leafLine(leaf) !== index)
      throw new RangeError("the tiles' leaf index does not point back at the line");
    const receipt = buildReceiptV2({
      chainId: batch.chainId,
      contract: batch.contract,
      batchId: batch.batchId,
      code: line.code,
      tree: sum.tree,
      index: leaf,
      record,
      salt: hexToBytes(line.salt),
      verify,
    });
    // The tree's windows are verified as they are folded (openTiledBatch): its proofs lead to
    // its root, which is the anchored one (checked above).
    provenRoots.set(receipt, batch.root.toLowerCase());
    return receipt;
  } catch (error) {
    throw new ReceiptAssemblyError(
      `the receipt of ${where} does not verify against the anchored root; the artifact is damaged`,
      { cause: error, code: "store.receipt.unverified" },
    );
  }
}

/** Line `index` of the batch's `records.jsonl`, read by its offset. */
function readLine(loaded: Loaded, index: number, where: string): ArtifactRecordLine {
  try {
    return loaded.lines.line(index);
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
