/**
 * The indexer's LevelDB (`<data-dir>/index/`): views rebuilt from the ledger contract's events,
 * read by the API through {@link IndexStore} and written by `src/indexer` through
 * {@link WritableIndexStore}.
 *
 * Layout (sublevels, utf8 keys, JSON values, format {@link INDEX_STORE_FORMAT}):
 * - `meta`      `format`, `chain` (set once), `cursor` (last indexed block), `log` (batch count,
 *               recomputed head, paused, head check), `status` (chain head seen at the last sync)
 * - `batches`   16 hex digits of the batch id → {@link BatchView}
 * - `periods`   `YYYYMM!k` (k = kind number) → {@link PeriodStat}
 * - `provinces` `YYYYMM!k!IR-xx` → {@link ProvinceStat}
 * - `events`    16 hex digits block number `!` 8 hex digits log index → {@link ChainEvent}
 * - `roles`     `<role hash>!<account>` → {@link RoleMember}
 * - `vrfKeys`   16 hex digits of the key's registration index → {@link VrfKeyView}
 * - `blocks`    16 hex digits block number → {@link BlockRecord} (recent blocks with undo records)
 *
 * Invariants: keys are fixed-width so that iteration order is chain order; every write of the
 * indexer goes through {@link WritableIndexStore.commit} as ONE atomic batch carrying, per block,
 * the previous value of every key it changed, so that {@link WritableIndexStore.rollbackTo}
 * restores exactly the state before that block (again in one atomic batch).
 */
import { Level } from "level";
import { ShafafError } from "../core/errors.ts";
import { KIND_NUMBER } from "../core/record.ts";
import type { AnchoredBatch, BatchStatus, Kind, ManifestSummary } from "../core/public-views.ts";

/** Version of the on-disk layout; a store written by another version is refused. */
export const INDEX_STORE_FORMAT = "shafaf-index/1";

export type { Attestation, BatchStatus } from "../core/public-views.ts";
export type BatchKind = Kind;

export interface Breakdown {
  count: number;
  total: string;
}

export type ManifestView = ManifestSummary<Breakdown>;

/** A batch as indexed: the ledger's facts plus the manifest check and the v2 lanes. */
export interface BatchView extends AnchoredBatch {
  manifest: ManifestView;
  /**
   * Present on `shafaf-tree/2` batches (BatchAnchoredV2) only; a batch without it is
   * `shafaf-tree/1`. Absent rather than defaulted so that v1 entries keep their exact bytes.
   */
  scheme?: "shafaf-tree/2";
  /**
   * v2: the root's six lanes as anchored, decimal strings, in lane order (tree-v2.md §4):
   * records, persons, then premium insurableWage, days, premium, 0 / pension gross, deductions,
   * net, onTime. `recordCount` is lane 0 and `total` lane 4 (premium total / net pension).
   */
  totals?: string[];
}

/** A VRF public key registered on the ledger (VrfKeyRegistered); public data. */
export interface VrfKeyView {
  /** keccak256(publicKey). */
  keyId: string;
  /** bytes32, 0x-hex (RFC 8032 encoding). */
  publicKey: string;
  /** Registration order, 0, 1, …; the highest is the current key. */
  index: number;
  registrar: string;
  registeredAtBlock: number;
  /** Block timestamp, unix seconds. */
  registeredAt: number;
  txHash: string;
}

/** Totals of the current (not superseded) batches of one period and kind. */
export interface PeriodStat {
  period: string;
  kind: BatchKind;
  batches: number;
  recordCount: number;
  total: string;
  /** Σ `people` of verified manifests that state it (absent when none does). */
  people?: number;
  onTime?: number;
  late?: number;
  /** Current batches that correct an earlier one. */
  corrections: number;
}

/** Provincial totals of the current batches whose manifest hash matched the chain. */
export interface ProvinceStat {
  period: string;
  kind: BatchKind;
  province: string;
  count: number;
  total: string;
}

export interface HeadCheck {
  /** `pending` until a head has been compared; `mismatch` is an alarm. */
  status: "ok" | "mismatch" | "pending";
  /** The contract's head() at `atBlock` (null when it could not be read). */
  onChain: string | null;
  /** The head recomputed from the BatchAnchored events indexed up to `atBlock`. */
  recomputed: string;
  atBlock: number | null;
  /** Why the check failed, for the alarm (no personal data ever reaches here). */
  detail?: string;
}

