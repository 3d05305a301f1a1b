/**
 * End to end on a real dev chain: batches anchored by the real pipeline (`runAnchorJob`), then
 * audited (artifact and original inputs), attested, receipts verified against one and two nodes
 * (one of them a lying proxy), and the log head verified (also through a proxy hiding an event).
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { JsonRpcProvider, NonceManager, keccak256 } from "ethers";
import { createAnchorChain } from "../../src/anchor/anchor-chain.ts";
import { runAnchorJob } from "../../src/anchor/run-anchor-job.ts";
import { auditBatch } from "../../src/audit/audit-batch.ts";
import { readAnchoredBatch } from "../../src/audit/read-anchored-batch.ts";
import { verifyLogHead } from "../../src/audit/verify-log-head.ts";
import { verifyReceiptOnNodes } from "../../src/audit/verify-receipt-on-nodes.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { createLedgerClient } from "../../src/chain/ledger-client.ts";
import { LEDGER_EVENT_TOPICS } from "../../src/core/ledger-abi.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { premiumShares } from "../../src/core/rates.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import { command as attestCommand } from "../../src/cli/commands/attest.ts";
import { command as auditCommand } from "../../src/cli/commands/audit.ts";
import { command as logCommand } from "../../src/cli/commands/log.ts";
import { command as verifyCommand } from "../../src/cli/commands/verify.ts";
import {
  PENSION_COLUMNS,
  PREMIUM_COLUMNS,
  pensionRows,
  premiumRows,
  toCsv,
  type Row,
} from "../anchor/helpers.ts";
import { runCommand, startRpcProxy, type RpcProxy } from "./helpers.ts";

interface Anchored {
  batchId: number;
  dir: string;
  csv: string;
  rows: Row[];
}

/** Premium rows of one workshop-heavy month: `n` rows in workshop A, 10 in workshop B. */
function monthRows(period: string, prefix: string, inA: number): Row[] {
  const rows = premiumRows(inA + 10, { period, prefix });
  rows.forEach((r, i) => (r.workshop_code = i < inA ? "1000000001" : "1000000002"));
  return rows;
}

