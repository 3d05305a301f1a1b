/**
 * Read, the reference side: the organization's anchored batch artifact. `shafaf-batch/1`: its
 * tree.bin gives the anchored leaves; its records.jsonl explains them only when every line hashes
 * to the anchored leaf at its index (otherwise the records are "unavailable", and the report says
 * why). `shafaf-batch/2` has no tree file: the tree is recomputed from records.jsonl, the salts
 * and keys.bin (`recompute-sum-tree.ts`), and a leaf is named by keccak256(k_b ‖ commitment); the
 * records explain the anchored leaves when that tree has the anchored root (`compareReference`).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import { bytesToHex, isHexBytes, type Hex } from "../core/hex.ts";
import { leafHashes, leafValues, type LeafValues } from "../core/leaf.ts";
import type { Manifest } from "../core/manifest.ts";
import { loadMerkleTree, type MerkleTree } from "../core/merkle-tree.ts";
import { recordFromJson } from "../core/receipt.ts";
import type { SumTree } from "../core/build-sum-tree.ts";
import { recomputeSumTree } from "./recompute-sum-tree.ts";
import type { ArtifactRecordLine, BatchArtifactDescriptor } from "../store/batch-artifact.ts";
import type { DataKey } from "../store/private-store.ts";
import {
  parseManifest,
  readArtifactLoose,
  sha256hex,
  type LooseArtifact,
} from "./read-artifact-loose.ts";

/** A reference record line whose leaf is the anchored leaf at `index`. */
export interface ReferenceLine {
  index: number;
  salt: string;
  subject: string;
  /** `shafaf-tree/2`: the record's person key k_b (0x-hex). */
  key?: string;
  record: Record<string, string | number>;
}

/**
 * The anchored leaves as record-level evidence needs them: v1 a `MerkleTree`; v2 the recomputed
 * sum tree's root with the leaf identities keccak256(k_b ‖ commitment) in line order. `root` is
 * null when no tree could be recomputed (v2 records or keys unreadable).
 */
export interface ReferenceTree {
  readonly root: string | null;
  readonly length: number;
  leafHash(i: number): string;
}

export interface Reference {
  descriptor: BatchArtifactDescriptor;
  manifest: Manifest | undefined;
  manifestBytes: Uint8Array;
  tree: ReferenceTree;
  /** `shafaf-tree/2`: the recomputed sum tree (undefined when it could not be built). */
  sumTree?: SumTree | undefined;
  /** `shafaf-tree/2`: sha256 of keys.bin. */
  keysSha?: string;
  /** By record id; undefined when the records are unavailable (`detail` says why). */
  lines: Map<string, ReferenceLine> | undefined;
  byIndex: ReferenceLine[] | undefined;
  detail: string;
  /** sha256 of records.jsonl, and its lines' leaf hashes when every line opens its anchored leaf. */
  recordsSha: string;
  leafHashes: Uint8Array | undefined;
}

/**
 * @example
 * const reference = await readReference(".shafaf/batches/<jobId>");
 * if (reference.lines === undefined) console.log(reference.detail);
 */
export async function readReference(dir: string, dataKey?: DataKey): Promise<Reference> {
  const loose = await readArtifactLoose(dir, dataKey);
  if (loose.keysBytes !== undefined) return readReferenceV2(loose, loose.keysBytes);
  const tree = await readReferenceTree(dir);
  const opened =
    loose.problems.length > 0
      ? { detail: `records unavailable: ${loose.problems.join("; ")}` }
      : loose.lines.length !== tree.length
        ? {
            detail: `records unavailable: records.jsonl has ${loose.lines.length} lines, the tree ${tree.length} leaves`,
          }
        : openReferenceRecords(loose.lines, tree);
  return {
    descriptor: loose.descriptor,
    manifest: parseManifest(loose.manifestBytes),
    manifestBytes: loose.manifestBytes,
    tree,
    lines: opened.byIndex && new Map(opened.byIndex.map((l) => [String(l.record.recordId), l])),
    byIndex: opened.byIndex,
    detail: opened.detail,
    recordsSha: sha256hex(loose.recordsBytes),
    leafHashes: opened.hashes,
  };
}

