/**
 * A chain reset under a data directory (issue #19, finding 2): the development node is restarted
 * (new genesis, chain id 31337 again) and the ledger redeployed by the same account, so at the
 * same address. The old data directory's batch ids mean nothing there: `shafaf anchor` must
 * refuse it before sending anything, never answer `alreadyComplete` for a batch the new chain
 * does not have, never let a new batch take an old batch's id; `shafaf serve` must keep serving
 * what it indexed, with an alarm, instead of exiting.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { Contract, JsonRpcProvider } from "ethers";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import { MAIN, PREMIUM_COLUMNS, premiumRows, ROOT, runCli, toCsv } from "./helpers.ts";

describe("a chain reset at the same address under an old data directory", function () {
  this.timeout(240_000);
  let first: DevChain | undefined;
  let second: DevChain | undefined;
  let work: string;
  let dataDir: string;
  let contract: string;
  let server: ChildProcess | undefined;

  const anchorArgs = (file: string, rpc: string) => [
    "anchor",
    "--scheme",
    "1",
    file,
    "--kind",
    "premium",
    "--period",
    "1403-07",
    "--rpc",
    rpc,
    "--contract",
    contract,
    "--signer",
    "dev:0",
    "--data-dir",
    dataDir,
    "--json",
  ];
  const deploy = async (chain: DevChain) => {
    const r = await runCli(["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    return (JSON.parse(r.stdout) as { address: string }).address;
  };

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-reset-"));
    dataDir = path.join(work, "data");
    await writeFile(
      path.join(work, "july.csv"),
      toCsv(PREMIUM_COLUMNS, premiumRows(6, { period: "1403-07", prefix: "J" })),
    );
    await writeFile(
      path.join(work, "other.csv"),
      toCsv(PREMIUM_COLUMNS, premiumRows(5, { period: "1403-07", prefix: "K" })),
    );
    first = await startDevChain();
    contract = await deploy(first);
    const anchored = await runCli(anchorArgs(path.join(work, "july.csv"), first.url));
    expect(anchored.code, anchored.stderr).to.equal(0);
    expect((JSON.parse(anchored.stdout) as { batchId: number }).batchId).to.equal(1);
    const indexed = await runCli([
      "index",
      "--rpc",
      first.url,
      "--contract",
      contract,
      "--data-dir",
      dataDir,
      "--once",
    ]);
    expect(indexed.code, indexed.stderr).to.equal(0);
    await first.stop();
    first = undefined;
    second = await startDevChain();
    expect(await deploy(second)).to.equal(contract); // same deployer, same nonce: same address
  });

  after(async function () {
    if (server !== undefined && server.exitCode === null) server.kill("SIGKILL");
    await first?.stop();
    await second?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("refuses the finished job's inputs instead of answering alreadyComplete, sending nothing", async function () {
    const again = await runCli(anchorArgs(path.join(work, "july.csv"), second!.url));
    expect(again.code, again.stdout).to.equal(1);
    expect(again.stderr).to.include("genesis");
    expect(again.stderr).to.include("another --data-dir");
    const provider = new JsonRpcProvider(second!.url, 31337, { staticNetwork: true });
    try {
      const ledger = new Contract(contract, LEDGER_ABI, provider);
      expect(await ledger.getFunction("batchCount")()).to.equal(0n);
    } finally {
      provider.destroy();
    }
  });

  it("refuses new inputs, so no new batch takes the id of a batch of the old history", async function () {
    const other = await runCli(anchorArgs(path.join(work, "other.csv"), second!.url));
    expect(other.code, other.stdout).to.equal(1);
    expect(other.stderr).to.include("genesis");
    const store = await openLedgerStore(dataDir);
    try {
      const batch = await store.getBatch(1);
      expect(batch?.recordCount).to.equal(6);
      expect(await store.listReceiptsOfBatch(1)).to.have.length(6);
    } finally {
      await store.close();
    }
  });

  it("serve keeps serving the indexed views with an alarm instead of exiting", async function () {
    let stderr = "";
    server = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        MAIN,
        "serve",
        "--rpc",
        second!.url,
        "--contract",
        contract,
        "--port",
        "0",
        "--data-dir",
        dataDir,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    server.stderr!.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      server!.stdout!.on("data", (c: Buffer) => {
        out += c.toString("utf8");
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m !== null) resolve(m[1]!);
      });
      server!.once("exit", (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
    });
    // the indexer meets the new genesis at once; the server must still be up afterwards
    const deadline = Date.now() + 20_000;
    while (!stderr.includes("chain-mismatch") && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(stderr).to.include("chain-mismatch");
    await new Promise((r) => setTimeout(r, 500));
    expect(server.exitCode).to.equal(null);
    const chain = (await (await fetch(`${url}/api/v1/chain`)).json()) as {
      headCheck: { status: string; detail: string };
    };
    expect(chain.headCheck.status).to.equal("mismatch");
    expect(chain.headCheck.detail).to.match(/^ALARM: .*genesis/);
    const batch = await fetch(`${url}/api/v1/batches/1`);
    expect(batch.status).to.equal(200);
    expect(((await batch.json()) as { recordCount: number }).recordCount).to.equal(6);
    server.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => server!.once("exit", resolve));
    expect(code, stderr).to.equal(0);
  });
});
