/**
 * The ledger's log head (ITransparencyLedger.sol): after each anchored batch,
 * `head = keccak256(abi.encode(previous, batchId, root, uint8(kind), period, recordCount,
 * totalAmount, manifestHash))` for a StandardV1 batch and
 * `head = keccak256(abi.encode(previous, batchId, root, uint8(kind), period, uint8(1),
 * totals (uint128[6]), manifestHash, vrfKeyId))` for a `shafaf-tree/2` batch (14 words against 8:
 * the two preimages never coincide), with `head_0 = 0x00…00`. The contract computes it; the indexer and
 * `shafaf log verify` recompute it from the events and compare.
 */
import { abiEncode } from "./abi.ts";
import { bytesToHex, hexToBytes } from "./hex.ts";
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
  return bytesToHex(
    keccak256(
      abiEncode(
        ["bytes32", "uint64", "bytes32", "uint8", "uint32", "uint64", "uint256", "bytes32"],
        [
          hexToBytes(previous),
          BigInt(batch.batchId),
          hexToBytes(batch.root),
          BigInt(batch.kind),
          BigInt(batch.period),
          BigInt(batch.recordCount),
          batch.totalAmount,
          hexToBytes(batch.manifestHash),
        ],
      ),
    ),
  );
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
  return bytesToHex(
    keccak256(
      abiEncode(
        [
          "bytes32",
          "uint64",
          "bytes32",
          "uint8",
          "uint32",
          "uint8",
          "uint128",
          "uint128",
          "uint128",
          "uint128",
          "uint128",
          "uint128",
          "bytes32",
          "bytes32",
        ],
        [
          hexToBytes(previous),
          BigInt(batch.batchId),
          hexToBytes(batch.root),
          BigInt(batch.kind),
          BigInt(batch.period),
          1n,
          ...batch.totals,
          hexToBytes(batch.manifestHash),
          hexToBytes(batch.vrfKeyId),
        ],
      ),
    ),
  );
}
