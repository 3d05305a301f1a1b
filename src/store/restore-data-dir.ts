/**
 * Rebuilds a data directory from a public mirror (docs/spec/mirror-v1.md) and a private archive
 * (docs/spec/private-archive-v1.md). Everything is checked before anything is written to the
 * target: every archive file against `archive.json` (size, SHA-256), the mirror's files used
 * against `mirror.json`, the archive's chain and batches against the mirror's (`chain.json`, each
 * `batches/<id>.json`: root and manifest hash), each artifact's descriptor against its batch.
 * Then the directory is written in a staging folder beside the target, its derived data rebuilt
 * (each v2 batch's tiles, from its artifact, and their public `tiles.json` compared byte for byte
 * with the mirror's; the locator tables and `published.json` that `shafaf serve` reads), and the
 * staging folder renamed to the target.
 *
 * Crash safety: a killed restore leaves the target absent (or as empty as it was) and the staging
 * folder `<target>.restoring`, which a re-run deletes before starting again. The index is not
 * restored: `shafaf index` (or `shafaf serve`) rebuilds it from the chain.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Level } from "level";
import { parseLedgerRecords } from "../core/ledger-records.ts";
import type { MirrorManifest } from "../core/mirror-layout.ts";
import { readBatchArtifact } from "./batch-artifact.ts";
import { ensureBatchTiles, readPublicBatchFile } from "./batch-tiles.ts";
import { makePrivate } from "./private-files.ts";
import { openLedgerStore } from "./ledger-store.ts";
import {
  ARCHIVE_MANIFEST,
  ARCHIVE_RECORDS_FILE,
  ARCHIVE_RECORDS_ROLE,
  PRIVATE_ARCHIVE_FORMAT,
  PrivateArchiveError,
  refuseNonEmpty,
  type PrivateArchiveManifest,
} from "./private-archive.ts";
import { isSealed, openBytes, type DataKey } from "./private-store.ts";

export interface RestoreDataDirOptions {
  /** A mirror folder (shafaf mirror export) of the same ledger, at least as recent as the archive. */
  mirror: string;
  /** A private archive folder (shafaf backup). */
  archive: string;
  /** The data directory to create: absent or empty. */
  dataDir: string;
  /** The data key of a sealed archive. */
  dataKey: DataKey | undefined;
}

export interface RestoreDataDirResult {
  dataDir: string;
  batches: number;
  records: number;
  files: number;
  /** v2 batches whose tiles were rebuilt (and matched the mirror's tiles.json). */
  tiled: number;
}

const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const SAFE_PATH = /^(?:[A-Za-z0-9._-]+\/)*[A-Za-z0-9._-]+$/;

/**
 * Restores. See the module comment for what is checked.
 *
 * @throws {PrivateArchiveError} `archive.not-empty`, `archive.format`, `archive.corrupt` (an
 * archive file named), `archive.mirror-corrupt` (a mirror file named), `archive.mirror-mismatch`
 * (the chain or a batch named), `archive.no-key`; {PrivateFileError} a wrong data key;
 * {LedgerRecordsError} a damaged records file; {BatchArtifactError} a damaged artifact.
 * @example
 * await restoreDataDir({ mirror: "site", archive: "backup", dataDir: ".shafaf", dataKey });
 */
