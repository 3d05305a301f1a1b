/**
 * Reads one batch straight from the ledger contract over JSON-RPC (`eth_call` to
 * `getBatch(uint64)`), with a minimal ABI encoder and a strict decoder for the fixed `Batch`
 * struct layout of `contracts/interfaces/ITransparencyLedger.sol`. The portal uses it so that a
 * receipt's verdict rests on the chain, not on this site's API. Pure apart from `fetch`.
 */
import {
  LEDGER_ERROR_SELECTORS,
  LEDGER_EVENT_TOPICS,
  LEDGER_FUNCTION_SELECTORS,
} from "../core/ledger-abi.ts";
import { ShafafError } from "../core/errors.ts";

/** `bytes4(keccak256("getBatch(uint64)"))`, from the generated ABI (src/core/ledger-abi.ts). */
export const GET_BATCH_SELECTOR = LEDGER_FUNCTION_SELECTORS.getBatch;
/** `bytes4(keccak256("attestationCounts(uint64)"))`. */
export const ATTESTATION_COUNTS_SELECTOR = LEDGER_FUNCTION_SELECTORS.attestationCounts;
/** `bytes4(keccak256("LedgerUnknownBatch(uint64)"))`. */
export const UNKNOWN_BATCH_SELECTOR = LEDGER_ERROR_SELECTORS.LedgerUnknownBatch;

/** The `Batch` struct as stored on chain (ITransparencyLedger.Batch), decoded. */
export interface ChainBatch {
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  headAfter: string;
  totalAmount: bigint;
  recordCount: bigint;
  period: number;
  /** 0 premium, 1 pension. */
  kind: number;
  supersedes: bigint;
  supersededBy: bigint;
  anchorer: string;
  anchoredAt: bigint;
}

/**
 * What went wrong reading the chain; `retryable` when the node, not the data, failed (ask again or
 * another node), not when the answer itself is malformed or the batch is unknown.
 */
export class ChainReadError extends ShafafError {
  override name = "ChainReadError";
  constructor(
    message: string,
    retryable: boolean,
    readonly unknownBatch = false,
    /** getBatch of a shafaf-tree/2 batch, or getBatchV2 of a shafaf-tree/1 one. */
    readonly wrongScheme = false,
    /** getVrfKey of an id that is not registered. */
    readonly unknownVrfKey = false,
  ) {
    super(message, {
      retryable,
      code: unknownBatch ? "web.chain.unknown-batch" : "web.chain.read",
    });
  }
}

const WORDS = 12;
const UINT64_MAX = (1n << 64n) - 1n;

function encodeUint64Call(selector: string, batchId: bigint): string {
  if (batchId < 0n || batchId > UINT64_MAX) {
    throw new RangeError(`batch id ${batchId} is not a uint64`);
  }
  return selector + batchId.toString(16).padStart(64, "0");
}

/** Calldata for `getBatch(batchId)`. Throws RangeError outside uint64. */
export function encodeGetBatch(batchId: bigint): string {
  return encodeUint64Call(GET_BATCH_SELECTOR, batchId);
}

/** Calldata for `attestationCounts(batchId)`. Throws RangeError outside uint64. */
export function encodeAttestationCounts(batchId: bigint): string {
  return encodeUint64Call(ATTESTATION_COUNTS_SELECTOR, batchId);
}

/** Decodes `attestationCounts`' `(uint64 confirmations, uint64 disputes)`: exactly two words. */
export function decodeAttestationCounts(data: string): { confirmations: bigint; disputes: bigint } {
  if (!/^0x[0-9a-fA-F]*$/.test(data) || data.length !== 2 + 2 * 64) {
    throw new ChainReadError(
      `attestationCounts returned ${Math.max(0, (data.length - 2) / 2)} bytes, expected 64`,
      false,
    );
  }
  return {
    confirmations: uintWord(data.slice(2, 66), 64, "confirmations"),
    disputes: uintWord(data.slice(66, 130), 64, "disputes"),
  };
}

