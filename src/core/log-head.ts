/**
 * The ledger's log head (ITransparencyLedger.sol): after each anchored batch,
 * `head = keccak256(abi.encode(previous, batchId, root, uint8(kind), period, recordCount,
 * totalAmount, manifestHash))` for a StandardV1 batch and
 * `head = keccak256(abi.encode(previous, batchId, root, uint8(kind), period, uint8(1),
 * totals (uint128[6]), manifestHash, vrfKeyId))` for a `shafaf-tree/2` batch (14 words against 8:
 * the two preimages never coincide), with `head_0 = 0x00…00`. The contract computes it; the indexer and
 * `shafaf log verify` recompute it from the events and compare.
 */
import { bytesToHex, writeHex32 } from "./hex.ts";
import { keccak256 } from "./keccak.ts";

/** The head before the first batch. */
export const GENESIS_LOG_HEAD = "0x" + "00".repeat(32);

export interface LogHeadBatch {
  batchId: number;
  /** bytes32, 0x-hex. */
  root: string;
  kind: 0 | 1;
  /** YYYYMM as on-chain. */
  period: number;
  recordCount: number;
  totalAmount: bigint;
  /** bytes32, 0x-hex. */
  manifestHash: string;
}

/**
 * The log head after `batch`, given the head before it. Throws RangeError on a value that does
 * not fit its on-chain type (it cannot have come from the contract).
 *
 * @example
 * nextLogHead(GENESIS_LOG_HEAD, batch1) === await ledger.head() // after one batch
 */
export function nextLogHead(previous: string, batch: LogHeadBatch): string {
  const out = new Uint8Array(8 * 32);
  writeHex32(previous, out, 0);
  writeUint(out, 1, batch.batchId, 64);
  writeHex32(batch.root, out, 64);
  writeUint(out, 3, batch.kind, 8);
  writeUint(out, 4, batch.period, 32);
  writeUint(out, 5, batch.recordCount, 64);
  writeUint(out, 6, batch.totalAmount, 256);
  writeHex32(batch.manifestHash, out, 224);
  return bytesToHex(keccak256(out));
}

export interface LogHeadBatchV2 {
  batchId: number;
  /** bytes32, 0x-hex. */
  root: string;
  kind: 0 | 1;
  /** YYYYMM as on-chain. */
  period: number;
  /** The root's six lanes (a premium batch's lane 5 is 0). */
  totals: readonly bigint[];
  /** bytes32, 0x-hex. */
  manifestHash: string;
  /** bytes32, 0x-hex: keccak256 of the VRF public key. */
  vrfKeyId: string;
}

/**
 * The log head after a `shafaf-tree/2` batch (BatchAnchoredV2), given the head before it. Throws
 * RangeError on a value that does not fit its on-chain type.
 *
 * @example
 * nextLogHeadV2(headBefore, { batchId: 2, root, kind: 0, period: 140307, totals, manifestHash, vrfKeyId })
 */
export function nextLogHeadV2(previous: string, batch: LogHeadBatchV2): string {
  if (batch.totals.length !== 6) throw new RangeError("nextLogHeadV2: totals are 6 lanes");
  const out = new Uint8Array(14 * 32);
  writeHex32(previous, out, 0);
  writeUint(out, 1, batch.batchId, 64);
  writeHex32(batch.root, out, 64);
  writeUint(out, 3, batch.kind, 8);
  writeUint(out, 4, batch.period, 32);
  writeUint(out, 5, 1, 8);
  for (let lane = 0; lane < 6; lane++) writeUint(out, 6 + lane, batch.totals[lane]!, 128);
  writeHex32(batch.manifestHash, out, 12 * 32);
  writeHex32(batch.vrfKeyId, out, 13 * 32);
  return bytesToHex(keccak256(out));
}

/**
 * Writes `value` as ABI word `word` of `out` (big-endian, 32 bytes, `out` zeroed there). Throws
 * RangeError when it is not a whole number in [0, 2^bits). The log head is recomputed for every
 * anchored batch; this is `abiEncode`'s uint encoding without a BigInt operation per byte
 * (test/core/log-head.test.ts checks the two agree).
 */
function writeUint(out: Uint8Array, word: number, value: number | bigint, bits: number): void {
  let n: number;
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 0 || (bits < 53 && value >= 2 ** bits)) {
      throw new RangeError(`log head: ${value} does not fit uint${bits}`);
    }
    n = value;
  } else if (
    value >= 0n &&
    value <= BigInt(Number.MAX_SAFE_INTEGER) &&
    (bits >= 53 || value < 1n << BigInt(bits))
  ) {
    n = Number(value);
  } else {
    if (value < 0n || value >> BigInt(bits) !== 0n) {
      throw new RangeError(`log head: ${value} does not fit uint${bits}`);
    }
    let v = value;
    for (let i = 32 * word + 31; v > 0n; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return;
  }
  for (let i = 32 * word + 31; n > 0; i--) {
    out[i] = n % 256;
    n = Math.floor(n / 256);
  }
}
