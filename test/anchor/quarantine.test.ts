/**
 * A month of employers' lists with directors, foreign workers and a few faulty lists
 * (issue #17): everything right is anchored, the faulty lists are quarantined with a report an
 * employer can act on, and the premium per worker matches what each employer declared.
 */
import { expect } from "chai";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider } from "ethers";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import { runAnchorJob } from "../../src/anchor/run-anchor-job.ts";
import { auditBatch } from "../../src/audit/audit-batch.ts";
import { readAnchoredBatch } from "../../src/audit/read-anchored-batch.ts";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import type { SsoListWorker } from "../../src/ingest/sso-list.ts";
import { worker } from "../ingest/helpers.ts";
import { patchNumber, readNumber, workforce, writeList } from "../ingest/employers-lists.ts";
import { runCli } from "./helpers.ts";

const LISTS = 200;
const FAULTY = { coverage: 17, edited: 101, duplicate: 188 } as const;
const FINDING = 55;
const KEY = new Uint8Array(32).fill(9);

/** Workers of list `i`: a few plain workers; every 10th list has directors and foreign workers. */
function workersOf(i: number): SsoListWorker[] {
  if (i % 10 === 0) return workforce();
  return [0, 1, 2].map((k) => ({
    ...worker(k + 3 * i),
    insuranceNo: String(30_000_000 + i * 10 + k),
  }));
}

const label = (i: number) => `w${String(i).padStart(3, "0")}`;

/** Writes the month: 200 lists, 3 faulty, 1 with a header finding. Returns declared DSK_BIC per list. */
async function writeMonth(root: string): Promise<Map<string, bigint>> {
  const declared = new Map<string, bigint>();
  for (let i = 0; i < LISTS; i++) {
    const dir = path.join(root, label(i));
    const workers = workersOf(i);
    if (i === FAULTY.duplicate)
      workers[2] = { ...workers[2]!, insuranceNo: workers[1]!.insuranceNo };
    await writeList(dir, workers, {
      workshopCode: String(2_000_000_000 + i),
      ...(i === FAULTY.coverage ? { override: { DSK_BIC: 7n } } : {}),
    });
    const wor = path.join(dir, "DSKWOR00.DBF");
    if (i === FAULTY.edited) {
      patchNumber(wor, 2, "DSW_MASH", readNumber(wor, 2, "DSW_MASH") + 10n);
      patchNumber(wor, 2, "DSW_BIME", readNumber(wor, 2, "DSW_BIME") + 1n);
    }
    if (i === FINDING) patchNumber(wor, 1, "DSW_TOTL", readNumber(wor, 1, "DSW_TOTL") + 2n);
    declared.set(
      String(2_000_000_000 + i),
      readNumber(path.join(dir, "DSKKAR00.DBF"), 1, "DSK_BIC"),
    );
  }
  return declared;
}

