/**
 * The ledger's log head (ITransparencyLedger.sol): after each anchored batch,
 * `head = keccak256(abi.encode(previous, batchId, root, uint8(kind), period, recordCount,
 * totalAmount, manifestHash))`, with `head_0 = 0x00…00`. The contract computes it; the indexer and
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
