import { expect } from "chai";
import { ChainDataError, LogRangeTooLargeError } from "../../src/chain/errors.ts";
import { getLogs } from "../../src/chain/get-logs.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { block, hash, startFakeNode } from "./fake-node.ts";

const ADDRESS = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const TOPIC = "0x" + "ab".repeat(32);

interface Rules {
  /** Refuse ranges wider than this (Besu: -32005 "exceeds maximum RPC range limit"). */
  maxRange?: number;
  /** Refuse answers with more logs than this (Geth/Infura style). */
  maxResults?: number;
  /** Blocks that hold one log each. */
  logBlocks: number[];
  tamper?: (log: Record<string, unknown>) => void;
}

function logAt(n: number, i = 0): Record<string, unknown> {
  return {
    address: ADDRESS,
    topics: [TOPIC],
    data: "0x" + n.toString(16).padStart(64, "0"),
    blockNumber: "0x" + n.toString(16),
    blockHash: hash(n),
    transactionHash: "0x" + "cd".repeat(32),
    transactionIndex: "0x0",
    logIndex: "0x" + i.toString(16),
    removed: false,
  };
}

async function node(rules: Rules) {
  const spans: number[] = [];
  const fake = await startFakeNode(({ method, params }) => {
    if (method === "eth_getBlockByNumber") {
      return { result: block(Number(params[0])) };
    }
    if (method === "eth_getLogs") {
      const q = params[0] as { fromBlock: string; toBlock: string; address: string };
      if (!/^0x[0-9a-f]+$/.test(q.fromBlock) || !/^0x[0-9a-f]+$/.test(q.toBlock)) {
        return { error: { code: -32602, message: "Invalid params: block numbers must be hex" } };
      }
      const from = Number(q.fromBlock);
      const to = Number(q.toBlock);
      spans.push(to - from + 1);
      if (rules.maxRange !== undefined && to - from + 1 > rules.maxRange) {
        return {
          error: { code: -32005, message: "Requested range exceeds maximum RPC range limit" },
        };
      }
      const logs = rules.logBlocks.filter((b) => b >= from && b <= to).map((b) => logAt(b));
      if (rules.maxResults !== undefined && logs.length > rules.maxResults) {
        return {
          error: { code: -32005, message: `query returned more than ${rules.maxResults} results` },
        };
      }
      for (const l of logs) rules.tamper?.(l);
      return { result: logs };
    }
    return { error: { code: -32601, message: "method not found" } };
  });
  return { ...fake, spans, rpc: createRpc({ url: fake.url, retries: 0 }) };
}

