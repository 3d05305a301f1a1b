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
import { openMergedLocatorTable, type MergedLocatorTable } from "./locator-merge.ts";
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
  PrivateFileError,
  sealBytes,
  type DataKey,
  type PrivateFileReader,
} from "./private-store.ts";

/** Plaintext bytes per sealed chunk of a table: a lookup decrypts one or two 4 KiB chunks. */
const SEALED_CHUNK = 4096;

/** Record ids handed to `writeBatchLocators`' caller at a time. */
export const RECORD_CHUNK = 1000;

/** The role a merged table is sealed for: its path in the data directory. */
export const mergedRole = (file: string): string => `shafaf-locator-merge/${file}`;

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

/** A merged table pair over the batches with ids in `first … last` (paths from the data dir). */
export interface MergedRange {
  first: number;
  last: number;
  receipts: string;
  subjects: string;
}

/**
 * Tables looked in so far, by kind: a lookup through merged ranges reads one range table per
 * range and one batch table per batch in no range (a test's and an operator's view).
 */
export interface LocatorIndexStats {
  /** Lookups in a batch's own table (`receipts.loc`, `subjects.loc`). */
  batchTableReads: number;
  /** Lookups in a merged range's table (`*.receipts.lm`, `*.subjects.lm`). */
  rangeTableReads: number;
  /**
   * Merged tables (paths from the data directory) found damaged by a lookup: their ranges are
   * answered from the batches' own tables while a list names them.
   */
  damaged: string[];
}

/** A merged table a lookup found damaged (no code or personal data: the file and the check). */
export interface LocatorDamage {
  /** The table's path from the data directory (`locators/….receipts.lm`). */
  file: string;
  first: number;
  last: number;
  /** The failed check's stable code (`store.locators`, `store.private.tampered`, …). */
  code: string;
}

/** The default report of a damaged merged table: the file and the fix, no code or data. */
export function warnLocatorDamage(d: LocatorDamage): void {
  process.stderr.write(
    `warning: ${d.file} (merged locator table of batches ${d.first}–${d.last}) is damaged (${d.code}); ` +
      "its lookups read the batches' own tables; remove it (or restore it from the backup) and run `shafaf data publish` to merge it again\n",
  );
}

/**
 * Whether `error` says a table's bytes are damaged (a block that fails its checks, a sealed chunk
 * that does not authenticate, a file shorter or longer than it says), rather than something a
 * fallback must not hide (no data key, a wrong key, a plain table where sealed is required).
 */
function isDamage(error: unknown): boolean {
  if (error instanceof LocatorTableError) return true;
  return (
    error instanceof PrivateFileError &&
    (error.failure === "tampered" ||
      error.failure === "truncated" ||
      error.failure === "trailing" ||
      error.failure === "format")
  );
}

/** Finds lines through the tables of a set of batches (held open, one descriptor each). */
export interface LocatorIndex {
  /**
   * The batch and line of receipt `code` among `batches` (searched newest first), through the
   * merged table of each range of `merged` (batch order, not overlapping) and the table of each
   * batch in no range: the same answer as without `merged`, in one table read per range. A
   * range whose table a lookup finds damaged is answered from its batches' own tables from then
   * on, while a list names that table (`onDamage` is told once per file).
   */
  locate<B extends LocatedBatch>(
    code: string,
    batches: readonly B[],
    merged?: readonly MergedRange[],
  ): { batch: B; index: number } | undefined;
  /** The lines of subject `pseudonym` in each of `batches`, in batch order then line order. */
  subjectLines<B extends LocatedBatch>(
    pseudonym: string,
    batches: readonly B[],
    merged?: readonly MergedRange[],
  ): { batch: B; index: number }[];
  /** Forgets every table not of these batches (after the list changed). */
  retain(batchIds: ReadonlySet<number>): void;
  /**
   * Opens every merged table of `merged` now (a list's files are held from the moment it is
   * read: the writer may remove them once a later list stops naming them) and closes the merged
   * tables not named there.
   *
   * @throws {LocatorTableError} a named table missing or damaged.
   */
  prepare(batches: readonly LocatedBatch[], merged: readonly MergedRange[]): void;
  /** The tables looked in since the index was created. */
  stats(): LocatorIndexStats;
  close(): void;
}

/** `batches` cut into the ranges of `merged` and single batches, in batch order. */
type Segments<B, R = MergedRange> = ({ batch: B } | { range: R; batches: B[] })[];