export async function restoreDataDir(
  options: RestoreDataDirOptions,
): Promise<RestoreDataDirResult> {
  const target = path.resolve(options.dataDir);
  const archive = path.resolve(options.archive);
  const mirror = path.resolve(options.mirror);
  await refuseNonEmpty(target, "restored data directory");

  // 1. The archive: every listed file whole, nothing unlisted.
  const manifest = await readArchiveManifest(archive);
  const bytesOf = new Map<string, Uint8Array>();
  for (const f of manifest.files) {
    const file = path.join(archive, f.path);
    const bytes = existsSync(file) ? await readFile(file) : undefined;
    if (bytes === undefined || bytes.length !== f.size || sha256Hex(bytes) !== f.sha256)
      throw new PrivateArchiveError(
        "corrupt",
        `the archive's ${f.path} ${bytes === undefined ? "is missing" : "does not match archive.json (size or SHA-256)"}`,
        "take the archive again from its copy (shafaf backup); nothing was written",
      );
    bytesOf.set(f.path, bytes);
  }
  const listed = new Set([...manifest.files.map((f) => f.path), ARCHIVE_MANIFEST]);
  for (const rel of await listFiles(archive))
    if (!listed.has(rel))
      throw new PrivateArchiveError(
        "corrupt",
        `the archive holds ${rel}, which archive.json does not list`,
        "remove it or take the archive again; nothing was written",
      );

  // 2. The mirror: the files used, against mirror.json; the same chain and batches.
  const site = await readMirror(mirror);
  const chain = site.json("api/v1/chain.json") as { chainId?: number; contract?: string };
  if (
    chain.chainId !== manifest.chain.chainId ||
    String(chain.contract).toLowerCase() !== manifest.chain.contract.toLowerCase()
  )
    throw new PrivateArchiveError(
      "mirror-mismatch",
      `the mirror is of contract ${String(chain.contract)} on chain ${String(chain.chainId)}, the archive of ${manifest.chain.contract} on chain ${manifest.chain.chainId}`,
      "give the mirror of the same ledger as the archive",
    );
  for (const b of manifest.batches) {
    const rel = `api/v1/batches/${b.batchId}.json`;
    if (!site.has(rel))
      throw new PrivateArchiveError(
        "mirror-mismatch",
        `the mirror has no batch ${b.batchId} (${rel}), which the archive holds`,
        "export the mirror again (shafaf mirror export), after the archive was taken",
      );
    const view = site.json(rel) as { root?: string; manifestHash?: string };
    if (view.root !== b.root || view.manifestHash !== b.manifestHash)
      throw new PrivateArchiveError(
        "mirror-mismatch",
        `batch ${b.batchId}: the mirror's root or manifest hash differs from the archive's`,
        "give the mirror of the same ledger as the archive (another chain's history numbers from 1 again)",
      );
    const descriptor = JSON.parse(
      new TextDecoder().decode(bytesOf.get(`batches/${b.jobId}/artifact.json`)),
    ) as { root?: string; manifestHash?: string };
    if (descriptor.root !== b.root || descriptor.manifestHash !== b.manifestHash)
      throw new PrivateArchiveError(
        "corrupt",
        `the archive's batches/${b.jobId}/artifact.json is not batch ${b.batchId}'s artifact`,
        "take the archive again; nothing was written",
      );
  }

  // 3. The records, opened with the data key when sealed.
  const sealedRecords = bytesOf.get(ARCHIVE_RECORDS_FILE)!;
  if (isSealed(sealedRecords) && options.dataKey === undefined)
    throw new PrivateArchiveError(
      "no-key",
      `the archive is sealed with data key ${manifest.dataKeyId ?? "?"}`,
      "give --data-key FILE (the keystore made by `shafaf keys new-data`)",
    );
  const records = parseLedgerRecords(
    openBytes(sealedRecords, options.dataKey, ARCHIVE_RECORDS_ROLE, {
      file: path.join(archive, ARCHIVE_RECORDS_FILE),
      allowPlain: manifest.dataKeyId === null,
    }),
    path.join(archive, ARCHIVE_RECORDS_FILE),
  );

  // 4. Written in a staging folder, moved in whole.
  const staging = `${target}.restoring`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true, mode: 0o700 });
  try {
    for (const [rel, bytes] of bytesOf) {
      if (rel === ARCHIVE_RECORDS_FILE) continue;
      const file = path.join(staging, rel);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, bytes, { mode: 0o600 });
    }
    const ledger = new Level<string, unknown>(path.join(staging, "ledger"), {
      valueEncoding: "json",
    });
    const cache = records.some((r) => r.table === "person-keys")
      ? new Level<Uint8Array, Uint8Array>(path.join(staging, "person-keys"), {
          keyEncoding: "view",
          valueEncoding: "view",
        })
      : undefined;
    await ledger.open();
    await cache?.open();
    try {
      const CHUNK = 4096;
      for (let i = 0; i < records.length; i += CHUNK) {
        const chunk = records.slice(i, i + CHUNK);
        const l = chunk.filter((r) => r.table === "ledger");
        const c = chunk.filter((r) => r.table === "person-keys");
        if (l.length > 0)
          await ledger.batch(l.map((r) => ({ type: "put" as const, key: r.key, value: r.value })));
        if (c.length > 0)
          await cache!.batch(
            c.map((r) => ({
              type: "put" as const,
              key: new Uint8Array(Buffer.from(r.key, "hex")),
              value: new Uint8Array(Buffer.from(r.value, "hex")),
            })),
          );
      }
    } finally {
      await ledger.close();
      await cache?.close();
    }

    // 5. Derived data, rebuilt and checked against the mirror.
    let tiled = 0;
    for (const b of manifest.batches) {
      const dir = path.join(staging, "batches", b.jobId);
      const artifact = await readBatchArtifact(dir, { dataKey: options.dataKey });
      if (artifact?.keys === undefined) continue;
      await ensureBatchTiles(artifact);
      tiled++;
      const rel = `api/v1/batches/${b.batchId}/tiles.json`;
      if (!site.has(rel)) continue;
      const mine = await readPublicBatchFile(dir, "tiles.json");
      if (mine === undefined || !Buffer.from(mine).equals(site.bytes(rel)))
        throw new PrivateArchiveError(
          "mirror-mismatch",
          `batch ${b.batchId}: the tiles rebuilt from the archive differ from the mirror's ${rel}`,
          "the archive's artifact and the mirror disagree; take both again from the organization",
        );
    }
    // The readers' handoff (locator tables and published.json), derived like the tiles.
    const store = await openLedgerStore(staging, { dataKey: options.dataKey });
    try {
      await store.publish();
    } finally {
      await store.close();
    }
    for (const dir of [staging, path.join(staging, "ledger"), path.join(staging, "person-keys")])
      if (existsSync(dir)) await makePrivate(dir);
    if (existsSync(target)) await rmdir(target);
    await rename(staging, target);
    return {
      dataDir: target,
      batches: manifest.batches.length,
      records: records.length,
      files: manifest.files.length,
      tiled,
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

async function readArchiveManifest(archive: string): Promise<PrivateArchiveManifest> {
  const file = path.join(archive, ARCHIVE_MANIFEST);
  let m: PrivateArchiveManifest;
  try {
    m = JSON.parse(await readFile(file, "utf8")) as PrivateArchiveManifest;
  } catch (error) {
    throw new PrivateArchiveError(
      "format",
      `${file} is ${(error as { code?: string }).code === "ENOENT" ? "missing" : "not JSON"}`,
      "give the folder written by shafaf backup",
    );
  }
  const ok =
    m.format === PRIVATE_ARCHIVE_FORMAT &&
    Array.isArray(m.files) &&
    Array.isArray(m.batches) &&
    typeof m.chain?.chainId === "number" &&
    typeof m.chain.contract === "string" &&
    m.files.some((f) => f.path === ARCHIVE_RECORDS_FILE) &&
    m.files.every(
      (f) =>
        typeof f.path === "string" &&
        SAFE_PATH.test(f.path) &&
        !f.path.split("/").includes("..") &&
        Number.isSafeInteger(f.size) &&
        /^[0-9a-f]{64}$/.test(f.sha256),
    ) &&
    m.batches.every(
      (b) =>
        Number.isSafeInteger(b.batchId) &&
        typeof b.jobId === "string" &&
        /^[A-Za-z0-9._-]+$/.test(b.jobId) &&
        m.files.some((f) => f.path === `batches/${b.jobId}/artifact.json`),
    );
  if (!ok)
    throw new PrivateArchiveError(
      "format",
      `${file} is not a ${PRIVATE_ARCHIVE_FORMAT} manifest`,
      "give the folder written by shafaf backup",
    );
  return m;
}

async function listFiles(dir: string): Promise<string[]> {
  // Every entry that is not a folder, as a `/`-separated path under `dir`.
  return (await readdir(dir, { withFileTypes: true, recursive: true }))
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
}

/** The mirror's files, each read once and checked against mirror.json when used. */
async function readMirror(dir: string): Promise<{
  has(rel: string): boolean;
  bytes(rel: string): Uint8Array;
  json(rel: string): unknown;
}> {
  let manifest: MirrorManifest;
  try {
    manifest = JSON.parse(await readFile(path.join(dir, "mirror.json"), "utf8")) as MirrorManifest;
  } catch {
    throw new PrivateArchiveError(
      "mirror-corrupt",
      `${dir}/mirror.json is missing or not JSON`,
      "give the folder written by shafaf mirror export",
    );
  }
  const listed = new Map((manifest.files ?? []).map((f) => [f.path, f]));
  const cache = new Map<string, Uint8Array>();
  const bytes = (rel: string): Uint8Array => {
    const hit = cache.get(rel);
    if (hit !== undefined) return hit;
    throw new Error(`mirror file ${rel} not loaded`);
  };
  // Every file the restore reads, loaded and checked up front.
  for (const rel of listed.keys()) {
    if (!/^api\/v1\/(chain\.json|batches\/[0-9]+(\.json|\/tiles\.json))$/.test(rel)) continue;
    const f = listed.get(rel)!;
    const file = path.join(dir, rel);
    const b = existsSync(file) ? await readFile(file) : undefined;
    if (b === undefined || b.length !== f.size || sha256Hex(b) !== f.sha256)
      throw new PrivateArchiveError(
        "mirror-corrupt",
        `the mirror's ${rel} ${b === undefined ? "is missing" : "does not match its mirror.json"}`,
        "export the mirror again, or verify it (shafaf mirror verify); nothing was written",
      );
    cache.set(rel, b);
  }
  if (!cache.has("api/v1/chain.json"))
    throw new PrivateArchiveError(
      "mirror-corrupt",
      `${dir} lists no api/v1/chain.json`,
      "give the folder written by shafaf mirror export",
    );
  return {
    has: (rel) => cache.has(rel),
    bytes,
    json: (rel) => JSON.parse(new TextDecoder().decode(bytes(rel))) as unknown,
  };
}
