/**
 * Crash safety of `shafaf anchor`: the real CLI process is SIGKILLed at every step boundary
 * (SHAFAF_TEST_CRASH_AT), then the same command is run again. It must finish the job with
 * exactly one batch on chain, the salts and receipt codes drawn before the kill, and a receipt
 * for every record. The batches are `shafaf-tree/2` ones (person keys from a registered VRF key).
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider } from "ethers";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import { ANCHOR_STEPS } from "../../src/anchor/run-anchor-job.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import { readBatchArtifact, type ArtifactRecordLine } from "../../src/store/batch-artifact.ts";
import { PREMIUM_COLUMNS, premiumRows, runCli, toCsv } from "./helpers.ts";
import { writeBatchTiles } from "../../src/store/batch-tiles.ts";
import { loadArtifactSumTree } from "../../src/store/sum-tree-artifact.ts";

/** Every file under `dir` (relative path → sha256 and mode), for comparing two tile folders. */
async function treeBytes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else {
        const f = path.join(dir, r);
        const mode = ((await stat(f)).mode & 0o777).toString(8);
        out[r] = `${createHash("sha256")
          .update(await readFile(f))
          .digest("hex")} ${mode}`;
      }
    }
  };
  await walk("");
  return out;
}

const PASSWORD = { SHAFAF_KEYSTORE_PASSWORD: "crash test password" };

