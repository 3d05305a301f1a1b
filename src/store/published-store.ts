/**
 * `shafaf serve`'s read side of a data directory: receipts, person proofs and public batch files
 * answered from the immutable files the anchor pipeline published (`published-batches.ts`,
 * `batch-locators.ts`, the artifacts and their tiles), never from the writer's LevelDB. Any number
 * of processes may hold one open on the same data directory while `shafaf anchor` writes to it.
 *
 * New batches are picked up without a restart: the list file is `stat`ed at most once per
 * `refreshMs` (and on a receipt code not found, at most once per {@link MISS_REFRESH_MS}) and read
 * again only when it was replaced (another inode, size or mtime). A list that cannot be read
 * after the first keeps the last good one in use (`lastError` says why).
 */
import { statSync, readFileSync, existsSync } from "node:fs";
import path from "node:path";
import { readPublicBatchFile } from "./batch-tiles.ts";
import {
  createLocatorIndex,
  type LocatorDamage,
  type LocatorIndexStats,
} from "./batch-locators.ts";
import type { StoredReceipt, GetReceiptOptions } from "./ledger-store.ts";
import {
  parsePublishedBatches,
  PUBLISHED_FILE,
  type LocatorMerge,
  type PublishedBatch,
  type PublishedBatches,
} from "./published-batches.ts";
import { bindDataKey, requireDataKey, type DataKey } from "./private-store.ts";
import {
  createReceiptAssembler,
  type AnchoredBatchFacts,
  type AssemblerStats,
  type PersonBatchMaterial,
} from "./receipt-assembler.ts";

/** How soon after a miss the list is looked at again (a burst of unknown codes costs one stat). */
export const MISS_REFRESH_MS = 100;

export interface PublishedStore {
  readonly dataDir: string;
  readonly dataKeyId: string | undefined;
  getReceiptByCode(code: string, options?: GetReceiptOptions): Promise<StoredReceipt | undefined>;
  listReceiptsBySubject(pseudonym: string): Promise<StoredReceipt[]>;
  getPersonBatch(batchId: number, key: Uint8Array): Promise<PersonBatchMaterial | undefined>;
  getPublicBatchFile(batchId: number, file: string): Promise<Uint8Array | undefined>;
  /** The batches published as last read (looks at the list first). */
  batches(): readonly PublishedBatch[];
  /** Why the last reading of the list failed (the previous list stays in use), else undefined. */
  readonly lastError: Error | undefined;
  /** Counters of the lookups so far, by path taken (a test's and an operator's view). */
  lookupStats(): PublishedLookupStats;
  /**
   * The locator tables looked in so far (merged ranges' and batches'), and the merged tables
   * found damaged, whose ranges are read from the batches' own tables.
   */
  locatorStats(): LocatorIndexStats;
  close(): Promise<void>;
}

/**
 * The assembler's counters and the code lookups': a code found in the locator tables is the fast
 * path; `missRefreshes` counts codes the tables did not have, which made the store look at the
 * list again (a burst of unknown codes, or a batch published since).
 */
export interface PublishedLookupStats extends AssemblerStats {
  codesLocated: number;
  codesNotFound: number;
  missRefreshes: number;
}

export interface OpenPublishedStoreOptions {
  dataKey?: DataKey | undefined;
  /** Minimum time between two looks at the list (default 1,000 ms). */
  refreshMs?: number;
  receiptCacheBytes?: number;
  /**
   * Told once per merged locator table a lookup finds damaged (default: one line on stderr). The
   * lookups of its range answer from the batches' own tables until a publish merges it again.
   */
  onLocatorDamage?: (damage: LocatorDamage) => void;
}

/**
 * Opens the published side of `dataDir` (nothing is written). A directory with no list yet serves
 * no receipt until the anchor publishes one.
 *
 * @throws {PrivateFileError} `store.private.no-key` / `wrong-key` for an encrypted directory
 * without its key; {PublishedListError} for a damaged list at open.
 * @example
 * const store = await openPublishedStore(".shafaf", { dataKey });
 * const receipt = await store.getReceiptByCode(code);
 */
