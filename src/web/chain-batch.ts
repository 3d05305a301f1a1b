/**
 * Reads one batch straight from the ledger contract over JSON-RPC (`eth_call` to
 * `getBatch(uint64)`), with a minimal ABI encoder and a strict decoder for the fixed `Batch`
 * struct layout of `contracts/interfaces/ITransparencyLedger.sol`. The portal uses it so that a
 * receipt's verdict rests on the chain, not on this site's API. Pure apart from `fetch`.
 */
import { LEDGER_ERROR_SELECTORS, LEDGER_FUNCTION_SELECTORS } from "../core/ledger-abi.ts";
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

async function call(rpcUrl: string, contract: string, data: string, what: string): Promise<string> {
  if (!/^0x[0-9a-fA-F]{40}$/.test(contract)) {
    throw new ChainReadError(
      `contract address ${JSON.stringify(contract)} is not 20 bytes of hex`,
      false,
    );
  }
  const answer = await rpc(rpcUrl, "eth_call", [{ to: contract, data }, "latest"]);
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
  /** Unix seconds of the anchoring block. */
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