describe("getLogs", function () {
  it("asks in windows of at most 5,000 blocks by default, in hex, and returns logs in chain order", async function () {
    const n = await node({ logBlocks: [0, 4_999, 5_000, 11_999, 12_000] });
    try {
      const { logs, blocks, splits } = await getLogs({
        rpc: n.rpc,
        address: ADDRESS,
        fromBlock: 0,
        toBlock: 12_000,
      });
      expect(n.spans).to.deep.equal([5_000, 5_000, 2_001]);
      expect(logs.map((l) => l.blockNumber)).to.deep.equal([0, 4_999, 5_000, 11_999, 12_000]);
      expect([...blocks.keys()].sort((a, b) => a - b)).to.deep.equal([
        0, 4_999, 5_000, 11_999, 12_000,
      ]);
      expect(splits).to.equal(0);
    } finally {
      await n.close();
    }
  });

  it("splits a range the node refuses as too wide until it fits, losing and repeating nothing", async function () {
    const logBlocks = Array.from({ length: 60 }, (_, i) => i * 17);
    const n = await node({ maxRange: 100, logBlocks });
    try {
      const { logs, splits } = await getLogs({
        rpc: n.rpc,
        address: ADDRESS,
        fromBlock: 0,
        toBlock: 1_010,
      });
      expect(logs.map((l) => l.blockNumber)).to.deep.equal(logBlocks);
      expect(splits).to.be.greaterThan(0);
      expect(n.spans.filter((s) => s > 100).length).to.equal(splits);
    } finally {
      await n.close();
    }
  });

  it("splits when the node refuses too many results", async function () {
    const logBlocks = Array.from({ length: 40 }, (_, i) => 100 + i);
    const n = await node({ maxResults: 7, logBlocks });
    try {
      const { logs } = await getLogs({ rpc: n.rpc, address: ADDRESS, fromBlock: 0, toBlock: 300 });
      expect(logs.map((l) => l.blockNumber)).to.deep.equal(logBlocks);
    } finally {
      await n.close();
    }
  });

  it("gives up with a clear error when even one block is refused", async function () {
    const n = await node({ maxResults: 0, logBlocks: [5] });
    try {
      let error: unknown;
      await getLogs({ rpc: n.rpc, address: ADDRESS, fromBlock: 0, toBlock: 9 }).catch(
        (e: unknown) => (error = e),
      );
      expect(error).to.be.instanceOf(LogRangeTooLargeError);
      expect((error as LogRangeTooLargeError).shortMessage).to.match(/single block 5/);
      expect((error as LogRangeTooLargeError).details).to.match(/rpc-max-logs-range/);
    } finally {
      await n.close();
    }
  });

  for (const [what, tamper, pattern] of [
    [
      "a log whose blockHash is not its block's",
      (l: Record<string, unknown>) => (l.blockHash = hash(3, 9)),
      /claims block hash/,
    ],
    [
      "a log of another contract",
      (l: Record<string, unknown>) => (l.address = "0x" + "12".repeat(20)),
      /not of 0x5fbd/,
    ],
    ["a removed log", (l: Record<string, unknown>) => (l.removed = true), /removed log/],
    [
      "a log outside the range asked",
      (l: Record<string, unknown>) => (l.blockNumber = "0x63"),
      /returned a log of block 99/,
    ],
    [
      "a malformed block hash",
      (l: Record<string, unknown>) => (l.blockHash = "0x1234"),
      /malformed log block hash/,
    ],
    ["malformed data", (l: Record<string, unknown>) => (l.data = "0x123"), /malformed data/],
  ] as const) {
    it(`rejects ${what}`, async function () {
      const n = await node({ logBlocks: [3], tamper });
      try {
        let error: unknown;
        await getLogs({ rpc: n.rpc, address: ADDRESS, fromBlock: 0, toBlock: 9 }).catch(
          (e: unknown) => (error = e),
        );
        expect(error).to.be.instanceOf(ChainDataError);
        expect((error as Error).message).to.match(pattern);
      } finally {
        await n.close();
      }
    });
  }

  it("marks a block-hash mismatch retryable (a reorg while reading) and other lies not", async function () {
    const n = await node({ logBlocks: [3], tamper: (l) => (l.blockHash = hash(3, 9)) });
    try {
      let error: unknown;
      await getLogs({ rpc: n.rpc, address: ADDRESS, fromBlock: 0, toBlock: 9 }).catch(
        (e: unknown) => (error = e),
      );
      expect((error as ChainDataError).retryable).to.equal(true);
    } finally {
      await n.close();
    }
  });

  it("rejects a log repeated across windows", async function () {
    const fake = await startFakeNode(({ method, params }) => {
      if (method === "eth_getBlockByNumber") return { result: block(Number(params[0])) };
      return { result: [logAt(2)] }; // every window answers the same log
    });
    try {
      let error: unknown;
      await getLogs({
        rpc: createRpc({ url: fake.url, retries: 0 }),
        address: ADDRESS,
        fromBlock: 0,
        toBlock: 9,
        maxRange: 2,
      }).catch((e: unknown) => (error = e));
      expect((error as Error).message).to.match(/returned a log of block 2|twice/);
    } finally {
      await fake.close();
    }
  });
});
