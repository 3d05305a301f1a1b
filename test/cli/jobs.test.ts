/**
 * A job stuck on a transaction that can never be mined (signed by an account without ETH), and
 * every way out of it: the real CLI in child processes, a real Hardhat node, real LevelDB. The
 * invariant checked after each: the contract holds exactly one batch per job's inputs.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider, id, keccak256 } from "ethers";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import { inspectJob } from "../../src/anchor/inspect-job.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { openLedgerStore, type JobRecord } from "../../src/store/ledger-store.ts";
import { PREMIUM_COLUMNS, premiumRows, runCli, toCsv, type CliResult } from "../anchor/helpers.ts";

const PASSWORD = "a long test passphrase";

interface JobJson {
  jobId: string;
  state: string;
  txHash: string | null;
  signer: string | null;
  batchId: number | null;
  chain?: {
    anchoredBatchId: number;
    tx: { status: string; signerBalanceWei: string | null } | null;
    condition: string;
    abandonable: boolean;
    advice: string;
  };
}

describe("shafaf jobs and a stuck anchoring job (real chain)", function () {
  this.timeout(240_000);
  let chain: DevChain;
  let work: string;
  let contract: string;
  let provider: JsonRpcProvider;
  let ledger: Contract;
  const env = { SHAFAF_KEYSTORE_PASSWORD: PASSWORD };

  const cli = (args: string[]): Promise<CliResult> => runCli(args, { env });
  const newKeystore = async (name: string): Promise<{ file: string; address: string }> => {
    const file = path.join(work, name);
    const r = await cli(["keys", "new", "--out", file]);
    expect(r.code, r.stderr).to.equal(0);
    return { file, address: r.stdout.trim() };
  };
  const monthCsv = async (period: string, prefix: string): Promise<string> => {
    const file = path.join(work, `${prefix}-${period}.csv`);
    await writeFile(file, toCsv(PREMIUM_COLUMNS, premiumRows(4, { period, prefix })));
    return file;
  };
  const anchorArgs = (csv: string, period: string, dataDir: string, signer: string[]): string[] => [
    "anchor",
    "--scheme",
    "1",
    csv,
    "--kind",
    "premium",
    "--period",
    period,
    "--rpc",
    chain.url,
    "--contract",
    contract,
    "--data-dir",
    dataDir,
    ...signer,
  ];
  const jobs = async (dataDir: string): Promise<JobJson[]> => {
    const r = await cli(["jobs", "list", "--data-dir", dataDir, "--rpc", chain.url, "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as JobJson[];
  };
  const batchCount = async (): Promise<number> =>
    Number((await ledger.getFunction("batchCount")()) as bigint);
  const storedJob = async (dataDir: string, jobId: string): Promise<JobRecord> => {
    const store = await openLedgerStore(dataDir);
    try {
      return (await store.getJob(jobId))!;
    } finally {
      await store.close();
    }
  };

  let unfunded: { file: string; address: string };
  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(tmpdir(), "shafaf-jobs-"));
    provider = new JsonRpcProvider(chain.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    unfunded = await newKeystore("unfunded.json");
    const second = await newKeystore("second.json");
    const r = await cli([
      "deploy",
      "--rpc",
      chain.url,
      "--signer",
      "dev:0",
      "--anchorer",
      unfunded.address,
      "--anchorer",
      second.address,
      "--anchorer",
      devWallet(1).address,
      "--quiet",
    ]);
    expect(r.code, r.stderr).to.equal(0);
    contract = r.stdout.trim();
    ledger = new Contract(contract, LEDGER_ABI, provider);
    secondKeystore = second;
  });
  let secondKeystore: { file: string; address: string };
  after(async function () {
    provider?.destroy();
    await chain?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it("an unfunded signer: a plain message naming shafaf dev fund; the job is kept and shown as stuck; another signer finishes it, once", async function () {
    const dataDir = path.join(work, "d1");
    const csv = await monthCsv("1403-07", "A");
    const first = await cli(anchorArgs(csv, "1403-07", dataDir, ["--keystore", unfunded.file]));
    expect(first.code).to.equal(1);
    expect(first.stderr).to.include(`the account ${unfunded.address} has not enough ETH`);
    expect(first.stderr).to.include(`shafaf dev fund --rpc ${chain.url} --to ${unfunded.address}`);
    expect(first.stderr).to.include("the job is kept");
    expect(first.stderr).not.to.match(/could not coalesce/);

    const [job] = await jobs(dataDir);
    expect(job).to.include({ state: "sending", signer: unfunded.address });
    expect(job!.chain).to.include({ anchoredBatchId: 0, condition: "stuck", abandonable: true });
    expect(job!.chain!.tx).to.include({ status: "unknown", signerBalanceWei: "0" });
    const show = await cli([
      "jobs",
      "show",
      job!.jobId.slice(0, 10),
      "--data-dir",
      dataDir,
      "--rpc",
      chain.url,
    ]);
    expect(show.code, show.stderr).to.equal(0);
    expect(show.stdout).to.include("unknown to the node");
    expect(show.stdout).to.include("shafaf jobs abandon");
    expect(show.stdout).not.to.match(/national|[0-9]{10},/); // batch facts only
    const oldRawTx = (await storedJob(dataDir, job!.jobId)).rawTx!;

    // re-running the same command with the SAME unfunded signer gives the same plain message
    const again = await cli(anchorArgs(csv, "1403-07", dataDir, ["--keystore", unfunded.file]));
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include("shafaf dev fund");

    // another, funded signer: the job signs again (same idempotency key) and completes
    const done = await cli(anchorArgs(csv, "1403-07", dataDir, ["--signer", "dev:1"]));
    expect(done.code, done.stderr).to.equal(0);
    expect(done.stdout).to.include("anchored batch 1 (premium 1403-07) — resumed");
    expect(done.stdout).to.include(job!.jobId);
    expect(done.stderr).to.include(`was signed by ${unfunded.address}`);
    expect(await batchCount()).to.equal(1);

    // Even if the old bytes are mined later (the account funded, the bytes sent by someone),
    // the contract refuses a second batch with the same idempotency key.
    const fund = await cli([
      "dev",
      "fund",
      "--rpc",
      chain.url,
      "--keystore",
      unfunded.file,
      "--amount",
      "1",
    ]);
    expect(fund.code, fund.stderr).to.equal(0);
    await provider.send("eth_sendRawTransaction", [oldRawTx]).catch(() => undefined);
    const oldReceipt = (await provider.send("eth_getTransactionReceipt", [
      keccak256(oldRawTx),
    ])) as {
      status: string;
    } | null;
    expect(oldReceipt?.status).to.equal("0x0"); // mined, and reverted (LedgerDuplicateIdempotencyKey)
    expect(await batchCount()).to.equal(1);

    const [after] = await jobs(dataDir);
    expect(after).to.include({ state: "complete", batchId: 1 });
    const refused = await cli([
      "jobs",
      "abandon",
      job!.jobId,
      "--data-dir",
      dataDir,
      "--rpc",
      chain.url,
    ]);
    expect(refused.code).to.equal(65);
    expect(refused.stderr).to.include("cannot be abandoned");
  });

  it("after funding, re-running the same command with the same signer completes the job", async function () {
    const dataDir = path.join(work, "d2");
    const poor = await newKeystore("poor.json");
    // grant ANCHORER_ROLE to the new account from the admin (dev:0) through the contract
    const admin = new Contract(
      contract,
      ["function grantRole(bytes32 role, address account)"],
      devWallet(0).connect(provider),
    );
    await (await admin.getFunction("grantRole")(id("ANCHORER_ROLE"), poor.address)).wait();
    const csv = await monthCsv("1403-09", "C");
    const args = anchorArgs(csv, "1403-09", dataDir, ["--keystore", poor.file]);
    expect((await cli(args)).code).to.equal(1);
    const fund = await cli(["dev", "fund", "--rpc", chain.url, "--to", poor.address]);
    expect(fund.code, fund.stderr).to.equal(0);
    expect(fund.stdout).to.match(/^sent 10 ETH to 0x/);
    const before = await batchCount();
    const done = await cli([...args, "--json"]);
    expect(done.code, done.stderr).to.equal(0);
    expect(await batchCount()).to.equal(before + 1);
  });

  it("abandon: refused without --rpc; keeps the files, deletes the signed bytes; the same inputs then anchor exactly once", async function () {
    const dataDir = path.join(work, "d3");
    const csv = await monthCsv("1403-08", "B");
    const stuck = await cli(
      anchorArgs(csv, "1403-08", dataDir, ["--keystore", secondKeystore.file]),
    );
    expect(stuck.code).to.equal(1);
    const [job] = await jobs(dataDir);
    const short = job!.jobId.slice(0, 12);

    // a different job for the same month is refused while this one is in flight, naming jobs
    const other = await monthCsv("1403-08", "Z");
    const blocked = await cli(anchorArgs(other, "1403-08", dataDir, ["--signer", "dev:1"]));
    expect(blocked.code).to.equal(65);
    expect(blocked.stderr).to.include(`shafaf jobs show ${short}`);

    expect((await cli(["jobs", "abandon", short, "--data-dir", dataDir])).code).to.equal(64);
    const ab = await cli(["jobs", "abandon", short, "--data-dir", dataDir, "--rpc", chain.url]);
    expect(ab.code, ab.stderr).to.equal(0);
    expect(ab.stdout).to.include(`abandoned job ${short}`);
    const record = await storedJob(dataDir, job!.jobId);
    expect(record.state).to.equal("abandoned");
    expect(record.rawTx).to.equal(undefined);
    expect(record.abandonedTx).to.deep.equal({
      txHash: job!.txHash,
      signer: secondKeystore.address,
    });
    expect(existsSync(path.join(dataDir, "batches", job!.jobId, "artifact.json"))).to.equal(true);
    const [shown] = await jobs(dataDir);
    expect(shown!.chain).to.include({ condition: "abandoned", abandonable: false });

    // the same inputs, a funded signer: the job is reopened (same artifact and key) and anchored once
    const before = await batchCount();
    const done = await cli(anchorArgs(csv, "1403-08", dataDir, ["--signer", "dev:1", "--json"]));
    expect(done.code, done.stderr).to.equal(0);
    expect(JSON.parse(done.stdout)).to.include({ jobId: job!.jobId, status: "anchored" });
    expect(await batchCount()).to.equal(before + 1);
    const again = await cli(anchorArgs(csv, "1403-08", dataDir, ["--signer", "dev:1", "--json"]));
    expect(JSON.parse(again.stdout)).to.include({ alreadyComplete: true });
    expect(await batchCount()).to.equal(before + 1);
  });

  it("shafaf dev fund is refused on any chain but 31337, and jobs commands refuse a wrong chain or data directory", async function () {
    const { createServer } = await import("node:http");
    // a node that says it is chain 1337 (the answer is all this check reads)
    const server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const { id } = JSON.parse(body) as { id: number };
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x539" }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await cli([
        "dev",
        "fund",
        "--rpc",
        `http://127.0.0.1:${port}`,
        "--to",
        devWallet(3).address,
      ]);
      expect(r.code).to.equal(65);
      expect(r.stderr).to.include("works only on the development chain (id 31337)");
      const j = await cli([
        "jobs",
        "list",
        "--data-dir",
        path.join(work, "d1"),
        "--rpc",
        `http://127.0.0.1:${port}`,
      ]);
      expect(j.code).to.equal(1);
      expect(j.stderr).to.include(
        "serves chain 1337, but this data directory belongs to chain 31337",
      );
    } finally {
      server.close();
    }
    const none = await cli(["jobs", "list", "--data-dir", path.join(work, "nothing-here")]);
    expect(none.code).to.equal(65);
    expect(none.stderr).to.include("holds no anchoring jobs");
    const usage = await cli(["dev", "fund", "--rpc", chain.url]);
    expect(usage.code).to.equal(64);
  });

  describe("inspectJob (a node that holds the transaction, and a batch already anchored)", function () {
    const job: JobRecord = {
      format: "shafaf-job/1",
      jobId: "ab".repeat(32),
      state: "sending",
      kind: "premium",
      period: "1403-07",
      root: "0x" + "11".repeat(32),
      manifestHash: "0x" + "22".repeat(32),
      idempotencyKey: "0x" + "33".repeat(32),
      recordCount: 3,
      total: "100",
      supersedes: null,
      reason: null,
      createdAt: "2026-01-01T00:00:00.000Z",
      txHash: "0x" + "44".repeat(32),
      signer: devWallet(5).address,
    };
    const fakeNode =
      (over: { batchId?: number; pending?: boolean }) =>
      (method: string): Promise<unknown> => {
        const word = (n: number): string => "0x" + n.toString(16).padStart(64, "0");
        switch (method) {
          case "eth_call":
            return Promise.resolve(word(over.batchId ?? 0));
          case "eth_getTransactionReceipt":
            return Promise.resolve(null);
          case "eth_getTransactionByHash":
            return Promise.resolve(over.pending === true ? { hash: job.txHash } : null);
          default:
            return Promise.resolve("0x0");
        }
      };
    it("refuses to abandon while the node holds the transaction", async function () {
      const v = await inspectJob({
        job,
        send: fakeNode({ pending: true }),
        contract: devWallet(9).address,
      });
      expect(v).to.include({ condition: "wait", abandonable: false });
    });
    it("says a job whose key is on chain is not stuck: re-running finishes it", async function () {
      const v = await inspectJob({
        job,
        send: fakeNode({ batchId: 7 }),
        contract: devWallet(9).address,
      });
      expect(v).to.include({ condition: "finish", abandonable: false, anchoredBatchId: 7 });
      expect(v.advice).to.include("batch 7");
    });
  });
});
