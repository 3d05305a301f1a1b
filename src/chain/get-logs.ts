/**
 * Windowed `eth_getLogs` that does not trust the node: ranges of at most `maxRange` blocks
 * (Besu's default limit is 5,000), split in halves when the node says a range is too large or
 * returns too many results, and every log checked against the header of the block it claims.
 */
import { ChainDataError, isLogRangeError, LogRangeTooLargeError } from "./errors.ts";
import { fromQuantity, toQuantity, type Rpc } from "./rpc.ts";

export interface RawLog {
  address: string;
  topics: string[];
  data: string;
  blockNumber: number;
  blockHash: string;
  transactionHash: string;
  transactionIndex: number;
  logIndex: number;
}

export interface BlockHeader {
  number: number;
  hash: string;
  parentHash: string;
  timestamp: number;
}

export interface GetLogsOptions {
  rpc: Rpc;
  /** Contract address (any case). */
  address: string;
  /** topic0 alternatives to keep (default: every log of the address). */
  topic0?: readonly string[];
  fromBlock: number;
  toBlock: number;
  /** Largest window asked for (default 5,000 blocks). */
  maxRange?: number;
  signal?: AbortSignal;
}

export interface CheckedLogs {
  /** In chain order: block number, then log index. */
  logs: RawLog[];
  /** The header of every block that holds a log, fetched from the node; each log's blockHash matches it. */
  blocks: Map<number, BlockHeader>;
  /** Windows the node refused as too large and that were split. */
  splits: number;
}

export const DEFAULT_LOG_RANGE = 5_000;
const HEADER_CONCURRENCY = 8;

/**
 * Fetches the logs of `address` in `[fromBlock, toBlock]` without checking them against blocks
 * (see {@link getLogs}). Returns them in chain order.
 */
export async function fetchLogs(
  options: GetLogsOptions,
): Promise<{ logs: RawLog[]; splits: number }> {
  const { rpc, fromBlock, toBlock } = options;
  const address = options.address.toLowerCase();
  if (!Number.isSafeInteger(fromBlock) || !Number.isSafeInteger(toBlock) || fromBlock < 0) {
    throw new ChainDataError(`bad block range ${fromBlock}..${toBlock}`);
  }
  let window = Math.max(1, options.maxRange ?? DEFAULT_LOG_RANGE);
  const logs: RawLog[] = [];
  let splits = 0;
  let from = fromBlock;
  while (from <= toBlock) {
    const to = Math.min(toBlock, from + window - 1);
    let raw: unknown;
    try {
      raw = await rpc.request(
        "eth_getLogs",
        [
          {
            address,
            fromBlock: toQuantity(from),
            toBlock: toQuantity(to),
            ...(options.topic0 === undefined ? {} : { topics: [options.topic0] }),
          },
        ],
        options.signal === undefined ? {} : { signal: options.signal },
      );
    } catch (error) {
      if (!isLogRangeError(error)) throw error;
      if (to === from) {
        throw new LogRangeTooLargeError(
          `the node refuses eth_getLogs even for the single block ${from}`,
          {
            cause: error,
            details:
              "Raise the node's log limits (Besu: --rpc-max-logs-range, --rpc-max-logs-results) or use another node.",
          },
        );
      }
      window = Math.max(1, Math.floor((to - from + 1) / 2));
      splits++;
      continue;
    }
    if (!Array.isArray(raw))
      throw new ChainDataError(`eth_getLogs ${from}..${to} did not return a list`);
    for (const entry of raw) logs.push(parseLog(entry, address, from, to));
    from = to + 1;
  }
  // chain order; reject duplicates (a node that repeats logs across windows)
  logs.sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  for (let i = 1; i < logs.length; i++) {
    const a = logs[i - 1]!;
    const b = logs[i]!;
    if (a.blockNumber === b.blockNumber && a.logIndex === b.logIndex) {
      throw new ChainDataError(`the node returned log ${b.blockNumber}:${b.logIndex} twice`, {
        retryable: true,
      });
    }
  }
  return { logs, splits };
}

/**
 * Fetches the logs of `address` in `[fromBlock, toBlock]` and the headers of their blocks, and
 * checks that every log's `blockHash` is the hash of the block at its `blockNumber`.
 *
 * @throws ChainDataError (retryable: a reorg is the usual cause) when a log does not belong to
 * the block it claims.
 *
 * @example
 * const { logs, blocks } = await getLogs({ rpc, address, fromBlock: 0, toBlock: 12_000 });
 */
export async function getLogs(options: GetLogsOptions): Promise<CheckedLogs> {
  const { logs, splits } = await fetchLogs(options);
  const numbers = [...new Set(logs.map((l) => l.blockNumber))];
  const blocks = await getBlockHeaders(options.rpc, numbers, options.signal);
  checkLogsAgainstBlocks(logs, blocks);
  return { logs, blocks, splits };
}

