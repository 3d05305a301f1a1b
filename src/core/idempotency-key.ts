/**
 * The idempotency key sent with `anchorBatch`:
 * `keccak256(abi.encode("shafaf-idempotency/1", manifestHash, root, uint64(supersedes)))`.
 * It is fixed once a batch's artifact (with its random salts) is durable; the contract refuses a
 * second batch with the same key (`LedgerDuplicateIdempotencyKey`) and `batchIdOfIdempotencyKey`
 * finds the batch it anchored — which is how a killed anchoring job is finished, never doubled.
 */
import { abiEncode } from "./abi.ts";
import { bytesToHex, hexToBytes } from "./hex.ts";
import { keccak256 } from "./keccak.ts";

/**
 * @example
 * computeIdempotencyKey(manifestHash, root, null) // "0x…" (bytes32)
 */
export function computeIdempotencyKey(
  manifestHash: string,
  root: string,
  supersedes: number | null,
): string {
  return bytesToHex(
    keccak256(
      abiEncode(
        ["string", "bytes32", "bytes32", "uint64"],
        [
          "shafaf-idempotency/1",
          hexToBytes(manifestHash),
          hexToBytes(root),
          BigInt(supersedes ?? 0),
        ],
      ),
    ),
  );
}