function uintWord(word: string, bits: number, field: string): bigint {
  const value = BigInt(`0x${word}`);
  if (value >> BigInt(bits) !== 0n) {
    throw new ChainReadError(`getBatch returned ${field} wider than uint${bits}`, false);
  }
  return value;
}

/**
 * Decodes `getBatch`'s return data. The struct is static, so the data is exactly 12 words; any
 * other length, or a value with bits above its type's width, is rejected (a node that returns
 * that is broken or lying).
 */
export function decodeBatch(data: string): ChainBatch {
  if (!/^0x[0-9a-fA-F]*$/.test(data) || data.length !== 2 + WORDS * 64) {
    throw new ChainReadError(
      `getBatch returned ${Math.max(0, (data.length - 2) / 2)} bytes, expected ${WORDS * 32}`,
      false,
    );
  }
  const words = Array.from({ length: WORDS }, (_, i) =>
    data.slice(2 + i * 64, 2 + (i + 1) * 64).toLowerCase(),
  ) as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const kind = Number(uintWord(words[7], 8, "kind"));
  if (kind > 1) throw new ChainReadError(`getBatch returned kind ${kind}, expected 0 or 1`, false);
  return {
    root: `0x${words[0]}`,
    manifestHash: `0x${words[1]}`,
    idempotencyKey: `0x${words[2]}`,
    headAfter: `0x${words[3]}`,
    totalAmount: uintWord(words[4], 128, "totalAmount"),
    recordCount: uintWord(words[5], 64, "recordCount"),
    period: Number(uintWord(words[6], 32, "period")),
    kind,
    supersedes: uintWord(words[8], 64, "supersedes"),
    supersededBy: uintWord(words[9], 64, "supersededBy"),
    anchorer: `0x${uintWord(words[10], 160, "anchorer").toString(16).padStart(40, "0")}`,
    anchoredAt: uintWord(words[11], 64, "anchoredAt"),
  };
}

interface RpcAnswer {
  result?: unknown;
  error?: { code?: number; message?: string; data?: unknown };
}

async function rpc(rpcUrl: string, method: string, params: unknown[]): Promise<RpcAnswer> {
  let res: Response;
  try {
    res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
  } catch (error) {
    throw new ChainReadError(`the chain at ${rpcUrl} did not answer (${String(error)})`, true);
  }
  if (!res.ok && res.status !== 400 && res.status !== 500) {
    throw new ChainReadError(`the chain at ${rpcUrl} answered HTTP ${res.status}`, true);
  }
  try {
    return (await res.json()) as RpcAnswer;
  } catch {
    throw new ChainReadError(`the chain at ${rpcUrl} answered something other than JSON`, true);
  }
}

function revertData(error: RpcAnswer["error"]): string | undefined {
  const data = error?.data;
  if (typeof data === "string") return data;
  if (typeof data === "object" && data !== null && "data" in data) {
    const inner = (data as { data?: unknown }).data;
    if (typeof inner === "string") return inner;
  }
  return undefined;
}

/** `eth_chainId` of the node at `rpcUrl`. */
export async function readChainId(rpcUrl: string): Promise<number> {
  const answer = await rpc(rpcUrl, "eth_chainId", []);
  if (typeof answer.result !== "string" || !/^0x[0-9a-f]+$/i.test(answer.result)) {
    throw new ChainReadError(
      `eth_chainId answered ${JSON.stringify(answer.error ?? answer.result)}`,
      true,
    );
  }
  return Number(BigInt(answer.result));
}

function checkContract(contract: string): void {
  if (!/^0x[0-9a-fA-F]{40}$/.test(contract)) {
    throw new ChainReadError(
      `contract address ${JSON.stringify(contract)} is not 20 bytes of hex`,
      false,
    );
  }
}

