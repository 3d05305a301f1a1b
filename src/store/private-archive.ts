/**
 * The private archive of a data directory (docs/spec/private-archive-v1.md): what the public
 * mirror does not hold and a restore needs to serve every receipt and person proof again — each
 * batch artifact's files as they are on disk (sealed bytes, never opened), the pseudonym key (as
 * it is, sealed), the data-key binding, and the ledger store's and person-key cache's records as
 * a `shafaf-ledger-records/1` file sealed with the data key. `archive.json` lists every file with
 * its size and SHA-256. Derived data (a batch's tiles, the index) is left out: a restore rebuilds it.
 *
 * Invariants: a data directory bound to a data key gives an archive with no personal data in
 * plain (a private file found plain refuses the backup); a plain directory is refused unless the
 * caller says `allowPlain`. The archive is written in a sibling folder and moved in whole.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { Level } from "level";
import { ShafafError } from "../core/errors.ts";
import { formatLedgerRecords, type LedgerRecord } from "../core/ledger-records.ts";
import {
  PRIVATE_ARTIFACT_FILES,
  artifactSealing,
  type BatchArtifactDescriptor,
} from "./batch-artifact.ts";
import type { BatchEntry, ChainBinding } from "./ledger-store.ts";
import { makePrivate } from "./private-files.ts";
import {
  bindDataKey,
  DATA_KEY_BINDING_FILE,
  isSealed,
  sealBytes,
  type DataKey,
} from "./private-store.ts";

export const PRIVATE_ARCHIVE_FORMAT = "shafaf-private-archive/1";
export const ARCHIVE_MANIFEST = "archive.json";
/** The records file in the archive, and its role when sealed. */
export const ARCHIVE_RECORDS_FILE = "ledger-records.jsonl";
export const ARCHIVE_RECORDS_ROLE = "shafaf-private-archive/ledger-records.jsonl";

/** `archive.json`. */
export interface PrivateArchiveManifest {
  format: typeof PRIVATE_ARCHIVE_FORMAT;
  /** The data key the sealed files need, or null for an archive of a plain directory. */
  dataKeyId: string | null;
  chain: ChainBinding;
  /** Every anchored batch of the directory (from its ledger store). */
  batches: { batchId: number; jobId: string; root: string; manifestHash: string }[];
  /** Every other file of the archive, sorted by path. */
  files: { path: string; size: number; sha256: string }[];
}

/** Why a backup or a restore refused; `code` is `archive.<reason>`. */
export class PrivateArchiveError extends ShafafError {
  override name = "PrivateArchiveError";
  constructor(
    reason:
      | "plain"
      | "in-use"
      | "no-key"
      | "not-empty"
      | "no-chain"
      | "format"
      | "corrupt"
      | "mirror-corrupt"
      | "mirror-mismatch",
    shortMessage: string,
    details: string,
  ) {
    super(shortMessage, { code: `archive.${reason}`, details });
  }
}

export interface WritePrivateArchiveOptions {
  dataDir: string;
  /** The archive folder: must not exist or be empty. */
  out: string;
  /** The data key of a bound directory (required for one). */
  dataKey: DataKey | undefined;
  /** Archive a plain (never sealed) directory: its files, and the records, in plain. */
  allowPlain?: boolean;
}

export interface WritePrivateArchiveResult {
  out: string;
  batches: number;
  files: number;
  bytes: number;
  records: number;
  sealed: boolean;
}

const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/** `dir` is absent or an empty folder; otherwise refuses naming it. */
export async function refuseNonEmpty(dir: string, what: string): Promise<void> {
  if (existsSync(dir) && (await readdir(dir)).length > 0)
    throw new PrivateArchiveError(
      "not-empty",
      `${dir} is not empty`,
      `give a new or empty folder for the ${what}; nothing was written`,
    );
}

/**
 * Writes the private archive of `dataDir` (stopped: its LevelDB stores are opened).
 *
 * @throws {PrivateArchiveError} `archive.plain` (a plain directory without allowPlain, or a plain
 * private file in a bound one), `archive.no-key`, `archive.not-empty`, `archive.no-chain`;
 * `archive.in-use` (a running shafaf holds a store); {PrivateFileError} `store.private.wrong-key`.
 * @example
 * await writePrivateArchive({ dataDir: ".shafaf", out: "/backup/2026-12-06", dataKey });
 */
