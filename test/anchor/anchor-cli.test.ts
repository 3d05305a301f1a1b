/**
 * `shafaf deploy`, `anchor`, `receipts` and `keys` end to end: the real CLI in child processes
 * against a real Hardhat node, real LevelDB and real files.
 */
import { expect } from "chai";
import { createServer, type Server } from "node:http";
import { mkdtemp, readFile, readdir, rm, writeFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider, keccak256, parseEther } from "ethers";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { LEDGER_ABI } from "../../src/core/ledger-abi.ts";
import { recordFromJson } from "../../src/core/receipt.ts";
import { leafHash, leafValues } from "../../src/core/leaf.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import type { Hex } from "../../src/core/hex.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { decodeCp1256 } from "../../src/ingest/cp1256.ts";
import { parseProvince } from "../../src/core/province.ts";
import { writeSsoList } from "../../src/ingest/write-sso-list.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import { readBatchArtifact, type ArtifactRecordLine } from "../../src/store/batch-artifact.ts";
import {
  PENSION_COLUMNS,
  PREMIUM_COLUMNS,
  nationalIdFor,
  pensionRows,
  premiumRows,
  runCli,
  toCsv,
  toJsonl,
  type CliResult,
} from "./helpers.ts";

/** Encodes text as Windows-1256 (what Excel writes in a Persian locale) by inverting the decoder. */
function encodeCp1256(text: string): Uint8Array {
  const map = new Map<string, number>();
  for (let b = 0; b < 256; b++) map.set(decodeCp1256(new Uint8Array([b])), b);
  const out: number[] = [];
  for (const ch of text) {
    const b = map.get(ch);
    if (b === undefined) throw new Error(`no cp1256 byte for U+${ch.codePointAt(0)!.toString(16)}`);
    out.push(b);
  }
  return new Uint8Array(out);
}

const toPersianDigits = (s: string): string =>
  s.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d)));

interface AnchorJson {
  status: string;
  batchId: number;
  txHash: string;
  root: string;
  recordCount: number;
  total: string;
  manifestHash: string;
  jobId: string;
  resumed: boolean;
  alreadyComplete: boolean;
  supersedes: number | null;
}