export interface ChainInfo {
  chainId: number;
  contract: string;
  genesisHash: string;
  deployBlock: number;
  lastIndexedBlock: number;
  lastIndexedHash: string;
  /** The chain's head block at the indexer's last sync. */
  headBlock: number;
  confirmations: number;
  batchCount: number;
  paused: boolean;
  headCheck: HeadCheck;
}

/** A governance or pause event. */
export interface ChainEvent {
  type:
    | "RoleGranted"
    | "RoleRevoked"
    | "RoleAdminChanged"
    | "Paused"
    | "Unpaused"
    | "DefaultAdminTransferScheduled"
    | "DefaultAdminTransferCanceled"
    | "DefaultAdminDelayChangeScheduled"
    | "DefaultAdminDelayChangeCanceled"
    | "LogCheckpointRecorded"
    | "TrustPolicySet";
  blockNumber: number;
  logIndex: number;
  txHash: string;
  args: Record<string, string | number | null>;
}

export interface RoleMember {
  role: string;
  /** `ANCHORER_ROLE`, … when the hash is a known role, else null. */
  roleName: string | null;
  account: string;
  grantedAtBlock: number;
}

export interface ListBatchesOptions {
  kind?: BatchKind;
  /** Inclusive, "1403-01". */
  fromPeriod?: string;
  /** Inclusive, "1403-12". */
  toPeriod?: string;
  status?: BatchStatus;
  /** Opaque, from a previous page's `nextCursor`. */
  cursor?: string;
  /** 1..1000. */
  limit: number;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/** The read side: what the API uses. Every method reads one consistent state. */
export interface IndexStore {
  /** undefined before the indexer has written anything. */
  getChainInfo(): Promise<ChainInfo | undefined>;
  /** Newest first. */
  listBatches(options: ListBatchesOptions): Promise<Page<BatchView>>;
  getBatch(batchId: number): Promise<BatchView | undefined>;
  /** Periods ascending then kind; provinces by period, kind, province. */
  getStats(): Promise<{ periods: PeriodStat[]; provinces: ProvinceStat[] }>;
  /** Newest first. */
  listEvents(options: { cursor?: string; limit: number }): Promise<Page<ChainEvent>>;
  /** Current holders of each role, by role then account. */
  listRoleMembers(): Promise<RoleMember[]>;
  /** Registered VRF keys, in registration order (the last is the current key). */
  listVrfKeys(): Promise<VrfKeyView[]>;
  close(): Promise<void>;
}

/** Chain and contract this store indexes; written once, never changed (`--reindex` clears it). */
export interface ChainSetup {
  chainId: number;
  contract: string;
  genesisHash: string;
  deployBlock: number;
  confirmations: number;
}

export interface BlockRef {
  number: number;
  hash: string;
}

export interface LogState {
  batchCount: number;
  /** Log head recomputed from BatchAnchored and BatchAnchoredV2 events (head_0 = 0x00…00). */
  recomputedHead: string;
  paused: boolean;
  headCheck: HeadCheck;
}

export type ViewName =
  "batches" | "periods" | "provinces" | "events" | "roles" | "vrfKeys" | "meta";

/** A value a view key held before a block changed it (null: absent). */
export type UndoEntry = [view: ViewName, key: string, previous: unknown];

export interface BlockRecord {
  number: number;
  hash: string;
  parentHash: string;
  /** Previous values of every key this block changed, in the order first touched. */
  undo: UndoEntry[];
}

/**
 * Accumulates the writes of a range of blocks. Reads see the pending writes. Writes belong to
 * the block last passed to `at()`; blocks MUST be entered in ascending order.
 *
 * Values are held as objects until the commit (each written key is serialized once), and they
 * are frozen (`Object.freeze`, one level deep): a value given to `put` can no longer be changed
 * (a change throws), and `get` returns a frozen value, so to change one build a new object
 * (`{ ...value, field }`) and `put` it. That is what lets the undo records and later reads share
 * the objects without copying them; nested objects and arrays MUST NOT be changed either.
 */
export interface IndexWriteTx {
  at(block: BlockRef & { parentHash: string }): void;
  get<T>(view: ViewName, key: string): Promise<T | undefined>;
  /** `get` without a promise (the indexer reads a few keys per event). */
  peek<T>(view: ViewName, key: string): T | undefined;
  put(view: ViewName, key: string, value: unknown): void;
  del(view: ViewName, key: string): void;
}

export interface BeginOptions {
  /**
   * Blocks below this number get no undo records (the commit's `keepFrom` drops them anyway):
   * a long catch-up copies no previous values for blocks it cannot roll back. Default: every block.
   */
  keepFrom?: number;
}

export interface WritableIndexStore extends IndexStore {
  readSetup(): Promise<ChainSetup | undefined>;
  /** Writes the chain setup of an empty store. */
  initialize(setup: ChainSetup): Promise<void>;
  readCursor(): Promise<BlockRef | undefined>;
  readLogState(): Promise<LogState>;
  /** Recent block records, newest first. */
  listBlocks(): Promise<BlockRecord[]>;
  begin(options?: BeginOptions): IndexWriteTx;
  /**
   * Writes `tx` atomically, with its block records and undo entries, moves the cursor to
   * `cursor`, and deletes block records below `keepFrom` (they can no longer be rolled back).
   */
  commit(tx: IndexWriteTx, options: { cursor: BlockRef; keepFrom: number }): Promise<void>;
  /** Undoes every recorded block above `ancestor` in one atomic batch; returns how many. */
  rollbackTo(ancestor: BlockRef): Promise<number>;
  /** Records the chain head seen at a sync (not part of the views; no undo). */
  setHeadBlock(headBlock: number): Promise<void>;
  /** Deletes everything (for `--reindex`). */
  clear(): Promise<void>;
  /** Every key and value as stored, in key order (tests compare reindexes byte for byte). */
  dump(): Promise<Array<[string, string]>>;
}

const VIEWS = ["batches", "periods", "provinces", "events", "roles", "vrfKeys", "meta"] as const;
const EMPTY_HEAD = "0x" + "00".repeat(32);

/** Fixed-width key of a non-negative integer < 2^64 (16 hex digits). */
export function hexKey(n: number | bigint): string {
  // a safe integer formats without a BigInt (several keys per indexed event)
  return (Number.isSafeInteger(n) ? (n as number) : BigInt(n)).toString(16).padStart(16, "0");
}

/** `"1403-07"` → `"140307"`; undefined for anything else. */
export function periodKey(period: string): string | undefined {
  const m = /^(\d{4})-(\d{2})$/.exec(period);
  return m === null ? undefined : `${m[1]}${m[2]}`;
}

export function kindNumber(kind: BatchKind): 0 | 1 {
  return KIND_NUMBER[kind] as 0 | 1;
}

/** Thrown for a store that cannot be used as it is (wrong format, bad arguments). */
export class IndexStoreError extends ShafafError {
  override name = "IndexStoreError";
  constructor(shortMessage: string, details?: string) {
    super(shortMessage, {
      code: "store.index",
      ...(details === undefined ? {} : { details }),
    });
  }
}

type Sub = ReturnType<Level<string, unknown>["sublevel"]>;
type RawOp = { type: "put"; key: string; value: string } | { type: "del"; key: string };
type BatchOp =
  | { type: "put"; sublevel: Sub; key: string; value: unknown; valueEncoding?: "utf8" }
  | { type: "del"; sublevel: Sub; key: string };

/**
 * Opens (creating if needed) the index store in `dir`.
 *
 * @example
 * const store = await openIndexStore(".shafaf/index");
 * const { items } = await store.listBatches({ limit: 20 });
 * await store.close();
 */
export async function openIndexStore(dir: string): Promise<WritableIndexStore> {
  const db = new Level<string, unknown>(dir, { valueEncoding: "json" });
  await db.open();
  const subs = Object.fromEntries(
    [...VIEWS, "blocks"].map((name) => [
      name,
      db.sublevel<string, unknown>(name, { valueEncoding: "json" }),
    ]),
  ) as Record<ViewName | "blocks", Sub>;

  const format = await subs.meta.get("format");
  if (format === undefined) {
    await subs.meta.put("format", INDEX_STORE_FORMAT);
  } else if (format !== INDEX_STORE_FORMAT) {
    await db.close();
    throw new IndexStoreError(
      `${dir} holds index format ${JSON.stringify(format)}; this program reads ${INDEX_STORE_FORMAT}`,
      "Rebuild the index from the chain with `shafaf index --reindex …`.",
    );
  }

  async function withSnapshot<T>(
    read: (snapshot: ReturnType<typeof db.snapshot>) => Promise<T>,
  ): Promise<T> {
    const snapshot = db.snapshot();
    try {
      return await read(snapshot);
    } finally {
      await snapshot.close();
    }
  }

  const store: WritableIndexStore = {
    async getChainInfo() {
      return withSnapshot(async (snapshot) => {
        const [chain, cursor, log, status] = (await subs.meta.getMany(
          ["chain", "cursor", "log", "status"],
          { snapshot },
        )) as [
          ChainSetup | undefined,
          BlockRef | undefined,
          LogState | undefined,
          { headBlock: number } | undefined,
        ];
        if (chain === undefined) return undefined;
        const logState = log ?? initialLogState();
        return {
          chainId: chain.chainId,
          contract: chain.contract,
          genesisHash: chain.genesisHash,
          deployBlock: chain.deployBlock,
          lastIndexedBlock: cursor?.number ?? chain.deployBlock - 1,
          lastIndexedHash: cursor?.hash ?? EMPTY_HEAD,
          headBlock: status?.headBlock ?? cursor?.number ?? 0,
          confirmations: chain.confirmations,
          batchCount: logState.batchCount,
          paused: logState.paused,
          headCheck: logState.headCheck,
        };
      });
    },

    async listBatches(options) {
      const limit = checkLimit(options.limit);
      const from = options.fromPeriod === undefined ? undefined : checkPeriod(options.fromPeriod);
      const to = options.toPeriod === undefined ? undefined : checkPeriod(options.toPeriod);
      const range: { reverse: true; lt?: string } = { reverse: true };
      if (options.cursor !== undefined) range.lt = hexKey(parseCursor(options.cursor));
      const items: BatchView[] = [];
      let nextCursor: string | undefined;
      for await (const value of subs.batches.values(range)) {
        const batch = value as BatchView;
        if (options.kind !== undefined && batch.kind !== options.kind) continue;
        if (options.status !== undefined && batch.status !== options.status) continue;
        const p = periodKey(batch.period) ?? "";
        if (from !== undefined && p < from) continue;
        if (to !== undefined && p > to) continue;
        if (items.length === limit) {
          nextCursor = String(items[items.length - 1]!.batchId);
          break;
        }
        items.push(batch);
      }
      return nextCursor === undefined ? { items } : { items, nextCursor };
    },

    getBatch(batchId) {
      if (!Number.isSafeInteger(batchId) || batchId < 1) return Promise.resolve(undefined);
      // A point read with getSync: from LevelDB's cache it takes microseconds where an async get
      // costs a thread-pool round trip (every receipt lookup reads its batch here).
      return new Promise((resolve) =>
        resolve(subs.batches.getSync(hexKey(batchId)) as BatchView | undefined),
      );
    },

    async getStats() {
      return withSnapshot(async (snapshot) => ({
        periods: (await subs.periods.values({ snapshot }).all()) as PeriodStat[],
        provinces: (await subs.provinces.values({ snapshot }).all()) as ProvinceStat[],
      }));
    },

    async listEvents(options) {
      const limit = checkLimit(options.limit);
      const range: { reverse: true; lt?: string } = { reverse: true };
      if (options.cursor !== undefined) {
        if (!/^[0-9a-f]{16}![0-9a-f]{8}$/.test(options.cursor)) {
          throw new IndexStoreError(`bad events cursor ${JSON.stringify(options.cursor)}`);
        }
        range.lt = options.cursor;
      }
      const entries = await subs.events.iterator({ ...range, limit: limit + 1 }).all();
      const items = entries.slice(0, limit).map(([, v]) => v as ChainEvent);
      const last = entries[limit - 1];
      return entries.length > limit && last !== undefined
        ? { items, nextCursor: last[0] }
        : { items };
    },

    async listRoleMembers() {
      return (await subs.roles.values().all()) as RoleMember[];
    },

    async listVrfKeys() {
      return (await subs.vrfKeys.values().all()) as VrfKeyView[];
    },

    async close() {
      await db.close();
    },

    readSetup() {
      // getSync: a point read from LevelDB's cache, without a thread-pool round trip per sync
      return new Promise((resolve) =>
        resolve(subs.meta.getSync("chain") as ChainSetup | undefined),
      );
    },

    async initialize(setup) {
      if ((await subs.meta.get("chain")) !== undefined) {
        throw new IndexStoreError("the index store is already initialized");
      }
      await db.batch([
        { type: "put", sublevel: subs.meta, key: "chain", value: setup },
        { type: "put", sublevel: subs.meta, key: "log", value: initialLogState() },
      ]);
    },

    readCursor() {
      return new Promise((resolve) => resolve(subs.meta.getSync("cursor") as BlockRef | undefined));
    },

    readLogState() {
      return new Promise((resolve) =>
        resolve((subs.meta.getSync("log") as LogState | undefined) ?? initialLogState()),
      );
    },

    async listBlocks() {
      return (await subs.blocks.values({ reverse: true }).all()) as BlockRecord[];
    },

    begin(options) {
      return createTx(subs, options?.keepFrom ?? -Infinity);
    },

    async commit(tx, { cursor, keepFrom }) {
      const pending = await (tx as TxImpl).finish();
      // Every op as the sublevels would write it (`!view!key`, JSON text), in one plain utf8
      // batch: a range of 2,000 events writes ≈ 2,000 keys, and the sublevel path's per-op
      // encoding and prefixing cost more than LevelDB's own write.
      const ops: RawOp[] = [];
      for (const [view, key, text] of pending.writes) {
        const k = `!${view}!${key}`;
        ops.push(
          text === undefined ? { type: "del", key: k } : { type: "put", key: k, value: text },
        );
      }
      for (const block of pending.blocks) {
        if (block.number < keepFrom) continue;
        ops.push({
          type: "put",
          key: `!blocks!${hexKey(block.number)}`,
          value: JSON.stringify(block),
        });
      }
      ops.push({ type: "put", key: "!meta!cursor", value: JSON.stringify(cursor) });
      for (const key of await subs.blocks.keys({ lt: hexKey(Math.max(0, keepFrom)) }).all()) {
        ops.push({ type: "del", key: `!blocks!${key}` });
      }
      await db.batch(ops as never, { keyEncoding: "utf8", valueEncoding: "utf8" });
    },

    async rollbackTo(ancestor) {
      const undone = (await subs.blocks
        .values({ gt: hexKey(ancestor.number), reverse: true })
        .all()) as BlockRecord[];
      // Newest block first; a key's value before the rollback point is the `previous` of the
      // OLDEST undone block that touched it, so later assignments win.
      const restore = new Map<string, [ViewName, string, unknown]>();
      for (const block of undone) {
        for (let i = block.undo.length - 1; i >= 0; i--) {
          const [view, key, previous] = block.undo[i]!;
          restore.set(`${view}\u0000${key}`, [view, key, previous]);
        }
      }
      const ops: BatchOp[] = [];
      for (const [view, key, previous] of restore.values()) {
        ops.push(
          previous === null || previous === undefined
            ? { type: "del", sublevel: subs[view], key }
            : { type: "put", sublevel: subs[view], key, value: previous },
        );
      }
      for (const block of undone) {
        ops.push({ type: "del", sublevel: subs.blocks, key: hexKey(block.number) });
      }
      ops.push({ type: "put", sublevel: subs.meta, key: "cursor", value: ancestor });
      await db.batch(ops);
      return undone.length;
    },

    async setHeadBlock(headBlock) {
      await subs.meta.put("status", { headBlock });
    },

    async clear() {
      await db.clear();
      await subs.meta.put("format", INDEX_STORE_FORMAT);
    },

    async dump() {
      const out: Array<[string, string]> = [];
      for await (const [k, v] of db.iterator({ valueEncoding: "utf8" })) {
        out.push([k, v as string]);
      }
      return out;
    },
  };
  return store;
}

function initialLogState(): LogState {
  return {
    batchCount: 0,
    recomputedHead: EMPTY_HEAD,
    paused: false,
    headCheck: { status: "pending", onChain: null, recomputed: EMPTY_HEAD, atBlock: null },
  };
}

function checkLimit(limit: number): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > 1000) {
    throw new IndexStoreError(`limit must be an integer 1..1000, got ${String(limit)}`);
  }
  return limit;
}