/** The return data of one `eth_call` answer, or the ChainReadError its error names. */
function callData(answer: RpcAnswer, contract: string, what: string): string {
  if (answer.error !== undefined) {
    const revert = revertData(answer.error);
    if (revert?.toLowerCase().startsWith(UNKNOWN_BATCH_SELECTOR) === true) {
      throw new ChainReadError(`${what}: the contract has no such batch`, false, true);
    }
    if (revert?.toLowerCase().startsWith(LEDGER_ERROR_SELECTORS.LedgerWrongScheme) === true)
      throw new ChainReadError(`${what}: the batch is of the other scheme`, false, false, true);
    if (revert?.toLowerCase().startsWith(LEDGER_ERROR_SELECTORS.LedgerUnknownVrfKey) === true)
      throw new ChainReadError(`${what}: no such VRF key`, false, false, false, true);
    throw new ChainReadError(
      `${what} failed: ${answer.error.message ?? "unknown error"}`,
      revert === undefined,
    );
  }
  if (typeof answer.result !== "string")
    throw new ChainReadError(`${what} returned no data`, false);
  if (answer.result === "0x")
    throw new ChainReadError(`there is no contract code at ${contract}`, false);
  return answer.result;
}

async function call(rpcUrl: string, contract: string, data: string, what: string): Promise<string> {
  checkContract(contract);
  const answer = await rpc(rpcUrl, "eth_call", [{ to: contract, data }, "latest"]);
  return callData(answer, contract, what);
}

/**
 * `getBatch(batchId)` on `contract` at the latest block. Throws ChainReadError with
 * `unknownBatch` when the contract reverts with LedgerUnknownBatch.
 *
 * @example
 * const batch = await readChainBatch("http://127.0.0.1:8545", "0x5FbD…", 3n);
 * batch.root // "0x…"
 */
export async function readChainBatch(
  rpcUrl: string,
  contract: string,
  batchId: bigint,
): Promise<ChainBatch> {
  return decodeBatch(await call(rpcUrl, contract, encodeGetBatch(batchId), `getBatch(${batchId})`));
}

/** `attestationCounts(batchId)` on `contract` at the latest block. */
export async function readAttestationCounts(
  rpcUrl: string,
  contract: string,
  batchId: bigint,
): Promise<{ confirmations: bigint; disputes: bigint }> {
  return decodeAttestationCounts(
    await call(rpcUrl, contract, encodeAttestationCounts(batchId), `attestationCounts(${batchId})`),
  );
}

/** A `shafaf-tree/2` batch as `getBatchV2` returns it (ITransparencyLedger.BatchV2), in part. */
export interface ChainBatchV2 {
  root: string;
  vrfKeyId: string;
  /** Jalali YYYYMM. */
  period: number;
  /** 0 premium, 1 pension. */
  kind: number;
  supersedes: bigint;
  supersededBy: bigint;
  /** Unix seconds of the block that anchored it. */
  anchoredAt: bigint;
}

const V2_WORDS = 17;

/** Decodes `getBatchV2`'s return data: exactly 17 words (the struct is static). */
export function decodeBatchV2(data: string): ChainBatchV2 {
  if (!/^0x[0-9a-fA-F]*$/.test(data) || data.length !== 2 + V2_WORDS * 64) {
    throw new ChainReadError(
      `getBatchV2 returned ${Math.max(0, (data.length - 2) / 2)} bytes, expected ${V2_WORDS * 32}`,
      false,
    );
  }
  const word = (i: number) => data.slice(2 + i * 64, 2 + (i + 1) * 64).toLowerCase();
  const kind = Number(uintWord(word(12), 8, "kind"));
  if (kind > 1)
    throw new ChainReadError(`getBatchV2 returned kind ${kind}, expected 0 or 1`, false);
  return {
    root: `0x${word(0)}`,
    vrfKeyId: `0x${word(4)}`,
    period: Number(uintWord(word(11), 32, "period")),
    kind,
    supersedes: uintWord(word(13), 64, "supersedes"),
    supersededBy: uintWord(word(14), 64, "supersededBy"),
    anchoredAt: uintWord(word(16), 64, "anchoredAt"),
  };
}

