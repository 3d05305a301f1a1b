/**
 * Read, the reference side: the organization's anchored batch artifact. Its tree.bin gives the
 * anchored leaves; its records.jsonl explains them only when every line hashes to the anchored
 * leaf at its index (otherwise the records are "unavailable", and the report says why).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import { bytesToHex, isHexBytes } from "../core/hex.ts";
import { leafHashes, leafValues, type LeafValues } from "../core/leaf.ts";
import type { Manifest } from "../core/manifest.ts";
import { loadMerkleTree, type MerkleTree } from "../core/merkle-tree.ts";
import { recordFromJson } from "../core/receipt.ts";
import type { ArtifactRecordLine, BatchArtifactDescriptor } from "../store/batch-artifact.ts";
import { parseManifest, readArtifactLoose, sha256hex } from "./read-artifact-loose.ts";

/** A reference record line whose leaf is the anchored leaf at `index`. */
export interface ReferenceLine {
  index: number;
  salt: string;
  subject: string;
  record: Record<string, string | number>;
}

export interface Reference {
  descriptor: BatchArtifactDescriptor;
  manifest: Manifest | undefined;
  manifestBytes: Uint8Array;
  tree: MerkleTree;
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
export async function readReference(dir: string): Promise<Reference> {
  const loose = await readArtifactLoose(dir);
  let tree: MerkleTree;
  try {
    tree = loadMerkleTree(new Uint8Array(await readFile(path.join(dir, "tree.bin"))), {
      full: true,
    });
  } catch (error) {
    throw new InvalidInputError(`${path.join(dir, "tree.bin")}: the anchored tree cannot be read`, {
      details: `${(error as Error).message}; restore the artifact from a backup`,
      code: "audit.reference.tree",
    });
  }
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
