import { expect } from "chai";
import { AbiCoder, Interface, id } from "ethers";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { LEDGER_ERROR_SELECTORS, LEDGER_EVENT_TOPICS } from "../../src/core/ledger-abi.ts";
import {
  ChainReadError,
  GET_BATCH_SELECTOR,
  UNKNOWN_BATCH_SELECTOR,
  decodeBatch,
  encodeGetBatch,
  readBatchIdsOfPeriods,
  readChainBatchesV2,
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

describe("the history's chain reads (readBatchIdsOfPeriods, readChainBatchesV2) against a node", function () {
  const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
  const word = (n: number | bigint) => `0x${n.toString(16).padStart(64, "0")}`;
  const topic = LEDGER_EVENT_TOPICS.BatchAnchoredV2.toLowerCase();
  const log = (batchId: number, period: number, address = CONTRACT) => ({
    address,
    topics: [topic, word(batchId), `0x${"ab".repeat(32)}`, word(period)],
    data: "0x",
  });
  let server: Server;
  let url: string;
  /** What the node answers: given the parsed request, the JSON to send. */
  let answer: (body: unknown) => unknown;
  const asked: unknown[] = [];
  before(async function () {
    server = createServer((req, res) => {
      let text = "";
      req.on("data", (c: Buffer) => (text += c.toString("utf8")));
      req.on("end", () => {
        const body = JSON.parse(text) as unknown;
        asked.push(body);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(answer(body)));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("asks one eth_getLogs of BatchAnchoredV2 with the periods as an OR-topic, and returns the ids ascending, once", async function () {
    answer = (b) => ({
      jsonrpc: "2.0",
      id: (b as { id: number }).id,
      result: [
        log(9, 140302),
        log(3, 140301),
        log(9, 140302),
        { ...log(4, 140301), removed: true },
      ],
    });
    asked.length = 0;
    expect(await readBatchIdsOfPeriods(url, CONTRACT, [140301, 140302])).to.deep.equal([3n, 9n]);
    const [req] = asked as { method: string; params: [{ address: string; topics: unknown[] }] }[];
    expect(req!.method).to.equal("eth_getLogs");
    expect(req!.params[0].address).to.equal(CONTRACT);
    expect(req!.params[0].topics).to.deep.equal([topic, null, null, [word(140301), word(140302)]]);
  });

  it("refuses a log of another contract, another event or a period not asked for", async function () {
    for (const bad of [
      log(3, 140301, "0x" + "11".repeat(20)),
      { ...log(3, 140301), topics: [word(1), word(3), word(0), word(140301)] },
      log(3, 140212),
    ]) {
      answer = (b) => ({ jsonrpc: "2.0", id: (b as { id: number }).id, result: [bad] });
      await readBatchIdsOfPeriods(url, CONTRACT, [140301]).then(
        () => expect.fail("accepted a log that was not asked for"),
        (e: unknown) => {
          expect(e).to.be.instanceOf(ChainReadError);
          expect((e as Error).message).to.include("not asked for");
        },
      );
    }
  });

  it("reads batches in one JSON-RPC batch request, matched by id whatever the answers' order; a shafaf-tree/1 batch is undefined", async function () {
    const v2 = (period: number) =>
      "0x" +
      Array.from({ length: 17 }, (_, i) =>
        (i === 11 ? period : i === 16 ? 1_700_000_000 : i === 0 ? 0xaa : 0)
          .toString(16)
          .padStart(64, "0"),
      ).join("");
    answer = (b) =>
      (b as { id: number; params: [{ data: string }] }[])
        .map((c) =>
          c.params[0].data.endsWith("2".padStart(64, "0"))
            ? {
                jsonrpc: "2.0",
                id: c.id,
                error: {
                  code: 3,
                  message: "revert",
                  data: LEDGER_ERROR_SELECTORS.LedgerWrongScheme + word(2).slice(2),
                },
              }
            : { jsonrpc: "2.0", id: c.id, result: v2(140300 + c.id + 1) },
        )
        .reverse();
    asked.length = 0;
    const got = await readChainBatchesV2(url, CONTRACT, [1n, 2n, 3n]);
    expect(asked).to.have.length(1);
    expect(got.map((x) => x?.period)).to.deep.equal([140301, undefined, 140303]);
    expect(got[0]!.anchoredAt).to.equal(1_700_000_000n);
  });

  it("refuses a batch answer with an answer missing, repeated or not a batch at all", async function () {
    const bad: ((b: { id: number }[]) => unknown)[] = [
      (b) => b.slice(1).map((c) => ({ jsonrpc: "2.0", id: c.id, result: "0x" })),
      (b) => [...b, b[0]!].map((c) => ({ jsonrpc: "2.0", id: c.id, result: "0x" })),
      () => ({ jsonrpc: "2.0", id: 0, error: { code: -32600, message: "batches not allowed" } }),
    ];
    for (const make of bad) {
      answer = (b) => make(b as { id: number }[]);
      await readChainBatchesV2(url, CONTRACT, [1n, 2n]).then(
        () => expect.fail("accepted a broken batch answer"),
        (e: unknown) => expect(e).to.be.instanceOf(ChainReadError),
      );
    }
  });
});
