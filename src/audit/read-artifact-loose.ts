/**
 * A batch artifact read as evidence: integrity problems (a file whose sha256 is not the one its
 * descriptor recorded) become findings, not exceptions. Only an unreadable descriptor, an
 * unknown format or a line that is not JSON stops the audit. Reads `shafaf-batch/1` and
 * `shafaf-batch/2` (whose `keys.bin` is read and checked too).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import type { Manifest } from "../core/manifest.ts";
import {
  BATCH_ARTIFACT_FORMAT,
  BATCH_ARTIFACT_V2_FORMAT,
  readArtifactFile,
  type ArtifactRecordLine,
  type BatchArtifactDescriptor,
} from "../store/batch-artifact.ts";
import type { DataKey } from "../store/private-store.ts";

export const sha256hex = (b: Uint8Array): string => createHash("sha256").update(b).digest("hex");

export interface LooseArtifact {
  descriptor: BatchArtifactDescriptor;
  manifestBytes: Uint8Array;
  recordsBytes: Uint8Array;
  lines: ArtifactRecordLine[];
  /** `shafaf-batch/2`: keys.bin (k_b of line i at i·32); undefined for `shafaf-batch/1`. */
  keysBytes?: Uint8Array;
  /** What does not match the descriptor's sha256s; empty when all does. */
  problems: string[];
}

/** The manifest bytes as JSON, or undefined when they are not JSON. */
export function parseManifest(bytes: Uint8Array): Manifest | undefined {
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as Manifest;
  } catch {
    return undefined;
  }
}

/**
 * @example
 * const { descriptor, lines, problems } = await readArtifactLoose(".shafaf/batches/<jobId>");
 */
export async function readArtifactLoose(
  dir: string,
  /** Opens the files artifact.json says are sealed, in memory: nothing plain is written. */
  dataKey?: DataKey,
): Promise<LooseArtifact> {
  const where = (f: string) => path.join(dir, f);
  let descriptor: BatchArtifactDescriptor;
  try {
    descriptor = JSON.parse(
      await readFile(where("artifact.json"), "utf8"),
    ) as BatchArtifactDescriptor;
  } catch (error) {
    throw new InvalidInputError(`${where("artifact.json")}: not a readable batch artifact`, {
      details: `give a batch artifact directory (batches/<jobId>/ under the data directory) holding artifact.json (${(error as Error).message})`,
      code: "audit.artifact",
    });
  }
  const format = descriptor.format as string;
  const v2 = format === BATCH_ARTIFACT_V2_FORMAT;
  if (
    (format !== BATCH_ARTIFACT_FORMAT && !v2) ||
    (v2 && (descriptor.scheme as string | undefined) !== "shafaf-tree/2")
  ) {
    throw new InvalidInputError(
      `${where("artifact.json")}: format ${String(descriptor.format)}${v2 ? ` with scheme ${String(descriptor.scheme)}` : ""}, this version reads ${BATCH_ARTIFACT_FORMAT} and ${BATCH_ARTIFACT_V2_FORMAT} (scheme shafaf-tree/2)`,
      { code: "audit.artifact.format" },
    );
  }
  const manifestBytes = new Uint8Array(await readFile(where("manifest.json")));
  const recordsBytes = await readArtifactFile(dir, descriptor, "records.jsonl", dataKey);
  const problems: string[] = [];
  if (sha256hex(recordsBytes) !== descriptor.files["records.jsonl"].sha256)
    problems.push("records.jsonl does not match the sha256 in artifact.json");
  if (sha256hex(manifestBytes) !== descriptor.files["manifest.json"].sha256)
    problems.push("manifest.json does not match the sha256 in artifact.json");
  let keysBytes: Uint8Array | undefined;
  if (v2) {
    try {
      keysBytes = await readArtifactFile(dir, descriptor, "keys.bin", dataKey);
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw error;
      throw new InvalidInputError(`${where("keys.bin")}: cannot be read`, {
        details: `a ${BATCH_ARTIFACT_V2_FORMAT} artifact holds keys.bin, each record's person key (${(error as Error).message}); restore it from a backup`,
        code: "audit.artifact.keys",
      });
    }
    if (sha256hex(keysBytes) !== descriptor.files["keys.bin"]?.sha256)
      problems.push("keys.bin does not match the sha256 in artifact.json");
  }
  const lines: ArtifactRecordLine[] = [];
  const text = new TextDecoder().decode(recordsBytes);
  let n = 0;
  for (const raw of text.split("\n")) {
    n++;
    if (raw.trim() === "") continue;
    try {
      lines.push(JSON.parse(raw) as ArtifactRecordLine);
    } catch {
      throw new InvalidInputError(`${where("records.jsonl")}:${n}: not a JSON line`, {
        details: "the records file of the artifact is damaged; restore it from a backup",
        code: "audit.artifact.records",
      });
    }
  }
  return {
    descriptor,
    manifestBytes,
    recordsBytes,
    lines,
    ...(keysBytes !== undefined ? { keysBytes } : {}),
    problems,
  };
}