function checkPeriod(period: string): string {
  const key = periodKey(period);
  if (key === undefined) {
    throw new IndexStoreError(
      `period must be YYYY-MM (e.g. 1403-07), got ${JSON.stringify(period)}`,
    );
  }
  return key;
}

function parseCursor(cursor: string): number {
  if (!/^[1-9]\d{0,15}$/.test(cursor)) {
    throw new IndexStoreError(`bad batches cursor ${JSON.stringify(cursor)}`);
  }
  return Number(cursor);
}

function frozen<T>(value: T): T {
  return typeof value === "object" && value !== null ? Object.freeze(value) : value;
}

interface Entry {
  view: ViewName;
  key: string;
  /** undefined: absent (deleted, or never written). */
  value: unknown;
  dirty: boolean;
}

interface TxImpl extends IndexWriteTx {
  finish(): Promise<{
    /** Each written key's value as JSON text (undefined: deleted). */
    writes: Array<[ViewName, string, string | undefined]>;
    blocks: BlockRecord[];
  }>;
}

function createTx(subs: Record<ViewName | "blocks", Sub>, keepFrom: number): TxImpl {
  /**
   * view → key → the key's value in this range (undefined: absent), read from LevelDB once and
   * then held as a frozen object; `dirty` when written. Serialized once, at the commit: a range
   * of 2,000 events reads and writes ≈ 10,000 small values, and a JSON round trip per read and
   * per write (the previous form, itself replacing a `structuredClone` per value) was the
   * largest part of the indexer's own CPU.
   */
  const overlay = new Map<ViewName, Map<string, Entry>>();
  const blocks: BlockRecord[] = [];
  let current: BlockRecord | undefined;
  /** Whether the current block keeps undo records (it is at or above `keepFrom`). */
  let tracked = false;
  /** Entries written in the current block (their undo entries are recorded). */
  let touched = new Set<Entry>();
  let finished = false;

  function load(view: ViewName, key: string): Entry {
    let keys = overlay.get(view);
    if (keys === undefined) {
      keys = new Map();
      overlay.set(view, keys);
    }
    let entry = keys.get(key);
    if (entry === undefined) {
      // getSync: the indexer's hot path reads a few keys per event; an await per read costs more
      // than the read (MEASURED.md: getSync ≈ 200 k/s, one await get() at a time 28 k/s)
      entry = { view, key, value: frozen(subs[view].getSync(key)), dirty: false };
      keys.set(key, entry);
    }
    return entry;
  }

  function write(view: ViewName, key: string, value: unknown): void {
    if (finished) throw new IndexStoreError("write after commit");
    if (current === undefined) throw new IndexStoreError("write before at(block)");
    const entry = load(view, key);
    if (tracked && !touched.has(entry)) {
      // the value before this block's first write: its value at the block's start (values are
      // frozen, so the undo record shares the object rather than copying it)
      touched.add(entry);
      current.undo.push([view, key, entry.value ?? null]);
    }
    entry.value = frozen(value);
    entry.dirty = true;
  }

  return {
    at(block) {
      if (current !== undefined && block.number <= current.number) {
        if (block.number === current.number && block.hash === current.hash) return;
        throw new IndexStoreError(`blocks must ascend: ${block.number} after ${current.number}`);
      }
      current = { number: block.number, hash: block.hash, parentHash: block.parentHash, undo: [] };
      blocks.push(current);
      tracked = block.number >= keepFrom;
      if (touched.size > 0) touched = new Set();
    },
    get<T>(view: ViewName, key: string) {
      return Promise.resolve(load(view, key).value as T | undefined);
    },
    peek<T>(view: ViewName, key: string) {
      return load(view, key).value as T | undefined;
    },
    put(view, key, value) {
      write(view, key, value);
    },
    del(view, key) {
      write(view, key, undefined);
    },
    finish() {
      if (finished) throw new IndexStoreError("transaction committed twice");
      finished = true;
      const writes: Array<[ViewName, string, string | undefined]> = [];
      for (const keys of overlay.values()) {
        for (const e of keys.values()) {
          if (!e.dirty) continue;
          writes.push([e.view, e.key, e.value === undefined ? undefined : JSON.stringify(e.value)]);
        }
      }
      return Promise.resolve({ writes, blocks });
    },
  };
}
