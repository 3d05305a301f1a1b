/**
 * The indexer: follows the ledger contract's events into the index store.
 *
 * Trust model — the RPC node is NOT trusted:
 * - the chain must be the one indexed (chain id, genesis hash) and the contract must have code;
 * - every log must belong to the block it claims (blockHash checked against the header);
 * - each committed range must extend the last indexed block (`parentHash` link) and must not
 *   have changed while it was read (the range's last header is read before and after);
 * - the log head is recomputed from BatchAnchored and BatchAnchoredV2 events (each with its own
 *   formula, src/core/log-head.ts) and compared with the contract's
 *   `head()` at the indexed block: a difference is an alarm (`headCheck.status = "mismatch"`);
 * - the role and pause views are compared with the contract's `hasRole` and `paused()` at the
 *   indexed block, for every account the index has seen (holders, past holders, senders,
 *   anchorers, auditors): a withheld or forged RoleGranted/RoleRevoked/Paused/Unpaused log is the
 *   same alarm. A withheld grant to an account that never appears in any event is NOT detected:
 *   the contract does not enumerate role members.
 *
 * Reorg safety: blocks are processed only once `confirmations` deep (0 on QBFT, whose blocks are
 * final). Each range is ONE atomic store batch with per-block undo records, kept for the last
 * `reorgWindow` blocks; when the last indexed block is no longer canonical, the indexer walks
 * back through the kept blocks to the newest one still canonical and rolls back to it (one
 * atomic batch), then indexes the new branch.
 */
import {
  AbortedError,
  ChainDataError,
  ChainMismatchError,
  isRetryable,
  ReorgTooDeepError,
  RpcResponseError,
  ShafafError,
} from "../chain/errors.ts";
import { assertSameChain } from "../chain/chain-identity.ts";
import {
  checkLogsAgainstBlocks,
  fetchLogs,
  getBlockHeader,
  getBlockHeaders,
  type BlockHeader,
} from "../chain/get-logs.ts";
import { createLedgerClient, type LedgerClient } from "../chain/ledger-client.ts";
import { ROLE_NAMES, type LedgerEvent } from "../chain/ledger-events.ts";
import { LEDGER_EVENT_TOPICS } from "../core/ledger-abi.ts";
import { fromQuantity, toQuantity, type Rpc } from "../chain/rpc.ts";
import type { BlockRef, LogState, WritableIndexStore } from "../store/index-store.ts";
import { applyLedgerEvent } from "./apply-ledger-event.ts";
import { manifestView, type ManifestSource } from "./manifest-view.ts";

