import { expect } from "chai";
import { startDevChain } from "../../src/chain/dev-chain.ts";

async function rpc(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown };
  return body.result;
}

describe("startDevChain", function () {
  it("serves a fresh chain 31337 on 127.0.0.1 and stops cleanly", async function () {
    const chain = await startDevChain();
    try {
      expect(chain.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await rpc(chain.url, "eth_chainId")).to.equal("0x7a69");
      expect(await rpc(chain.url, "eth_blockNumber")).to.equal("0x0");
    } finally {
      await chain.stop();
    }
    let failed = false;
    try {
      await rpc(chain.url, "eth_chainId");
    } catch {
      failed = true;
    }
    expect(failed, "the node still answers after stop()").to.equal(true);
  });

  it("starts a new genesis each time (the genesis timestamp is the start second)", async function () {
    const a = await startDevChain();
    const genesisA = (
      (await rpc(a.url, "eth_getBlockByNumber", ["0x0", false])) as { hash: string }
    ).hash;
    await a.stop();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const b = await startDevChain();
    const genesisB = (
      (await rpc(b.url, "eth_getBlockByNumber", ["0x0", false])) as { hash: string }
    ).hash;
    await b.stop();
    expect(genesisA).to.match(/^0x[0-9a-f]{64}$/);
    expect(genesisB).to.not.equal(genesisA);
  });
});
