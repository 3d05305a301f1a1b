/**
 * The anchor pipeline's LevelDB (`<data-dir>/ledger/`): jobs, anchored batches and the indexes
 * that find receipts (receipt code, subject pseudonym, record id). The batch artifact files live
 * beside it in `<data-dir>/batches/<jobId>/` (see `batch-artifact.ts`).
 *
 * Receipts on demand: nothing per receipt is stored in LevelDB but the record-id index; a receipt
 * code is found through its batch's locator tables (`batch-locators.ts`, docs/spec/locators-v1.md;
 * one merged table per range the published list names, as the readers do) and the receipt assembled from the batch artifact and checked against the anchored root before
 * it is returned (`receipt-assembler.ts`). Older data directories keep locators as LevelDB keys
 * (`loc!<code>`, `subject!…`) or receipts stored whole (`receipt!<code>`, `breceipt!…`): all are
 * read, a stored receipt first, until `publish` has written their tables (see "Receipts on
 * demand" and "One data directory, several readers" in docs/DESIGN.md).
 *
 * This store is the data directory's one writer (LevelDB's lock); readers (`shafaf serve`) use
 * `published-store.ts` and never open it. `publish` is the handoff to them.
 *
 * Invariants (the pipeline relies on them; see the README, "Anchoring a month"):
 * - A receipt locator is written only for a batch whose anchoring transaction has a receipt on
 *   chain, and a located receipt is served only once its batch entry exists (job complete).
 * - Every write that changes a job's state is one atomic LevelDB batch written with `sync: true`.
 * - Keys are fixed-width where order matters (`batch!` ids 12 digits, receipt indexes 10 digits),
 *   so that iteration order is batch order and input order.
 * - One data directory belongs to one ledger contract on one chain (`bindChain`).
 */
import path from "node:path";
import { Level } from "level";
import { ShafafError } from "../core/errors.ts";
import {
  readBatchArtifact,
  type BatchArtifact,
  type BatchArtifactError,
} from "./batch-artifact.ts";
import { makePrivate } from "./private-files.ts";
import { ensureBatchTiles, readPublicBatchFile } from "./batch-tiles.ts";
import {
  createLocatorIndex,
  hasBatchLocators,
  writeBatchLocators,
  type LocatorIndexStats,
} from "./batch-locators.ts";
import {
  PUBLISHED_FORMAT,
  readPublishedBatches,
  writePublishedBatches,
  type LocatorMerge,
  type PublishedBatch,
  type PublishedBatches,
} from "./published-batches.ts";
import { rangeHolds, removeRetiredLocatorFiles, updateLocatorMerges } from "./locator-merges.ts";
import {
  bindDataKey,
  openBytes,
  PrivateFileError,
  sealBytes,
  type DataKey,
} from "./private-store.ts";
import {
  createReceiptAssembler,
  type AnchoredBatchFacts,
  type AssemblerStats,
  type PersonBatchMaterial,
} from "./receipt-assembler.ts";

/** Where a job stands. Only moves forward: prepared → sending → anchored → complete. */
/**
 * `abandoned`: given up by `shafaf jobs abandon` while nothing it sent could be mined; its
 * artifact is kept, and the same inputs anchored again reopen it (same idempotency key).
 */
export type JobState = "prepared" | "sending" | "anchored" | "complete" | "abandoned";

/** The durable state of one anchoring job (one logical input), keyed by its job id. */
export interface JobRecord {
  format: "shafaf-job/1";
  jobId: string;
  state: JobState;
  kind: "premium" | "pension";
  period: string;
  /** Artifact facts, fixed once the artifact is written. */
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  recordCount: number;
  total: string;
  supersedes: number | null;
  reason: string | null;
  createdAt: string;
  /** A `shafaf-tree/2` batch: its scheme, the root's lanes (decimal) and the VRF key id. */
  scheme?: "shafaf-tree/2";
  lanes?: string[];
  vrfKeyId?: string;
  /** Set from `sending` on: the signed transaction, re-broadcast on resume. */
  txHash?: string;
  rawTx?: string;
  /** The account that signed `rawTx` (absent in jobs written before it was recorded). */
  signer?: string;
  /** Set by `shafaf jobs abandon`: when, and the transaction given up (its raw bytes are deleted). */
  abandonedAt?: string;
  abandonedTx?: { txHash: string; signer: string | null };
  /** Set from `anchored` on. */
  batchId?: number;
  blockNumber?: number;
  blockHash?: string;
  anchoredAt?: number;
  /** Receipts written so far (advisory; the receipt step is idempotent). */
  receiptsWritten?: number;
  completedAt?: string;
}

/** An anchored batch as this data directory knows it. */
export interface BatchEntry {
  format: "shafaf-batch-entry/1";
  batchId: number;
  jobId: string;
  chainId: number;
  contract: string;
  kind: "premium" | "pension";
  period: string;
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  recordCount: number;
  total: string;
  supersedes: number | null;
  supersededBy: number | null;
  reason: string | null;
  txHash: string;
  blockNumber: number;
  blockHash: string;
  anchoredAt: number;
  /**
   * `on-demand`: the batch's receipts are assembled from its artifact (locators only). Absent in
   * batches anchored before receipts on demand, whose receipts are stored whole.
   */
  receipts?: "on-demand";
  /** `shafaf-tree/2` for a v2 batch; absent for a v1 one. */
  scheme?: "shafaf-tree/2";
  /**
   * `files`: the batch's receipt locators and subject index are the locator tables in its
   * artifact folder (`receipts.loc`, `subjects.loc`, docs/spec/locators-v1.md), not LevelDB keys.
   * Absent in batches anchored before the tables (their `loc!`/`subject!` keys are read).
   */
  locators?: "files";
}