/** Throws unless every log's blockHash is the hash of the header held for its blockNumber. */
export function checkLogsAgainstBlocks(
  logs: readonly RawLog[],
  blocks: ReadonlyMap<number, BlockHeader>,
): void {
  for (const log of logs) {
    const block = blocks.get(log.blockNumber);
    if (block === undefined) {
      throw new ChainDataError(
        `no header held for block ${log.blockNumber} of log ${log.logIndex}`,
      );
    }
    if (block.hash !== log.blockHash) {
      throw new ChainDataError(
        `log ${log.blockNumber}:${log.logIndex} claims block hash ${log.blockHash}, but block ${log.blockNumber} is ${block.hash}`,
        {
          retryable: true,
          details:
            "The chain reorganized while reading, or the node is inconsistent; the range is read again.",
        },
      );
    }
  }
}

/** `eth_getBlockByNumber(n, false)`, checked and reduced to what the indexer keeps. */
export async function getBlockHeader(
  rpc: Rpc,
  block: number | "latest" | "finalized" | "safe",
  signal?: AbortSignal,
): Promise<BlockHeader> {
  const tag = typeof block === "number" ? toQuantity(block) : block;
  const raw = await rpc.request<Record<string, unknown> | null>(
    "eth_getBlockByNumber",
    [tag, false],
    signal === undefined ? {} : { signal },
  );
  return toHeader(raw, block);
}

/** An `eth_getBlockByNumber(block, false)` answer, checked and reduced to what the indexer keeps. */
function toHeader(
  raw: Record<string, unknown> | null,
  block: number | "latest" | "finalized" | "safe",
): BlockHeader {
  if (raw === null || typeof raw !== "object") {
    throw new ChainDataError(`the node has no block ${String(block)}`, { retryable: true });
  }
  const header: BlockHeader = {
    number: fromQuantity(raw.number, "block number"),
    hash: checkHash(raw.hash, "block hash"),
    parentHash: checkHash(raw.parentHash, "parent hash"),
    timestamp: fromQuantity(raw.timestamp, "block timestamp"),
  };
  if (typeof block === "number" && header.number !== block) {
    throw new ChainDataError(`asked for block ${block}, the node returned block ${header.number}`);
  }
  return header;
}

/** Headers of `numbers`: in JSON-RPC batches when the client sends them, else a few at a time. */
export async function getBlockHeaders(
  rpc: Rpc,
  numbers: readonly number[],
  signal?: AbortSignal,
): Promise<Map<number, BlockHeader>> {
  const out = new Map<number, BlockHeader>();
  if (rpc.requestBatch !== undefined && numbers.length > 1) {
    const raws = await rpc.requestBatch<Record<string, unknown> | null>(
      numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [toQuantity(n), false] })),
      signal === undefined ? {} : { signal },
    );
    numbers.forEach((n, i) => out.set(n, toHeader(raws[i]!, n)));
    return out;
  }
  let next = 0;
  async function worker(): Promise<void> {
    while (next < numbers.length) {
      const n = numbers[next++]!;
      out.set(n, await getBlockHeader(rpc, n, signal));
    }
  }
  await Promise.all(Array.from({ length: Math.min(HEADER_CONCURRENCY, numbers.length) }, worker));
  return out;
}

function parseLog(entry: unknown, address: string, from: number, to: number): RawLog {
  if (typeof entry !== "object" || entry === null)
    throw new ChainDataError("eth_getLogs returned a non-object log");
  const e = entry as Record<string, unknown>;
  if (e.removed === true) {
    throw new ChainDataError("eth_getLogs returned a removed log", { retryable: true });
  }
  const log: RawLog = {
    address: String(e.address).toLowerCase(),
    topics: Array.isArray(e.topics) ? e.topics.map((t) => checkHash(t, "topic")) : [],
    // even length and hex digits: the same test as /^0x([0-9a-fA-F]{2})*$/, without a capture
    // group repeated for every byte of the data
    data:
      typeof e.data === "string" && e.data.length % 2 === 0 && /^0x[0-9a-fA-F]*$/.test(e.data)
        ? e.data
        : "",
    blockNumber: fromQuantity(e.blockNumber, "log block number"),
    blockHash: checkHash(e.blockHash, "log block hash"),
    transactionHash: checkHash(e.transactionHash, "log transaction hash"),
    transactionIndex: fromQuantity(e.transactionIndex, "log transaction index"),
    logIndex: fromQuantity(e.logIndex, "log index"),
  };
  if (log.data === "")
    throw new ChainDataError(`log ${log.blockNumber}:${log.logIndex} has malformed data`);
  if (log.address !== address) {
    throw new ChainDataError(`eth_getLogs returned a log of ${log.address}, not of ${address}`);
  }
  if (log.blockNumber < from || log.blockNumber > to) {
    throw new ChainDataError(
      `eth_getLogs ${from}..${to} returned a log of block ${log.blockNumber}`,
    );
  }
  return log;
}

function checkHash(x: unknown, what: string): string {
  if (typeof x !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(x)) {
    throw new ChainDataError(`the node returned a malformed ${what}: ${JSON.stringify(x)}`);
  }
  return x.toLowerCase();
}
