/**
 * The serve stack when its node turns out to serve another chain history (issue #19, finding 2):
 * it keeps serving the indexed views with an alarm, and clears the alarm when the node serves the
 * indexed chain again. Two real development chains behind one switchable JSON-RPC proxy.
 */
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startServeStack, type ServeStack } from "../../src/cli/serve-stack.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { openIndexStore } from "../../src/store/index-store.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import { anchor, deployFixture, startProxy } from "../indexer/ledger-fixture.ts";

describe("startServeStack on another chain history", function () {
  this.timeout(120_000);
  let first: DevChain;
  let second: DevChain;
  let work: string;

  before(async function () {
    // A development chain's genesis carries its start time in seconds: start them apart.
    first = await startDevChain();
    await new Promise((r) => setTimeout(r, 1_100));
    second = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-stack-alarm-"));
  });
  after(async function () {
    await first?.stop();
    await second?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("serves the index with an alarm while the node serves another genesis, and clears it when it comes back", async function () {
    const f = await deployFixture(first.url);
    await anchor(f);
    const other = await deployFixture(second.url);
    expect(other.address).to.equal(f.address); // same deployer and nonce: same address
    let upstream = first.url;
    const proxy = await startProxy(first.url, async (req) => {
      const r = await fetch(upstream, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: req.method, params: req.params }),
      });
      const { result, error } = (await r.json()) as { result?: unknown; error?: unknown };
      return error === undefined ? { result } : { error };
    });
    const events: string[] = [];
    const log = {
      info: (event: string) => events.push(`info ${event}`),
      warn: (event: string) => events.push(`warn ${event}`),
      error: (event: string) => events.push(`error ${event}`),
      line: () => undefined,
    };
    let stack: ServeStack | undefined;
    try {
      stack = await startServeStack({
        rpcUrls: [proxy.url],
        contract: f.address,
        host: "127.0.0.1",
        port: 0,
        dataDir: work,
        confirmations: 0,
        index: await openIndexStore(path.join(work, "index")),
        ledger: await openLedgerStore(work),
        apiKeys: [],
        rateLimit: false,
        trustProxy: 0,
        log,
        mismatchRetryMs: 100,
      });
      await stack.indexer.syncOnce();
      const chainView = async () =>
        (await (await fetch(`${stack!.url}/api/v1/chain`)).json()) as {
          headCheck: { status: string; detail?: string };
        };
      expect((await chainView()).headCheck.status).to.equal("ok");

      upstream = second.url; // the node now serves another history of chain 31337
      const following = stack.follow();
      let failed: unknown;
      following.catch((e: unknown) => (failed = e));
      const until = async (what: string, ok: () => boolean) => {
        const deadline = Date.now() + 15_000;
        while (!ok()) {
          if (failed !== undefined) throw failed as Error;
          if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      };
      await until("the alarm", () => stack!.alarm !== undefined);
      const alarmed = await chainView();
      expect(alarmed.headCheck.status).to.equal("mismatch");
      expect(alarmed.headCheck.detail).to.match(/^ALARM: the node's genesis block is 0x/);
      expect((await fetch(`${stack.url}/api/v1/batches/1`)).status).to.equal(200);
      expect(events.filter((e) => e === "error chain-mismatch")).to.have.length(1);

      upstream = first.url; // the operator points the node back
      await until("the alarm to clear", () => stack!.alarm === undefined);
      expect((await chainView()).headCheck.status).to.equal("ok");
      expect(events).to.include("info chain-mismatch-cleared");

      await stack.close();
      await following;
      expect(failed).to.equal(undefined);
    } finally {
      await stack?.close();
      await proxy.close();
      f.provider.destroy();
      other.provider.destroy();
    }
  });
});