/** A receipt as stored: the core's `shafaf-receipt/1` JSON object, kept verbatim. */
export type StoredReceipt = { format: string } & Record<string, unknown>;

/** One receipt to index: `code` is the receipt's unguessable code. */
export interface ReceiptWrite {
  index: number;
  code: string;
  subject: string;
  recordId: string;
  receipt: StoredReceipt;
}

/** One receipt's locator: `code` → (batch, `index`), plus the subject and record-id indexes. */
export interface ReceiptLocatorWrite {
  index: number;
  code: string;
  subject: string;
  recordId: string;
}

/** What a record id is bound to once its batch is anchored. */
export interface RecordIdEntry {
  batchId: number;
  /** The receipt code: written by versions before the locator tables only. */
  code?: string;
}

/** What {@link LedgerStore.publish} did. */
export interface PublishResult {
  /** Batches the list names. */
  published: number;
  /** Older batches whose locator tables (and tiles) were written from their artifacts now. */
  migrated: number[];
  /** Complete batches left out: their artifact is missing (receipts stored whole only). */
  skipped: number[];
  /** Ranges of batches whose locator tables were merged now (first, last batch id). */
  merged?: [number, number][];
  /** Why merging failed (the list was published without the new ranges), if it did. */
  mergeError?: Error;
}

export interface ChainBinding {
  chainId: number;
  contract: string;
  /** Block 0's hash: which history of the chain. Absent in data directories bound before it was recorded. */
  genesisHash?: string;
}

/**
 * Counters of the store's lookups so far: the assembler's, and the locator tables looked in
 * (batch tables and merged range tables, as a reader's `lookupStats`).
 */
export type LedgerLookupStats = AssemblerStats & LocatorIndexStats;

/** How {@link LedgerStore.getReceiptByCode} checks an assembled receipt. */
export interface GetReceiptOptions {
  /**
   * false: the caller verifies the receipt against the chain-indexed root before it leaves (the
   * API's receipt route), so the store does not verify the same proof first. Default true.
   */
  verify?: boolean;
}

export interface LedgerStore {
  /** The data directory this store belongs to. */
  readonly dataDir: string;
  /** `<data-dir>/batches`: where batch artifacts live. */
  readonly batchesDir: string;
  /**
   * The data key this store was opened with (encryption at rest), or undefined. New artifacts are
   * sealed with it; sealed ones are read with it.
   */
  readonly dataKey: DataKey | undefined;
  /** The id of the data key the data directory is bound to (`data-key.json`), if any. */
  readonly dataKeyId: string | undefined;

  // ── reads (API, audit, indexer) ──
  /**
   * The receipt with this code: a stored one (batches anchored before receipts on demand), or
   * one assembled from its batch's artifact and checked against the anchored root. A located
   * receipt is found once its job is complete. Throws `ReceiptAssemblyError` when the artifact
   * is missing or damaged. With `{ verify: false }` a v2 receipt assembled from tiles is
   * returned without the store's verification of its proof (the record is still checked against
   * its leaf, the leaf against its tile): for a caller that verifies it itself before it leaves.
   */
  getReceiptByCode(code: string, options?: GetReceiptOptions): Promise<StoredReceipt | undefined>;
  /**
   * The material of person key `key` (k_b) in `shafaf-tree/2` batch `batchId`: the range or
   * absence proof and the person's opened records (`receipt-assembler.ts`); `undefined` for a
   * batch this store did not anchor (or whose job is not complete) and for a v1 batch.
   */
  getPersonBatch(batchId: number, key: Uint8Array): Promise<PersonBatchMaterial | undefined>;
  /**
   * A public file of a `shafaf-tree/2` batch's tiles (`tiles.json` or a tile of level ≥ 1 of a
   * public province, docs/spec/batch-tiles-v1.md §7), writing the tiles from the artifact first
   * when the batch has none; `undefined` for anything else (v1 batches, private tiles, unknown).
   */
  getPublicBatchFile(batchId: number, file: string): Promise<Uint8Array | undefined>;
  /** Receipts whose subject pseudonym is `pseudonym`, in batch then input order. */
  listReceiptsBySubject(pseudonym: string): Promise<StoredReceipt[]>;
  /** Receipts of a batch in input order; `limit`/`after` page through big batches. */
  listReceiptsOfBatch(
    batchId: number,
    options?: { after?: number; limit?: number },
  ): Promise<StoredReceipt[]>;
  /** Receipt codes of a batch in input order, streamed (for exports of a million receipts). */
  iterateReceiptCodesOfBatch(batchId: number): AsyncIterable<{ index: number; code: string }>;
  /** The batch artifact (manifest, tree, records with salts) of an anchored batch. */
  getBatchArtifact(batchId: number): Promise<BatchArtifact | undefined>;
  /** The manifest bytes and object whose keccak256 is `manifestHash`, if this store anchored it. */
  getManifestByHash(
    manifestHash: string,
  ): Promise<{ batchId: number; bytes: Uint8Array; manifest: unknown } | undefined>;
  /** Whether `recordId` is in an anchored batch of this kind and period. */
  hasRecordId(kind: string, period: string, recordId: string): Promise<boolean>;
  /** The batch and receipt code bound to each id (undefined when unknown); one `getMany`. */
  getRecordIds(
    kind: string,
    period: string,
    recordIds: readonly string[],
  ): Promise<(RecordIdEntry | undefined)[]>;
  getBatch(batchId: number): Promise<BatchEntry | undefined>;
  listBatches(): Promise<BatchEntry[]>;

