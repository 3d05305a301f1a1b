import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { AbiCoder, keccak256 as ethersKeccak } from "ethers";
import fc from "fast-check";
import { abiEncode, type AbiType } from "../../src/core/abi.ts";
import { bytesToHex, hexToBytes } from "../../src/core/hex.ts";
import { doubleKeccak256Many, keccak256, keccak256Many, nodeHash } from "../../src/core/keccak.ts";
import { KECCAK_WASM_SOURCE_SHA256 } from "../../src/core/keccak-wasm.ts";

const root = path.resolve(import.meta.dirname, "../..");

describe("keccak256 (WebAssembly)", function () {
  it("is Ethereum's Keccak-256, not NIST SHA3-256", function () {
    expect(bytesToHex(keccak256(new Uint8Array()))).to.equal(
      "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    );
  });
  it("equals ethers' keccak256 at every length around the 136-byte rate", function () {
    for (let len = 0; len <= 300; len++) {
      const data = Uint8Array.from({ length: len }, (_, i) => (i * 31 + len) & 0xff);
      expect(bytesToHex(keccak256(data)), `length ${len}`).to.equal(ethersKeccak(data));
    }
  });
  it("equals ethers' keccak256 on random inputs (property)", function () {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        expect(bytesToHex(keccak256(data))).to.equal(ethersKeccak(data));
      }),
      { numRuns: 200 },
    );
  });
  it("hashes batches like one call per message, across chunk boundaries", function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer(),
        (len, count, seed) => {
          const data = Uint8Array.from({ length: len * count }, (_, i) => (i * 131 + seed) & 0xff);
          const many = keccak256Many(data, len);
          const twice = doubleKeccak256Many(data, len);
          for (let i = 0; i < count; i++) {
            const one = ethersKeccak(data.subarray(i * len, (i + 1) * len));
            expect(bytesToHex(many.subarray(i * 32, i * 32 + 32))).to.equal(one);
            expect(bytesToHex(twice.subarray(i * 32, i * 32 + 32))).to.equal(
              ethersKeccak(hexToBytes(one)),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
    // more than one MiB of input: several WebAssembly calls
    const big = Uint8Array.from({ length: 224 * 6000 }, (_, i) => (i * 7) & 0xff);
    const out = doubleKeccak256Many(big, 224);
    expect(bytesToHex(out.subarray(5999 * 32))).to.equal(
      ethersKeccak(ethersKeccak(big.subarray(5999 * 224))),
    );
  });
  it("rejects batch input that is not a whole number of messages", function () {
    expect(() => keccak256Many(new Uint8Array(33), 32)).to.throw(RangeError);
    expect(() => keccak256Many(new Uint8Array(32), 0)).to.throw(RangeError);
  });
  it("hashes node pairs in ascending order (OpenZeppelin commutative hash)", function () {
    const a = hexToBytes(`0x${"01".repeat(32)}`);
    const b = hexToBytes(`0x${"ff".repeat(32)}`);
    const expected = ethersKeccak(new Uint8Array([...a, ...b]));
    expect(bytesToHex(nodeHash(a, b))).to.equal(expected);
    expect(bytesToHex(nodeHash(b, a))).to.equal(expected);
  });
  it("is built from the committed AssemblyScript source (run npm run build:wasm when this fails)", function () {
    const source = readFileSync(path.join(root, "assembly/keccak.as"));
    expect(KECCAK_WASM_SOURCE_SHA256).to.equal(createHash("sha256").update(source).digest("hex"));
  });
});

describe("abiEncode", function () {
  it("equals ethers' AbiCoder for tuples of strings, bytes32 and uints (property)", function () {
    const item = fc.oneof(
      fc.string({ unit: "binary", maxLength: 80 }).map((s) => ["string", s] as const),
      fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => ["bytes32", b] as const),
      fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }).map((v) => ["uint256", v] as const),
      fc.bigInt({ min: 0n, max: 255n }).map((v) => ["uint8", v] as const),
      fc.bigInt({ min: 0n, max: (1n << 32n) - 1n }).map((v) => ["uint32", v] as const),
    );
    fc.assert(
      fc.property(fc.array(item, { maxLength: 12 }), (items) => {
        const types = items.map((x) => x[0]) as AbiType[];
        const values = items.map((x) => x[1]);
        const ours = bytesToHex(abiEncode(types, values));
        const theirs = AbiCoder.defaultAbiCoder().encode(types, values);
        expect(ours).to.equal(theirs);
      }),
      { numRuns: 200 },
    );
  });
  it("rejects values that do not fit their type", function () {
    expect(() => abiEncode(["uint8"], [256n])).to.throw(RangeError);
    expect(() => abiEncode(["uint256"], [-1n])).to.throw(RangeError);
    expect(() => abiEncode(["bytes32"], [new Uint8Array(31)])).to.throw(RangeError);
    expect(() => abiEncode(["string"], [1n])).to.throw(RangeError);
    expect(() => abiEncode(["string", "string"], ["a"])).to.throw(RangeError);
  });
});
