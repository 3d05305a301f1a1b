import { expect } from "chai";
import {
  AbortedError,
  isLogRangeError,
  RpcResponseError,
  RpcTimeoutError,
  RpcTransportError,
} from "../../src/chain/errors.ts";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import {
  createRpc,
  fromQuantity,
  MAX_BATCH,
  ONE_BY_ONE_CONCURRENCY,
  requestAll,
  toQuantity,
} from "../../src/chain/rpc.ts";
import { startFakeNode } from "./fake-node.ts";

interface Call {
  jsonrpc: string;
  id: number;
  method: string;
  params: unknown[];
}

/**
 * A node on 127.0.0.1 that answers JSON-RPC batches (in reverse order, as the spec allows), or,
 * with `batches: false`, answers a batch with one error object as nodes without batches do.
 * Every HTTP request's body is kept.
 */
async function startBatchNode(options: {
  batches: boolean;
  answer: (call: Call) => { result: unknown } | { error: { code: number; message: string } };
  /** Answers each HTTP request this much later (to see how many are in flight at once). */
  delayMs?: number;
}) {
  const bodies: unknown[] = [];
  const load = { inFlight: 0, maxInFlight: 0 };
  const server = createServer((req, res) => {
    let text = "";
    load.inFlight++;
    load.maxInFlight = Math.max(load.maxInFlight, load.inFlight);
    res.on("finish", () => load.inFlight--);
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => setTimeout(answer, options.delayMs ?? 0));
    const answer = (): void => {
      const body = JSON.parse(text) as Call | Call[];
      bodies.push(body);
      res.writeHead(200, { "content-type": "application/json" });
      if (Array.isArray(body) && !options.batches) {
        res.end(
          JSON.stringify({
            jsonrpc: "2.0",
            id: null,
            error: { code: -32600, message: "no batches" },
          }),
        );
      } else if (Array.isArray(body)) {
        res.end(
          JSON.stringify(
            body.map((c) => ({ jsonrpc: "2.0", id: c.id, ...options.answer(c) })).reverse(),
          ),
        );
      } else {
        res.end(JSON.stringify({ jsonrpc: "2.0", id: body.id, ...options.answer(body) }));
      }
    };
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    bodies,
    load,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const fast = { backoffMs: 1, maxBackoffMs: 2, random: () => 0.5 };

async function caught(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
}

describe("createRpc", function () {
  describe("request", function () {
    it("sends one JSON-RPC 2.0 call and returns its result", async function () {
      const node = await startFakeNode(({ method, params }) => ({ result: { method, params } }));
      try {
        const rpc = createRpc({ url: node.url });
        expect(await rpc.request("eth_getBalance", ["0xabc", "0x10"])).to.deep.equal({
          method: "eth_getBalance",
          params: ["0xabc", "0x10"],
        });
      } finally {
        await node.close();
      }
    });

    it("retries HTTP 503 and 429 with backoff, then succeeds", async function () {
      let n = 0;
      const node = await startFakeNode((_req, res) => {
        n++;
        if (n <= 2) {
          res.writeHead(n === 1 ? 503 : 429);
          res.end("busy");
          return undefined;
        }
        return { result: "0x1" };
      });
      try {
        expect(await createRpc({ url: node.url, ...fast }).request("eth_chainId")).to.equal("0x1");
        expect(n).to.equal(3);
      } finally {
        await node.close();
      }
    });

    it("does not retry a JSON-RPC error retrying cannot fix, and keeps its code", async function () {
      const node = await startFakeNode(() => ({
        error: { code: -32602, message: "invalid params" },
      }));
      try {
        const error = await caught(createRpc({ url: node.url, ...fast }).request("eth_call", []));
        expect(error).to.be.instanceOf(RpcResponseError);
        expect((error as RpcResponseError).rpcCode).to.equal(-32602);
        expect((error as RpcResponseError).retryable).to.equal(false);
        expect(node.requests).to.have.length(1);
      } finally {
        await node.close();
      }
    });

    it("does not retry a log-range refusal (the caller splits the range instead)", async function () {
      const node = await startFakeNode(() => ({
        error: { code: -32005, message: "query returned more than 10000 results" },
      }));
      try {
        const error = await caught(
          createRpc({ url: node.url, ...fast }).request("eth_getLogs", [{}]),
        );
        expect(isLogRangeError(error)).to.equal(true);
        expect(node.requests).to.have.length(1);
      } finally {
        await node.close();
      }
    });

    it("retries a transient JSON-RPC error (-32603) up to `retries` times, then throws it", async function () {
      const node = await startFakeNode(() => ({
        error: { code: -32603, message: "internal error" },
      }));
      try {
        const error = await caught(
          createRpc({ url: node.url, retries: 2, ...fast }).request("eth_blockNumber"),
        );
        expect((error as RpcResponseError).retryable).to.equal(true);
        expect(node.requests).to.have.length(3);
      } finally {
        await node.close();
      }
    });

    it("reads a JSON-RPC error sent with HTTP 400 (as Besu does)", async function () {
      const node = await startFakeNode((req, res) => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            jsonrpc: "2.0",
            id: req.id,
            error: { code: -32602, message: "Invalid params" },
          }),
        );
        return undefined;
      });
      try {
        const error = await caught(
          createRpc({ url: node.url, ...fast }).request("eth_getLogs", [{}]),
        );
        expect(error).to.be.instanceOf(RpcResponseError);
        expect(node.requests).to.have.length(1);
      } finally {
        await node.close();
      }
    });

    it("times out a silent node, retrying each attempt", async function () {
      const node = await startFakeNode(() => new Promise(() => undefined));
      try {
        const error = await caught(
          createRpc({ url: node.url, timeoutMs: 50, retries: 1, ...fast }).request(
            "eth_blockNumber",
          ),
        );
        expect(error).to.be.instanceOf(RpcTimeoutError);
        expect((error as Error).message).to.match(/timed out after 50 ms/);
        await new Promise((r) => setTimeout(r, 100)); // let the server log the aborted second request
        expect(node.requests).to.have.length(2);
      } finally {
        await node.close();
      }
    });

    it("fails over to the next URL when one refuses connections", async function () {
      const dead = await startFakeNode(() => ({ result: "never" }));
      await dead.close(); // nothing listens there any more
      const live = await startFakeNode(() => ({ result: "0x7a69" }));
      try {
        const rpc = createRpc({ urls: [dead.url, live.url], ...fast });
        expect(await rpc.request("eth_chainId")).to.equal("0x7a69");
        expect(live.requests).to.have.length(1);
      } finally {
        await live.close();
      }
    });

    it("rejects an answer to another request id, and a body that is not JSON-RPC", async function () {
      let mode = "id";
      const node = await startFakeNode((_req, res) => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          mode === "id" ? JSON.stringify({ jsonrpc: "2.0", id: 999_999, result: "0x1" }) : "<html>",
        );
        return undefined;
      });
      try {
        const rpc = createRpc({ url: node.url, retries: 0 });
        expect(((await caught(rpc.request("eth_chainId"))) as Error).message).to.match(
          /request 999999/,
        );
        mode = "html";
        const error = await caught(rpc.request("eth_chainId"));
        expect(error).to.be.instanceOf(RpcTransportError);
        expect((error as Error).message).to.match(/not a JSON-RPC response/);
      } finally {
        await node.close();
      }
    });

    it("never shows credentials or path keys of a URL in an error", async function () {
      const node = await startFakeNode(() => ({ error: { code: -32602, message: "bad" } }));
      try {
        const port = new URL(node.url).port;
        const secretUrl = `http://alice:hunter2@127.0.0.1:${port}/v3/SECRETKEY`;
        const rpc = createRpc({ url: secretUrl, retries: 0 });
        expect(rpc.endpoints).to.deep.equal([`http://127.0.0.1:${port}/…`]);
        const answered = (await caught(rpc.request("eth_chainId"))) as Error;
        expect(answered.message).to.not.match(/alice|hunter2|SECRETKEY/);
        // the credentials travel as HTTP Basic auth, never in the URL fetched
        expect(node.requests).to.have.length(1);
        const deadRpc = createRpc({ url: `http://bob:pw@127.0.0.1:1/KEY123`, retries: 0 });
        const error = (await caught(deadRpc.request("eth_chainId"))) as Error;
        expect(error.message).to.not.match(/bob|pw|KEY123/);
        expect(error.message).to.include("127.0.0.1:1");
      } finally {
        await node.close();
      }
    });

    it("stops at once when its signal aborts", async function () {
      const node = await startFakeNode(() => new Promise(() => undefined));
      try {
        const controller = new AbortController();
        const pending = createRpc({ url: node.url }).request("eth_blockNumber", [], {
          signal: controller.signal,
        });
        setTimeout(() => controller.abort(), 20);
        expect(await caught(pending)).to.be.instanceOf(AbortedError);
      } finally {
        await node.close();
      }
    });

    it("refuses URLs that are not http(s)", function () {
      expect(() => createRpc({ url: "ws://127.0.0.1:8546" })).to.throw(
        /unsupported RPC URL scheme/,
      );
      expect(() => createRpc({ url: "not a url" })).to.throw(/not a URL/);
      expect(() => createRpc({})).to.throw(/needs a url/);
    });
  });

  describe("toQuantity / fromQuantity", function () {
    it("writes hex block numbers, as Besu requires, and reads them back strictly", function () {
      expect(toQuantity(0)).to.equal("0x0");
      expect(toQuantity(5000)).to.equal("0x1388");
      expect(fromQuantity("0x1388")).to.equal(5000);
      expect(() => toQuantity(-1)).to.throw();
      expect(() => toQuantity(1.5)).to.throw();
      for (const bad of ["1388", "0x", "0xzz", 12, null, "0x" + "f".repeat(17)]) {
        expect(() => fromQuantity(bad), String(bad)).to.throw(/malformed/);
      }
      expect(() => fromQuantity("0xffffffffffffffff")).to.throw(/too large/);
    });
  });

  describe("requestBatch", function () {
    const echo = (c: Call) => ({ result: `${c.method}(${c.params.join(",")})` });

    it("sends the calls as one batch and returns each result in call order, however the node orders them", async function () {
      const node = await startBatchNode({ batches: true, answer: echo });
      try {
        const rpc = createRpc({ url: node.url });
        const calls = [1, 2, 3].map((n) => ({
          method: "eth_getBlockByNumber",
          params: [toQuantity(n)],
        }));
        expect(await rpc.requestBatch!(calls)).to.deep.equal([
          "eth_getBlockByNumber(0x1)",
          "eth_getBlockByNumber(0x2)",
          "eth_getBlockByNumber(0x3)",
        ]);
        expect(node.bodies).to.have.length(1);
        expect((node.bodies[0] as Call[]).map((c) => c.params[0])).to.deep.equal([
          "0x1",
          "0x2",
          "0x3",
        ]);
        // requestAll takes the batch when the client has one
        expect(await requestAll(rpc, [{ method: "a" }, { method: "b" }])).to.deep.equal([
          "a()",
          "b()",
        ]);
        expect(node.bodies).to.have.length(2);
      } finally {
        await node.close();
      }
    });

    it(`cuts more than ${MAX_BATCH} calls into several batches`, async function () {
      const node = await startBatchNode({ batches: true, answer: echo });
      try {
        const rpc = createRpc({ url: node.url });
        const n = MAX_BATCH * 2 + 5;
        const results = await rpc.requestBatch!(
          Array.from({ length: n }, (_, i) => ({ method: "m", params: [i] })),
        );
        expect(results).to.deep.equal(Array.from({ length: n }, (_, i) => `m(${i})`));
        expect(node.bodies.map((b) => (b as Call[]).length)).to.have.members([
          MAX_BATCH,
          MAX_BATCH,
          5,
        ]);
      } finally {
        await node.close();
      }
    });

    it("throws the first failed call's JSON-RPC error, with its method and code", async function () {
      const node = await startBatchNode({
        batches: true,
        answer: (c) =>
          c.params[0] === 2 ? { error: { code: 3, message: "execution reverted" } } : echo(c),
      });
      try {
        const rpc = createRpc({ url: node.url, retries: 0 });
        const error = await caught(
          rpc.requestBatch!([1, 2, 3].map((i) => ({ method: "eth_call", params: [i] }))),
        );
        expect(error).to.be.instanceOf(RpcResponseError);
        expect((error as RpcResponseError).rpcCode).to.equal(3);
        expect((error as Error).message).to.include("eth_call");
      } finally {
        await node.close();
      }
    });

    it("asks a node that takes no batches call by call, and remembers it", async function () {
      const node = await startBatchNode({ batches: false, answer: echo });
      try {
        const rpc = createRpc({ url: node.url });
        const calls = [1, 2].map((n) => ({ method: "m", params: [n] }));
        expect(await rpc.requestBatch!(calls)).to.deep.equal(["m(1)", "m(2)"]);
        expect(node.bodies.filter(Array.isArray)).to.have.length(1); // the one refused batch
        expect(await rpc.requestBatch!(calls)).to.deep.equal(["m(1)", "m(2)"]);
        expect(node.bodies.filter(Array.isArray)).to.have.length(1); // not tried again
        expect(node.bodies).to.have.length(5);
      } finally {
        await node.close();
      }
    });

    it(`asks such a node at most ${ONE_BY_ONE_CONCURRENCY} calls at a time, however many are given (a range's block headers)`, async function () {
      const node = await startBatchNode({ batches: false, answer: echo, delayMs: 5 });
      try {
        const rpc = createRpc({ url: node.url });
        const calls = Array.from({ length: 3 * MAX_BATCH }, (_, n) => ({
          method: "m",
          params: [n],
        }));
        const results = await rpc.requestBatch!(calls);
        expect(results).to.deep.equal(calls.map((_, n) => `m(${n})`));
        // the refused batches (one per chunk, sent at once), then one call per request, bounded
        expect(node.load.maxInFlight).to.be.at.most(Math.max(3, ONE_BY_ONE_CONCURRENCY));
        const before = node.bodies.length;
        node.load.maxInFlight = 0;
        expect(await rpc.requestBatch!(calls)).to.deep.equal(results);
        expect(node.bodies.length - before).to.equal(calls.length);
        expect(node.load.maxInFlight).to.be.at.most(ONE_BY_ONE_CONCURRENCY);
      } finally {
        await node.close();
      }
    });
  });
});