  // ── writes (the anchor pipeline) ──
  getChainBinding(): Promise<ChainBinding | undefined>;
  /**
   * Binds the data directory to a chain, genesis and contract; throws if bound to another. A
   * binding without a genesis (older data directories) adopts the first genesis given. Callers
   * compare the genesis first with `assertSameChain` for a helpful error; this is the backstop.
   */
  bindChain(binding: ChainBinding): Promise<void>;
  getJob(jobId: string): Promise<JobRecord | undefined>;
  listJobs(): Promise<JobRecord[]>;
  /** Writes the job durably (`sync`). */
  putJob(job: JobRecord): Promise<void>;
  /**
   * Writes one chunk of receipt locators and the subject and record-id indexes atomically.
   * Idempotent. Not fsync'ed unless `sync`: a killed process loses nothing (the OS holds the
   * write), and `completeJob`'s synced write makes every earlier chunk durable before the job is
   * marked complete (LevelDB's log is sequential), so after a power loss an incomplete job
   * rewrites its locators.
   */
  writeReceiptLocators(
    batch: Pick<BatchEntry, "batchId" | "kind" | "period">,
    locators: readonly ReceiptLocatorWrite[],
    options?: { sync?: boolean },
  ): Promise<void>;
  /**
   * Writes one chunk of the record-id index (the duplicate check) of a batch whose locators are
   * its tables (`writeBatchLocators`). Idempotent; not fsync'ed (as `writeReceiptLocators`).
   */
  writeRecordIds(
    batch: Pick<BatchEntry, "batchId" | "kind" | "period">,
    records: readonly { recordId: string }[],
  ): Promise<void>;
  /**
   * The handoff to readers (`shafaf serve`): writes `<data-dir>/published.json` listing every
   * complete batch, after writing the locator tables (and v2 tiles) of older batches that have
   * none, from their artifacts (marking their entries `locators: "files"`). Idempotent; the one
   * writer of the list is the holder of this store.
   */
  publish(): Promise<PublishResult>;
  /**
   * The layout before receipts on demand: receipts stored whole, with their indexes. The
   * pipeline no longer writes it; it stays so that such data directories can be reproduced
   * (fixtures of the API's integrity checks, the old-layout tests and benchmarks).
   * Writes one chunk of receipts and their indexes atomically. Idempotent. Not fsync'ed unless
   * `sync`: a killed process loses nothing (the OS holds the write), and `completeJob`'s synced
   * write makes every earlier receipt durable before the job is marked complete (LevelDB's log is
   * sequential), so after a power loss an incomplete job rewrites its receipts.
   */
  writeReceipts(
    batch: BatchEntry,
    receipts: readonly ReceiptWrite[],
    options?: { sync?: boolean },
  ): Promise<void>;
  /**
   * Marks the job complete and records its batch in one atomic durable write; when the batch
   * supersedes one this store knows, that one's `supersededBy` is set in the same write.
   */
  completeJob(job: JobRecord, batch: BatchEntry): Promise<void>;
  /**
   * Seals the receipts stored whole (the layout before receipts on demand) with the store's data
   * key and compacts them out of LevelDB's files (`shafaf data encrypt`). Returns how many were
   * sealed. Throws `store.private.no-key` without a data key.
   */
  sealStoredReceipts(): Promise<number>;
  /** Counters of the lookups so far (a test's and an operator's view). */
  lookupStats(): LedgerLookupStats;
  close(): Promise<void>;
}

/** A store-level failure with a short message safe to show (no personal data). */
export class LedgerStoreError extends ShafafError {
  override name = "LedgerStoreError";
  constructor(shortMessage: string, options?: { cause?: unknown }) {
    super(shortMessage, { ...options, code: "store.ledger" });
  }
}