describe("shafaf anchor crash safety (kill -9 at each step, then the same command)", function () {
  this.timeout(300_000);
  let chain: DevChain;
  let work: string;
  let dataDir: string;
  let contract: string;
  let provider: JsonRpcProvider;
  let ledger: Contract;
  let vrfFile: string;

  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-crash-"));
    dataDir = path.join(work, "data");
    const deployed = await runCli(["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"]);
    expect(deployed.code, deployed.stderr).to.equal(0);
    contract = (JSON.parse(deployed.stdout) as { address: string }).address;
    vrfFile = path.join(work, "vrf.json");
    for (const argv of [
      ["keys", "new-vrf", "--out", vrfFile],
      [
        "keys",
        "register-vrf",
        vrfFile,
        "--rpc",
        chain.url,
        "--contract",
        contract,
        "--signer",
        "dev:0",
      ],
    ]) {
      const r = await runCli(argv, { env: PASSWORD });
      expect(r.code, r.stderr).to.equal(0);
    }
    provider = new JsonRpcProvider(chain.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    ledger = new Contract(contract, LEDGER_ABI, provider);
  });

  after(async function () {
    provider?.destroy();
    await chain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  const steps = ANCHOR_STEPS.filter((s) => s !== "complete");
  steps.forEach((step, n) => {
    it(`finishes after a kill at "${step}"`, async function () {
      // receipts-partial needs more than one receipt chunk (1,000)
      const count = step === "receipts-partial" ? 1_500 : step === "tiles-written" ? 700 : 4;
      const period = `1402-${String(n + 1).padStart(2, "0")}`;
      const file = path.join(work, `crash-${step}.csv`);
      await writeFile(
        file,
        toCsv(PREMIUM_COLUMNS, premiumRows(count, { period, prefix: `C${n}` })),
      );
      const args = [
        "anchor",
        file,
        "--kind",
        "premium",
        "--period",
        period,
        "--rpc",
        chain.url,
        "--contract",
        contract,
        "--signer",
        "dev:0",
        "--vrf-key",
        vrfFile,
        "--data-dir",
        dataDir,
        "--json",
      ];
      const before = Number((await ledger.getFunction("batchCount")()) as bigint);

      const killed = await runCli(args, { env: { ...PASSWORD, SHAFAF_TEST_CRASH_AT: step } });
      expect(killed.signal, killed.stderr).to.equal("SIGKILL");

      // What the killed run made durable (if it got that far): its codes must survive.
      const committed = (
        await readdir(path.join(dataDir, "batches")).catch(() => [] as string[])
      ).filter((d) => !d.includes(".tmp-"));
      const codesBefore = new Map<string, string[]>();
      for (const d of committed) {
        const a = await readBatchArtifact(path.join(dataDir, "batches", d));
        const codes: string[] = [];
        for await (const l of a!.records()) codes.push(l.code);
        codesBefore.set(d, codes);
      }

      const resumed = await runCli(args, { env: PASSWORD });
      expect(resumed.code, resumed.stderr).to.equal(0);
      const result = JSON.parse(resumed.stdout) as {
        batchId: number;
        jobId: string;
        recordCount: number;
        root: string;
        txHash: string;
      };
      expect(result.recordCount).to.equal(count);

      // exactly one new batch on chain, and it is this job's
      expect(Number((await ledger.getFunction("batchCount")()) as bigint)).to.equal(before + 1);
      const onChain = (await ledger.getFunction("getBatchV2")(result.batchId)) as { root: string };
      expect(onChain.root).to.equal(result.root);

      // same codes as the killed run drew, when it had made them durable
      const artifact = await readBatchArtifact(path.join(dataDir, "batches", result.jobId));
      const lines: ArtifactRecordLine[] = [];
      for await (const l of artifact!.records()) lines.push(l);
      if (codesBefore.has(result.jobId))
        expect(lines.map((l) => l.code)).to.deep.equal(codesBefore.get(result.jobId));

      // a receipt for every record, under the artifact's codes, and the job complete
      const store = await openLedgerStore(dataDir);
      try {
        const receipts = await store.listReceiptsOfBatch(result.batchId);
        expect(receipts).to.have.length(count);
        for (const l of [lines[0]!, lines[lines.length - 1]!]) {
          expect(await store.getReceiptByCode(l.code), l.code).to.not.equal(undefined);
        }
        expect((await store.getJob(result.jobId))?.state).to.equal("complete");
        expect((await store.getBatch(result.batchId))?.txHash).to.equal(result.txHash);
      } finally {
        await store.close();
      }
      // the batch's tiles are those a fresh writer makes from the artifact, byte for byte
      const fresh = await mkdtemp(path.join(work, "fresh-tiles-"));
      await writeBatchTiles(fresh, await loadArtifactSumTree(artifact!), artifact!.keys!);
      const tilesDir = path.join(dataDir, "batches", result.jobId, "tiles");
      expect(await treeBytes(tilesDir)).to.deep.equal(await treeBytes(path.join(fresh, "tiles")));
      expect(
        (await readdir(path.join(dataDir, "batches", result.jobId))).filter((f) =>
          f.startsWith("tiles.tmp-"),
        ),
      ).to.deep.equal([]);
      if (step === "validated") expect(codesBefore.has(result.jobId)).to.equal(false);
      else
        expect(codesBefore.has(result.jobId), "the artifact was durable before the kill").to.equal(
          true,
        );
    });
  });

  it("a job killed before signing is refused on resume if another job anchored its records meanwhile", async function () {
    const period = "1402-12";
    const rows = premiumRows(3, { period, prefix: "S" });
    const a = path.join(work, "stale-a.csv");
    const b = path.join(work, "stale-b.csv");
    await writeFile(a, toCsv(PREMIUM_COLUMNS, rows));
    rows[0]!.paid_on = "1403-01-05"; // same record ids, different content
    await writeFile(b, toCsv(PREMIUM_COLUMNS, rows));
    const args = (file: string) => [
      "anchor",
      file,
      "--kind",
      "premium",
      "--period",
      period,
      "--rpc",
      chain.url,
      "--contract",
      contract,
      "--signer",
      "dev:0",
      "--vrf-key",
      vrfFile,
      "--data-dir",
      dataDir,
      "--json",
    ];
    const killed = await runCli(args(a), {
      env: { ...PASSWORD, SHAFAF_TEST_CRASH_AT: "job-prepared" },
    });
    expect(killed.signal).to.equal("SIGKILL");
    const other = await runCli(args(b), { env: PASSWORD });
    expect(other.code, other.stderr).to.equal(0);
    const before = Number((await ledger.getFunction("batchCount")()) as bigint);
    const stale = await runCli(args(a), { env: PASSWORD });
    expect(stale.code).to.equal(65);
    expect(stale.stderr).to.match(/is stale: batch \d+ anchored some of its records meanwhile/);
    expect(Number((await ledger.getFunction("batchCount")()) as bigint)).to.equal(before);
  });

  it("a third run of a finished job does nothing", async function () {
    const file = path.join(work, `crash-validated.csv`);
    const before = Number((await ledger.getFunction("batchCount")()) as bigint);
    const r = await runCli(
      [
        "anchor",
        file,
        "--kind",
        "premium",
        "--period",
        "1402-01",
        "--rpc",
        chain.url,
        "--contract",
        contract,
        "--signer",
        "dev:0",
        "--vrf-key",
        vrfFile,
        "--data-dir",
        dataDir,
        "--json",
      ],
      { env: PASSWORD },
    );
    expect(r.code, r.stderr).to.equal(0);
    expect((JSON.parse(r.stdout) as { alreadyComplete: boolean }).alreadyComplete).to.equal(true);
    expect(Number((await ledger.getFunction("batchCount")()) as bigint)).to.equal(before);
  });
});