describe("shafaf anchor (end to end)", function () {
  this.timeout(180_000);
  let chain: DevChain;
  let work: string;
  let dataDir: string;
  let contract: string;
  let provider: JsonRpcProvider;
  let ledger: Contract;
  let jsonlBatchId = 0;

  const anchor = (args: string[], env: Record<string, string> = {}): Promise<CliResult> =>
    runCli(
      [
        "anchor",
        "--scheme",
        "1",
        ...args,
        "--rpc",
        chain.url,
        "--contract",
        contract,
        "--data-dir",
        dataDir,
      ],
      {
        env,
      },
    );
  const anchorJson = async (args: string[]): Promise<AnchorJson> => {
    const r = await anchor([...args, "--signer", "dev:0", "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as AnchorJson;
  };
  const batchCount = async (): Promise<number> =>
    Number((await ledger.getFunction("batchCount")()) as bigint);

  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-anchor-e2e-"));
    dataDir = path.join(work, "data");
    const deployed = await runCli(["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"]);
    expect(deployed.code, deployed.stderr).to.equal(0);
    const info = JSON.parse(deployed.stdout) as { address: string; chainId: number };
    expect(info.chainId).to.equal(31337);
    contract = info.address;
    provider = new JsonRpcProvider(chain.url, 31337, { staticNetwork: true, cacheTimeout: -1 });
    ledger = new Contract(contract, LEDGER_ABI, provider);
  });

  after(async function () {
    provider?.destroy();
    await chain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  describe("an Excel-style UTF-8 CSV (BOM, CRLF, quoted cells, Persian digits)", function () {
    let result: AnchorJson;
    let csv: string;

    before(async function () {
      const rows = premiumRows(12);
      rows[0]!.national_id = toPersianDigits(rows[0]!.national_id!);
      rows[1]!.wage_base = toPersianDigits(rows[1]!.wage_base!);
      csv = path.join(work, "premiums-1403-07.csv");
      await writeFile(csv, "\uFEFF" + toCsv(PREMIUM_COLUMNS, rows, { crlf: true, quoteAll: true }));
      result = await anchorJson([csv, "--kind", "premium", "--period", "1403-07"]);
    });

    it("anchors one batch whose on-chain fields match the summary and the artifact", async function () {
      expect(result.status).to.equal("anchored");
      expect(result.batchId).to.equal(1);
      expect(result.recordCount).to.equal(12);
      expect(result.txHash).to.match(/^0x[0-9a-f]{64}$/);
      const expectedTotal = premiumRows(12).reduce((s, r) => s + BigInt(r.total!), 0n);
      expect(result.total).to.equal(expectedTotal.toString());
      const onChain = (await ledger.getFunction("getBatch")(1)) as {
        root: string;
        recordCount: bigint;
        totalAmount: bigint;
        manifestHash: string;
        period: bigint;
        kind: bigint;
      };
      expect(onChain.root).to.equal(result.root);
      expect(onChain.recordCount).to.equal(12n);
      expect(onChain.totalAmount).to.equal(expectedTotal);
      expect(onChain.period).to.equal(140307n);
      expect(onChain.kind).to.equal(0n);
      const artifact = await readBatchArtifact(path.join(dataDir, "batches", result.jobId));
      expect(keccak256(artifact!.manifestBytes)).to.equal(onChain.manifestHash);
      const manifest = artifact!.manifest as {
        format: string;
        recordCount: number;
        sources: { sha256: string }[];
      };
      expect(manifest.format).to.equal("shafaf-manifest/1");
      expect(manifest.recordCount).to.equal(12);
      expect(manifest.sources).to.have.length(1);
    });

    it("commits the artifact: its records recompute the on-chain root", async function () {
      const artifact = await readBatchArtifact(path.join(dataDir, "batches", result.jobId));
      const lines: ArtifactRecordLine[] = [];
      for await (const l of artifact!.records()) lines.push(l);
      const leaves = new Uint8Array(lines.length * 32);
      lines.forEach((l, i) =>
        leaves.set(
          leafHash(
            leafValues(recordFromJson(l.record)!, {
              salt: l.salt as Hex,
              subject: l.subject as Hex,
            }),
          ),
          i * 32,
        ),
      );
      expect(buildMerkleTree(leaves).root).to.equal(result.root);
      expect(lines[0]!.record.nationalId).to.equal(nationalIdFor(1)); // Persian digits normalised
    });

    it("exports one receipt per record that the core verifier accepts against the chain", async function () {
      const out = path.join(work, "receipts-1");
      const r = await runCli([
        "receipts",
        "export",
        "--batch",
        "1",
        "--out",
        out,
        "--data-dir",
        dataDir,
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const files = (await readdir(out)).sort();
      expect(files).to.have.length(12);
      expect(files).to.include("P-0.json");
      const readBatch = async (batchId: number) => {
        const b = (await ledger.getFunction("getBatch")(batchId)) as { root: string };
        return { root: b.root } as never;
      };
      // receipts hold national IDs and amounts: owner-only
      expect((await stat(out)).mode & 0o777).to.equal(0o700);
      for (const f of files) {
        expect((await stat(path.join(out, f))).mode & 0o777, f).to.equal(0o600);
        const receipt: unknown = JSON.parse(await readFile(path.join(out, f), "utf8"));
        const verdict = await verifyReceipt(receipt, { root: result.root });
        expect(verdict.status, f).to.equal("verified");
      }
      void readBatch;
    });

    it("exports JSON Lines, and shows a receipt by its code", async function () {
      const out = path.join(work, "receipts-1l");
      const r = await runCli([
        "receipts",
        "export",
        "--batch",
        "1",
        "--out",
        out,
        "--format",
        "jsonl",
        "--data-dir",
        dataDir,
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const lines = (await readFile(path.join(out, "batch-1.receipts.jsonl"), "utf8"))
        .trim()
        .split("\n");
      expect(lines).to.have.length(12);
      const artifact = await readBatchArtifact(path.join(dataDir, "batches", result.jobId));
      let code = "";
      for await (const l of artifact!.records()) {
        code = l.code;
        break;
      }
      const shown = await runCli(["receipts", "show", code, "--data-dir", dataDir]);
      expect(shown.code, shown.stderr).to.equal(0);
      expect(JSON.parse(shown.stdout)).to.deep.equal(JSON.parse(lines[0]!));
      const missing = await runCli(["receipts", "show", "NOPE-NOPE", "--data-dir", dataDir]);
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.match(/no receipt with this code/);
    });

    it("is idempotent: the same command again anchors nothing new", async function () {
      const again = await anchorJson([csv, "--kind", "premium", "--period", "1403-07"]);
      expect(again.alreadyComplete).to.equal(true);
      expect(again.batchId).to.equal(1);
      expect(await batchCount()).to.equal(1);
    });
  });

  describe("anchors a cp1256 pension CSV with Persian province and category names", function () {
    it("anchors a cp1256 pension CSV with Persian province and category names", async function () {
      const rows = pensionRows(6, { period: "1403-07" });
      rows.forEach((r, i) => {
        // Persian text through cp1256: province names, and «بازماندگان» for survivors
        r.province = ["تهران", "اصفهان"][i % 2]!;
        if (r.category === "survivors") r.category = "بازماندگان";
      });
      const file = path.join(work, "pensions-cp1256.csv");
      await writeFile(file, encodeCp1256(toCsv(PENSION_COLUMNS, rows, { crlf: true })));
      const before = await batchCount();
      const result = await anchorJson([file, "--kind", "pension", "--period", "1403-07"]);
      expect(result.recordCount).to.equal(6);
      expect(await batchCount()).to.equal(before + 1);
      const artifact = await readBatchArtifact(path.join(dataDir, "batches", result.jobId));
      const manifest = artifact!.manifest as {
        byCategory: Record<string, { count: number }>;
        sources: { encoding: string }[];
        byProvince: Record<string, unknown>;
      };
      const expected = (cat: number): string =>
        rows
          .filter((_, i) => i % 3 === cat)
          .reduce((s, r) => s + BigInt(r.net!), 0n)
          .toString();
      expect(manifest.byCategory).to.deep.equal({
        retirement: { count: 2, total: expected(0) },
        disability: { count: 2, total: expected(1) },
        survivors: { count: 2, total: expected(2) },
      });
      expect(manifest.sources[0]!.encoding).to.equal("cp1256");
      expect(Object.keys(manifest.byProvince).sort()).to.deep.equal(
        [parseProvince("تهران"), parseProvince("اصفهان")].sort(),
      );
    });
  });

  describe("anchors JSON Lines", function () {
    it("anchors JSON Lines", async function () {
      const file = path.join(work, "premiums-1403-08.jsonl");
      await writeFile(file, toJsonl(premiumRows(5, { period: "1403-08", prefix: "J" })));
      const result = await anchorJson([file, "--kind", "premium", "--period", "1403-08"]);
      expect(result.recordCount).to.equal(5);
      jsonlBatchId = result.batchId;
    });
  });

  describe("anchors an SSO DBF pair written by the project's writer", function () {
    it("anchors an SSO DBF pair written by the project's writer", async function () {
      const dir = path.join(work, "dbf", "1234567890");
      const workers = [0, 1, 2].map((i) => {
        const monthly = 120_000_000n + BigInt(i) * 10_000_000n;
        const benefits = 20_000_000n;
        const insurable = monthly + benefits;
        return {
          insuranceNo: String(20_000_000 + i),
          firstName: "علی",
          lastName: "محمدی",
          fatherName: "حسین",
          idNo: "123",
          idPlace: "",
          idDate: "",
          birthDate: "13600101",
          sex: "مرد",
          nationality: "ایرانی",
          jobTitle: "کارگر",
          startDate: "14000101",
          endDate: "",
          days: 30,
          dailyWage: monthly / 30n,
          monthlyWage: monthly,
          benefits,
          insurableBase: insurable,
          totalPay: insurable,
          workerShare: (insurable * 7n) / 100n,
          prate: 0n,
          jobCode: "123456",
          nationalId: nationalIdFor(900 + i),
        };
      });
      await writeSsoList(
        dir,
        {
          header: {
            workshopCode: "1234567890",
            workshopName: "کارگاه نمونه",
            employerName: "شرکت نمونه",
            address: "تهران",
            year: 1403,
            month: 9,
            listNo: "1",
          },
          workers,
        },
        { layout: "v6" },
      );
      const result = await anchorJson([
        dir,
        "--kind",
        "premium",
        "--period",
        "1403-09",
        "--province",
        "IR-23",
      ]);
      expect(result.recordCount).to.equal(3);
      const artifact = await readBatchArtifact(path.join(dataDir, "batches", result.jobId));
      const manifest = artifact!.manifest as {
        sources: { format: string; layout: string }[];
        byProvince: Record<string, unknown>;
      };
      expect(manifest.sources.map((s) => [s.format, s.layout])).to.deep.equal(
        [
          ["sso-dbf", "v6"],
          ["sso-dbf", "v6"],
        ].slice(0, manifest.sources.length),
      );
      expect(Object.keys(manifest.byProvince)).to.deep.equal(["IR-23"]);
    });
  });

  describe("validation", function () {
    it("reports every broken rule at once, as a table and as JSON, and anchors nothing", async function () {
      const rows = premiumRows(8, { period: "1403-10", prefix: "V" });
      rows[0]!.national_id = "0012345678"; // checksum
      rows[1]!.period = "1403-11"; // not the batch's period
      rows[2]!.worker_share = "1"; // share mismatch
      rows[3]!.record_id = "V-4"; // duplicate of row 5
      rows[4]!.record_id = "V-4";
      rows[5]!.days = "40"; // days > 31
      rows[6]!.wage_base = "12.5"; // not integer Rials
      rows[7]!.province = "Atlantis"; // unknown province
      const file = path.join(work, "bad.csv");
      await writeFile(file, toCsv(PREMIUM_COLUMNS, rows));
      const report = path.join(work, "bad-report.json");
      const before = await batchCount();
      const r = await anchor([
        file,
        "--kind",
        "premium",
        "--period",
        "1403-10",
        "--signer",
        "dev:0",
        "--report",
        report,
      ]);
      expect(r.code, r.stderr).to.equal(65);
      expect(r.stderr).to.match(/nothing was anchored/);
      expect(r.stderr).to.match(/bad\.csv:2 +national_id/);
      expect(await batchCount()).to.equal(before);
      const json = JSON.parse(await readFile(report, "utf8")) as {
        format: string;
        status: string;
        issues: { file: string; line: number; field: string; rule: string; value: string }[];
      };
      expect(json.format).to.equal("shafaf-validation-report/1");
      // it names rows of an employer's list: readable by its owner only
      expect((await stat(report)).mode & 0o777).to.equal(0o600);
      expect(json.status).to.equal("invalid");
      const byLine = new Map(json.issues.map((i) => [i.line, i]));
      expect(byLine.get(2)?.field).to.equal("national_id");
      expect(byLine.get(3)?.field).to.equal("period");
      expect(byLine.get(4)?.field).to.match(/worker_share|total/);
      expect(byLine.get(6)?.rule).to.equal("record-id.duplicate");
      expect(byLine.get(7)?.field).to.equal("days");
      expect(byLine.get(8)?.field).to.equal("wage_base");
      expect(byLine.get(9)?.field).to.equal("province");
      // personal values are masked in the report
      expect(JSON.stringify(json)).to.not.include("0012345678");
      // nothing durable was left behind for the invalid job
      const batches = await readdir(path.join(dataDir, "batches"));
      expect(batches.filter((b) => b.includes(".tmp-"))).to.deep.equal([]);
    });

    it("refuses record ids already anchored for the same kind and period, but not for another period", async function () {
      const file = path.join(work, "again.csv");
      await writeFile(file, toCsv(PREMIUM_COLUMNS, premiumRows(2, { start: 0 })));
      const r = await anchor([
        file,
        "--kind",
        "premium",
        "--period",
        "1403-07",
        "--signer",
        "dev:0",
        "--json",
      ]);
      expect(r.code).to.equal(65);
      const out = JSON.parse(r.stdout) as { issues: { rule: string; message: string }[] };
      expect(out.issues.map((i) => i.rule)).to.deep.equal([
        "record-id.anchored",
        "record-id.anchored",
      ]);
      expect(out.issues[0]!.message).to.match(/batch 1/);
    });

    it("--dry-run says what would be anchored and changes nothing", async function () {
      const file = path.join(work, "dry.csv");
      await writeFile(
        file,
        toCsv(PREMIUM_COLUMNS, premiumRows(4, { period: "1403-12", prefix: "D" })),
      );
      const before = await batchCount();
      const listing = await readdir(path.join(dataDir, "batches"));
      const r = await runCli([
        "anchor",
        file,
        "--kind",
        "premium",
        "--period",
        "1403-12",
        "--dry-run",
        "--data-dir",
        dataDir,
      ]);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/dry run: would anchor premium 1403-12/);
      expect(r.stdout).to.match(/records +4/);
      expect(await batchCount()).to.equal(before);
      expect(await readdir(path.join(dataDir, "batches"))).to.deep.equal(listing);
    });

    it("exits 64 on usage errors", async function () {
      for (const args of [
        ["anchor", "x.csv", "--period", "1403-07"],
        ["anchor", "x.csv", "--kind", "premium"],
        ["anchor", "x.csv", "--kind", "premium", "--period", "1403-07", "--bogus"],
        ["anchor", "x.csv", "--kind", "premium", "--period", "1403-07"],
      ]) {
        const r = await runCli(args);
        expect(r.code, args.join(" ")).to.equal(64);
      }
    });
  });

  describe("supersedes a batch with a correction and records the link", function () {
    it("supersedes a batch with a correction and records the link", async function () {
      const rows = premiumRows(3, { period: "1403-08", prefix: "J" });
      rows[0]!.paid_on = "1403-08-20";
      const file = path.join(work, "correction.csv");
      await writeFile(file, toCsv(PREMIUM_COLUMNS, rows));
      const original = jsonlBatchId; // the JSON Lines batch of 1403-08
      const onChainOriginal = (await ledger.getFunction("getBatch")(original)) as {
        period: bigint;
      };
      expect(onChainOriginal.period).to.equal(140308n);
      const result = await anchorJson([
        file,
        "--kind",
        "premium",
        "--period",
        "1403-08",
        "--supersedes",
        String(original),
        "--reason",
        "late-payment",
      ]);
      expect(result.supersedes).to.equal(original);
      const old = (await ledger.getFunction("getBatch")(original)) as { supersededBy: bigint };
      expect(old.supersededBy).to.equal(BigInt(result.batchId));
      const store = await openLedgerStore(dataDir);
      try {
        expect((await store.getBatch(original))?.supersededBy).to.equal(result.batchId);
      } finally {
        await store.close();
      }
      // Re-sending the same ids against another batch is caught by validation (they are current now)…
      const again = await anchor([
        file,
        "--kind",
        "premium",
        "--period",
        "1403-08",
        "--supersedes",
        "1",
        "--reason",
        "x",
        "--signer",
        "dev:0",
        "--json",
      ]);
      expect(again.code).to.equal(65);
      expect((JSON.parse(again.stdout) as { issues: { rule: string }[] }).issues[0]!.rule).to.equal(
        "record-id.anchored",
      );
      // …and a correction of a batch of another period is refused by the contract with its reason.
      const fresh = path.join(work, "mismatch.csv");
      await writeFile(
        fresh,
        toCsv(PREMIUM_COLUMNS, premiumRows(2, { period: "1403-08", prefix: "M" })),
      );
      const wrong = await anchor([
        fresh,
        "--kind",
        "premium",
        "--period",
        "1403-08",
        "--supersedes",
        "1",
        "--reason",
        "x",
        "--signer",
        "dev:0",
      ]);
      expect(wrong.code).to.equal(1);
      expect(wrong.stderr).to.match(/LedgerSupersedeMismatch|LedgerAlreadySuperseded/);
    });
  });

  describe("signing", function () {
    it("makes a keystore, deploys with it as anchorer, and anchors with it", async function () {
      const ks = path.join(work, "anchorer.json");
      const env = { SHAFAF_KEYSTORE_PASSWORD: "correct horse battery" };
      const made = await runCli(["keys", "new", "--out", ks], { env });
      expect(made.code, made.stderr).to.equal(0);
      const address = made.stdout.trim();
      expect(address).to.match(/^0x[0-9a-fA-F]{40}$/);
      expect((await stat(ks)).mode & 0o777).to.equal(0o600);
      expect(await readFile(ks, "utf8")).to.not.include("correct horse");
      const funder = devWallet(0).connect(provider);
      await (await funder.sendTransaction({ to: address, value: parseEther("1") })).wait();
      const deployed = await runCli([
        "deploy",
        "--rpc",
        chain.url,
        "--signer",
        "dev:0",
        "--anchorer",
        address,
        "--json",
      ]);
      expect(deployed.code, deployed.stderr).to.equal(0);
      const other = (JSON.parse(deployed.stdout) as { address: string }).address;
      const file = path.join(work, "ks.csv");
      await writeFile(file, toCsv(PREMIUM_COLUMNS, premiumRows(2, { prefix: "K" })));
      const otherData = path.join(work, "data-ks");
      const r = await runCli(
        [
          "anchor",
          "--scheme",
          "1",
          file,
          "--kind",
          "premium",
          "--period",
          "1403-07",
          "--rpc",
          chain.url,
          "--contract",
          other,
          "--keystore",
          ks,
          "--data-dir",
          otherData,
          "--json",
        ],
        { env },
      );
      expect(r.code, r.stderr).to.equal(0);
      expect((JSON.parse(r.stdout) as AnchorJson).batchId).to.equal(1);
      const wrong = await runCli(
        [
          "anchor",
          "--scheme",
          "1",
          file,
          "--kind",
          "premium",
          "--period",
          "1403-07",
          "--rpc",
          chain.url,
          "--contract",
          other,
          "--keystore",
          ks,
          "--data-dir",
          otherData,
        ],
        { env: { SHAFAF_KEYSTORE_PASSWORD: "zz-not-the-password-zz" } },
      );
      expect(wrong.stderr).to.match(/cannot decrypt the keystore/);
      expect(wrong.stderr).to.not.include("zz-not-the-password");
    });

    it("deploys with --governance: the council's timelock becomes the ledger's admin", async function () {
      const gov = path.join(work, "governance.json");
      const institutions = [1, 2, 3].map((n) => devWallet(n).address.toLowerCase());
      await writeFile(gov, JSON.stringify({ institutions, threshold: 2, minDelaySeconds: 60 }));
      const r = await runCli([
        "deploy",
        "--rpc",
        chain.url,
        "--signer",
        "dev:0",
        "--governance",
        gov,
        "--json",
      ]);
      expect(r.code, r.stderr).to.equal(0);
      const info = JSON.parse(r.stdout) as {
        address: string;
        admin: string;
        timelock: string;
        council: string;
      };
      expect(info.admin).to.equal(info.timelock);
      const roles = new Contract(
        info.address,
        ["function hasRole(bytes32 role, address account) view returns (bool)"],
        provider,
      );
      const hasRole = roles.getFunction("hasRole");
      expect(await hasRole("0x" + "00".repeat(32), info.timelock)).to.equal(true);
      expect(await hasRole("0x" + "00".repeat(32), devWallet(0).address)).to.equal(false);
    });

    it("refuses an account without ANCHORER_ROLE with the contract's reason", async function () {
      const file = path.join(work, "norole.csv");
      await writeFile(file, toCsv(PREMIUM_COLUMNS, premiumRows(2, { prefix: "NR" })));
      const r = await anchor([
        file,
        "--kind",
        "premium",
        "--period",
        "1403-07",
        "--signer",
        "dev:5",
        "--data-dir",
        path.join(work, "data-norole"),
      ]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/AccessControlUnauthorizedAccount/);
    });

    it("refuses dev accounts on any chain but 31337", async function () {
      const server: Server = createServer((req, res) => {
        let body = "";
        req.on("data", (c: Buffer) => (body += c.toString()));
        req.on("end", () => {
          const { id } = JSON.parse(body) as { id: number };
          res.setHeader("content-type", "application/json");
          res.end(JSON.stringify({ jsonrpc: "2.0", id, result: "0x1" }));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      try {
        const port = (server.address() as { port: number }).port;
        const r = await runCli([
          "deploy",
          "--rpc",
          `http://127.0.0.1:${port}`,
          "--signer",
          "dev:0",
        ]);
        expect(r.code).to.equal(65);
        expect(r.stderr).to.match(/dev:0 is refused on chain 1/);
      } finally {
        server.close();
      }
    });
  });

  describe("keeps the pseudonym key private (0600) and stable across runs", function () {
    it("keeps the pseudonym key private (0600) and stable across runs", async function () {
      const key = path.join(dataDir, "secrets", "pseudonym.key");
      const info = await stat(key);
      expect(info.mode & 0o777).to.equal(0o600);
      expect(info.size).to.equal(32);
    });
  });
});