const BATCH_WIDTH = 12;
const INDEX_WIDTH = 10;
const pad = (n: number, width: number): string => String(n).padStart(width, "0");
const SEP = "!";
/** Record ids, periods and kinds must not contain the key separator or controls. */
function keyPart(value: string, what: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (value.length === 0 || /[!\u0000-\u001f\u007f]/u.test(value)) {
    throw new LedgerStoreError(
      `${what} must be non-empty and must not contain "!" or control characters`,
    );
  }
  return value;
}
const k = {
  meta: "meta!chain",
  job: (id: string) => `job${SEP}${keyPart(id, "job id")}`,
  batch: (id: number) => `batch${SEP}${pad(id, BATCH_WIDTH)}`,
  manifest: (hash: string) => `manifest${SEP}${hash.toLowerCase()}`,
  receipt: (code: string) => `receipt${SEP}${code}`,
  locator: (code: string) => `loc${SEP}${code}`,
  subject: (pseudonym: string, batchId: number, index: number) =>
    `subject${SEP}${pseudonym.toLowerCase()}${SEP}${pad(batchId, BATCH_WIDTH)}${SEP}${pad(index, INDEX_WIDTH)}`,
  record: (kind: string, period: string, recordId: string) =>
    `record${SEP}${keyPart(kind, "kind")}${SEP}${keyPart(period, "period")}${SEP}${keyPart(recordId, "record id")}`,
  batchReceipt: (batchId: number, index: number) =>
    `breceipt${SEP}${pad(batchId, BATCH_WIDTH)}${SEP}${pad(index, INDEX_WIDTH)}`,
};
/** classic-level's `sync` write option (fsync before resolving); `level`'s types omit it. */
const DURABLE = { sync: true } as never;
/** The first key after every key starting with `prefix`. */
const upper = (prefix: string): string => prefix + "\uffff";

/**
 * A stored receipt sealed with the data key: `sealed` is the base64 of a
 * `shafaf-encrypted-file/1` of its JSON text, role `ledger/receipt!<code>` (a value moved under
 * another code does not open).
 */
const SEALED_VALUE_FORMAT = "shafaf-sealed-value/1";
interface SealedValue {
  format: typeof SEALED_VALUE_FORMAT;
  sealed: string;
}
const storedReceiptRole = (code: string): string => `ledger/${k.receipt(code)}`;

/** What {@link openLedgerStore} and the store's methods throw: in use, unreadable or damaged. */
export type OpenLedgerStoreErrorType = LedgerStoreError | BatchArtifactError;

/**
 * Opens (creating if needed) the ledger store of a data directory: LevelDB in `<dataDir>/ledger`,
 * artifacts in `<dataDir>/batches`. One process at a time may hold it open (LevelDB's lock); a
 * second gets a `LedgerStoreError` saying so.
 *
 * @example
 * const store = await openLedgerStore(".shafaf");
 * const receipt = await store.getReceiptByCode(code);
 * await store.close();
 */
