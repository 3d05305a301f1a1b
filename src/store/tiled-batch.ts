/**
 * An anchored batch's records read by line (records.idx, one `pread` each) and, for a
 * `shafaf-tree/2` batch, its tree answered from its tiles (batch-tiles-v1.md) with the records as
 * the leaves' openings: what receipts and person proofs are assembled from, in time and memory
 * that do not grow with the batch (besides the 8-byte line offsets).
 */
import { createHash } from "node:crypto";
import path from "node:path";
import type { SumTree } from "../core/build-sum-tree.ts";
import { hexToBytes } from "../core/hex.ts";
import { createTileSumTree } from "../core/sum-tiles.ts";
import { recordJsonCommitment } from "../core/sum-tree-record.ts";
import {
  artifactFileRole,
  artifactSealing,
  BatchArtifactError,
  type ArtifactRecordLine,
  type BatchArtifact,
} from "./batch-artifact.ts";
import { openPrivateFileReader, PrivateFileError, readPrivateFile } from "./private-store.ts";
import {
  ensureBatchTiles,
  openBatchTiles,
  readBatchTilesDescriptor,
  tileSealing,
  tiledProvinces,
  type BatchTilesReader,
} from "./batch-tiles.ts";
import { decodeRecordOffsets, scanRecordOffsets } from "./record-offsets.ts";

/** The lines of an artifact's `records.jsonl`, read by index. */
export interface RecordLines {
  readonly file: string;
  /** Bytes held (the offsets). */
  readonly bytes: number;
  /**
   * True when the line offsets were found by scanning `records.jsonl` (an artifact without
   * `records.idx`): the slow path, O(records) once per opening.
   */
  readonly scanned: boolean;
  /**
   * Line `index`, parsed; throws BatchArtifactError when it cannot be read. The last
   * {@link RECENT_LINES} lines are kept (a receipt reads its line, then its leaf's commitment
   * from it): treat the object as read-only.
   */
  line(index: number): ArtifactRecordLine;
  close(): void;
}

/** Parsed lines kept by a {@link RecordLines} (immutable; constant memory). */
export const RECENT_LINES = 8;

const sha256hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/**
 * @throws {BatchArtifactError} when records.idx is damaged (or records.jsonl, when it is scanned).
 * @example
 * const lines = await openRecordLines(artifact); lines.line(41).code;
 */
export async function openRecordLines(artifact: BatchArtifact): Promise<RecordLines> {
  const { dir, descriptor: d } = artifact;
  const file = path.join(dir, "records.jsonl");
  const jsonlBytes = d.files["records.jsonl"].bytes;
  const sealed = artifactSealing(dir, d);
  let offsets: Float64Array;
  const idx = d.files["records.idx"];
  try {
    if (idx === undefined) {
      offsets = await scanRecordOffsets(file, d.recordCount);
      if (offsets[d.recordCount] !== jsonlBytes) throw new RangeError("length differs");
    } else {
      const bytes = await readPrivateFile(
        path.join(dir, "records.idx"),
        artifactFileRole(d.jobId, "records.idx"),
        artifact.dataKey,
        { allowPlain: !sealed.has("records.idx") },
      );
      if (sha256hex(bytes) !== idx.sha256)
        throw new RangeError("sha256 differs from artifact.json");
      offsets = decodeRecordOffsets(bytes, d.recordCount, jsonlBytes);
    }
  } catch (error) {
    // A sealed file's failures keep their names (no-key, wrong-key, role, tampered, …).
    if (error instanceof PrivateFileError) throw error;
    throw new BatchArtifactError(
      `${dir}: cannot locate the records (${(error as Error).message}); the artifact is damaged`,
      { cause: error },
    );
  }
  const reader = openPrivateFileReader(
    file,
    artifactFileRole(d.jobId, "records.jsonl"),
    artifact.dataKey,
    { allowPlain: !sealed.has("records.jsonl") },
  );
  if (reader.size !== jsonlBytes) {
    reader.close();
    throw new BatchArtifactError(
      `${file} has ${reader.size} bytes, artifact.json says ${jsonlBytes}; the artifact is damaged`,
    );
  }
  const recent = new Map<number, ArtifactRecordLine>();
  return {
    file,
    bytes: offsets.byteLength,
    scanned: idx === undefined,
    line(index) {
      if (!Number.isInteger(index) || index < 0 || index >= d.recordCount)
        throw new BatchArtifactError(`${file} has no line ${index}`);
      const hit = recent.get(index);
      if (hit !== undefined) return hit;
      const start = offsets[index]!;
      const length = offsets[index + 1]! - start;
      try {
        const line = JSON.parse(reader.read(start, length).toString("utf8")) as ArtifactRecordLine;
        if (line.index !== index) throw new RangeError(`it says index ${line.index}`);
        recent.set(index, line);
        if (recent.size > RECENT_LINES) recent.delete(recent.keys().next().value!);
        return line;
      } catch (error) {
        if (error instanceof PrivateFileError) throw error;
        throw new BatchArtifactError(`${file}: line ${index + 1} is unreadable`, { cause: error });
      }
    },
    close() {
      try {
        reader.close();
      } catch {
        // already closed
      }
    },
  };
}