/** `batchCount()`: batch ids run from 1 to it. */
export async function readBatchCount(rpcUrl: string, contract: string): Promise<bigint> {
  const data = await call(rpcUrl, contract, LEDGER_FUNCTION_SELECTORS.batchCount, "batchCount()");
  if (!/^0x[0-9a-fA-F]{64}$/.test(data))
    throw new ChainReadError("batchCount returned something other than one word", false);
  return uintWord(data.slice(2), 64, "batchCount");
}

/**
 * `getBatchV2(batchId)`; `undefined` for a `shafaf-tree/1` batch (LedgerWrongScheme). Throws
 * ChainReadError with `unknownBatch` for an id the contract does not have.
 */
export async function readChainBatchV2(
  rpcUrl: string,
  contract: string,
  batchId: bigint,
): Promise<ChainBatchV2 | undefined> {
  try {
    return decodeBatchV2(
      await call(
        rpcUrl,
        contract,
        encodeUint64Call(LEDGER_FUNCTION_SELECTORS.getBatchV2, batchId),
        `getBatchV2(${batchId})`,
      ),
    );
  } catch (error) {
    if (error instanceof ChainReadError && error.wrongScheme) return undefined;
    throw error;
  }
}

/** `getVrfKey(keyId)`'s public key; `undefined` when no key with this id is registered. */
export async function readVrfPublicKey(
  rpcUrl: string,
  contract: string,
  keyId: string,
): Promise<string | undefined> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(keyId)) throw new RangeError("a VRF key id is 32 bytes of hex");
  try {
    const data = await call(
      rpcUrl,
      contract,
      LEDGER_FUNCTION_SELECTORS.getVrfKey + keyId.slice(2).toLowerCase(),
      "getVrfKey",
    );
    if (!/^0x[0-9a-fA-F]{192}$/.test(data))
      throw new ChainReadError("getVrfKey returned something other than three words", false);
    return `0x${data.slice(2, 66).toLowerCase()}`;
  } catch (error) {
    if (error instanceof ChainReadError && error.unknownVrfKey) return undefined;
    throw error;
  }
}

/** At most this many calls go in one JSON-RPC batch request (nodes cap batch sizes). */
export const RPC_BATCH_LIMIT = 256;

/**
 * Several JSON-RPC calls in one HTTP request (a JSON-RPC 2.0 batch), answers returned in the
 * order of `calls` (matched by id; a missing or duplicated answer is an error).
 */
async function rpcBatch(
  rpcUrl: string,
  calls: readonly { method: string; params: unknown[] }[],
): Promise<RpcAnswer[]> {
  let res: Response;
  try {
    res = await fetch(rpcUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(
        calls.map((c, id) => ({ jsonrpc: "2.0", id, method: c.method, params: c.params })),
      ),
    });
  } catch (error) {
    throw new ChainReadError(`the chain at ${rpcUrl} did not answer (${String(error)})`, true);
  }
  if (!res.ok && res.status !== 400 && res.status !== 500)
    throw new ChainReadError(`the chain at ${rpcUrl} answered HTTP ${res.status}`, true);
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    throw new ChainReadError(`the chain at ${rpcUrl} answered something other than JSON`, true);
  }
  if (!Array.isArray(body))
    throw new ChainReadError(
      `the chain at ${rpcUrl} answered a batch of ${calls.length} calls with one answer (${JSON.stringify((body as RpcAnswer).error?.message ?? "no batch")})`,
      false,
    );
  const out = new Array<RpcAnswer | undefined>(calls.length);
  for (const a of body as (RpcAnswer & { id?: unknown })[]) {
    if (typeof a.id !== "number" || !Number.isInteger(a.id) || a.id < 0 || a.id >= calls.length)
      throw new ChainReadError(`the chain answered a batch with an unknown id`, false);
    if (out[a.id] !== undefined)
      throw new ChainReadError(`the chain answered call ${a.id} of a batch twice`, false);
    out[a.id] = a;
  }
  const missing = out.findIndex((a) => a === undefined);
  if (missing !== -1 || out.length !== calls.length)
    throw new ChainReadError(`the chain left call ${missing} of a batch unanswered`, true);
  return out as RpcAnswer[];
}

