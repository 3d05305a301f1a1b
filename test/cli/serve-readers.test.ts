/**
 * One data directory, one writer, several readers — the real CLI in child processes against a
 * real Hardhat node: two `shafaf serve` processes on one data directory (each its own index),
 * `shafaf anchor` anchoring into the SAME directory while both serve; both answer the new batch's
 * receipts and the old batch's, byte for byte the same; an anchor killed (SIGKILL) after its job
 * was complete but before it published leaves both serving only the published batches until a
 * re-run publishes; `shafaf backup` runs while both serve.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { readPublishedBatches } from "../../src/store/published-batches.ts";
import { MAIN, PREMIUM_COLUMNS, ROOT, premiumRows, runCli, toCsv } from "../anchor/helpers.ts";

const PASSWORD = { SHAFAF_KEYSTORE_PASSWORD: "correct horse battery staple" };

interface Server {
  child: ChildProcess;
  url: string;
  out: () => string;
}

describe("shafaf serve: several readers of one data directory while shafaf anchor writes", function () {
  this.timeout(600_000);
  let chain: DevChain;
  let work: string;
  let dataDir: string;
  let contract: string;
  let vrfFile: string;
  const servers: Server[] = [];

  const anchor = (period: string, count: number, env: Record<string, string> = {}) => {
    const csv = path.join(work, `${period}.csv`);
    return writeFile(
      csv,
      toCsv(PREMIUM_COLUMNS, premiumRows(count, { period, prefix: `P${period}` })),
    ).then(() =>
      runCli(
        [
          ...["anchor", csv, "--kind", "premium", "--period", period, "--rpc", chain.url],
          ...["--contract", contract, "--data-dir", dataDir, "--signer", "dev:0"],
          ...["--vrf-key", vrfFile, "--json"],
        ],
        { env: { ...PASSWORD, ...env } },
      ),
    );
  };

  async function serve(extra: string[] = []): Promise<Server> {
    const child = spawn(
      process.execPath,
      [
        ...["--import", "tsx", MAIN, "serve", "--rpc", chain.url, "--contract", contract],
        ...["--port", "0", "--data-dir", dataDir, "--rate-limit", "0", ...extra],
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...PASSWORD } },
    );
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (out += c.toString("utf8")));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setInterval(() => {
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m !== null) {
          clearInterval(timer);
          resolve(m[1]!);
        }
      }, 100);
      child.once("exit", (c) => {
        clearInterval(timer);
        reject(new Error(`serve exited ${c}: ${out}`));
      });
    });
    const server = { child, url, out: () => out };
    servers.push(server);
    return server;
  }

  /** The receipt codes of an anchored job, from its artifact. */
  async function codesOf(jobId: string): Promise<string[]> {
    const artifact = await readBatchArtifact(path.join(dataDir, "batches", jobId));
    const codes: string[] = [];
    for await (const line of artifact!.records()) codes.push(line.code);
    return codes;
  }

  /** The receipt's body from `server`, waiting up to 60 s for a 200 (its indexer catches up). */
  async function receiptFrom(server: Server, code: string): Promise<string> {
    let last = 0;
    for (let i = 0; i < 240; i++) {
      const r = await fetch(`${server.url}/api/v1/receipts/${encodeURIComponent(code)}`);
      last = r.status;
      if (r.status === 200) return r.text();
      await r.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${server.url} answered ${last} for a receipt:\n${server.out()}`);
  }

  const statusOf = async (server: Server, code: string): Promise<number> => {
    const r = await fetch(`${server.url}/api/v1/receipts/${encodeURIComponent(code)}`);
    await r.body?.cancel();
    return r.status;
  };

  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-readers-"));
    dataDir = path.join(work, "data");
    const deployed = await runCli(["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"]);
    expect(deployed.code, deployed.stderr).to.equal(0);
    contract = (JSON.parse(deployed.stdout) as { address: string }).address;
    vrfFile = path.join(work, "vrf.json");
    for (const args of [
      ["keys", "new-vrf", "--out", vrfFile],
      ["keys", "register-vrf", vrfFile, "--rpc", chain.url, "--contract", contract],
    ]) {
      const r = await runCli(
        [...args, ...(args[1] === "register-vrf" ? ["--signer", "dev:0"] : [])],
        {
          env: PASSWORD,
        },
      );
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).to.equal(0);
    }
  });

  after(async function () {
    for (const s of servers) {
      s.child.kill("SIGKILL");
      if (s.child.exitCode === null && s.child.signalCode === null)
        await new Promise((r) => s.child.once("exit", r));
    }
    await chain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("two servers answer the batch anchored while they run, and the old one, byte for byte alike", async function () {
    const first = await anchor("1403-01", 40);
    expect(first.code, first.stderr).to.equal(0);
    const firstJob = JSON.parse(first.stdout) as { jobId: string; batchId: number };

    const [a, b] = [await serve(), await serve()];
    expect(a.out()).to.include(path.join(dataDir, "index"));
    expect(b.out()).to.include(path.join(dataDir, "index.2"));
    const oldCodes = await codesOf(firstJob.jobId);
    expect(await receiptFrom(a, oldCodes[5]!)).to.equal(await receiptFrom(b, oldCodes[5]!));

    // The writer runs while both readers serve the same directory: no lock stands in its way.
    const second = await anchor("1403-02", 60);
    expect(second.code, second.stderr).to.equal(0);
    const secondJob = JSON.parse(second.stdout) as { jobId: string; batchId: number };
    const newCodes = await codesOf(secondJob.jobId);
    for (const code of [newCodes[0]!, newCodes[31]!, newCodes[59]!, oldCodes[0]!, oldCodes[39]!]) {
      const fromA = await receiptFrom(a, code);
      expect(fromA).to.equal(await receiptFrom(b, code));
      expect((JSON.parse(fromA) as { code: string }).code).to.equal(code);
    }
    expect(
      (JSON.parse(await receiptFrom(a, newCodes[0]!)) as { batchId: number }).batchId,
    ).to.equal(secondJob.batchId);

    // A person proof of the new batch, from both (the VRF key is not needed to read one).
    const tilesA = await fetch(`${a.url}/api/v1/batches/${secondJob.batchId}/tiles`);
    const tilesB = await fetch(`${b.url}/api/v1/batches/${secondJob.batchId}/tiles`);
    expect(tilesA.status).to.equal(200);
    expect(tilesB.status).to.equal(200);
    expect(await tilesA.text()).to.equal(await tilesB.text());
  });

  it("an anchor killed before it published leaves both serving only the published batches; its re-run publishes", async function () {
    const [a, b] = servers as [Server, Server];
    const before = await readdir(path.join(dataDir, "batches"));
    // Complete in the ledger store (tables and record ids written), killed before published.json.
    const killed = await anchor("1403-03", 30, { SHAFAF_TEST_CRASH_AT: "complete" });
    expect(killed.signal, killed.stderr).to.equal("SIGKILL");
    const jobId = (await readdir(path.join(dataDir, "batches"))).find(
      (d) => !before.includes(d) && !d.includes(".tmp-"),
    )!;
    const codes = await codesOf(jobId);
    const listed = (await readPublishedBatches(dataDir))!.batches.map((x) => x.jobId);
    expect(listed).to.not.include(jobId);
    // Anchored on chain (the indexers see it), but its files were never handed over.
    await new Promise((r) => setTimeout(r, 2_000));
    for (const server of [a, b]) expect(await statusOf(server, codes[0]!)).to.equal(404);
    const old = (await readPublishedBatches(dataDir))!.batches[0]!;
    const oldCode = (await codesOf(old.jobId))[7]!;
    expect(await receiptFrom(a, oldCode)).to.equal(await receiptFrom(b, oldCode));

    const rerun = await anchor("1403-03", 30);
    expect(rerun.code, rerun.stderr).to.equal(0);
    expect((JSON.parse(rerun.stdout) as { alreadyComplete: boolean }).alreadyComplete).to.equal(
      true,
    );
    expect(await receiptFrom(a, codes[29]!)).to.equal(await receiptFrom(b, codes[29]!));
  });

  it("a serve with a signer anchors staff uploads through the same handoff: the read-only servers serve them; shafaf anchor waits its turn", async function () {
    const [a] = servers as [Server, Server];
    const keys = path.join(work, "keys.json");
    const created = await runCli([
      ...["serve", "--create-api-key", "payroll", "--scopes", "anchor", "--api-keys", keys],
    ]);
    expect(created.code, created.stderr).to.equal(0);
    const token = created.stdout.trim();
    const writer = await serve([
      ...["--signer", "dev:0", "--vrf-key", vrfFile, "--api-keys", keys],
    ]);
    expect(writer.out()).to.include("staff uploads: on");
    try {
      await uploadThroughWriter(writer, token, a);
    } finally {
      writer.child.kill("SIGTERM");
      await new Promise((r) => writer.child.once("exit", r));
      servers.splice(servers.indexOf(writer), 1);
    }
  });

  async function uploadThroughWriter(writer: Server, token: string, a: Server): Promise<void> {
    const csv = toCsv(PREMIUM_COLUMNS, premiumRows(25, { period: "1403-04", prefix: "U" }));
    const uploaded = await fetch(
      `${writer.url}/api/v1/batches?kind=premium&period=1403-04&format=csv`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" },
        body: csv,
      },
    );
    expect(uploaded.status, await uploaded.clone().text()).to.equal(201);
    const { batchId } = (await uploaded.json()) as { batchId: number };
    const listed = (await readPublishedBatches(dataDir))!.batches.find(
      (x) => x.batchId === batchId,
    );
    expect(listed, "the upload's batch is published").to.not.equal(undefined);
    const codes = await codesOf(listed!.jobId);
    expect(await receiptFrom(a, codes[24]!)).to.equal(await receiptFrom(writer, codes[24]!));
    // One writer per data directory: the CLI says the store is in use, and anchors nothing.
    const csvFile = path.join(work, "refused.csv");
    await writeFile(csvFile, toCsv(PREMIUM_COLUMNS, premiumRows(5, { period: "1403-05" })));
    const refused = await runCli(
      [
        ...["anchor", csvFile, "--kind", "premium", "--period", "1403-05", "--rpc", chain.url],
        ...["--contract", contract, "--data-dir", dataDir, "--signer", "dev:0", "--json"],
        ...["--vrf-key", vrfFile],
      ],
      { env: PASSWORD },
    );
    expect(refused.code).to.not.equal(0);
    expect(refused.stderr).to.match(/in use by another shafaf process/);
  }

  it("shafaf backup and shafaf data publish run while both servers serve the directory", async function () {
    const out = path.join(work, "backup");
    const r = await runCli(["backup", "--data-dir", dataDir, "--out", out, "--plain", "--json"], {
      env: PASSWORD,
    });
    expect(r.code, r.stderr).to.equal(0);
    for (const s of servers) expect(s.child.exitCode).to.equal(null);
    // The handoff written again by hand (idempotent): every batch listed, nothing to migrate.
    const published = await runCli(["data", "publish", "--data-dir", dataDir, "--json"]);
    expect(published.code, published.stderr).to.equal(0);
    const done = JSON.parse(published.stdout) as { published: number; migrated: number[] };
    expect(done.published).to.equal((await readPublishedBatches(dataDir))!.batches.length);
    expect(done.published).to.be.at.least(4);
    expect(done.migrated).to.deep.equal([]);
  });
});