export async function openPublishedStore(
  dataDir: string,
  options: OpenPublishedStoreOptions = {},
): Promise<PublishedStore> {
  const root = path.resolve(dataDir);
  const bound = await bindDataKey(root, undefined);
  const dataKey = requireDataKey(root, bound, options.dataKey);
  if (bound !== undefined) await bindDataKey(root, dataKey); // wrong-key by name; writes nothing
  const batchesDir = path.join(root, "batches");
  const listFile = path.join(root, PUBLISHED_FILE);
  const refreshMs = options.refreshMs ?? 1000;
  const assembler = createReceiptAssembler({
    batchesDir,
    dataKey,
    ...(options.receiptCacheBytes === undefined ? {} : { cacheBytes: options.receiptCacheBytes }),
  });
  const locators = createLocatorIndex({
    batchesDir,
    dataKey,
    allowPlain: bound === undefined,
    ...(options.onLocatorDamage === undefined ? {} : { onDamage: options.onLocatorDamage }),
  });

  let list: PublishedBatches | undefined;
  let facts: (AnchoredBatchFacts & PublishedBatch)[] = [];
  let byId = new Map<number, AnchoredBatchFacts & PublishedBatch>();
  let merged: LocatorMerge[] = [];
  let signature = "";
  let checkedAt = -Infinity;
  let lastError: Error | undefined;
  const codes = { codesLocated: 0, codesNotFound: 0, missRefreshes: 0 };

  const look = (): void => {
    checkedAt = performance.now();
    let sig: string;
    try {
      const s = statSync(listFile, { bigint: true });
      sig = `${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw error;
      sig = "none";
    }
    if (sig === signature) return;
    if (sig === "none") {
      signature = sig;
      return; // a list is never removed by the writer: keep what was read
    }
    try {
      const next = parsePublishedBatches(readFileSync(listFile, "utf8"), listFile);
      const nextFacts = next.batches.map((b) => ({
        ...b,
        chainId: next.chainId,
        contract: next.contract,
      }));
      // The list's merged tables are held open from now on (docs/spec/locator-merge-v1.md).
      locators.prepare(nextFacts, next.merged ?? []);
      list = next;
      facts = nextFacts;
      merged = next.merged ?? [];
      byId = new Map(facts.map((b) => [b.batchId, b]));
      locators.retain(new Set(byId.keys()));
      signature = sig;
      lastError = undefined;
    } catch (error) {
      if (list === undefined) throw error;
      lastError = error as Error;
    }
  };
  const fresh = (within: number): void => {
    if (performance.now() - checkedAt >= within) look();
  };
  look();

  const assemble = async (
    batch: AnchoredBatchFacts,
    index: number,
    code?: string,
    opts: GetReceiptOptions = {},
  ): Promise<StoredReceipt> =>
    (await assembler.assemble(batch, index, code, opts)) as unknown as StoredReceipt;

  return {
    dataDir: root,
    dataKeyId: bound,
    get lastError() {
      return lastError;
    },
    batches() {
      fresh(refreshMs);
      return list?.batches ?? [];
    },
    async getReceiptByCode(code, opts) {
      if (typeof code !== "string" || code.length === 0 || code.length > 200) return undefined;
      fresh(refreshMs);
      let hit = locators.locate(code, facts, merged);
      if (hit === undefined) {
        const before = signature;
        const looked = checkedAt;
        fresh(MISS_REFRESH_MS);
        if (checkedAt !== looked) codes.missRefreshes++;
        if (signature !== before) hit = locators.locate(code, facts, merged);
      }
      if (hit === undefined) codes.codesNotFound++;
      else codes.codesLocated++;
      return hit === undefined ? undefined : assemble(hit.batch, hit.index, code, opts);
    },
    async listReceiptsBySubject(pseudonym) {
      fresh(refreshMs);
      const out: StoredReceipt[] = [];
      for (const hit of locators.subjectLines(pseudonym, facts, merged))
        out.push(await assemble(hit.batch, hit.index));
      return out;
    },
    async getPersonBatch(batchId, key) {
      fresh(refreshMs);
      const batch = byId.get(batchId);
      return batch === undefined ? undefined : assembler.personBatch(batch, key);
    },
    async getPublicBatchFile(batchId, file) {
      fresh(refreshMs);
      const batch = byId.get(batchId);
      if (batch?.scheme !== "shafaf-tree/2") return undefined;
      return readPublicBatchFile(path.join(batchesDir, batch.jobId), file);
    },
    lookupStats: () => ({ ...assembler.stats(), ...codes }),
    locatorStats: () => locators.stats(),
    close() {
      locators.close();
      assembler.close();
      return Promise.resolve();
    },
  };
}

/** Whether `dataDir` holds a ledger store but no published list (a directory never published). */
export function needsPublishing(dataDir: string): boolean {
  return (
    existsSync(path.join(dataDir, "ledger")) && !existsSync(path.join(dataDir, PUBLISHED_FILE))
  );
}
