/**
 * The subset of Solidity's `abi.encode` that Shafaf's hashes use: tuples of `uint<N>`, `bytes32`
 * and `string`. Byte-for-byte equal to ethers' `AbiCoder.encode` and to Solidity (checked in
 * `test/core/abi.test.ts`), so every hash here can be recomputed on-chain or with any ABI library.
 */
export type AbiType = "string" | "bytes32" | "uint8" | "uint32" | "uint64" | "uint128" | "uint256";
export type AbiValue = string | bigint | Uint8Array;

const TEXT = new TextEncoder();
const BITS: Record<string, bigint> = {
  uint8: 8n,
  uint32: 32n,
  uint64: 64n,
  uint128: 128n,
  uint256: 256n,
};

function writeUint(out: Uint8Array, offset: number, value: bigint): void {
  let v = value;
  for (let i = 31; i >= 0 && v > 0n; i--) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/**
 * `abi.encode(values…)` for the given types. Throws RangeError on a value that does not fit its
 * type (negative or too wide uint, bytes32 not 32 bytes).
 *
 * @example
 * abiEncode(["string", "uint256"], ["shafaf/record-id/v1", 1n])
 */
export function abiEncode(types: readonly AbiType[], values: readonly AbiValue[]): Uint8Array {
  if (types.length !== values.length)
    throw new RangeError("abiEncode: types and values differ in length");
  const tails: Uint8Array[] = [];
  let tailLength = 0;
  const head = new Uint8Array(32 * types.length);
  types.forEach((type, i) => {
    const value = values[i];
    if (type === "string") {
      if (typeof value !== "string") throw new RangeError(`abiEncode: value ${i} is not a string`);
      const bytes = TEXT.encode(value);
      const padded = new Uint8Array(32 + Math.ceil(bytes.length / 32) * 32);
      writeUint(padded, 0, BigInt(bytes.length));
      padded.set(bytes, 32);
      writeUint(head, 32 * i, BigInt(head.length + tailLength));
      tails.push(padded);
      tailLength += padded.length;
    } else if (type === "bytes32") {
      if (!(value instanceof Uint8Array) || value.length !== 32) {
        throw new RangeError(`abiEncode: value ${i} is not 32 bytes`);
      }
      head.set(value, 32 * i);
    } else {
      const bits = BITS[type];
      if (typeof value !== "bigint" || bits === undefined || value < 0n || value >> bits !== 0n) {
        throw new RangeError(`abiEncode: value ${i} does not fit ${type}`);
      }
      writeUint(head, 32 * i, value);
    }
  });
  const out = new Uint8Array(head.length + tailLength);
  out.set(head, 0);
  let at = head.length;
  for (const t of tails) {
    out.set(t, at);
    at += t.length;
  }
  return out;
}
