/**
 * A {@link ManifestSource} over the anchor pipeline's durable batch artifacts
 * (`<data-dir>/batches/<job>/manifest.json`, format `shafaf-batch/1`), read as plain files: it
 * takes no LevelDB lock, so `shafaf index` can run while `shafaf anchor` writes the ledger store.
 * The bytes are only a candidate: the indexer checks their keccak256 against the chain.
 */
import { manifestHash } from "../core/manifest.ts";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { ManifestSource } from "./manifest-view.ts";

export interface ArtifactManifestSourceOptions {
  /** Minimum time between two rescans of the folder for an unknown hash (default 5 s). */
  rescanMs?: number;
}

/**
 * @example
 * const manifestSource = createArtifactManifestSource(".shafaf/batches");
 * const indexer = createIndexer({ …, manifestSource });
 */
export function createArtifactManifestSource(
  batchesDir: string,
  options: ArtifactManifestSourceOptions = {},
): ManifestSource {
  const rescanMs = options.rescanMs ?? 5_000;
  /** manifestHash → file */
  const files = new Map<string, string>();
  const seen = new Set<string>();
  let lastScan = -Infinity;

  async function scan(): Promise<void> {
    lastScan = Date.now();
    let jobs: string[];
    try {
      jobs = await readdir(batchesDir);
    } catch (error) {
      if ((error as { code?: string }).code === "ENOENT") return;
      throw error;
    }
    for (const job of jobs.sort()) {
      if (seen.has(job) || job.startsWith(".")) continue;
      const file = path.join(batchesDir, job, "manifest.json");
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(file));
      } catch {
        continue; // a job still being written, or not a batch folder
      }
      seen.add(job);
      files.set(manifestHash(bytes), file);
    }
  }

  /** The scan under way: a caller asking meanwhile waits for it (the indexer asks several at once). */
  let scanning: Promise<void> | undefined;

  return async (_batchId, manifestHash) => {
    const hash = manifestHash.toLowerCase();
    if (!files.has(hash)) {
      if (scanning === undefined && Date.now() - lastScan >= rescanMs)
        scanning = scan().finally(() => {
          scanning = undefined;
        });
      if (scanning !== undefined) await scanning;
    }
    const file = files.get(hash);
    if (file === undefined) return undefined;
    try {
      return new Uint8Array(await readFile(file));
    } catch {
      return undefined;
    }
  };
}