describe("audit, attest, verify, log verify (real dev chain)", function () {
  this.timeout(180_000);
  let chain: DevChain;
  let dataDir: string;
  let contract: string;
  let june: Anchored;
  let july: Anchored;
  let pension: Anchored;
  const receipts: unknown[] = [];

  before(async function () {
    chain = await startDevChain();
    dataDir = await mkdtemp(path.join(tmpdir(), "shafaf-audit-"));
    const provider = new JsonRpcProvider(chain.url, 31337, {
      staticNetwork: true,
      cacheTimeout: -1,
    });
    const { address } = await deployLedger({
      signer: new NonceManager(devWallet(0).connect(provider)),
      admin: devWallet(0).address,
      adminDelaySeconds: 0,
      anchorers: [devWallet(1).address],
      auditors: [devWallet(2).address],
      pausers: [],
    });
    contract = address;
    const store = await openLedgerStore(dataDir);
    try {
      const anchorChain = createAnchorChain({
        wallet: devWallet(1).connect(provider),
        provider,
        chainId: 31337,
        address,
        pollMs: 50,
      });
      const pseudonymKey = new Uint8Array(randomBytes(32));
      const anchor = async (
        name: string,
        kind: "premium" | "pension",
        period: string,
        rows: Row[],
      ): Promise<Anchored> => {
        const csv = path.join(dataDir, name);
        await writeFile(csv, toCsv(kind === "premium" ? PREMIUM_COLUMNS : PENSION_COLUMNS, rows));
        const r = await runAnchorJob({
          inputs: [csv],
          kind,
          period,
          chain: anchorChain,
          store,
          pseudonymKey,
        });
        if (r.status !== "anchored") throw new Error(JSON.stringify(r));
        return { batchId: r.batchId, dir: path.join(store.batchesDir, r.jobId), csv, rows };
      };
      june = await anchor("june.csv", "premium", "1403-06", monthRows("1403-06", "J", 10));
      const julyRows = monthRows("1403-07", "P", 20);
      julyRows[1]!.national_id = julyRows[0]!.national_id!; // the same person twice in workshop A
      july = await anchor("july.csv", "premium", "1403-07", julyRows);
      const pensions = pensionRows(20);
      for (const r of pensions.slice(0, 3)) r.paid_on = "1403-07-20";
      pension = await anchor("pension.csv", "pension", "1403-07", pensions);
      const lines = (await readFile(path.join(july.dir, "records.jsonl"), "utf8"))
        .trim()
        .split("\n");
      for (const l of lines.slice(0, 3))
        receipts.push(await store.getReceiptByCode((JSON.parse(l) as { code: string }).code));
    } finally {
      await store.close();
      provider.destroy();
    }
  });

  after(async function () {
    await chain?.stop();
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  const anchoredOf = (batchId: number) =>
    readAnchoredBatch({ rpcUrls: [chain.url], contract, batchId });

  describe("auditBatch", function () {
    it("passes the honest artifact, with every check and no record-level difference", async function () {
      const r = await auditBatch({
        batchId: july.batchId,
        anchored: await anchoredOf(july.batchId),
        audited: { type: "batch-artifact", dir: july.dir },
      });
      expect(r.report.checks.filter((c) => !c.ok)).to.deep.equal([]);
      expect(r.report.mismatches).to.deep.equal([]);
      expect(r.report.verdict).to.equal("match");
      expect(r.report.anchored.source).to.equal("chain");
      expect(r.report.checks.map((c) => c.name)).to.include.members([
        "root",
        "record-count",
        "total",
        "manifest-hash",
        "province IR-23",
      ]);
      expect(r.reportHash).to.equal(keccak256(r.json));
    });

    it("passes the honest original inputs with the artifact's records.jsonl as salts", async function () {
      const r = await auditBatch({
        batchId: july.batchId,
        anchored: await anchoredOf(july.batchId),
        audited: { type: "inputs", paths: [july.csv], salts: path.join(july.dir, "records.jsonl") },
        referenceDir: july.dir,
      });
      expect(r.report.checks.filter((c) => !c.ok)).to.deep.equal([]);
      expect(r.report.verdict).to.equal("match");
    });

    it("compares files by content: the same bytes under another name are a match, with the name noted", async function () {
      const renamed = path.join(dataDir, "export-from-clerk.csv");
      await writeFile(renamed, await readFile(july.csv));
      const r = await auditBatch({
        batchId: july.batchId,
        anchored: await anchoredOf(july.batchId),
        audited: { type: "inputs", paths: [renamed], salts: path.join(july.dir, "records.jsonl") },
        referenceDir: july.dir,
      });
      expect(r.report.checks.filter((c) => !c.ok)).to.deep.equal([]);
      expect(r.report.verdict).to.equal("match");
      const note = r.report.checks.find((c) => c.name === "source-name");
      expect(note).to.include({
        ok: true,
        anchored: "july.csv",
        recomputed: "export-from-clerk.csv",
      });
      expect(r.report.audited.files[0]!.name).to.equal("export-from-clerk.csv");

      // the same name with one byte changed is still a mismatch, and no name note is made up
      const text = await readFile(july.csv, "utf8");
      const changed = path.join(dataDir, "changed", "july.csv");
      await mkdir(path.dirname(changed), { recursive: true });
      await writeFile(changed, text.replace(/\n$/, "\n\n"));
      const c = await auditBatch({
        batchId: july.batchId,
        anchored: await anchoredOf(july.batchId),
        audited: { type: "inputs", paths: [changed], salts: path.join(july.dir, "records.jsonl") },
        referenceDir: july.dir,
      });
      expect(c.report.verdict).to.equal("mismatch");
      expect(c.report.checks.find((x) => x.name === "source-name")).to.equal(undefined);
      expect(c.report.checks.find((x) => x.name === "manifest-hash")!.ok).to.equal(false);
    });

    it("is deterministic: the same inputs give the same JSON and HTML bytes", async function () {
      const params = {
        batchId: july.batchId,
        anchored: await anchoredOf(july.batchId),
        audited: { type: "batch-artifact" as const, dir: july.dir },
      };
      const a = await auditBatch(params);
      const b = await auditBatch(params);
      expect(Buffer.from(a.json).equals(Buffer.from(b.json))).to.equal(true);
      expect(Buffer.from(a.html).equals(Buffer.from(b.html))).to.equal(true);
    });

    it("fails a tampered export and names every record: amount changed, record removed, record added, salts swapped", async function () {
      const rows = july.rows.map((r) => ({ ...r }));
      // one amount changed, consistently (so the row still validates)
      const changed = rows[4]!;
      const wage = BigInt(changed.wage_base!) + 1_000_000n;
      const s = premiumShares(wage, 1403, {
        unemployment: changed.unemployment_share !== "0",
        hazardous: changed.hazard_share !== "0",
      });
      Object.assign(changed, {
        wage_base: wage.toString(),
        worker_share: s.worker.toString(),
        employer_share: s.employer.toString(),
        unemployment_share: s.unemployment.toString(),
        hazard_share: s.hazard.toString(),
        total: s.total.toString(),
      });
      const removed = rows.splice(7, 1)[0]!;
      const added = premiumRows(1, { period: "1403-07", prefix: "X", start: 900 })[0]!;
      rows.push(added);
      const tmp = await mkdtemp(path.join(tmpdir(), "shafaf-audit-tamper-"));
      try {
        const csv = path.join(tmp, "july.csv");
        await writeFile(csv, toCsv(PREMIUM_COLUMNS, rows));
        const lines = (await readFile(path.join(july.dir, "records.jsonl"), "utf8"))
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { salt: string; record: { recordId: string } });
        const [x, y] = [lines[10]!, lines[11]!];
        [x.salt, y.salt] = [y.salt, x.salt];
        lines.push({
          ...lines[0]!,
          salt: "0x" + "ab".repeat(32),
          record: { ...lines[0]!.record, recordId: added.record_id! },
        });
        const salts = path.join(tmp, "salts.jsonl");
        await writeFile(salts, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
        const r = await auditBatch({
          batchId: july.batchId,
          anchored: await anchoredOf(july.batchId),
          audited: { type: "inputs", paths: [csv], salts },
          referenceDir: july.dir,
        });
        const m = r.report.mismatches;
        expect(r.report.verdict).to.equal("mismatch");
        expect(r.report.checks.find((c) => c.name === "root")!.ok).to.equal(false);
        const total = m.find((e) => e.recordId === changed.record_id && e.field === "total")!;
        expect(total.problem).to.equal("changed");
        expect(total.recomputed).to.equal(s.total.toString());
        expect(total.anchored).to.equal(july.rows[4]!.total);
        expect(m.find((e) => e.recordId === removed.record_id)!.problem).to.equal("missing");
        expect(m.find((e) => e.recordId === added.record_id)!.problem).to.equal("added");
        const swapped = m.filter((e) => e.field === "salt").map((e) => [e.recordId, e.detail]);
        expect(swapped).to.have.length(2);
        expect(swapped[0]![1]).to.include(`salt of record ${swapped[1]![0]}`);
        // nothing else is blamed
        expect(new Set(m.map((e) => e.recordId))).to.deep.equal(
          new Set([
            changed.record_id,
            removed.record_id,
            added.record_id,
            x.record.recordId,
            y.record.recordId,
          ]),
        );
        expect(r.report.checks.find((c) => c.name === "record-count")!.ok).to.equal(true);
        expect(r.report.checks.find((c) => c.name === "total")!.ok).to.equal(false);
        // no personal data: no national ID of any row appears in the report
        const text = new TextDecoder().decode(r.json) + new TextDecoder().decode(r.html);
        for (const row of [...rows, removed]) expect(text).to.not.include(row.national_id!);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });

    it("finds the duplicate person, the headcount jump against the previous period and late pensions", async function () {
      const r = await auditBatch({
        batchId: july.batchId,
        anchored: await anchoredOf(july.batchId),
        audited: { type: "batch-artifact", dir: july.dir },
        historyDirs: [path.join(dataDir, "batches")],
      });
      const by = (c: string) => r.report.anomalies.filter((a) => a.check === c);
      expect(by("duplicate-person")).to.have.length(1);
      expect(by("duplicate-person")[0]!.recordIds).to.deep.equal(["P-0", "P-1"]);
      expect(by("headcount-jump").map((a) => a.subject)).to.deep.equal(["workshop 1000000001"]);
      expect(r.report.verdict).to.equal("match"); // anomalies never change the verdict
      const p = await auditBatch({
        batchId: pension.batchId,
        anchored: await anchoredOf(pension.batchId),
        audited: { type: "batch-artifact", dir: pension.dir },
        settings: { lateDays: 5 },
      });
      expect(p.report.indicators.pensionsOnTime).to.deep.equal({
        onTime: 17,
        late: 3,
        rate: "85.00%",
      });
      expect(p.report.anomalies.filter((a) => a.check === "late-pension")).to.have.length(3);
    });

    it("says which artifact record differs when the audited artifact's records.jsonl was edited", async function () {
      const tmp = await mkdtemp(path.join(tmpdir(), "shafaf-audit-art-"));
      try {
        const { cp } = await import("node:fs/promises");
        await cp(june.dir, tmp, { recursive: true });
        const file = path.join(tmp, "records.jsonl");
        const lines = (await readFile(file, "utf8")).trim().split("\n");
        const o = JSON.parse(lines[2]!) as { record: { total: string } };
        o.record.total = (BigInt(o.record.total) + 1n).toString();
        lines[2] = JSON.stringify(o);
        await writeFile(file, lines.join("\n") + "\n");
        const r = await auditBatch({
          batchId: june.batchId,
          anchored: await anchoredOf(june.batchId),
          audited: { type: "batch-artifact", dir: tmp },
          referenceDir: june.dir,
        });
        expect(r.report.verdict).to.equal("mismatch");
        expect(r.report.checks.find((c) => c.name === "export-integrity")!.ok).to.equal(false);
        expect(r.report.mismatches.map((m) => [m.recordId, m.field])).to.deep.equal([
          ["J-2", "total"],
        ]);
        // the edited artifact as its own reference: its records are unusable, the leaf is still pinned
        const own = await auditBatch({
          batchId: june.batchId,
          anchored: await anchoredOf(june.batchId),
          audited: { type: "batch-artifact", dir: tmp },
        });
        expect(own.report.reference!.records).to.equal("unavailable");
        expect(
          own.report.mismatches.map((m) => [m.recordId, m.problem, m.anchoredIndex]),
        ).to.deep.equal([["J-2", "leaf", 2]]);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  });

  describe("shafaf audit and shafaf attest", function () {
    it("audits, writes the reports, and attests the report's hash on-chain", async function () {
      const out = await mkdtemp(path.join(tmpdir(), "shafaf-audit-out-"));
      try {
        const report = path.join(out, "r.json");
        const html = path.join(out, "r.html");
        const a = await runCommand(auditCommand, [
          july.dir,
          "--batch",
          String(july.batchId),
          "--rpc",
          chain.url,
          "--contract",
          contract,
          "--report",
          report,
          "--html",
          html,
        ]);
        expect(a.code, a.stderr).to.equal(0);
        expect(a.stdout).to.include("MATCH");
        const htmlText = await readFile(html, "utf8");
        expect(htmlText).to.include("حسابرسی").and.include("Audit report");
        expect(htmlText).to.not.match(/(src|href)=["']?https?:/);
        const bytes = await readFile(report);
        const t = await runCommand(attestCommand, [
          String(july.batchId),
          "--verdict",
          "confirmed",
          "--report",
          report,
          "--rpc",
          chain.url,
          "--contract",
          contract,
          "--signer",
          "dev:2",
        ]);
        expect(t.code, t.stderr).to.equal(0);
        expect(t.stdout).to.match(/tx 0x[0-9a-f]{64}/);
        const ledger = createLedgerClient({
          rpc: createRpc({ url: chain.url }),
          address: contract,
        });
        expect(await ledger.attestationOf(july.batchId, devWallet(2).address)).to.deep.equal({
          verdict: 1,
          reportHash: keccak256(bytes),
        });

        const wrong = await runCommand(attestCommand, [
          String(june.batchId),
          "--verdict",
          "confirmed",
          "--report",
          report,
          "--rpc",
          chain.url,
          "--contract",
          contract,
          "--signer",
          "dev:2",
        ]);
        expect(wrong.code).to.equal(65);
        expect(wrong.stderr).to.include(`not batch ${june.batchId}`);
        const offline = path.join(out, "offline.json");
        expect(
          (
            await runCommand(auditCommand, [
              july.dir,
              "--batch",
              String(july.batchId),
              "--report",
              offline,
            ])
          ).code,
        ).to.equal(0);
        const refused = await runCommand(attestCommand, [
          String(july.batchId),
          "--verdict",
          "confirmed",
          "--report",
          offline,
          "--rpc",
          chain.url,
          "--contract",
          contract,
          "--signer",
          "dev:2",
        ]);
        expect(refused.code).to.equal(65);
        expect(refused.stderr).to.include("not compared with the chain");
        const notAuditor = await runCommand(attestCommand, [
          String(july.batchId),
          "--verdict",
          "disputed",
          "--report",
          report,
          "--rpc",
          chain.url,
          "--contract",
          contract,
          "--signer",
          "dev:5",
        ]);
        expect(notAuditor.code).to.equal(1);
        expect(notAuditor.stderr).to.include("AUDITOR_ROLE");
      } finally {
        await rm(out, { recursive: true, force: true });
      }
    });

    it("exits 1 on a mismatch and 64 on usage errors", async function () {
      const bad = await runCommand(auditCommand, [
        june.csv,
        "--batch",
        String(july.batchId),
        "--rpc",
        chain.url,
        "--contract",
        contract,
        "--salts",
        path.join(june.dir, "records.jsonl"),
      ]);
      expect(bad.code).to.equal(1);
      expect(bad.stdout).to.include("MISMATCH");
      expect((await runCommand(auditCommand, [july.dir])).code).to.equal(64);
      expect(
        (
          await runCommand(auditCommand, [
            july.csv,
            "--batch",
            "1",
            "--rpc",
            chain.url,
            "--contract",
            contract,
          ])
        ).code,
      ).to.equal(64);
      expect((await runCommand(auditCommand, [july.dir, "--batch", "x"])).code).to.equal(64);
      expect((await runCommand(attestCommand, ["1", "--verdict", "maybe"])).code).to.equal(64);
      expect((await runCommand(logCommand, ["check"])).code).to.equal(64);
    });
  });

  describe("verify", function () {
    let liar: RpcProxy;
    let hider: RpcProxy;
    before(async function () {
      // answers getBatch with another root: flips one nibble deep inside the returned tuple
      liar = await startRpcProxy(chain.url, (call, result) =>
        call.method === "eth_call" && typeof result === "string" && result.length > 130
          ? result.slice(0, 10) + (result[10] === "a" ? "b" : "a") + result.slice(11)
          : result,
      );
      // hides batch 2's BatchAnchored event
      hider = await startRpcProxy(chain.url, (call, result) =>
        call.method === "eth_getLogs" && Array.isArray(result)
          ? result.filter(
              (l: { topics: string[] }) =>
                !(l.topics[0] === LEDGER_EVENT_TOPICS.BatchAnchored && BigInt(l.topics[1]!) === 2n),
            )
          : result,
      );
    });
    after(async function () {
      await liar?.close();
      await hider?.close();
    });

    it("verifies a receipt file against one node and against two honest nodes", async function () {
      const tmp = await mkdtemp(path.join(tmpdir(), "shafaf-verify-"));
      try {
        const file = path.join(tmp, "receipt.json");
        await writeFile(file, JSON.stringify(receipts[0]));
        const one = await runCommand(verifyCommand, [file, "--rpc", chain.url]);
        expect(one.code, one.stdout).to.equal(0);
        expect(one.stdout).to.include("VERIFIED");
        const two = await runCommand(verifyCommand, [
          file,
          "--rpc",
          chain.url,
          "--rpc",
          chain.url,
          "--contract",
          contract,
          "--json",
        ]);
        expect(two.code).to.equal(0);
        expect((JSON.parse(two.stdout) as { nodes: unknown[] }).nodes).to.have.length(2);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });

    it("fetches the receipt of a code from the local store or from an API, then verifies it on the chain", async function () {
      const code = (receipts[0] as { code: string }).code;
      const fromStore = await runCommand(verifyCommand, [
        code,
        "--data-dir",
        dataDir,
        "--rpc",
        chain.url,
      ]);
      expect(fromStore.code, fromStore.stdout + fromStore.stderr).to.equal(0);
      const { createServer } = await import("node:http");
      const api = createServer((req, res) => {
        const found = req.url === `/api/v1/receipts/${code}`;
        res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
        res.end(found ? JSON.stringify(receipts[0]) : "{}");
      });
      await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
      const base = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
      try {
        expect(
          (await runCommand(verifyCommand, [code, "--api", base, "--rpc", chain.url])).code,
        ).to.equal(0);
        const other = (receipts[1] as { code: string }).code;
        const missing = await runCommand(verifyCommand, [other, "--api", base, "--rpc", chain.url]);
        expect(missing.code).to.equal(1);
        expect(missing.stdout).to.include("no receipt with this code");
      } finally {
        api.closeAllConnections();
        await new Promise<void>((resolve) => api.close(() => resolve()));
      }
      expect(
        (await runCommand(verifyCommand, [code, "--api", base, "--rpc", chain.url])).code,
      ).to.equal(2);
      expect((await runCommand(verifyCommand, [code, "--rpc", chain.url])).code).to.equal(64);
    });

    it("is inconclusive, never verified, when two nodes disagree or one cannot be reached", async function () {
      const disagree = await verifyReceiptOnNodes({
        receipt: receipts[1],
        rpcUrls: [chain.url, liar.url],
      });
      expect(disagree.status).to.equal("inconclusive");
      expect(disagree.checks.find((c) => c.name === "nodes-agree")!.outcome).to.equal(
        "inconclusive",
      );
      const down = await verifyReceiptOnNodes({
        receipt: receipts[1],
        rpcUrls: [chain.url, "http://127.0.0.1:9"],
        timeoutMs: 2000,
        retries: 0,
      });
      expect(down.status).to.equal("inconclusive");
      const onlyLiar = await verifyReceiptOnNodes({ receipt: receipts[1], rpcUrls: [liar.url] });
      expect(onlyLiar.status).to.equal("failed");
      expect(onlyLiar.checks.find((c) => c.outcome === "fail")!.name).to.equal("anchored-root");
      const tmp = await mkdtemp(path.join(tmpdir(), "shafaf-verify-"));
      try {
        const file = path.join(tmp, "receipt.json");
        await writeFile(file, JSON.stringify(receipts[1]));
        expect(
          (await runCommand(verifyCommand, [file, "--rpc", chain.url, "--rpc", liar.url])).code,
        ).to.equal(2);
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });

    it("fails a tampered receipt on the chain, naming the check with expected and computed", async function () {
      const r = structuredClone(receipts[2]) as { proof: string[]; record: { total: string } };
      r.proof[0] = r.proof[0]!.slice(0, -1) + (r.proof[0]!.endsWith("0") ? "1" : "0");
      const result = await verifyReceiptOnNodes({ receipt: r, rpcUrls: [chain.url] });
      expect(result.status).to.equal("failed");
      const root = result.checks.find((c) => c.name === "anchored-root")!;
      expect(root.outcome).to.equal("fail");
      expect(root.expected).to.match(/^0x[0-9a-f]{64}$/);
      expect(root.computed).to.not.equal(root.expected);
    });

    it("log verify passes on the honest chain and fails through a node that hides an event", async function () {
      const ok = await verifyLogHead({ rpc: createRpc({ url: chain.url }), contract });
      expect(ok.status).to.equal("ok");
      expect(ok.batchesChecked).to.equal(3);
      const cli = await runCommand(logCommand, [
        "verify",
        "--rpc",
        chain.url,
        "--contract",
        contract,
      ]);
      expect(cli.code).to.equal(0);
      expect(cli.stdout).to.include("checked 3 batches");
      const hidden = await runCommand(logCommand, [
        "verify",
        "--rpc",
        hider.url,
        "--contract",
        contract,
      ]);
      expect(hidden.code).to.equal(1);
      expect(hidden.stdout).to.include("batch 2: no BatchAnchored event");
    });
  });
});
