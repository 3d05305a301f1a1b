/**
 * `shafaf data encrypt`: seals a plain data directory (made before encryption at rest) with a
 * data key, in place. Each artifact's private files are sealed one by one (temporary file, fsync,
 * rename over the plain one), then its artifact.json says so (same temporary-and-rename). A
 * reader opens a sealed file whatever artifact.json says, so a run killed at any point leaves
 * every artifact readable with the key, and running the command again finishes the job.
 */
import { open, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import {
  artifactFileRole,
  artifactSealing,
  PRIVATE_ARTIFACT_FILES,
  type BatchArtifactDescriptor,
} from "./batch-artifact.ts";
import { TILES_DIR } from "./batch-tiles.ts";
import { LOCATOR_FILES } from "./locator-table.ts";
import { sealPersonKeyCache } from "./person-key-cache.ts";
import {
  createPrivateFileWriter,
  ENCRYPTED_FILE_FORMAT,
  ENCRYPTED_FILE_HEADER_BYTES,
  isSealed,
  openPrivateFileReader,
  writePrivateFile,
  type DataKey,
} from "./private-store.ts";
import { existsSync } from "node:fs";

/** The associated-data role of the pseudonym key file (`<data-dir>/secrets/pseudonym.key`). */
export const PSEUDONYM_KEY_ROLE = "secrets/pseudonym.key";

/** What {@link sealDataDirectory} did. */
export interface SealDataDirectoryResult {
  /** Artifacts whose files were sealed by this run. */
  artifacts: number;
  /** Private files sealed by this run. */
  files: number;
  /** Artifacts already sealed. */
  alreadySealed: number;
  /** Person-key cache entries sealed. */
  cacheEntries: number;
  /** Whether this run sealed `secrets/pseudonym.key`. */
  pseudonymKey: boolean;
}

/**
 * Seals every artifact under `<dataDir>/batches`, the pseudonym key `<dataDir>/secrets/pseudonym.key`
 * and the person-key cache `<dataDir>/person-keys` with `key` (a pseudonym key moved elsewhere with
 * SHAFAF_PSEUDONYM_KEY_FILE is not touched). The caller holds the data directory (its ledger store open, bound to `key`).
 *
 * @throws {PrivateFileError} a file sealed with another key; {BatchArtifactError} a damaged descriptor.
 * @example
 * const done = await sealDataDirectory(".shafaf", dataKey);
 */
export async function sealDataDirectory(
  dataDir: string,
  key: DataKey,
): Promise<SealDataDirectoryResult> {
  const result: SealDataDirectoryResult = {
    artifacts: 0,
    files: 0,
    alreadySealed: 0,
    cacheEntries: 0,
    pseudonymKey: false,
  };
  const batches = path.join(dataDir, "batches");
  const names = existsSync(batches) ? (await readdir(batches)).sort() : [];
  for (const name of names) {
    if (name.includes(".tmp-")) continue;
    const dir = path.join(batches, name);
    let descriptor: BatchArtifactDescriptor;
    try {
      descriptor = JSON.parse(
        await readFile(path.join(dir, "artifact.json"), "utf8"),
      ) as BatchArtifactDescriptor;
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") continue;
      throw error;
    }
    // A run killed while sealing a file left its temporary copy (sealed bytes): remove it.
    for (const entry of await readdir(dir))
      if (/^\..+\.tmp-\d+-[0-9a-f]{8}$/.test(entry))
        await rm(path.join(dir, entry), { force: true });
    // The batch's tiles are derived from the artifact: plain ones are removed, to be written again
    // sealed from the sealed artifact at their first use (batch-tiles.ts, ensureBatchTiles).
    // So are tiles an anchor job staged while folding and has not renamed yet (a job killed or
    // refused before it anchored): a `tiles.tmp-…` folder is never read, and a resumed job writes
    // the tiles again from the artifact when its staged folder is gone.
    await dropPlainTiles(dir, TILES_DIR);
    for (const entry of await readdir(dir))
      if (entry.startsWith(`${TILES_DIR}.tmp-`)) await dropPlainTiles(dir, entry);
    // Likewise the locator tables (rewritten sealed by the ledger store's publish).
    for (const table of Object.values(LOCATOR_FILES)) await dropPlain(path.join(dir, table));
    const sealed = new Set(artifactSealing(dir, descriptor));
    const wanted = PRIVATE_ARTIFACT_FILES.filter((f) => descriptor.files[f] !== undefined);
    if (wanted.every((f) => sealed.has(f))) {
      result.alreadySealed++;
      continue;
    }
    for (const file of wanted) {
      const at = path.join(dir, file);
      const reader = openPrivateFileReader(at, artifactFileRole(descriptor.jobId, file), key, {
        allowPlain: true,
      });
      try {
        if (!reader.sealed) {
          const out = await createPrivateFileWriter(
            at,
            artifactFileRole(descriptor.jobId, file),
            key,
          );
          try {
            for (const chunk of reader.chunks()) await out.write(chunk);
            await out.close();
          } catch (error) {
            await out.abort();
            throw error;
          }
          result.files++;
        }
      } finally {
        reader.close();
      }
      sealed.add(file);
    }
    const next: BatchArtifactDescriptor = {
      ...descriptor,
      encryption: { format: ENCRYPTED_FILE_FORMAT, keyId: key.id, files: [...sealed] },
    };
    await writePrivateFile(
      path.join(dir, "artifact.json"),
      Buffer.from(JSON.stringify(next, null, 2) + "\n"),
      "",
      undefined,
    );
    result.artifacts++;
  }
  const secret = path.join(dataDir, "secrets", "pseudonym.key");
  if (existsSync(secret)) {
    const bytes = await readFile(secret);
    if (!isSealed(bytes)) {
      await writePrivateFile(secret, bytes, PSEUDONYM_KEY_ROLE, key);
      result.pseudonymKey = true;
    }
  }
  const cache = path.join(dataDir, "person-keys");
  if (existsSync(cache)) result.cacheEntries = await sealPersonKeyCache(cache, key);
  return result;
}

/** Removes `file` when it exists and is plain. */
async function dropPlain(file: string): Promise<void> {
  if (!existsSync(file)) return;
  const fh = await open(file, "r");
  const head = Buffer.alloc(ENCRYPTED_FILE_HEADER_BYTES);
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (!isSealed(head)) await rm(file, { force: true });
}

/**
 * Removes `<artifact>/<name>` (`tiles`, or a staged `tiles.tmp-…`) when its private files are plain
 * (written before the data key); a staged folder without its leaves file (half written) as well.
 */
async function dropPlainTiles(artifactDir: string, name: string): Promise<void> {
  const leaves = path.join(artifactDir, name, "private", "leaves.bin");
  if (!existsSync(leaves)) {
    // a staged folder without its leaves is a half-written one: nothing in it is read
    if (name !== TILES_DIR)
      await rm(path.join(artifactDir, name), { recursive: true, force: true });
    return;
  }
  const fh = await open(leaves, "r");
  const head = Buffer.alloc(ENCRYPTED_FILE_HEADER_BYTES);
  try {
    await fh.read(head, 0, head.length, 0);
  } finally {
    await fh.close();
  }
  if (!isSealed(head)) await rm(path.join(artifactDir, name), { recursive: true, force: true });
}