export async function writePrivateArchive(
  options: WritePrivateArchiveOptions,
): Promise<WritePrivateArchiveResult> {
  const dataDir = path.resolve(options.dataDir);
  const out = path.resolve(options.out);
  await refuseNonEmpty(out, "archive");
  const bound = await bindDataKey(dataDir, undefined);
  const key = options.dataKey;
  if (bound === undefined) {
    if (options.allowPlain !== true)
      throw new PrivateArchiveError(
        "plain",
        `${dataDir} is not encrypted at rest: its archive would hold national IDs, salts and amounts in plain`,
        "seal it first (shafaf data encrypt --data-key FILE), or give --plain to archive it as it is",
      );
  } else {
    if (key === undefined)
      throw new PrivateArchiveError(
        "no-key",
        `${dataDir} is encrypted with data key ${bound}; the archive's records are sealed with it`,
        "give --data-key FILE (the keystore made by `shafaf keys new-data`)",
      );
    await bindDataKey(dataDir, key); // wrong-key by name
  }
  const sealWith = bound === undefined ? undefined : key;

  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true, mode: 0o700 });
  try {
    const files: PrivateArchiveManifest["files"] = [];
    const put = async (rel: string, bytes: Uint8Array): Promise<void> => {
      const file = path.join(tmp, rel);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await writeFile(file, bytes, { mode: 0o600 });
      files.push({ path: rel, size: bytes.length, sha256: sha256Hex(bytes) });
    };

    const { records, chain, batches } = await readRecords(dataDir);
    if (chain === undefined)
      throw new PrivateArchiveError(
        "no-chain",
        `${dataDir} has anchored nothing (its ledger store is bound to no chain)`,
        "give the data directory of shafaf anchor",
      );
    const plainRecords = formatLedgerRecords(records);
    await put(
      ARCHIVE_RECORDS_FILE,
      sealWith === undefined
        ? plainRecords
        : sealBytes(plainRecords, sealWith, ARCHIVE_RECORDS_ROLE),
    );

    for (const b of batches) {
      const dir = path.join(dataDir, "batches", b.jobId);
      const descriptor = JSON.parse(
        await readFile(path.join(dir, "artifact.json"), "utf8"),
      ) as BatchArtifactDescriptor;
      if (sealWith !== undefined) {
        const sealed = new Set(artifactSealing(dir, descriptor));
        const plain = PRIVATE_ARTIFACT_FILES.filter(
          (f) => descriptor.files[f] !== undefined && !sealed.has(f),
        );
        if (plain.length > 0)
          throw new PrivateArchiveError(
            "plain",
            `batches/${b.jobId}: ${plain.join(", ")} not sealed in a directory encrypted at rest`,
            "finish sealing it (shafaf data encrypt --data-key FILE), then back up again",
          );
      }
      // The artifact's own files, as they are (sealed bytes stay sealed); tiles are derived.
      for (const name of ["artifact.json", ...Object.keys(descriptor.files)].sort())
        await put(`batches/${b.jobId}/${name}`, await readFile(path.join(dir, name)));
    }

    const secret = path.join(dataDir, "secrets", "pseudonym.key");
    if (existsSync(secret)) {
      const bytes = await readFile(secret);
      if (sealWith !== undefined && !isSealed(bytes))
        throw new PrivateArchiveError(
          "plain",
          "secrets/pseudonym.key is not sealed in a directory encrypted at rest",
          "finish sealing it (shafaf data encrypt --data-key FILE), then back up again",
        );
      await put("secrets/pseudonym.key", bytes);
    }
    const binding = path.join(dataDir, DATA_KEY_BINDING_FILE);
    if (existsSync(binding)) await put(DATA_KEY_BINDING_FILE, await readFile(binding));

    files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const manifest: PrivateArchiveManifest = {
      format: PRIVATE_ARCHIVE_FORMAT,
      dataKeyId: sealWith?.id ?? null,
      chain,
      batches: batches.map((b) => ({
        batchId: b.batchId,
        jobId: b.jobId,
        root: b.root,
        manifestHash: b.manifestHash,
      })),
      files,
    };
    await writeFile(path.join(tmp, ARCHIVE_MANIFEST), JSON.stringify(manifest, null, 1) + "\n", {
      mode: 0o600,
    });
    await makePrivate(tmp);
    if (existsSync(out)) await rmdir(out);
    await rename(tmp, out);
    return {
      out,
      batches: batches.length,
      files: files.length + 1,
      bytes: files.reduce((s, f) => s + f.size, 0),
      records: records.length,
      sealed: sealWith !== undefined,
    };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Every record of the ledger store and the person-key cache, in key order. */
async function readRecords(dataDir: string): Promise<{
  records: LedgerRecord[];
  chain: ChainBinding | undefined;
  batches: BatchEntry[];
}> {
  const records: LedgerRecord[] = [];
  let chain: ChainBinding | undefined;
  const batches: BatchEntry[] = [];
  const ledgerDir = path.join(dataDir, "ledger");
  if (!existsSync(ledgerDir))
    throw new PrivateArchiveError(
      "no-chain",
      `${dataDir} has no ledger store (ledger/)`,
      "give the data directory of shafaf anchor",
    );
  const ledger = new Level<string, unknown>(ledgerDir, {
    valueEncoding: "json",
    createIfMissing: false,
  });
  await openOrExplain(ledger, ledgerDir);
  try {
    for await (const [key, value] of ledger.iterator()) {
      records.push({ table: "ledger", key, value });
      if (key === "meta!chain") chain = value as ChainBinding;
      if (key.startsWith("batch!")) batches.push(value as BatchEntry);
    }
  } finally {
    await ledger.close();
  }
  const cacheDir = path.join(dataDir, "person-keys");
  if (existsSync(cacheDir)) {
    const cache = new Level<Uint8Array, Uint8Array>(cacheDir, {
      keyEncoding: "view",
      valueEncoding: "view",
    });
    await openOrExplain(cache, cacheDir);
    try {
      for await (const [key, value] of cache.iterator())
        records.push({
          table: "person-keys",
          key: Buffer.from(key).toString("hex"),
          value: Buffer.from(value).toString("hex"),
        });
    } finally {
      await cache.close();
    }
  }
  return { records, chain, batches };
}

/** Opens a store of the data directory; LevelDB's lock (a running shafaf) is said plainly. */
async function openOrExplain(db: { open(): Promise<void> }, dir: string): Promise<void> {
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause;
    if (/lock/i.test(`${cause?.message ?? ""} ${(error as Error).message}`))
      throw new PrivateArchiveError(
        "in-use",
        `${dir} is in use by another shafaf process`,
        "wait for shafaf anchor (or stop the shafaf serve that anchors uploads) on this data directory, then back up again",
      );
    throw error;
  }
}