/** A `shafaf-batch/1` reference's tree.bin, every node rehashed. */
export async function readReferenceTree(dir: string): Promise<MerkleTree> {
  try {
    return loadMerkleTree(new Uint8Array(await readFile(path.join(dir, "tree.bin"))), {
      full: true,
    });
  } catch (error) {
    throw new InvalidInputError(`${path.join(dir, "tree.bin")}: the anchored tree cannot be read`, {
      details: `${(error as Error).message}; restore the artifact from a backup`,
      code: "audit.reference.tree",
    });
  }
}

/** A `shafaf-batch/2` reference: the tree recomputed from its records, salts and keys. */
function readReferenceV2(loose: LooseArtifact, keysBytes: Uint8Array): Reference {
  const base = {
    descriptor: loose.descriptor,
    manifest: parseManifest(loose.manifestBytes),
    manifestBytes: loose.manifestBytes,
    recordsSha: sha256hex(loose.recordsBytes),
    keysSha: sha256hex(keysBytes),
    leafHashes: undefined,
  };
  const unavailable = (detail: string): Reference => ({
    ...base,
    tree: { root: null, length: 0, leafHash: () => "" },
    lines: undefined,
    byIndex: undefined,
    detail: `records unavailable: ${detail}`,
  });
  if (loose.problems.length > 0) return unavailable(loose.problems.join("; "));
  if (keysBytes.length !== loose.lines.length * 32)
    return unavailable(
      `keys.bin holds ${keysBytes.length / 32} keys, records.jsonl ${loose.lines.length} lines`,
    );
  const parsed: ReferenceLine[] = [];
  const rows = [];
  for (const [i, line] of loose.lines.entries()) {
    const record = recordFromJson(line.record);
    if (
      record === undefined ||
      line.index !== i ||
      !isHexBytes(line.salt, 32) ||
      !isHexBytes(line.subject, 32)
    )
      return unavailable(`line ${i + 1} is not a record line`);
    const key = keysBytes.subarray(i * 32, i * 32 + 32);
    rows.push({ record, salt: line.salt.toLowerCase() as Hex, key });
    parsed.push({
      index: i,
      salt: line.salt.toLowerCase(),
      subject: line.subject.toLowerCase(),
      key: bytesToHex(key),
      record: line.record,
    });
  }
  const sum = recomputeSumTree(loose.descriptor.kind, rows);
  if (sum.tree === undefined) return unavailable(sum.problem ?? "no tree");
  return {
    ...base,
    tree: { root: sum.tree.root.toLowerCase(), length: parsed.length, leafHash: sum.leafId },
    sumTree: sum.tree,
    leafHashes: sum.leafIds,
    lines: new Map(parsed.map((l) => [String(l.record.recordId), l])),
    byIndex: parsed,
    detail: "records.jsonl and keys.bin give the tree",
  };
}

/** The lines, when each one is a record line that hashes to the anchored leaf at its index. */
export function openReferenceRecords(
  lines: readonly ArtifactRecordLine[],
  tree: MerkleTree,
): { detail: string; byIndex?: ReferenceLine[]; hashes?: Uint8Array } {
  const values: LeafValues[] = [];
  const parsed: ReferenceLine[] = [];
  for (const [i, line] of lines.entries()) {
    const r = recordFromJson(line.record);
    if (
      r === undefined ||
      line.index !== i ||
      !isHexBytes(line.salt, 32) ||
      !isHexBytes(line.subject, 32)
    )
      return { detail: `records unavailable: line ${i + 1} is not a record line` };
    values.push(leafValues(r, { salt: line.salt, subject: line.subject }));
    parsed.push({
      index: i,
      salt: line.salt.toLowerCase(),
      subject: line.subject.toLowerCase(),
      record: line.record,
    });
  }
  const hashes = leafHashes(values);
  for (let i = 0; i < parsed.length; i++) {
    if (bytesToHex(hashes.subarray(i * 32, i * 32 + 32)) !== tree.leafHash(i))
      return {
        detail: `records unavailable: line ${i + 1} does not hash to the anchored leaf at index ${i}`,
      };
  }
  return { detail: "records.jsonl opens every anchored leaf", byIndex: parsed, hashes };
}