describe("a month of employers' lists with faulty ones (per-list quarantine)", function () {
  this.timeout(600_000);
  let work: string;
  let month: string;
  let declared: Map<string, bigint>;
  const goodRows = Array.from({ length: LISTS }, (_, i) => i)
    .filter((i) => !Object.values(FAULTY).includes(i as never))
    .reduce((n, i) => n + workersOf(i).length, 0);

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-quarantine-"));
    month = path.join(work, "month");
    declared = await writeMonth(month);
  });
  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  describe("runAnchorJob (dry run)", function () {
    it("anchors every accepted list and quarantines the 3 faulty ones, findings in the manifest", async function () {
      const r = await runAnchorJob({
        inputs: [month],
        kind: "premium",
        period: "1403-07",
        province: "IR-23",
        dryRun: true,
        pseudonymKey: KEY,
      });
      expect(r.status).to.equal("dry-run");
      if (r.status !== "dry-run") return;
      expect(r.recordCount).to.equal(goodRows);
      expect(r.quarantined.map((q) => q.list)).to.deep.equal(
        [FAULTY.coverage, FAULTY.edited, FAULTY.duplicate].map((i) => `month/${label(i)}`),
      );
      expect(
        r.quarantined.map((q) => [...new Set(q.issues.map((i) => i.rule))].sort()),
      ).to.deep.equal([
        ["sso.unemployment-coverage"],
        ["share.rate", "sso.insurable-base", "sso.worker-share"],
        ["record-id.duplicate", "sso.duplicate-insurance-no"],
      ]);
      expect(r.quarantined.map((q) => q.workshops)).to.deep.equal(
        [FAULTY.coverage, FAULTY.edited, FAULTY.duplicate].map((i) => [String(2_000_000_000 + i)]),
      );
      expect(r.manifest.quarantined).to.deep.equal([
        { list: `month/${label(FAULTY.coverage)}`, rows: 3, rules: ["sso.unemployment-coverage"] },
        {
          list: `month/${label(FAULTY.edited)}`,
          rows: 3,
          rules: ["share.rate", "sso.insurable-base", "sso.worker-share"],
        },
        {
          list: `month/${label(FAULTY.duplicate)}`,
          rows: 3,
          rules: ["record-id.duplicate", "sso.duplicate-insurance-no"],
        },
      ]);
      expect(r.manifest.findings).to.deep.equal([
        {
          file: `month/${label(FINDING)}/DSKKAR00.DBF`,
          line: 1,
          field: "DSK_TTOTL",
          rule: "sso.header-total",
          list: `month/${label(FINDING)}`,
        },
      ]);
      expect(r.manifest.coverageRules).to.equal("sso-unemployment-coverage/1");
      expect(r.manifest.sources.length).to.equal(2 * LISTS);
    });

    it("--strict keeps all or nothing", async function () {
      const r = await runAnchorJob({
        inputs: [month],
        kind: "premium",
        period: "1403-07",
        province: "IR-23",
        dryRun: true,
        pseudonymKey: KEY,
        strict: true,
      });
      expect(r.status).to.equal("invalid");
      if (r.status !== "invalid") return;
      expect(r.issues.some((i) => i.rule === "sso.header-total")).to.equal(true);
    });
  });

  describe("shafaf anchor on a chain", function () {
    let chain: DevChain;
    let contract: string;
    let provider: JsonRpcProvider;
    let ledger: Contract;
    before(async function () {
      chain = await startDevChain();
      const deployed = await runCli(["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"]);
      expect(deployed.code, deployed.stderr).to.equal(0);
      contract = (JSON.parse(deployed.stdout) as { address: string }).address;
      provider = new JsonRpcProvider(chain.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
      ledger = new Contract(contract, LEDGER_ABI, provider);
    });
    after(async function () {
      provider?.destroy();
      await chain?.stop();
    });

    const args = (dataDir: string, extra: string[] = []) => [
      "anchor",
      "--scheme",
      "1",
      month,
      "--kind",
      "premium",
      "--period",
      "1403-07",
      "--province",
      "IR-23",
      "--rpc",
      chain.url,
      "--contract",
      contract,
      "--signer",
      "dev:0",
      "--data-dir",
      dataDir,
      "--json",
      ...extra,
    ];

    it("anchors the accepted lists; per worker premium = what each employer declared; a report per quarantined list", async function () {
      const dataDir = path.join(work, "data-main");
      const run = await runCli(args(dataDir));
      expect(run.code, run.stderr).to.equal(0);
      const out = JSON.parse(run.stdout) as {
        batchId: number;
        jobId: string;
        recordCount: number;
        quarantined: { list: string; rows: number; rules: string[] }[];
        findingCount: number;
        quarantineReport: string;
      };
      expect(out.recordCount).to.equal(goodRows);
      expect(out.quarantined).to.have.length(3);
      expect(out.findingCount).to.equal(1);

      // Rial for Rial: Σ unemployment_share of each anchored workshop = its DSK_BIC
      const artifact = await readBatchArtifact(path.join(dataDir, "batches", out.jobId));
      const perWorkshop = new Map<string, bigint>();
      const people = new Set<string>();
      for await (const line of artifact!.records()) {
        const rec = line.record as {
          workshopCode: string;
          unemploymentShare: string;
          nationalId: string;
        };
        perWorkshop.set(
          rec.workshopCode,
          (perWorkshop.get(rec.workshopCode) ?? 0n) + BigInt(rec.unemploymentShare),
        );
        people.add(rec.nationalId);
      }
      expect(perWorkshop.size).to.equal(LISTS - 3);
      for (const [ws, got] of perWorkshop) expect(got, ws).to.equal(declared.get(ws));
      expect(people.has("insured:20000002:AFG")).to.equal(true);

      // the report: JSON + a bilingual text per list, 0600, masked
      const files = (await readdir(out.quarantineReport)).sort();
      expect(files).to.deep.equal([
        "month_w017.txt",
        "month_w101.txt",
        "month_w188.txt",
        "quarantine.json",
      ]);
      for (const f of files) {
        const s = await stat(path.join(out.quarantineReport, f));
        expect(s.mode & 0o777, f).to.equal(0o600);
        const text = await readFile(path.join(out.quarantineReport, f), "utf8");
        for (const id of ["0012345679", "1234567891", "2740583311"])
          expect(text, f).to.not.include(id);
      }
      const letter = await readFile(path.join(out.quarantineReport, "month_w101.txt"), "utf8");
      expect(letter).to.include("کارگاه 2000000101");
      expect(letter).to.include("Workshop 2000000101");
      expect(letter).to.include("month/w101/DSKWOR00.DBF:2 — DSW_MASH [sso.insurable-base]");
      expect(letter).to.include("اصلاح:");
      expect(letter).to.include("Fix:");
      expect(Number((await ledger.getFunction("batchCount")()) as bigint)).to.equal(out.batchId);

      // an auditor recomputes the batch from the artifact and from the original lists + salts:
      // the quarantined lists are skipped, the findings carried, the manifest hash matches
      const anchored = await readAnchoredBatch({
        rpcUrls: [chain.url],
        contract,
        batchId: out.batchId,
      });
      const dir = path.join(dataDir, "batches", out.jobId);
      for (const audited of [
        { type: "batch-artifact" as const, dir },
        {
          type: "inputs" as const,
          paths: [month],
          province: "IR-23",
          salts: path.join(dir, "records.jsonl"),
        },
      ]) {
        const audit = await auditBatch({
          batchId: out.batchId,
          anchored,
          audited,
          referenceDir: dir,
        });
        expect(
          audit.report.checks.filter((c) => !c.ok),
          audited.type,
        ).to.deep.equal([]);
        expect(audit.report.verdict, audited.type).to.equal("match");
      }
    });

    for (const step of ["validated", "artifact-written", "tx-sent", "batch-anchored"]) {
      it(`kill -9 at "${step}" then the same command: one batch, nothing lost or doubled`, async function () {
        const dataDir = path.join(work, `data-${step}`);
        // each run needs its own month (a data dir anchors a month's records once)
        const before = Number((await ledger.getFunction("batchCount")()) as bigint);
        const isolated = path.join(work, `month-${step}`);
        await writeMonthCopy(isolated, step);
        const a = args(dataDir).map((x) => (x === month ? isolated : x));
        const killed = await runCli(a, { env: { SHAFAF_TEST_CRASH_AT: step } });
        expect(killed.signal, killed.stderr).to.equal("SIGKILL");
        const resumed = await runCli(a);
        expect(resumed.code, resumed.stderr).to.equal(0);
        const out = JSON.parse(resumed.stdout) as {
          batchId: number;
          recordCount: number;
          jobId: string;
        };
        expect(out.recordCount).to.equal(goodRows);
        expect(Number((await ledger.getFunction("batchCount")()) as bigint)).to.equal(before + 1);
        const store = await openLedgerStore(dataDir);
        try {
          expect(await store.listReceiptsOfBatch(out.batchId)).to.have.length(goodRows);
          expect((await store.getJob(out.jobId))?.state).to.equal("complete");
        } finally {
          await store.close();
        }
        const report = path.join(dataDir, "quarantine", out.jobId, "quarantine.json");
        const json = JSON.parse(await readFile(report, "utf8")) as { lists: unknown[] };
        expect(json.lists).to.have.length(3);
      });
    }

    /** The same month under other workshop codes (record ids must not collide across runs). */
    async function writeMonthCopy(root: string, step: string): Promise<void> {
      const offset =
        1_000 * (["validated", "artifact-written", "tx-sent", "batch-anchored"].indexOf(step) + 1);
      for (let i = 0; i < LISTS; i++) {
        const dir = path.join(root, label(i));
        const workers = workersOf(i);
        if (i === FAULTY.duplicate)
          workers[2] = { ...workers[2]!, insuranceNo: workers[1]!.insuranceNo };
        await writeList(dir, workers, {
          workshopCode: String(3_000_000_000 + offset + i),
          ...(i === FAULTY.coverage ? { override: { DSK_BIC: 7n } } : {}),
        });
        if (i === FAULTY.edited) {
          const wor = path.join(dir, "DSKWOR00.DBF");
          patchNumber(wor, 2, "DSW_MASH", readNumber(wor, 2, "DSW_MASH") + 10n);
          patchNumber(wor, 2, "DSW_BIME", readNumber(wor, 2, "DSW_BIME") + 1n);
        }
      }
    }

    it("a month whose only list is faulty anchors nothing and still writes the employer's report", async function () {
      const dataDir = path.join(work, "data-alone");
      const alone = path.join(month, label(FAULTY.edited));
      const run = await runCli(args(dataDir).map((x) => (x === month ? alone : x)));
      expect(run.code, run.stderr).to.equal(65);
      const out = JSON.parse(run.stdout) as { status: string; quarantineReport: string };
      expect(out.status).to.equal("invalid");
      expect((await readdir(out.quarantineReport)).sort()).to.deep.equal([
        "quarantine.json",
        "w101.txt",
      ]);
    });

    it("--strict anchors nothing; the corrected lists anchor later as a supplement for the month", async function () {
      const dataDir = path.join(work, "data-main");
      const strict = await runCli(args(dataDir, ["--strict"]));
      expect(strict.code, strict.stderr).to.equal(65);

      // the employers send corrected lists: a second batch for the same month
      const fixed = path.join(work, "fixed");
      for (const i of Object.values(FAULTY)) {
        await writeList(path.join(fixed, label(i)), workersOf(i), {
          workshopCode: String(2_000_000_000 + i),
        });
      }
      const sup = await runCli(args(dataDir).map((x) => (x === month ? fixed : x)));
      expect(sup.code, sup.stderr).to.equal(0);
      const out = JSON.parse(sup.stdout) as { recordCount: number; quarantined: unknown[] };
      expect(out.recordCount).to.equal(3 + 3 + 3);
      expect(out.quarantined).to.deep.equal([]);
    });
  });
});
