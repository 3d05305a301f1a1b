/**
 * The log head's encoder (src/core/log-head.ts) writes the ABI words itself, without
 * `abiEncode`'s BigInt operation per byte (the indexer recomputes it for every anchored batch):
 * it must give exactly the head of the formula written with `abiEncode`, and refuse what does not
 * fit the on-chain types as `abiEncode` does.
 */
import { expect } from "chai";
import fc from "fast-check";
import { abiEncode } from "../../src/core/abi.ts";
import { bytesToHex, hexToBytes } from "../../src/core/hex.ts";
import { keccak256 } from "../../src/core/keccak.ts";
import { nextLogHead, nextLogHeadV2 } from "../../src/core/log-head.ts";

const hex32 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => "0x" + Buffer.from(b).toString("hex"));
/** Whole numbers below 2^bits, the edges often. */
const uint = (bits: number) =>
  fc.oneof(
    fc.bigInt({ min: 0n, max: 2n ** BigInt(bits) - 1n }),
    fc.constantFrom(0n, 1n, 255n, 256n, 2n ** BigInt(bits) - 1n),
  );
const safe = (bits: number) =>
  uint(bits).map((v) => Number(v > BigInt(Number.MAX_SAFE_INTEGER) ? v >> 11n : v));

function v1ByAbi(previous: string, b: Parameters<typeof nextLogHead>[1]): string {
  return bytesToHex(
    keccak256(
      abiEncode(
        ["bytes32", "uint64", "bytes32", "uint8", "uint32", "uint64", "uint256", "bytes32"],
        [
          hexToBytes(previous),
          BigInt(b.batchId),
          hexToBytes(b.root),
          BigInt(b.kind),
          BigInt(b.period),
          BigInt(b.recordCount),
          b.totalAmount,
          hexToBytes(b.manifestHash),
        ],
      ),
    ),
  );
}

function v2ByAbi(previous: string, b: Parameters<typeof nextLogHeadV2>[1]): string {
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
          ...Array<"uint128">(6).fill("uint128"),
          "bytes32",
          "bytes32",
        ],
        [
          hexToBytes(previous),
          BigInt(b.batchId),
          hexToBytes(b.root),
          BigInt(b.kind),
          BigInt(b.period),
          1n,
          ...b.totals,
          hexToBytes(b.manifestHash),
          hexToBytes(b.vrfKeyId),
        ],
      ),
    ),
  );
}

describe("log head encoder", function () {
  it("equals the abiEncode formula for BatchAnchored", function () {
    fc.assert(
      fc.property(
        hex32,
        fc.record({
          batchId: safe(64),
          root: hex32,
          kind: fc.constantFrom(0 as const, 1 as const),
          period: safe(32),
          recordCount: safe(64),
          totalAmount: uint(256),
          manifestHash: hex32,
        }),
        (previous, batch) => {
          expect(nextLogHead(previous, batch)).to.equal(v1ByAbi(previous, batch));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("equals the abiEncode formula for BatchAnchoredV2", function () {
    fc.assert(
      fc.property(
        hex32,
        fc.record({
          batchId: safe(64),
          root: hex32,
          kind: fc.constantFrom(0 as const, 1 as const),
          period: safe(32),
          totals: fc.array(uint(128), { minLength: 6, maxLength: 6 }),
          manifestHash: hex32,
          vrfKeyId: hex32,
        }),
        (previous, batch) => {
          expect(nextLogHeadV2(previous, batch)).to.equal(v2ByAbi(previous, batch));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("refuses values that do not fit their on-chain types, and malformed words", function () {
    const zero = "0x" + "00".repeat(32);
    const ok = {
      batchId: 1,
      root: zero,
      kind: 0 as const,
      period: 140307,
      recordCount: 3,
      totalAmount: 5n,
      manifestHash: zero,
    };
    expect(nextLogHead(zero, ok)).to.equal(v1ByAbi(zero, ok));
    for (const bad of [
      { period: 2 ** 32 },
      { period: -1 },
      { batchId: 1.5 },
      { kind: 256 as never },
      { totalAmount: -1n },
      { totalAmount: 2n ** 256n },
      { root: "0x12" },
      { manifestHash: "0x" + "zz".repeat(32) },
    ]) {
      expect(
        () => nextLogHead(zero, { ...ok, ...bad }),
        JSON.stringify(bad, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
      ).to.throw(RangeError);
    }
    const v2 = { ...ok, totals: [1n, 1n, 1n, 1n, 1n, 0n], vrfKeyId: zero };
    expect(() => nextLogHeadV2(zero, { ...v2, totals: [2n ** 128n, 0n, 0n, 0n, 0n, 0n] })).to.throw(
      RangeError,
    );
    expect(() => nextLogHeadV2(zero, { ...v2, totals: [0n] })).to.throw(RangeError);
    expect(() => nextLogHeadV2("0x00", v2)).to.throw(RangeError);
  });
});