/**
 * `batches` (in batch order) cut into the runs each range of `merged` (in order, not
 * overlapping) holds and the single batches in no range: the one cut of lookups and merges.
 */
export function segmentsOf<
  B extends { batchId: number },
  R extends { first: number; last: number },
>(batches: readonly B[], merged: readonly R[]): Segments<B, R> {
  const out: Segments<B, R> = [];
  let k = 0;
  for (let i = 0; i < batches.length;) {
    const b = batches[i]!;
    while (merged[k] !== undefined && merged[k]!.last < b.batchId) k++;
    const m = merged[k];
    if (m !== undefined && m.first <= b.batchId) {
      const run: B[] = [];
      while (i < batches.length && batches[i]!.batchId <= m.last) run.push(batches[i++]!);
      out.push({ range: m, batches: run });
      k++;
    } else {
      out.push({ batch: b });
      i++;
    }
  }
  return out;
}

/**
 * @example
 * const locators = createLocatorIndex({ batchesDir, dataKey });
 * const hit = locators.locate(code, batches); // { batch, index } | undefined
 */
export function createLocatorIndex(params: {
  batchesDir: string;
  /** Where merged tables' paths start (default: the folder of `batchesDir`). */
  dataDir?: string;
  dataKey?: DataKey | undefined;
  /** True for a data directory not bound to a data key (its tables are plain). */
  allowPlain: boolean;
  /**
   * Told once per merged table a lookup finds damaged (its range then reads the batch tables);
   * default {@link warnLocatorDamage}.
   */
  onDamage?: (damage: LocatorDamage) => void;
}): LocatorIndex {
  const open_ = new Map<string, { reader: PrivateFileReader; table: LocatorTable }>();
  const openMerged = new Map<string, { reader: PrivateFileReader; table: MergedLocatorTable }>();
  const dataDir = params.dataDir ?? path.dirname(params.batchesDir);
  // The segments of the last (batches, merged) pair: the published list changes rarely.
  let cut:
    | {
        batches: readonly LocatedBatch[];
        merged: readonly MergedRange[];
        segments: Segments<LocatedBatch>;
      }
    | undefined;
  const segments = <B extends LocatedBatch>(
    batches: readonly B[],
    merged: readonly MergedRange[],
  ): Segments<B> => {
    if (cut?.batches !== batches || cut.merged !== merged)
      cut = { batches, merged, segments: segmentsOf(batches, merged) };
    return cut.segments as Segments<B>;
  };
  const mergedOf = (
    range: MergedRange,
    kind: LocatorKind,
    batches: readonly LocatedBatch[],
  ): MergedLocatorTable => {
    if (closed) throw new LocatorTableError(params.batchesDir, "the locator index was closed");
    const rel = kind === "subject" ? range.subjects : range.receipts;
    let held = openMerged.get(rel);
    if (held === undefined) {
      const file = path.join(dataDir, rel);
      let reader: PrivateFileReader;
      try {
        reader = openPrivateFileReader(file, mergedRole(rel), params.dataKey, {
          allowPlain: params.allowPlain,
        });
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT")
          throw new LocatorTableError(file, `missing (batches ${range.first}–${range.last})`);
        throw error;
      }
      try {
        const table = openMergedLocatorTable(reader, {
          file,
          kind,
          batches: batches.map((b) => ({
            batchId: b.batchId,
            jobId: b.jobId,
            recordCount: b.recordCount,
          })),
        });
        held = { reader, table };
      } catch (error) {
        reader.close();
        throw error;
      }
      openMerged.set(rel, held);
    }
    return held.table;
  };
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
  const reads = { batchTableReads: 0, rangeTableReads: 0 };
  /** Merged tables found damaged by a lookup, kept while a list names them. */
  const damaged = new Set<string>();
  /** A batch's table, counted as looked in (`prepare` opens without counting). */
  const batchTable = (batch: LocatedBatch, kind: LocatorKind): LocatorTable => {
    reads.batchTableReads++;
    return tableOf(batch, kind);
  };
  const rangeTable = (
    range: MergedRange,
    kind: LocatorKind,
    batches: readonly LocatedBatch[],
  ): MergedLocatorTable => {
    reads.rangeTableReads++;
    return mergedOf(range, kind, batches);
  };
  /**
   * `look` through the range's merged table, or undefined when that table is damaged (known
   * before, or found now: then closed, remembered and reported): the caller reads the batches'.
   */
  const viaRange = <T>(
    range: MergedRange,
    kind: LocatorKind,
    batches: readonly LocatedBatch[],
    look: (table: MergedLocatorTable) => T,
  ): { value: T } | undefined => {
    const rel = kind === "subject" ? range.subjects : range.receipts;
    if (damaged.has(rel)) return undefined;
    try {
      return { value: look(rangeTable(range, kind, batches)) };
    } catch (error) {
      if (closed || !isDamage(error)) throw error;
      damaged.add(rel);
      openMerged.get(rel)?.reader.close();
      openMerged.delete(rel);
      (params.onDamage ?? warnLocatorDamage)({
        file: rel,
        first: range.first,
        last: range.last,
        code: (error as LocatorTableError | PrivateFileError).code,
      });
      return undefined;
    }
  };
  return {
    locate(code, batches, merged = []) {
      const digest = locatorDigest("receipt-code", code);
      /** The newest of `some` whose own table holds the code. */
      const newestOf = <B extends LocatedBatch>(some: readonly B[]) => {
        for (let i = some.length - 1; i >= 0; i--) {
          const index = batchTable(some[i]!, "receipt-code").find(digest);
          if (index !== undefined) return { batch: some[i]!, index };
        }
        return undefined;
      };
      if (merged.length === 0) return newestOf(batches);
      const cuts = segments(batches, merged);
      for (let i = cuts.length - 1; i >= 0; i--) {
        const s = cuts[i]!;
        if (!("batch" in s)) {
          // a range through its merged table; a damaged one (undefined) through its batches'
          const via = viaRange(s.range, "receipt-code", s.batches, (t) => t.find(digest));
          if (via !== undefined) {
            if (via.value !== undefined)
              return { batch: s.batches[via.value.ordinal]!, index: via.value.line };
            continue;
          }
        }
        const hit = newestOf("batch" in s ? [s.batch] : s.batches);
        if (hit !== undefined) return hit;
      }
      return undefined;
    },
    subjectLines(pseudonym, batches, merged = []) {
      const digest = locatorDigest("subject", pseudonym);
      const out: { batch: (typeof batches)[number]; index: number }[] = [];
      for (const s of segments(batches, merged)) {
        if ("batch" in s) {
          for (const index of batchTable(s.batch, "subject").findAll(digest))
            out.push({ batch: s.batch, index });
          continue;
        }
        const via = viaRange(s.range, "subject", s.batches, (t) => t.findAll(digest));
        if (via === undefined)
          for (const batch of s.batches)
            for (const index of batchTable(batch, "subject").findAll(digest))
              out.push({ batch, index });
        else
          for (const hit of via.value)
            out.push({ batch: s.batches[hit.ordinal]!, index: hit.line });
      }
      return out;
    },
    prepare(batches, merged) {
      // Open the new list's tables first: if one fails, the tables of the list in use stay open.
      // A table found damaged stays unread while a list names it (a new merge is a new file).
      const cuts = segments(batches, merged);
      for (const s of cuts)
        if ("range" in s) {
          if (!damaged.has(s.range.receipts)) mergedOf(s.range, "receipt-code", s.batches);
          if (!damaged.has(s.range.subjects)) mergedOf(s.range, "subject", s.batches);
        }
      const named = new Set(merged.flatMap((m) => [m.receipts, m.subjects]));
      for (const rel of damaged) if (!named.has(rel)) damaged.delete(rel);
      for (const [rel, held] of openMerged) {
        if (named.has(rel)) continue;
        held.reader.close();
        openMerged.delete(rel);
      }
      // The tables of batches now in a range are not read any more: their descriptors go.
      const ranged = new Set<number>();
      for (const s of cuts) if ("range" in s) for (const b of s.batches) ranged.add(b.batchId);
      for (const [key, held] of open_) {
        if (!ranged.has(Number(key.slice(0, key.indexOf("/"))))) continue;
        held.reader.close();
        open_.delete(key);
      }
    },
    stats: () => ({ ...reads, damaged: [...damaged] }),
    retain(batchIds) {
      for (const [key, held] of open_) {
        if (batchIds.has(Number(key.slice(0, key.indexOf("/"))))) continue;
        held.reader.close();
        open_.delete(key);
      }
    },
    close() {
      closed = true;
      for (const held of [...open_.values(), ...openMerged.values()]) held.reader.close();
      open_.clear();
      openMerged.clear();
    },
  };
}