export async function openLedgerStore(
  dataDir: string,
  options: { receiptCacheBytes?: number; dataKey?: DataKey | undefined } = {},
): Promise<LedgerStore> {
  const root = path.resolve(dataDir);
  // Every receipt holds a national ID and an amount: the data directory and the LevelDB folder
  // are owner-only (0700), its files 0600.
  await makePrivate(root);
  await makePrivate(path.join(root, "ledger"));
  const db = new Level<string, unknown>(path.join(root, "ledger"), { valueEncoding: "json" });
  try {
    await db.open();
    await makePrivate(path.join(root, "ledger"));
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause;
    const locked = /lock/i.test(cause?.message ?? "") || /lock/i.test((error as Error).message);
    throw new LedgerStoreError(
      locked
        ? `the ledger store in ${root}/ledger is in use by another shafaf process; stop it or use another --data-dir`
        : `cannot open the ledger store in ${root}/ledger: ${cause?.message ?? (error as Error).message}`,
      { cause: error },
    );
  }
  const batchesDir = path.join(root, "batches");
  let dataKeyId: string | undefined;
  try {
    dataKeyId = await bindDataKey(root, options.dataKey);
  } catch (error) {
    await db.close();
    throw error;
  }
  const dataKey = options.dataKey;
  const assembler = createReceiptAssembler({
    batchesDir,
    dataKey,
    ...(options.receiptCacheBytes !== undefined ? { cacheBytes: options.receiptCacheBytes } : {}),
  });

  const locatorIndex = createLocatorIndex({
    batchesDir,
    dataKey,
    allowPlain: dataKeyId === undefined,
  });
  /**
   * The list this store last read or wrote: its merged ranges serve the writer's lookups as they
   * serve the readers'. Only the holder of this store writes the list (LevelDB's lock), so it is
   * read once here and replaced by each `publish`. A list that cannot be read leaves no range (the
   * batches' own tables answer the same).
   */
  let published: PublishedBatches | undefined = await readPublishedBatches(root).catch(
    () => undefined,
  );
  /**
   * Complete batches whose locators are tables, in batch order, and the ranges of the list that
   * still hold for them (`rangeHolds`: a batch completed since inside a range drops it); read
   * once, kept current. Looked up as the readers do (`LocatorIndex.locate` with the ranges), so
   * the answers are theirs, in one table read per range.
   */
  let tabled: TabledView | undefined;
  const tabledBatches = async (): Promise<TabledView> => {
    if (tabled !== undefined) return tabled;
    const batches = (await store.listBatches()).filter((b) => b.locators === "files");
    const list = published;
    let merged = (list?.merged ?? []).filter((m) => rangeHolds(m, list!.batches, batches));
    try {
      locatorIndex.prepare(batches, merged);
    } catch {
      // A range table missing or damaged (readers refuse such a list and keep the one before):
      // the batches' own tables give the same answers, one read per batch.
      merged = [];
      locatorIndex.prepare(batches, merged);
    }
    tabled = { batches, merged, ids: new Set(batches.map((b) => b.batchId)) };
    return tabled;
  };

  const get = async <T>(key: string): Promise<T | undefined> =>
    (await db.get(key)) as T | undefined;

  const sealReceipt = (code: string, receipt: StoredReceipt, key: DataKey): SealedValue => ({
    format: SEALED_VALUE_FORMAT,
    sealed: Buffer.from(
      sealBytes(Buffer.from(JSON.stringify(receipt)), key, storedReceiptRole(code)),
    ).toString("base64"),
  });
  /** A stored receipt as read from LevelDB: sealed ones are opened with the data key. */
  const openReceipt = (code: string, value: unknown): StoredReceipt | undefined => {
    if ((value as Partial<SealedValue> | undefined)?.format !== SEALED_VALUE_FORMAT)
      return value as StoredReceipt | undefined;
    const bytes = openBytes(
      Buffer.from((value as SealedValue).sealed, "base64"),
      dataKey,
      storedReceiptRole(code),
      { file: `${root}/ledger (a stored receipt)` },
    );
    return JSON.parse(Buffer.from(bytes).toString("utf8")) as StoredReceipt;
  };

  /**
   * The facts a receipt is assembled from, per batch id. They never change once the batch entry
   * exists (only `supersededBy` does), so they are read once per store; a batch whose job is not
   * complete has no entry and is looked up again next time.
   */
  const anchoredFacts = new Map<number, AnchoredBatchFacts>();
  /** Batches whose tiles exist on disk (checked or written once per process). */
  const tiled = new Set<number>();
  const factsOf = (batchId: number): AnchoredBatchFacts | undefined => {
    let facts = anchoredFacts.get(batchId);
    if (facts !== undefined) return facts;
    if (!Number.isSafeInteger(batchId) || batchId <= 0) return undefined;
    const batch = db.getSync(k.batch(batchId)) as BatchEntry | undefined;
    if (batch === undefined) return undefined;
    facts = {
      batchId: batch.batchId,
      jobId: batch.jobId,
      chainId: batch.chainId,
      contract: batch.contract,
      root: batch.root,
      recordCount: batch.recordCount,
      txHash: batch.txHash,
      blockNumber: batch.blockNumber,
    };
    anchoredFacts.set(batchId, facts);
    return facts;
  };

  /** A located receipt, assembled; `undefined` while its job is not complete. */
  async function locatedReceipt(
    locator: [number, number],
    code: string,
    options: GetReceiptOptions = {},
  ): Promise<StoredReceipt | undefined> {
    const facts = factsOf(locator[0]);
    if (facts === undefined) return undefined;
    return (await assembler.assemble(facts, locator[1], code, options)) as unknown as StoredReceipt;
  }

  /** Stored receipts first, then located ones (assembled); `undefined` for an unknown code. */
  /**
   * With `indexed` (the codes come from an index of this store), a code with neither a stored
   * receipt nor a locator means a damaged store and throws.
   */
  async function receiptsByCodes(
    codes: readonly string[],
    indexed = false,
  ): Promise<(StoredReceipt | undefined)[]> {
    if (codes.length === 0) return [];
    const out = (await db.getMany(codes.map(k.receipt))).map((v, i) => openReceipt(codes[i]!, v));
    const missing: number[] = [];
    out.forEach((value, i) => value === undefined && missing.push(i));
    if (missing.length === 0) return out;
    const locators = (await db.getMany(missing.map((i) => k.locator(codes[i]!)))) as (
      [number, number] | undefined
    )[];
    for (let j = 0; j < missing.length; j++) {
      const locator = locators[j];
      const i = missing[j]!;
      if (locator === undefined) {
        const t = await tabledBatches();
        const hit = locatorIndex.locate(codes[i]!, t.batches, t.merged);
        if (hit !== undefined) {
          out[i] = await locatedReceipt([hit.batch.batchId, hit.index], codes[i]!);
          continue;
        }
        if (!indexed) continue;
        throw new LedgerStoreError(
          `receipt index points at a missing receipt (#${i}); the store is damaged`,
        );
      }
      out[i] = await locatedReceipt(locator, codes[i]!);
    }
    return out;
  }

  async function receiptsForCodes(codes: string[]): Promise<StoredReceipt[]> {
    const values = await receiptsByCodes(codes, true);
    const out: StoredReceipt[] = [];
    values.forEach((value, i) => {
      if (value === undefined) {
        throw new LedgerStoreError(
          `receipt index points at a missing receipt (#${i}); the store is damaged`,
        );
      }
      out.push(value);
    });
    return out;
  }

  async function getBatch(batchId: number): Promise<BatchEntry | undefined> {
    if (!Number.isSafeInteger(batchId) || batchId <= 0) return undefined;
    return get<BatchEntry>(k.batch(batchId));
  }

  const store: LedgerStore = {
    dataDir: root,
    dataKey,
    dataKeyId,
    batchesDir,

    async getPersonBatch(batchId, key) {
      const facts = factsOf(batchId);
      return facts === undefined ? undefined : assembler.personBatch(facts, key);
    },

    async getPublicBatchFile(batchId, file) {
      const facts = factsOf(batchId);
      if (facts === undefined) return undefined;
      const dir = path.join(batchesDir, facts.jobId);
      if (!tiled.has(batchId)) {
        const artifact = await readBatchArtifact(dir);
        if (artifact?.keys === undefined) return undefined;
        await ensureBatchTiles(artifact);
        tiled.add(batchId);
      }
      return readPublicBatchFile(dir, file);
    },

    async getReceiptByCode(code, options) {
      if (typeof code !== "string" || code.length === 0 || code.length > 200) return undefined;
      // Point reads with getSync: from LevelDB's cache they take microseconds, where an async
      // get costs a thread-pool round trip (the API's receipt route is this call).
      const stored = openReceipt(code, db.getSync(k.receipt(code)));
      if (stored !== undefined) return stored;
      const locator = db.getSync(k.locator(code)) as [number, number] | undefined;
      const t = await tabledBatches();
      // A batch published since its LevelDB locators has tables: they answer, as the readers'.
      if (locator !== undefined && !t.ids.has(locator[0]))
        return locatedReceipt(locator, code, options);
      const hit = locatorIndex.locate(code, t.batches, t.merged);
      return hit === undefined
        ? undefined
        : locatedReceipt([hit.batch.batchId, hit.index], code, options);
    },

    async listReceiptsBySubject(pseudonym) {
      const prefix = `subject${SEP}${pseudonym.toLowerCase()}${SEP}`;
      const t = await tabledBatches();
      const codes: string[] = [];
      // Keys of batches published since (now with tables) are left to the tables.
      for await (const [key, value] of db.iterator({ gt: prefix, lt: upper(prefix) }))
        if (!t.ids.has(Number(key.slice(prefix.length, prefix.length + BATCH_WIDTH))))
          codes.push(value as string);
      // A located receipt whose job is not complete yet is not listed (as by code).
      const out = (await receiptsByCodes(codes, true)).filter((r) => r !== undefined);
      // Batches with tables come after every batch indexed in LevelDB (they are newer).
      for (const hit of locatorIndex.subjectLines(pseudonym, t.batches, t.merged))
        out.push((await assembler.assemble(hit.batch, hit.index)) as unknown as StoredReceipt);
      return out;
    },

    async listReceiptsOfBatch(batchId, options = {}) {
      const batch = await getBatch(batchId);
      if (batch?.receipts === "on-demand") {
        const from = options.after === undefined ? 0 : Math.max(0, options.after + 1);
        const limit = options.limit ?? -1;
        const to = limit < 0 ? batch.recordCount : Math.min(batch.recordCount, from + limit);
        const out: StoredReceipt[] = [];
        for (let i = from; i < to; i++)
          out.push((await assembler.assemble(batch, i)) as unknown as StoredReceipt);
        return out;
      }
      const prefix = `breceipt${SEP}${pad(batchId, BATCH_WIDTH)}${SEP}`;
      const range =
        options.after === undefined
          ? { gt: prefix, lt: upper(prefix) }
          : { gt: k.batchReceipt(batchId, options.after), lt: upper(prefix) };
      const codes: string[] = [];
      for await (const value of db.values({ ...range, limit: options.limit ?? -1 })) {
        codes.push(value as string);
      }
      return receiptsForCodes(codes);
    },

    async *iterateReceiptCodesOfBatch(batchId) {
      const batch = await getBatch(batchId);
      if (batch?.receipts === "on-demand") {
        const artifact = await readBatchArtifact(path.join(batchesDir, batch.jobId), { dataKey });
        if (artifact === undefined) {
          throw new LedgerStoreError(
            `the artifact of batch ${batchId} is missing from ${batchesDir}`,
          );
        }
        for (const chunk of artifact.recordKeys())
          for (let i = 0; i < chunk.codes.length; i++)
            yield { index: chunk.first + i, code: chunk.codes[i]! };
        return;
      }
      const prefix = `breceipt${SEP}${pad(batchId, BATCH_WIDTH)}${SEP}`;
      for await (const [key, value] of db.iterator({ gt: prefix, lt: upper(prefix) })) {
        yield { index: Number(key.slice(prefix.length)), code: value as string };
      }
    },

    async getBatchArtifact(batchId) {
      const batch = await getBatch(batchId);
      if (batch === undefined) return undefined;
      return readBatchArtifact(path.join(batchesDir, batch.jobId), { dataKey });
    },

    async getManifestByHash(manifestHash) {
      if (!/^0x[0-9a-fA-F]{64}$/.test(manifestHash)) return undefined;
      const batchId = await get<number>(k.manifest(manifestHash));
      if (batchId === undefined) return undefined;
      const artifact = await store.getBatchArtifact(batchId);
      if (artifact === undefined) return undefined;
      return { batchId, bytes: artifact.manifestBytes, manifest: artifact.manifest };
    },

    async hasRecordId(kind, period, recordId) {
      return (await get<RecordIdEntry>(k.record(kind, period, recordId))) !== undefined;
    },

    async getRecordIds(kind, period, recordIds) {
      if (recordIds.length === 0) return [];
      return (await db.getMany(recordIds.map((id) => k.record(kind, period, id)))) as (
        RecordIdEntry | undefined
      )[];
    },

    getBatch,

    async listBatches() {
      const out: BatchEntry[] = [];
      for await (const value of db.values({ gt: `batch${SEP}`, lt: upper(`batch${SEP}`) })) {
        out.push(value as BatchEntry);
      }
      return out;
    },

    async getChainBinding() {
      return get<ChainBinding>(k.meta);
    },

    async bindChain(binding) {
      const current = await get<ChainBinding>(k.meta);
      const wanted: ChainBinding = {
        chainId: binding.chainId,
        contract: binding.contract.toLowerCase(),
        ...(binding.genesisHash === undefined
          ? {}
          : { genesisHash: binding.genesisHash.toLowerCase() }),
      };
      if (current === undefined) {
        await db.put(k.meta, wanted, DURABLE);
        return;
      }
      if (
        current.chainId !== wanted.chainId ||
        current.contract !== wanted.contract ||
        (current.genesisHash !== undefined &&
          wanted.genesisHash !== undefined &&
          current.genesisHash !== wanted.genesisHash)
      ) {
        throw new LedgerStoreError(
          `this data directory (${root}) belongs to contract ${current.contract} on chain ${current.chainId}` +
            `${current.genesisHash === undefined ? "" : ` (genesis ${current.genesisHash})`}, ` +
            `not ${wanted.contract} on chain ${wanted.chainId}` +
            `${wanted.genesisHash === undefined ? "" : ` (genesis ${wanted.genesisHash})`}; use another --data-dir`,
        );
      }
      if (current.genesisHash === undefined && wanted.genesisHash !== undefined)
        await db.put(k.meta, { ...current, genesisHash: wanted.genesisHash }, DURABLE);
    },

    async getJob(jobId) {
      return get<JobRecord>(k.job(jobId));
    },

    async listJobs() {
      const out: JobRecord[] = [];
      for await (const value of db.values({ gt: `job${SEP}`, lt: upper(`job${SEP}`) })) {
        out.push(value as JobRecord);
      }
      return out;
    },

    async putJob(job) {
      await db.put(k.job(job.jobId), job, DURABLE);
    },

    async writeReceiptLocators(batch, locators, options = {}) {
      if (locators.length === 0) return;
      const ops: { type: "put"; key: string; value: unknown }[] = [];
      for (const r of locators) {
        ops.push({ type: "put", key: k.locator(r.code), value: [batch.batchId, r.index] });
        ops.push({ type: "put", key: k.subject(r.subject, batch.batchId, r.index), value: r.code });
        ops.push({
          type: "put",
          key: k.record(batch.kind, batch.period, r.recordId),
          value: { batchId: batch.batchId, code: r.code } satisfies RecordIdEntry,
        });
      }
      await db.batch(ops, options.sync === true ? DURABLE : {});
    },

    async writeRecordIds(batch, records) {
      if (records.length === 0) return;
      await db.batch(
        records.map((r) => ({
          type: "put" as const,
          key: k.record(batch.kind, batch.period, r.recordId),
          value: { batchId: batch.batchId } satisfies RecordIdEntry,
        })),
      );
    },

    async publish() {
      const binding = await get<ChainBinding>(k.meta);
      const result: PublishResult = { published: 0, migrated: [], skipped: [] };
      const listed: PublishedBatch[] = [];
      const all = await store.listBatches();
      for (const batch of all) {
        const dir = path.join(batchesDir, batch.jobId);
        if (batch.locators !== "files" || !hasBatchLocators(dir)) {
          const artifact = await readBatchArtifact(dir, { dataKey });
          if (artifact === undefined) {
            result.skipped.push(batch.batchId);
            continue;
          }
          if (artifact.keys !== undefined) await ensureBatchTiles(artifact);
          await writeBatchLocators(artifact, requireKey());
          if (batch.locators !== "files")
            await db.put(k.batch(batch.batchId), { ...batch, locators: "files" }, DURABLE);
          result.migrated.push(batch.batchId);
        }
        listed.push(publishedOf(batch));
      }
      tabled = undefined;
      const chain = binding ?? all[0];
      if (chain === undefined) return result; // nothing anchored, no chain: nothing to publish
      // Merged locator tables (locator-merges.ts): written before the list that names them.
      const previous = await readPublishedBatches(root).catch(() => undefined);
      const same =
        previous?.chainId === chain.chainId && previous.contract === chain.contract.toLowerCase();
      const mergeParams = {
        dataDir: root,
        dataKey,
        sealed: dataKeyId !== undefined,
        listed,
        previous: same ? previous : undefined,
      };
      let merges;
      try {
        merges = await updateLocatorMerges(mergeParams);
      } catch (error) {
        // A merge that fails (a damaged batch table) never holds back the batches' publication:
        // the list keeps the ranges still valid, and the next publish merges again.
        result.mergeError = error as Error;
        merges = await updateLocatorMerges({ ...mergeParams, write: false });
      }
      const list: PublishedBatches = {
        format: PUBLISHED_FORMAT,
        chainId: chain.chainId,
        contract: chain.contract.toLowerCase(),
        batches: listed,
        merged: merges.merged,
      };
      await writePublishedBatches(root, list);
      // The next lookup uses the ranges just named (before any file the list stopped naming goes).
      published = list;
      tabled = undefined;
      await removeRetiredLocatorFiles(root, previous?.merged ?? [], merges.merged, {
        sealed: dataKeyId !== undefined,
      });
      result.published = listed.length;
      result.merged = merges.written.map((m) => [m.first, m.last]);
      return result;
    },

    async writeReceipts(batch, receipts, options = {}) {
      if (receipts.length === 0) return;
      const ops: { type: "put"; key: string; value: unknown }[] = [];
      for (const r of receipts) {
        ops.push({
          type: "put",
          key: k.receipt(r.code),
          value: dataKey === undefined ? r.receipt : sealReceipt(r.code, r.receipt, dataKey),
        });
        ops.push({ type: "put", key: k.batchReceipt(batch.batchId, r.index), value: r.code });
        ops.push({ type: "put", key: k.subject(r.subject, batch.batchId, r.index), value: r.code });
        ops.push({
          type: "put",
          key: k.record(batch.kind, batch.period, r.recordId),
          value: { batchId: batch.batchId, code: r.code } satisfies RecordIdEntry,
        });
      }
      await db.batch(ops, options.sync === true ? DURABLE : {});
    },

    async sealStoredReceipts() {
      const key = dataKey;
      if (key === undefined)
        throw new PrivateFileError(`${root}: sealing the stored receipts needs the data key`, {
          details: "give --data-key FILE (the keystore made by `shafaf keys new-data`)",
          code: "store.private.no-key",
        });
      const prefix = k.receipt("");
      let ops: { type: "put"; key: string; value: unknown }[] = [];
      let sealed = 0;
      const flush = async (): Promise<void> => {
        if (ops.length > 0) await db.batch(ops, DURABLE);
        sealed += ops.length;
        ops = [];
      };
      for await (const [key_, value] of db.iterator({ gt: prefix, lt: upper(prefix) })) {
        if ((value as Partial<SealedValue>).format === SEALED_VALUE_FORMAT) continue;
        const code = key_.slice(prefix.length);
        ops.push({ type: "put", key: key_, value: sealReceipt(code, value as StoredReceipt, key) });
        if (ops.length >= 1000) await flush();
      }
      await flush();
      // LevelDB keeps overwritten values until they are compacted: compact the range now.
      if (sealed > 0)
        await (db as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange(
          prefix,
          upper(prefix),
        );
      return sealed;
    },

    async completeJob(job, batch) {
      const held = await getBatch(batch.batchId);
      if (held !== undefined && (held.jobId !== batch.jobId || held.root !== batch.root)) {
        // A batch id is never reused: another history of the chain numbers from 1 again.
        throw new LedgerStoreError(
          `batch ${batch.batchId} of this data directory is job ${held.jobId}, not ${batch.jobId}; ` +
            "the chain's history differs from the one this data directory was built on",
        );
      }
      const ops: { type: "put"; key: string; value: unknown }[] = [
        { type: "put", key: k.batch(batch.batchId), value: batch },
        { type: "put", key: k.manifest(batch.manifestHash), value: batch.batchId },
        { type: "put", key: k.job(job.jobId), value: job },
      ];
      if (batch.supersedes !== null) {
        const old = await getBatch(batch.supersedes);
        if (old !== undefined) {
          ops.push({
            type: "put",
            key: k.batch(old.batchId),
            value: { ...old, supersededBy: batch.batchId },
          });
        }
      }
      await db.batch(ops, DURABLE);
      tabled = undefined;
    },

    lookupStats: () => ({ ...assembler.stats(), ...locatorIndex.stats() }),

    async close() {
      locatorIndex.close();
      assembler.close();
      await db.close();
    },
  };
  /** The data key new files are sealed with; refuses plain writes into a bound directory. */
  function requireKey(): DataKey | undefined {
    if (dataKeyId !== undefined && dataKey === undefined)
      throw new PrivateFileError(`${root}: writing locator tables needs the data key`, {
        details: "give --data-key FILE (the keystore made by `shafaf keys new-data`)",
        code: "store.private.no-key",
      });
    return dataKey;
  }
  return store;
}

/** The batches whose locators are tables, the list's ranges that hold for them, their ids. */
interface TabledView {
  batches: BatchEntry[];
  merged: LocatorMerge[];
  ids: ReadonlySet<number>;
}

/** A batch entry as the published list carries it. */
function publishedOf(b: BatchEntry): PublishedBatch {
  return {
    batchId: b.batchId,
    jobId: b.jobId,
    kind: b.kind,
    period: b.period,
    root: b.root.toLowerCase(),
    manifestHash: b.manifestHash.toLowerCase(),
    recordCount: b.recordCount,
    total: b.total,
    supersedes: b.supersedes,
    supersededBy: b.supersededBy,
    txHash: b.txHash.toLowerCase(),
    blockNumber: b.blockNumber,
    blockHash: b.blockHash.toLowerCase(),
    anchoredAt: b.anchoredAt,
    ...(b.scheme === undefined ? {} : { scheme: b.scheme }),
  };
}