/**
 * `getBatchV2` of every id in `batchIds`, in JSON-RPC batches of {@link RPC_BATCH_LIMIT} calls
 * (one HTTP request each); `undefined` for a `shafaf-tree/1` batch. Throws ChainReadError as
 * {@link readChainBatchV2} does for any one of them.
 *
 * @example
 * const [a, b] = await readChainBatchesV2(rpcUrl, contract, [3n, 4n]);
 */
export async function readChainBatchesV2(
  rpcUrl: string,
  contract: string,
  batchIds: readonly bigint[],
): Promise<(ChainBatchV2 | undefined)[]> {
  checkContract(contract);
  const out: (ChainBatchV2 | undefined)[] = [];
  for (let i = 0; i < batchIds.length; i += RPC_BATCH_LIMIT) {
    const ids = batchIds.slice(i, i + RPC_BATCH_LIMIT);
    const answers = await rpcBatch(
      rpcUrl,
      ids.map((id) => ({
        method: "eth_call",
        params: [
          { to: contract, data: encodeUint64Call(LEDGER_FUNCTION_SELECTORS.getBatchV2, id) },
          "latest",
        ],
      })),
    );
    answers.forEach((answer, j) => {
      try {
        out.push(decodeBatchV2(callData(answer, contract, `getBatchV2(${ids[j]})`)));
      } catch (error) {
        if (error instanceof ChainReadError && error.wrongScheme) out.push(undefined);
        else throw error;
      }
    });
  }
  return out;
}

const word = (n: number | bigint) => `0x${n.toString(16).padStart(64, "0")}`;

/**
 * The ids of the `shafaf-tree/2` batches anchored for any of `periods` (Jalali YYYYMM): one
 * `eth_getLogs` of `BatchAnchoredV2`, whose `period` is an indexed topic, over the whole chain.
 * Each log MUST come from `contract` and carry the event's topic and one of the periods asked
 * (a node answering otherwise is refused). Ascending, without repeats.
 *
 * @example
 * const ids = await readBatchIdsOfPeriods(rpcUrl, contract, [140301, 140302]);
 */
export async function readBatchIdsOfPeriods(
  rpcUrl: string,
  contract: string,
  periods: readonly number[],
): Promise<bigint[]> {
  checkContract(contract);
  if (periods.length === 0) return [];
  const topic = LEDGER_EVENT_TOPICS.BatchAnchoredV2.toLowerCase();
  const asked = new Set(periods.map((p) => word(p)));
  const answer = await rpc(rpcUrl, "eth_getLogs", [
    {
      address: contract,
      fromBlock: "0x0",
      toBlock: "latest",
      topics: [topic, null, null, [...asked]],
    },
  ]);
  if (answer.error !== undefined || !Array.isArray(answer.result))
    throw new ChainReadError(
      `eth_getLogs failed: ${answer.error?.message ?? "no list of logs"}`,
      answer.error !== undefined,
    );
  const ids = new Set<bigint>();
  for (const log of answer.result as { address?: unknown; topics?: unknown; removed?: unknown }[]) {
    const topics = log.topics;
    if (
      typeof log.address !== "string" ||
      log.address.toLowerCase() !== contract.toLowerCase() ||
      !Array.isArray(topics) ||
      topics.length !== 4 ||
      typeof topics[0] !== "string" ||
      topics[0].toLowerCase() !== topic ||
      typeof topics[1] !== "string" ||
      !/^0x[0-9a-fA-F]{64}$/.test(topics[1]) ||
      typeof topics[3] !== "string" ||
      !asked.has(topics[3].toLowerCase())
    )
      throw new ChainReadError("eth_getLogs answered a log that was not asked for", false);
    if (log.removed === true) continue;
    ids.add(uintWord(topics[1].slice(2), 64, "batchId"));
  }
  return [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
