/**
 * A batch's locator tables on disk (`receipts.loc`, `subjects.loc` in its artifact folder,
 * docs/spec/locators-v1.md): written once by the anchor pipeline from the artifact's records, read
 * by the ledger store and by `shafaf serve`'s published store (`published-store.ts`) to find the
 * line of a receipt code or the lines of a subject pseudonym without the writer's LevelDB.
 *
 * Both files are private (0600) and, in an encrypted data directory, sealed with the data key
 * (`shafaf-encrypted-file/1`, role `shafaf-batch/<jobId>/<file>`): they hold digests of receipt
 * codes, not codes, but a data directory sealed at rest keeps every per-record file sealed.
 */
import { existsSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import path from "node:path";
import type { BatchArtifact } from "./batch-artifact.ts";
import {
  createLocatorDigests,
  encodeLocatorTableOfDigests,
  LOCATOR_FILES,
  locatorDigest,
  LocatorTableError,
  openLocatorTable,
  type LocatorKind,
  type LocatorTable,
} from "./locator-table.ts";
import { replacePrivateFile } from "./private-files.ts";
import {
  openPrivateFileReader,
  sealBytes,
  type DataKey,
  type PrivateFileReader,
} from "./private-store.ts";

/** Plaintext bytes per sealed chunk of a table: a lookup decrypts one or two 4 KiB chunks. */
const SEALED_CHUNK = 4096;

/** Record ids handed to `writeBatchLocators`' caller at a time. */
export const RECORD_CHUNK = 1000;

/** The role a batch's table is sealed for. */
export const locatorRole = (jobId: string, kind: LocatorKind): string =>
  `shafaf-batch/${jobId}/${LOCATOR_FILES[kind]}`;

/** Whether both tables of the artifact folder `dir` exist (written whole, so complete). */
export function hasBatchLocators(dir: string): boolean {
  return (
    existsSync(path.join(dir, LOCATOR_FILES["receipt-code"])) &&
    existsSync(path.join(dir, LOCATOR_FILES.subject))
  );
}

/**
 * Writes the artifact's two tables (each: a temporary file, fsync, rename, then the folder's
 * fsync), sealed with `dataKey` when given. Idempotent: a table already there is kept (a table is
 * renamed into place only when whole). `onRecords` gets the record ids in line order, in chunks
 * of {@link RECORD_CHUNK} (the caller indexes them for the duplicate check): the artifact is read
 * once.
 *
 * @example
 * await writeBatchLocators(artifact, store.dataKey, (ids) => store.writeRecordIds(batch, ids));
 */
export async function writeBatchLocators(
  artifact: BatchArtifact,
  dataKey: DataKey | undefined,
  onRecords?: (records: readonly { index: number; recordId: string }[]) => Promise<void>,
): Promise<void> {
  const { dir } = artifact;
  const jobId = artifact.descriptor.jobId;
  // 16 bytes per record and table, no code or subject kept: the lines are read from their bytes
  // (no JSON.parse, docs/DESIGN.md "The locator pass"), each key hashed as it is read.
  const codes = createLocatorDigests("receipt-code");
  const subjects = createLocatorDigests("subject");
  let pending: { index: number; recordId: string }[] = [];
  for (const chunk of artifact.recordKeys()) {
    for (let i = 0; i < chunk.codes.length; i++) {
      codes.add(chunk.codes[i]!);
      subjects.add(chunk.subjects[i]!);
      if (onRecords === undefined) continue;
      pending.push({ index: chunk.first + i, recordId: chunk.recordIds[i]! });
      if (pending.length >= RECORD_CHUNK) {
        await onRecords(pending);
        pending = [];
      }
    }
  }
  if (onRecords !== undefined && pending.length > 0) await onRecords(pending);
  // Leftovers of a run killed mid-write.
  for (const name of await readdir(dir))
    if (/^\.(receipts|subjects)\.loc\..*\.tmp$/.test(name)) await rm(path.join(dir, name));
  for (const [kind, keys] of [
    ["receipt-code", codes],
    ["subject", subjects],
  ] as const) {
    const file = path.join(dir, LOCATOR_FILES[kind]);
    if (existsSync(file)) continue;
    const plain = encodeLocatorTableOfDigests(kind, keys.bytes());
    const bytes =
      dataKey === undefined
        ? plain
        : // Digests are random bytes: stored chunks, no compression tried.
          sealBytes(plain, dataKey, locatorRole(jobId, kind), {
            chunkBytes: SEALED_CHUNK,
            compress: false,
          });
    await replacePrivateFile(file, bytes);
  }
}

/** What a {@link LocatorIndex} needs of a batch. */
export interface LocatedBatch {
  batchId: number;
  jobId: string;
  recordCount: number;
}

/** Finds lines through the tables of a set of batches (held open, one descriptor each). */
export interface LocatorIndex {
  /** The batch and line of receipt `code` among `batches` (searched newest first). */
  locate<B extends LocatedBatch>(
    code: string,
    batches: readonly B[],
  ): { batch: B; index: number } | undefined;
  /** The lines of subject `pseudonym` in each of `batches`, in batch order then line order. */
  subjectLines<B extends LocatedBatch>(
    pseudonym: string,
    batches: readonly B[],
  ): { batch: B; index: number }[];
  /** Forgets every table not of these batches (after the list changed). */
  retain(batchIds: ReadonlySet<number>): void;
  close(): void;
}

/**
 * @example
 * const locators = createLocatorIndex({ batchesDir, dataKey });
 * const hit = locators.locate(code, batches); // { batch, index } | undefined
 */
export function createLocatorIndex(params: {
  batchesDir: string;
  dataKey?: DataKey | undefined;
  /** True for a data directory not bound to a data key (its tables are plain). */
  allowPlain: boolean;
}): LocatorIndex {
  const open_ = new Map<string, { reader: PrivateFileReader; table: LocatorTable }>();
  let closed = false;
  const tableOf = (batch: LocatedBatch, kind: LocatorKind): LocatorTable => {
    if (closed) throw new LocatorTableError(params.batchesDir, "the locator index was closed");
    const key = `${batch.batchId}/${kind}`;
    let held = open_.get(key);
    if (held === undefined) {
      const file = path.join(params.batchesDir, batch.jobId, LOCATOR_FILES[kind]);
      let reader: PrivateFileReader;
      try {
        reader = openPrivateFileReader(file, locatorRole(batch.jobId, kind), params.dataKey, {
          allowPlain: params.allowPlain,
        });
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT")
          throw new LocatorTableError(file, `missing (batch ${batch.batchId})`);
        throw error;
      }
      try {
        const table = openLocatorTable(reader, { file, kind, recordCount: batch.recordCount });
        held = { reader, table };
      } catch (error) {
        reader.close();
        throw error;
      }
      open_.set(key, held);
    }
    return held.table;
  };
  return {
    locate(code, batches) {
      const digest = locatorDigest("receipt-code", code);
      for (let i = batches.length - 1; i >= 0; i--) {
        const batch = batches[i]!;
        const index = tableOf(batch, "receipt-code").find(digest);
        if (index !== undefined) return { batch, index };
      }
      return undefined;
    },
    subjectLines(pseudonym, batches) {
      const digest = locatorDigest("subject", pseudonym);
      const out: { batch: (typeof batches)[number]; index: number }[] = [];
      for (const batch of batches)
        for (const index of tableOf(batch, "subject").findAll(digest)) out.push({ batch, index });
      return out;
    },
    retain(batchIds) {
      for (const [key, held] of open_) {
        if (batchIds.has(Number(key.slice(0, key.indexOf("/"))))) continue;
        held.reader.close();
        open_.delete(key);
      }
    },
    close() {
      closed = true;
      for (const held of open_.values()) held.reader.close();
      open_.clear();
    },
  };
}