/** A v2 batch's tree from its tiles, the records as its openings. */
export interface TiledBatch {
  tree: SumTree;
  tiles: BatchTilesReader;
  /** True when the batch had no tiles and they were written from its artifact as it was opened. */
  rebuilt: boolean;
  close(): void;
}

/**
 * Opens the tiles of a `shafaf-batch/2` artifact, writing them first from the artifact when it has
 * none (once: a batch anchored before tiles existed). The tree's root is checked against the
 * artifact's root; each leaf handed out is checked against its tile entry (core).
 *
 * @throws {BatchArtifactError} when the artifact is not a v2 one or its tiles do not fit it.
 * @example
 * const { tree } = await openTiledBatch(artifact, lines); tree.inclusionProof(leaf, batchId);
 */
export async function openTiledBatch(
  artifact: BatchArtifact,
  lines: RecordLines,
): Promise<TiledBatch> {
  if (artifact.keys === undefined)
    throw new BatchArtifactError(`${artifact.dir} is not a shafaf-batch/2 artifact`);
  const rebuilt = (await readBatchTilesDescriptor(artifact.dir)) === undefined;
  const d = await ensureBatchTiles(artifact);
  if (d.root.toLowerCase() !== artifact.descriptor.root.toLowerCase())
    throw new BatchArtifactError(
      `${artifact.dir}/tiles/tiles.json names root ${d.root}, the artifact ${artifact.descriptor.root}; remove the tiles folder to rebuild it`,
    );
  const tiles = openBatchTiles(artifact.dir, d, tileSealing(artifact));
  const tree = createTileSumTree({
    kind: d.kind,
    provinces: tiledProvinces(d),
    readTile: (p, level, index, width) => tiles.readTile(p, level, index, width),
    leafKey: (i) => tiles.leafKey(i),
    leafKeyRun: (from, count) => ({ bytes: tiles.leafRun(from, count), stride: 36 }),
    // From the line's JSON record as it is, not typed: core checks the commitment against the
    // leaf's verified tile entry (a damaged line does not hash to it), and whoever hands out a
    // record as an opening types it and checks its commitment again (receipt-assembler.ts).
    leafCommitment: (i) => {
      const line = lines.line(tiles.leafLine(i));
      const record = line.record as unknown;
      if (
        typeof record !== "object" ||
        record === null ||
        Array.isArray(record) ||
        typeof line.salt !== "string" ||
        !/^0x[0-9a-f]{64}$/.test(line.salt)
      )
        throw new BatchArtifactError(
          `${lines.file}: the record or salt of line ${line.index + 1} is damaged`,
        );
      return recordJsonCommitment(record as Record<string, unknown>, hexToBytes(line.salt));
    },
  });
  if (tree.root.toLowerCase() !== artifact.descriptor.root.toLowerCase()) {
    tiles.close();
    throw new BatchArtifactError(
      `${artifact.dir}/tiles: the provinces of tiles.json give root ${tree.root}, the artifact ${artifact.descriptor.root}`,
    );
  }
  return { tree, tiles, rebuilt, close: () => tiles.close() };
}