export interface IndexerLog {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface IndexerUpdate {
  fromBlock: number;
  toBlock: number;
  /** Ledger events applied in this range. */
  events: number;
  /** Ids of batches anchored in this range. */
  anchored: number[];
  /** Blocks undone by a reorg before this range (0 when none). */
  rolledBack: number;
}

export interface CreateIndexerOptions {
  rpc: Rpc;
  store: WritableIndexStore;
  /** The ledger contract. */
  address: string;
  /** Blocks a block must be buried under before it is indexed: 0 on QBFT (final), > 0 on chains that reorg. */
  confirmations: number;
  log?: IndexerLog;
  /** Where manifest bytes come from (the anchor pipeline's ledger store); absent: every manifest is `missing`. */
  manifestSource?: ManifestSource;
  /** First block to read on a fresh store (default: the contract's deployment block, found by bisecting eth_getCode). */
  fromBlock?: number;
  /** Largest eth_getLogs window (default 5,000, Besu's limit). */
  maxLogRange?: number;
  /** Blocks per committed range (default 5,000). */
  blocksPerCommit?: number;
  /** How many recent blocks keep undo records (default 256): the deepest reorg that can be rolled back. */
  reorgWindow?: number;
  /** Poll interval of `start()` (default 2 s). */
  pollIntervalMs?: number;
  /** Record QBFT validators per anchoring block (default: when the node offers qbft_getValidatorsByBlockNumber). */
  recordValidators?: boolean;
  onUpdate?: (update: IndexerUpdate) => void;
}

export interface SyncResult {
  /** The last indexed block after this sync. */
  lastIndexedBlock: number;
  headBlock: number;
  events: number;
  rolledBack: number;
}

export interface Indexer {
  /** Catches up to `head - confirmations` once. Concurrent calls share one run. */
  syncOnce(): Promise<SyncResult>;
  /**
   * Follows the chain until `stop()`: resolves then, rejects on an error retrying cannot fix
   * (another chain, no contract, a reorg deeper than the undo window). Retryable errors are
   * logged and retried with backoff.
   */
  start(): Promise<void>;
  /** Stops following; resolves when no sync is running. */
  stop(): Promise<void>;
  readonly running: boolean;
}

const NO_LOG: IndexerLog = { info() {}, warn() {}, error() {} };
const ANCHORED_TOPIC = LEDGER_EVENT_TOPICS.BatchAnchored;
const ANCHORED_V2_TOPIC = LEDGER_EVENT_TOPICS.BatchAnchoredV2;
/** Manifests read at once (files, in the CLI). */
const MANIFEST_CONCURRENCY = 16;

/** `p`, marked as handled: it is awaited later, and a rejection meanwhile is not unhandled. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

/**
 * @example
 * const indexer = createIndexer({ rpc, store, address, confirmations: 0, log: console });
 * await indexer.syncOnce();           // catch up once (`shafaf index --once`)
 * const following = indexer.start();  // or follow; `await indexer.stop()` to end
 */
export function createIndexer(options: CreateIndexerOptions): Indexer {
  const { rpc, store } = options;
  const log = options.log ?? NO_LOG;
  const ledger: LedgerClient = createLedgerClient({ rpc, address: options.address });
  const address = ledger.address;
  const confirmations = options.confirmations;
  if (!Number.isSafeInteger(confirmations) || confirmations < 0) {
    throw new ShafafError(`confirmations must be a whole number ≥ 0, got ${confirmations}`, {
      code: "indexer.options",
    });
  }
  const maxLogRange = options.maxLogRange ?? 5_000;
  const blocksPerCommit = Math.max(1, options.blocksPerCommit ?? 5_000);
  const reorgWindow = Math.max(1, options.reorgWindow ?? 256);
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
  let validatorsSupported = options.recordValidators === false ? false : undefined;

  let abort = new AbortController();
  let current: Promise<SyncResult> | undefined;
  let loop: Promise<void> | undefined;
  let stopping = false;

  async function checkChain(): Promise<void> {
    // at once: the chain's identity, the store's setup and the contract's code (which is only
    // judged once the chain is known to be the indexed one)
    const deployed = quiet(ledger.assertDeployed("latest"));
    const [chainIdRaw, genesis, setup] = await Promise.all([
      rpc.request("eth_chainId", [], { signal: abort.signal }),
      getBlockHeader(rpc, 0, abort.signal),
      store.readSetup(),
    ]);
    const chainId = fromQuantity(chainIdRaw, "chain id");
    if (setup === undefined) {
      await deployed;
      const deployBlock = options.fromBlock ?? (await findDeployBlock());
      await store.initialize({
        chainId,
        contract: address,
        genesisHash: genesis.hash,
        deployBlock,
        confirmations,
      });
      log.info(`indexing ${address} on chain ${chainId} from block ${deployBlock}`);
      return;
    }
    const fix =
      "This index belongs to another chain or contract. Point --rpc/--contract at the indexed one, or start over with --reindex (or another --data-dir).";
    assertSameChain(
      setup,
      { chainId, genesisHash: genesis.hash },
      { subject: "the index", fix, codePrefix: "indexer" },
    );
    if (setup.contract !== address) {
      throw new ChainMismatchError(`the index holds contract ${setup.contract}, not ${address}`, {
        details: fix,
        code: "indexer.contract-mismatch",
      });
    }
    await deployed;
  }

  /** The earliest block with code at the address (bisection over eth_getCode); 0 when state is pruned. */
  async function findDeployBlock(): Promise<number> {
    const head = fromQuantity(await rpc.request("eth_blockNumber"), "block number");
    const hasCode = async (n: number): Promise<boolean> => {
      const code = await rpc.request<string>("eth_getCode", [address, toQuantity(n)], {
        retries: 1,
      });
      return typeof code === "string" && code !== "0x";
    };
    try {
      if (await hasCode(0)) return 0;
      let lo = 0; // no code
      let hi = head; // code
      while (hi - lo > 1) {
        const mid = lo + Math.floor((hi - lo) / 2);
        if (await hasCode(mid)) hi = mid;
        else lo = mid;
      }
      return hi;
    } catch (error) {
      if (!(error instanceof RpcResponseError)) throw error;
      log.warn(
        `the node cannot read old state (${error.shortMessage}); reading logs from block 0 (pass --from-block to skip)`,
      );
      return 0;
    }
  }

  /** The canonical hash at `n`, or undefined when the node has no such block. */
  async function canonicalHash(n: number): Promise<string | undefined> {
    try {
      return (await getBlockHeader(rpc, n, abort.signal)).hash;
    } catch (error) {
      if (error instanceof ChainDataError && /has no block/.test(error.shortMessage))
        return undefined;
      throw error;
    }
  }

  /** If the last indexed block is no longer canonical, roll back to the newest kept block that is. */
  async function handleReorg(cursor: BlockRef): Promise<{ cursor: BlockRef; rolledBack: number }> {
    if ((await canonicalHash(cursor.number)) === cursor.hash) return { cursor, rolledBack: 0 };
    const kept = await store.listBlocks(); // newest first
    for (const block of kept) {
      if (block.number > cursor.number) continue;
      if ((await canonicalHash(block.number)) === block.hash) {
        const ancestor = { number: block.number, hash: block.hash };
        const undone = await store.rollbackTo(ancestor);
        log.warn(
          `reorg: block ${cursor.number} ${cursor.hash} is no longer canonical; rolled back ${undone} recorded block(s) to block ${ancestor.number}`,
        );
        return { cursor: ancestor, rolledBack: undone };
      }
    }
    throw new ReorgTooDeepError(
      `reorg deeper than the ${reorgWindow} blocks kept for rollback: no kept block at or below ${cursor.number} is canonical`,
      {
        details:
          "Rebuild the index with --reindex (and raise --confirmations on a chain that reorganizes this deeply).",
        code: "indexer.reorg-too-deep",
      },
    );
  }

  async function validatorsAt(blockNumber: number): Promise<string[] | undefined> {
    if (validatorsSupported === false) return undefined;
    try {
      const v = await rpc.request<unknown>(
        "qbft_getValidatorsByBlockNumber",
        [toQuantity(blockNumber)],
        {
          signal: abort.signal,
        },
      );
      if (
        !Array.isArray(v) ||
        !v.every((a) => typeof a === "string" && /^0x[0-9a-fA-F]{40}$/.test(a))
      ) {
        throw new ChainDataError(
          `qbft_getValidatorsByBlockNumber(${blockNumber}) returned no address list`,
        );
      }
      validatorsSupported = true;
      return (v as string[]).map((a) => a.toLowerCase()).sort();
    } catch (error) {
      if (
        validatorsSupported === undefined &&
        error instanceof RpcResponseError &&
        (!error.retryable || error.rpcCode === -32601 || error.rpcCode === -32004)
      ) {
        validatorsSupported = false; // not a QBFT node (or the QBFT API is not enabled)
        return undefined;
      }
      throw error;
    }
  }

  /** The contract's head() at `at`; `{ detail }` when the node cannot read that state. */
  async function readHead(at: number): Promise<{ onChain: string } | { detail: string }> {
    try {
      return { onChain: await ledger.head(at) };
    } catch (error) {
      if (isRetryable(error) || error instanceof AbortedError) throw error;
      return {
        detail: `head() at block ${at} could not be read: ${(error as Error).message.split("\n")[0]}`,
      };
    }
  }

  async function headCheck(
    state: LogState,
    at: number,
    read: Promise<{ onChain: string } | { detail: string }>,
  ): Promise<void> {
    const r = await read;
    const onChain = "onChain" in r ? r.onChain : null;
    const detail = "detail" in r ? r.detail : undefined;
    const gap =
      state.headCheck.status === "mismatch" && state.headCheck.detail?.startsWith("BatchAnchored");
    const previous = state.headCheck;
    if (onChain === null) {
      state.headCheck = {
        status: "pending",
        onChain,
        recomputed: state.recomputedHead,
        atBlock: at,
        ...(detail === undefined ? {} : { detail }),
      };
    } else if (onChain === state.recomputedHead && !gap) {
      state.headCheck = { status: "ok", onChain, recomputed: state.recomputedHead, atBlock: at };
    } else {
      state.headCheck = {
        status: "mismatch",
        onChain,
        recomputed: state.recomputedHead,
        atBlock: at,
        detail: gap
          ? previous.detail!
          : "the head recomputed from the anchoring events differs from the contract's head(): the node withheld or altered events",
      };
      if (previous.status !== "mismatch" || previous.onChain !== onChain) {
        log.error(
          `ALARM head check at block ${at}: contract head() ${onChain}, recomputed from events ${state.recomputedHead}`,
        );
      }
    }
  }

  /**
   * Accounts the index has seen in any event (holders, past holders, senders, anchorers,
   * auditors, pausers): the candidates whose roles are compared with the contract. Seeded once
   * from the store, then grown from every event applied; a superset is harmless.
   */
  let actors: Set<string> | undefined;
  const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
  const noteActor = (value: unknown): void => {
    if (typeof value === "string" && ADDRESS.test(value)) actors?.add(value.toLowerCase());
  };
  /** The event's anchorer, auditor, account, sender, newAdmin or registrar (the decoder's lower-case addresses). */
  function noteActors(event: LedgerEvent): void {
    switch (event.type) {
      case "BatchAnchored":
      case "BatchAnchoredV2":
        actors?.add(event.anchorer);
        return;
      case "BatchAttested":
        actors?.add(event.auditor);
        return;
      case "RoleGranted":
      case "RoleRevoked":
        actors?.add(event.account);
        actors?.add(event.sender);
        return;
      case "Paused":
      case "Unpaused":
        actors?.add(event.account);
        return;
      case "DefaultAdminTransferScheduled":
        actors?.add(event.newAdmin);
        return;
      case "VrfKeyRegistered":
        actors?.add(event.registrar);
        return;
      default:
        return;
    }
  }
  async function seedActors(): Promise<void> {
    actors = new Set();
    for (const m of await store.listRoleMembers()) noteActor(m.account);
    for (const k of await store.listVrfKeys()) noteActor(k.registrar);
    let cursor: string | undefined;
    do {
      const page = await store.listEvents({
        limit: 1000,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const e of page.items) for (const v of Object.values(e.args)) noteActor(v);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    cursor = undefined;
    do {
      const page = await store.listBatches({
        limit: 1000,
        ...(cursor === undefined ? {} : { cursor }),
      });
      for (const b of page.items) {
        noteActor(b.anchorer);
        for (const a of b.attestations) noteActor(a.auditor);
      }
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }

  /**
   * The governance check at block `at`: the contract's `hasRole` for every (role, account) pair
   * the index knows of (committed, plus this range's `roleChanges`) and `paused()`. `prefetch()`
   * starts the reads for the pairs already committed (before the range's logs are read, so that
   * the node answers them meanwhile); `start(roleChanges)` starts the rest and returns the
   * function that compares them with the views once the range's events are applied (the pause
   * view is `state.paused` by then). It gives what differs first, or undefined when all agree or
   * the node cannot read that state (as for head()).
   */
  function governanceAt(at: number) {
    const reads = new Map<string, Promise<boolean>>();
    let paused: Promise<boolean> | undefined;
    /** Starts the reads of the pairs not read yet, in one batch. */
    const readAll = (pairs: readonly { role: string; account: string }[]): void => {
      const fresh = pairs.filter((p) => !reads.has(`${p.role}!${p.account}`));
      if (fresh.length === 0) return;
      const batch = quiet(ledger.hasRoles(fresh, at));
      fresh.forEach((p, i) => reads.set(`${p.role}!${p.account}`, quiet(batch.then((r) => r[i]!))));
    };
    const pairsOf = (roles: ReadonlySet<string>) =>
      [...roles].flatMap((role) => [...actors!].map((account) => ({ role, account })));
    async function roleState(roleChanges: ReadonlyMap<string, boolean>) {
      const held = new Set<string>();
      const roles = new Set<string>(ROLE_NAMES.keys());
      for (const m of await store.listRoleMembers()) {
        held.add(`${m.role}!${m.account.toLowerCase()}`);
        roles.add(m.role);
      }
      for (const [key, granted] of roleChanges) {
        if (granted) held.add(key);
        else held.delete(key);
        roles.add(key.slice(0, key.indexOf("!")));
      }
      return { held, roles };
    }
    return {
      async prefetch(): Promise<void> {
        paused ??= quiet(ledger.paused(at));
        const { roles } = await roleState(new Map());
        readAll(pairsOf(roles));
      },
      async start(
        roleChanges: ReadonlyMap<string, boolean>,
      ): Promise<(state: LogState) => Promise<string | undefined>> {
        paused ??= quiet(ledger.paused(at));
        const { held, roles } = await roleState(roleChanges);
        const pairs = pairsOf(roles);
        readAll(pairs);
        const all = quiet(
          Promise.all([
            Promise.all(pairs.map((p) => reads.get(`${p.role}!${p.account}`)!)),
            paused,
          ]),
        );
        return async (state) => {
          try {
            const [onChain, isPaused] = await all;
            for (let i = 0; i < pairs.length; i++) {
              const { role, account } = pairs[i]!;
              if (onChain[i] === held.has(`${role}!${account}`)) continue;
              const name = ROLE_NAMES.get(role) ?? role;
              return onChain[i]
                ? `RoleGranted missing: at block ${at} ${account} holds ${name} (hasRole), the index's events never granted it: the node withheld events`
                : `RoleRevoked missing or RoleGranted forged: at block ${at} ${account} does not hold ${name} (hasRole), the index says it does`;
            }
            if (isPaused !== state.paused) {
              return `Paused/Unpaused events missing or forged: at block ${at} the contract is ${isPaused ? "" : "not "}paused, the index says the opposite`;
            }
            return undefined;
          } catch (error) {
            if (isRetryable(error) || error instanceof AbortedError) throw error;
            return undefined;
          }
        };
      },
    };
  }

  /**
   * Indexes [from, to] as one atomic commit. Returns the number of ledger events applied.
   *
   * Order of the node requests (the trust model above): the range's first and last headers, then
   * the logs, then — all at once — the headers of the blocks holding logs, `last` again, head()
   * and the governance reads at `to`, and the validators of the anchoring blocks. While they are
   * answered the manifests are read and hashed; the views are then built without a promise per
   * event, and written in one batch.
   */
  async function indexRange(
    cursor: BlockRef | undefined,
    from: number,
    to: number,
  ): Promise<{ cursor: BlockRef; events: number; anchored: number[] }> {
    const signal = abort.signal;
    // `last` MUST be read before the logs and again after them: if the chain reorganized in
    // between, the two reads differ (see the trust model above)
    const [first, lastBefore] = await Promise.all([
      getBlockHeader(rpc, from, signal),
      to === from ? undefined : getBlockHeader(rpc, to, signal),
    ]);
    if (cursor !== undefined && first.parentHash !== cursor.hash) {
      throw new ChainDataError(`block ${from} does not extend the indexed block ${cursor.number}`, {
        retryable: true,
        details: "The chain reorganized; the indexer rolls back and reads again.",
      });
    }
    const last = lastBefore ?? first;
    // head() and the governance state at `to` are read while the logs are read and the events
    // applied; their results are used only if `to` held
    const onChainHead = quiet(readHead(to));
    if (actors === undefined) await seedActors();
    const governanceReads = governanceAt(to);
    await governanceReads.prefetch();
    const { logs } = await fetchLogs({
      rpc,
      address,
      fromBlock: from,
      toBlock: to,
      maxRange: maxLogRange,
      signal,
    });
    const lastAgainRead = quiet(getBlockHeader(rpc, to, signal));
    // the headers of the blocks holding logs (first and last are held), each log checked below
    const known = new Map<number, BlockHeader>([
      [first.number, first],
      [last.number, last],
    ]);
    const missing = [...new Set(logs.map((l) => l.blockNumber))].filter((n) => !known.has(n));
    const headersRead = quiet(getBlockHeaders(rpc, missing, signal));
    // the validators of the blocks holding anchoring logs (topic0 alone tells them)
    const anchoringBlocks: number[] = [];
    for (const l of logs) {
      const topic = l.topics[0];
      if (
        (topic === ANCHORED_TOPIC || topic === ANCHORED_V2_TOPIC) &&
        anchoringBlocks[anchoringBlocks.length - 1] !== l.blockNumber
      )
        anchoringBlocks.push(l.blockNumber);
    }
    const sealedByRead = quiet(validatorsOf(anchoringBlocks));
    // decode first: the governance reads need the range's actors and role changes
    const events: LedgerEvent[] = [];
    /** Per log, in chain order: its block, and its event (undefined: a topic the ledger lacks). */
    const decoded: { blockNumber: number; event: LedgerEvent | undefined }[] = [];
    const roleChanges = new Map<string, boolean>();
    for (const raw of logs) {
      const event = ledger.decodeLog(raw);
      decoded.push({ blockNumber: raw.blockNumber, event });
      if (event === undefined) continue;
      events.push(event);
      noteActors(event);
      if (event.type === "RoleGranted" || event.type === "RoleRevoked")
        roleChanges.set(
          `${event.role}!${event.account.toLowerCase()}`,
          event.type === "RoleGranted",
        );
    }
    const governance = await governanceReads.start(roleChanges);
    // the manifests, read and hashed while the node answers
    const manifests = await anchorManifests(events);
    const headers = await headersRead;
    for (const [n, h] of known) headers.set(n, h);
    checkLogsAgainstBlocks(logs, headers);
    const sealedBy = await sealedByRead;

    const tx = store.begin({ keepFrom: to - reorgWindow + 1 });
    const state = await store.readLogState();
    let stateJson = JSON.stringify(state);
    const anchored: number[] = [];
    const warn = (m: string): void => log.warn(m);
    let i = 0;
    while (i < decoded.length) {
      const blockNumber = decoded[i]!.blockNumber;
      const header = headers.get(blockNumber)!;
      tx.at(header);
      for (; i < decoded.length && decoded[i]!.blockNumber === blockNumber; i++) {
        const event = decoded[i]!.event;
        if (event === undefined) continue;
        if (event.type === "BatchAnchored" || event.type === "BatchAnchoredV2") {
          const validators = sealedBy.get(blockNumber);
          applyLedgerEvent(event, {
            tx,
            state,
            timestamp: header.timestamp,
            manifest: manifests.get(event)!,
            ...(validators === undefined ? {} : { sealedBy: validators }),
            warn,
          });
          anchored.push(event.batchId);
        } else {
          applyLedgerEvent(event, { tx, state, timestamp: header.timestamp, warn });
        }
      }
      const json = JSON.stringify(state);
      if (json !== stateJson) {
        // a copy: `state` changes further, and a value put belongs to the transaction
        tx.put("meta", "log", JSON.parse(json));
        stateJson = json;
      }
    }
    const lastAgain = await lastAgainRead;
    if (lastAgain.hash !== last.hash) {
      throw new ChainDataError(`block ${to} changed while range ${from}..${to} was read`, {
        retryable: true,
      });
    }
    tx.at(last);
    const before = state.headCheck;
    await headCheck(state, to, onChainHead);
    const forged = await governance(state);
    if (forged !== undefined) {
      if (before.status !== "mismatch" || before.detail !== forged)
        log.error(`ALARM governance check at block ${to}: ${forged}`);
      state.headCheck = { ...state.headCheck, status: "mismatch", detail: forged };
    }
    const json = JSON.stringify(state);
    if (json !== stateJson) tx.put("meta", "log", JSON.parse(json));
    const next = { number: last.number, hash: last.hash };
    await store.commit(tx, { cursor: next, keepFrom: to - reorgWindow + 1 });
    return { cursor: next, events: events.length, anchored };
  }

  /** Each anchoring event's checked manifest, read a few at a time (files, in the CLI). */
  async function anchorManifests(
    events: readonly LedgerEvent[],
  ): Promise<Map<LedgerEvent, ReturnType<typeof manifestView>>> {
    const anchoring = events.filter(
      (e): e is Extract<LedgerEvent, { type: "BatchAnchored" | "BatchAnchoredV2" }> =>
        e.type === "BatchAnchored" || e.type === "BatchAnchoredV2",
    );
    const out = new Map<LedgerEvent, ReturnType<typeof manifestView>>();
    const source = options.manifestSource;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < anchoring.length) {
        const event = anchoring[next++]!;
        const held = source === undefined ? undefined : source(event.batchId, event.manifestHash);
        const bytes = held instanceof Promise ? await held : held;
        out.set(event, manifestView(bytes, event.manifestHash));
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(MANIFEST_CONCURRENCY, anchoring.length) }, worker),
    );
    for (const event of anchoring) {
      if (out.get(event)!.status === "mismatch") {
        log.warn(
          `batch ${event.batchId}: the manifest held does not hash to the anchored manifestHash; flagged mismatch`,
        );
      }
    }
    return out;
  }

  /** The QBFT validators of each of `blocks` (none when the node does not offer them). */
  async function validatorsOf(blocks: readonly number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    let next = 0;
    if (validatorsSupported === undefined && blocks.length > 0) {
      // the first answer says whether the node offers the method at all
      const v = await validatorsAt(blocks[next++]!);
      if (v !== undefined) out.set(blocks[0]!, v);
    }
    if (validatorsSupported === false) return out;
    const worker = async (): Promise<void> => {
      while (next < blocks.length) {
        const n = blocks[next++]!;
        const v = await validatorsAt(n);
        if (v !== undefined) out.set(n, v);
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, blocks.length) }, worker));
    return out;
  }

  async function sync(): Promise<SyncResult> {
    const blockNumber = () => rpc.request("eth_blockNumber", [], { signal: abort.signal });
    // asked while the chain is checked; used only if it is the indexed chain
    let headRead: Promise<unknown> | undefined = quiet(blockNumber());
    await checkChain();
    let rolledBack = 0;
    let events = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const head = fromQuantity(await (headRead ?? blockNumber()), "block number");
        headRead = undefined;
        await store.setHeadBlock(head);
        const target = head - confirmations;
        let cursor = await store.readCursor();
        if (cursor !== undefined) {
          const r = await handleReorg(cursor);
          cursor = r.cursor;
          rolledBack += r.rolledBack;
        }
        const setup = (await store.readSetup())!;
        let from = cursor === undefined ? setup.deployBlock : cursor.number + 1;
        while (from <= target) {
          if (abort.signal.aborted) throw new AbortedError("the indexer is stopping");
          const to = Math.min(target, from + blocksPerCommit - 1);
          const r = await indexRange(cursor, from, to);
          events += r.events;
          options.onUpdate?.({
            fromBlock: from,
            toBlock: to,
            events: r.events,
            anchored: r.anchored,
            rolledBack,
          });
          cursor = r.cursor;
          from = to + 1;
        }
        return {
          lastIndexedBlock: cursor?.number ?? setup.deployBlock - 1,
          headBlock: head,
          events,
          rolledBack,
        };
      } catch (error) {
        // a reorg in the middle of reading: detect it from the top (bounded)
        if (error instanceof ChainDataError && error.retryable && attempt < 5) {
          log.warn(`${error.shortMessage}; reading again`);
          continue;
        }
        throw error;
      }
    }
  }

  const indexer: Indexer = {
    syncOnce() {
      current ??= sync().finally(() => {
        current = undefined;
      });
      return current;
    },

    start() {
      if (loop !== undefined) return loop;
      stopping = false;
      abort = new AbortController();
      loop = (async () => {
        let failures = 0;
        while (!stopping) {
          try {
            await indexer.syncOnce();
            failures = 0;
          } catch (error) {
            if (stopping && error instanceof AbortedError) break;
            if (!isRetryable(error)) {
              log.error(`indexer stopped: ${(error as Error).message}`);
              throw error;
            }
            failures++;
            log.warn(`indexer: ${(error as ShafafError).shortMessage}; retrying (${failures})`);
          }
          const wait =
            failures === 0 ? pollIntervalMs : Math.min(60_000, pollIntervalMs * 2 ** failures);
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, wait);
            abort.signal.addEventListener(
              "abort",
              () => {
                clearTimeout(t);
                resolve();
              },
              { once: true },
            );
          });
        }
      })().finally(() => {
        loop = undefined;
      });
      return loop;
    },

    async stop() {
      stopping = true;
      abort.abort();
      await Promise.allSettled([loop, current]);
      abort = new AbortController();
    },

    get running() {
      return loop !== undefined;
    },
  };
  return indexer;
}
