import { expect } from "chai";
import {
  AbortedError,
  isLogRangeError,
  RpcResponseError,
  RpcTimeoutError,
  RpcTransportError,
} from "../../src/chain/errors.ts";
import { createRpc, fromQuantity, toQuantity } from "../../src/chain/rpc.ts";
import { startFakeNode } from "./fake-node.ts";

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
});
