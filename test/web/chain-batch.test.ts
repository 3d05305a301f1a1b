import { expect } from "chai";
import { AbiCoder, Interface, id } from "ethers";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import {
  ChainReadError,
  GET_BATCH_SELECTOR,
  UNKNOWN_BATCH_SELECTOR,
  decodeBatch,
  encodeGetBatch,
} from "../../src/web/chain-batch.ts";

const BATCH_TUPLE =
  "tuple(bytes32 root, bytes32 manifestHash, bytes32 idempotencyKey, bytes32 headAfter, uint128 totalAmount, uint64 recordCount, uint32 period, uint8 kind, uint64 supersedes, uint64 supersededBy, address anchorer, uint64 anchoredAt)";

function ledgerInterface(): Interface | undefined {
  const file = path.resolve(
    import.meta.dirname,
    "../../artifacts/contracts/TransparencyLedger.sol/TransparencyLedger.json",
  );
  try {
    return new Interface((JSON.parse(readFileSync(file, "utf8")) as { abi: [] }).abi);
  } catch {
    return undefined; // contracts not built: the ethers.id pins below still hold
  }
}

const hex32 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => "0x" + Buffer.from(b).toString("hex"));
const uint = (bits: number) => fc.bigInt({ min: 0n, max: (1n << BigInt(bits)) - 1n });
const batchArb = fc.record({
  root: hex32,
  manifestHash: hex32,
  idempotencyKey: hex32,
  headAfter: hex32,
  totalAmount: uint(128),
  recordCount: uint(64),
  period: fc.integer({ min: 0, max: 0xffffffff }),
  kind: fc.integer({ min: 0, max: 1 }),
  supersedes: uint(64),
  supersededBy: uint(64),
  anchorer: fc
    .uint8Array({ minLength: 20, maxLength: 20 })
    .map((b) => "0x" + Buffer.from(b).toString("hex")),
  anchoredAt: uint(64),
});

describe("chain-batch (the portal's getBatch ABI)", function () {
  describe("selectors", function () {
    it("match keccak256 of the signatures and the compiled contract's ABI", function () {
      expect(GET_BATCH_SELECTOR).to.equal(id("getBatch(uint64)").slice(0, 10));
      expect(UNKNOWN_BATCH_SELECTOR).to.equal(id("LedgerUnknownBatch(uint64)").slice(0, 10));
      const iface = ledgerInterface();
      if (iface !== undefined) {
        expect(iface.getFunction("getBatch")!.selector).to.equal(GET_BATCH_SELECTOR);
        expect(iface.getError("LedgerUnknownBatch")!.selector).to.equal(UNKNOWN_BATCH_SELECTOR);
        const out = iface.getFunction("getBatch")!.outputs[0]!;
        expect(out.components!.map((c) => `${c.type} ${c.name}`).join(", ")).to.equal(
          BATCH_TUPLE.slice("tuple(".length, -1),
        );
      }
    });
  });

  describe("encodeGetBatch", function () {
    it("encodes like ethers for every uint64", function () {
      const iface = new Interface(["function getBatch(uint64 batchId)"]);
      fc.assert(
        fc.property(uint(64), (n) => {
          expect(encodeGetBatch(n)).to.equal(iface.encodeFunctionData("getBatch", [n]));
        }),
      );
    });
    it("refuses ids outside uint64", function () {
      expect(() => encodeGetBatch(-1n)).to.throw(RangeError);
      expect(() => encodeGetBatch(1n << 64n)).to.throw(RangeError);
    });
  });

  describe("decodeBatch", function () {
    it("decodes what ethers encodes, for random batches", function () {
      const coder = AbiCoder.defaultAbiCoder();
      fc.assert(
        fc.property(batchArb, (b) => {
          const data = coder.encode([BATCH_TUPLE], [b]);
          expect(decodeBatch(data)).to.deep.equal({ ...b, anchorer: b.anchorer.toLowerCase() });
        }),
        { numRuns: 200 },
      );
    });

    const good = AbiCoder.defaultAbiCoder().encode(
      [BATCH_TUPLE],
      [
        [
          "0x" + "11".repeat(32),
          "0x" + "22".repeat(32),
          "0x" + "33".repeat(32),
          "0x" + "44".repeat(32),
          5n,
          2n,
          140307,
          1,
          0n,
          0n,
          "0x" + "55".repeat(20),
          1_700_000_000n,
        ],
      ],
    );
    const word = (i: number) => 2 + i * 64;
    const corruptions: [string, string][] = [
      ["empty", "0x"],
      ["one word short", good.slice(0, -64)],
      ["trailing garbage", good + "00"],
      ["a trailing word", good + "0".repeat(64)],
      ["not hex", good.slice(0, -1) + "g"],
      ["kind 2", good.slice(0, word(7)) + "0".repeat(63) + "2" + good.slice(word(8))],
      ["recordCount above uint64", good.slice(0, word(5)) + "1" + good.slice(word(5) + 1)],
      ["totalAmount above uint128", good.slice(0, word(4)) + "1" + good.slice(word(4) + 1)],
      ["anchorer above 160 bits", good.slice(0, word(10)) + "1" + good.slice(word(10) + 1)],
      ["period above uint32", good.slice(0, word(6)) + "1" + good.slice(word(6) + 1)],
    ];
    for (const [name, data] of corruptions) {
      it(`rejects ${name}`, function () {
        expect(() => decodeBatch(data)).to.throw(ChainReadError);
      });
    }
    it("accepts the uncorrupted vector", function () {
      expect(decodeBatch(good).period).to.equal(140307);
      expect(decodeBatch(good).kind).to.equal(1);
    });
  });
});
