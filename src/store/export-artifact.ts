/**
 * A plain copy of a batch artifact, sealed or not: what the organization hands its auditor (the
 * auditor's tools read `shafaf-batch/1` and `/2` files as they are) and what `shafaf audit
 * --data-key` reads from a private temporary folder. Every file is checked while copied: a sealed
 * one must open with the data key under its role, and the plaintext's sha256 must be the one in
 * artifact.json.
 */
import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, readdir } from "node:fs/promises";
import { TILES_DIR } from "./batch-tiles.ts";
import path from "node:path";
import {
  artifactFileRole,
  artifactSealing,
  BatchArtifactError,
  PRIVATE_ARTIFACT_FILES,
  type BatchArtifactDescriptor,
  type PrivateArtifactFile,
} from "./batch-artifact.ts";
import {
  createPrivateFileWriter,
  openPrivateFileReader,
  writePrivateFile,
  type DataKey,
} from "./private-store.ts";

/**
 * Writes the plain artifact of `from` into `to` (created 0700; files 0600). Returns false when
 * `from` holds no committed artifact.
 *
 * @throws {PrivateFileError} a sealed file with no key, the wrong key, moved, cut or altered;
 * {BatchArtifactError} a file whose plaintext is not the one artifact.json names.
 * @example
 * await exportBatchArtifact(".shafaf/batches/<job>", "/dev/shm/audit/<job>", dataKey);
 */
export async function exportBatchArtifact(
  from: string,
  to: string,
  dataKey: DataKey | undefined,
): Promise<boolean> {
  let descriptor: BatchArtifactDescriptor;
  try {
    descriptor = JSON.parse(
      await readFile(path.join(from, "artifact.json"), "utf8"),
    ) as BatchArtifactDescriptor;
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return false;
    throw new BatchArtifactError(`${from}/artifact.json is not JSON`, { cause: error });
  }
  const sealed = artifactSealing(from, descriptor);
  await mkdir(to, { recursive: true, mode: 0o700 });
  const { encryption: _sealedWith, ...plain } = descriptor;
  for (const name of await readdir(from)) {
    if (name.startsWith(".") || name === "artifact.json") continue;
    // The batch's tiles are derived from the artifact (batch-tiles-v1.md): not part of an export;
    // a reader of the export writes them again from it.
    if (name === TILES_DIR || name.startsWith(`${TILES_DIR}.tmp-`)) continue;
    if (!PRIVATE_ARTIFACT_FILES.includes(name as PrivateArtifactFile)) {
      await copyFile(path.join(from, name), path.join(to, name));
      continue;
    }
    const file = name as PrivateArtifactFile;
    const reader = openPrivateFileReader(
      path.join(from, file),
      artifactFileRole(descriptor.jobId, file),
      dataKey,
      { allowPlain: !sealed.has(file) },
    );
    const hash = createHash("sha256");
    const out = await createPrivateFileWriter(path.join(to, file), "", undefined, {
      fsyncDir: false,
    });
    try {
      for (const chunk of reader.chunks()) {
        hash.update(chunk);
        await out.write(chunk);
      }
      if (hash.digest("hex") !== descriptor.files[file]?.sha256)
        throw new BatchArtifactError(
          `${from}/${file} does not match the sha256 in artifact.json; the artifact is damaged`,
        );
      await out.close();
    } catch (error) {
      await out.abort();
      throw error;
    } finally {
      reader.close();
    }
  }
  await writePrivateFile(
    path.join(to, "artifact.json"),
    Buffer.from(JSON.stringify(plain, null, 2) + "\n"),
    "",
    undefined,
  );
  return true;
}
