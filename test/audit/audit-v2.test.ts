/**
 * `shafaf audit` and `shafaf attest` of `shafaf-tree/2` batches, end to end: a real Hardhat node,
 * the ledger deployed, a VRF key made and registered, and batches anchored by the real CLI
 * (`shafaf anchor --vrf-key`, child processes). The audit recomputes the sum tree from the
 * artifact's records, salts and keys.bin, compares it with `getBatchV2`, blames exactly the
 * records a tampered export changed, and its report is attested on chain.
 */
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keccak256 } from "ethers";
import { auditBatch } from "../../src/audit/audit-batch.ts";
import { readAnchoredBatch } from "../../src/audit/read-anchored-batch.ts";
import { readReference } from "../../src/audit/read-reference.ts";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { createLedgerClient } from "../../src/chain/ledger-client.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { InvalidInputError } from "../../src/core/errors.ts";
import { premiumShares } from "../../src/core/rates.ts";
import { recordFromJson, recordToJson } from "../../src/core/receipt.ts";
import type { PremiumRecord } from "../../src/core/record.ts";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { loadArtifactSumTree } from "../../src/store/sum-tree-artifact.ts";
import { command as attestCommand } from "../../src/cli/commands/attest.ts";
import { command as auditCommand } from "../../src/cli/commands/audit.ts";
import {
  PENSION_COLUMNS,
  PREMIUM_COLUMNS,
  nationalIdFor,
  pensionRows,
  premiumRows,
  runCli,
  toCsv,
} from "../anchor/helpers.ts";
import { runCommand } from "./helpers.ts";

const PASSWORD = { SHAFAF_KEYSTORE_PASSWORD: "correct horse battery staple" };

interface Line {
  index: number;
  code: string;
  salt: string;
  subject: string;
  source: { file: string; line: number };
  record: Record<string, string | number>;
}

/** A copy of an artifact whose records and keys `edit` changes; artifact.json's sha256s follow. */
async function tamperedCopy(
  from: string,
  to: string,
  edit: (lines: Line[], keys: Uint8Array[]) => void,
  { updateDescriptor = true } = {},
): Promise<string> {
  await cp(from, to, { recursive: true });
  const lines = (await readFile(path.join(to, "records.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
  const bytes = new Uint8Array(await readFile(path.join(to, "keys.bin")));
  const keys = lines.map((_, i) => bytes.slice(i * 32, i * 32 + 32));
  edit(lines, keys);
  const records = Buffer.from(lines.map((l) => JSON.stringify(l) + "\n").join(""), "utf8");
  const keysBin = Buffer.concat(keys);
  await writeFile(path.join(to, "records.jsonl"), records);
  await writeFile(path.join(to, "keys.bin"), keysBin);
  if (updateDescriptor) {
    const file = path.join(to, "artifact.json");
    const d = JSON.parse(await readFile(file, "utf8")) as {
      files: Record<string, { sha256: string; bytes: number }>;
    };
    const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    d.files["records.jsonl"] = { sha256: sha(records), bytes: records.length };
    d.files["keys.bin"] = { sha256: sha(keysBin), bytes: keysBin.length };
    await writeFile(file, JSON.stringify(d, null, 2) + "\n");
  }
  return to;
}

describe("audit and attest of shafaf-tree/2 batches (real CLI, real dev chain)", function () {
  this.timeout(300_000);
  let chain: DevChain;
  let work: string;
  let dataDir: string;
  let contract: string;
  let premium: { batchId: number; dir: string };
  let pension: { batchId: number; dir: string };

  const anchoredOf = (batchId: number) =>
    readAnchoredBatch({ rpcUrls: [chain.url], contract, batchId });

  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-audit-v2-"));
    dataDir = path.join(work, "data");
    const deployed = await runCli([
      ...["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"],
      ...["--auditor", devWallet(2).address],
    ]);
    expect(deployed.code, deployed.stderr).to.equal(0);
    contract = (JSON.parse(deployed.stdout) as { address: string }).address;
    const vrfFile = path.join(work, "vrf.json");
    const made = await runCli(["keys", "new-vrf", "--out", vrfFile], { env: PASSWORD });
    expect(made.code, made.stderr).to.equal(0);
    const registered = await runCli(
      [
        ...["keys", "register-vrf", vrfFile, "--rpc", chain.url, "--contract", contract],
        ...["--signer", "dev:0"],
      ],
      { env: PASSWORD },
    );
    expect(registered.code, registered.stderr).to.equal(0);
    const anchor = async (file: string, kind: string) => {
      const r = await runCli(
        [
          ...["anchor", file, "--kind", kind, "--period", "1403-07"],
          ...["--rpc", chain.url, "--contract", contract, "--data-dir", dataDir],
          ...["--signer", "dev:0", "--vrf-key", vrfFile, "--json"],
        ],
        { env: PASSWORD },
      );
      expect(r.code, r.stderr).to.equal(0);
      const out = JSON.parse(r.stdout) as { batchId: number; jobId: string; scheme: string };
      expect(out.scheme).to.equal("shafaf-tree/2");
      return { batchId: out.batchId, dir: path.join(dataDir, "batches", out.jobId) };
    };
    const rows = premiumRows(30);
    // Records 20–29 are a second job of the people of records 0–9 (same province).
    for (let i = 20; i < 30; i++) {
      rows[i]!.national_id = rows[i - 20]!.national_id!;
      rows[i]!.province = rows[i - 20]!.province!;
    }
    const csv = path.join(work, "premiums-1403-07.csv");
    await writeFile(csv, toCsv(PREMIUM_COLUMNS, rows));
    premium = await anchor(csv, "premium");
    const pensions = path.join(work, "pensions-1403-07.csv");
    await writeFile(pensions, toCsv(PENSION_COLUMNS, pensionRows(12)));
    pension = await anchor(pensions, "pension");
  });

  after(async function () {
    await chain?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it("reads what is anchored with getBatchV2: root, lanes, VRF key, count and total", async function () {
    const a = await anchoredOf(premium.batchId);
    const ledger = createLedgerClient({ rpc: createRpc({ url: chain.url }), address: contract });
    const onChain = await ledger.getBatchV2(premium.batchId);
    expect(a.v2!.scheme).to.equal("shafaf-tree/2");
    expect(a.v2!.vrfKeyId).to.equal(onChain.vrfKeyId);
    expect(a.v2!.lanes).to.deep.equal(onChain.totals.slice(0, 5));
    expect(a.recordCount).to.equal(30);
    expect(a.total).to.equal(onChain.totals[4]);
    expect(a.root).to.equal(onChain.root);
  });

  it("passes the intact artifacts of a premium and a pension batch, every v2 check included", async function () {
    for (const b of [premium, pension]) {
      const r = await auditBatch({
        batchId: b.batchId,
        anchored: await anchoredOf(b.batchId),
        audited: { type: "batch-artifact", dir: b.dir },
      });
      const failed = r.report.checks.filter((c) => !c.ok);
      expect(failed, JSON.stringify(failed)).to.deep.equal([]);
      expect(r.report.verdict).to.equal("match");
      expect(r.report.mismatches).to.deep.equal([]);
      expect(r.report.scheme).to.equal("shafaf-tree/2");
      expect(r.report.audited.lanes).to.deep.equal(r.report.anchored.lanes);
      const names = r.report.checks.map((c) => c.name);
      expect(names).to.include.members([
        "scheme",
        "person-key-count",
        "vrf-key",
        "person-keys",
        "root",
        "records lane",
        "persons lane",
        "manifest-hash",
      ]);
      expect(names.filter((n) => / subtree$/.test(n)).length).to.be.greaterThan(1);
      expect(names).to.include(b === premium ? "premium lane" : "net lane");
    }
  });

  it("recomputes the tree the store loads, and audits against the artifact alone without a chain", async function () {
    const artifact = (await readBatchArtifact(premium.dir))!;
    const stored = await loadArtifactSumTree(artifact);
    const reference = await readReference(premium.dir);
    expect(reference.tree.root).to.equal(stored.root.toLowerCase());
    expect(reference.sumTree!.lanes).to.deep.equal(stored.lanes);
    const offline = await runCommand(auditCommand, [
      ...[premium.dir, "--batch", String(premium.batchId)],
    ]);
    expect(offline.code, offline.stdout + offline.stderr).to.equal(0);
    expect(offline.stdout).to.include("per the artifact only").and.include("✓ premium lane");
  });

  it("audits with the CLI, writes a report naming the scheme, and attests it on chain", async function () {
    const report = path.join(work, "audit-v2.json");
    const html = path.join(work, "audit-v2.html");
    const a = await runCommand(auditCommand, [
      ...[premium.dir, "--batch", String(premium.batchId)],
      ...["--rpc", chain.url, "--contract", contract, "--report", report, "--html", html],
    ]);
    expect(a.code, a.stdout + a.stderr).to.equal(0);
    expect(a.stdout).to.include("MATCH").and.include("✓ premium lane");
    const json = JSON.parse(await readFile(report, "utf8")) as {
      scheme: string;
      anchored: { lanes: Record<string, string>; vrfKeyId: string };
    };
    expect(json.scheme).to.equal("shafaf-tree/2");
    expect(json.anchored.lanes.records).to.equal("30");
    expect(json.anchored.lanes.persons).to.equal("20");
    expect(await readFile(html, "utf8"))
      .to.include("shafaf-tree/2")
      .and.include("root lanes");
    const t = await runCommand(attestCommand, [
      ...[String(premium.batchId), "--verdict", "confirmed", "--report", report],
      ...["--rpc", chain.url, "--contract", contract, "--signer", "dev:2"],
    ]);
    expect(t.code, t.stderr).to.equal(0);
    const ledger = createLedgerClient({ rpc: createRpc({ url: chain.url }), address: contract });
    expect(await ledger.attestationOf(premium.batchId, devWallet(2).address)).to.deep.equal({
      verdict: 1,
      reportHash: keccak256(await readFile(report)),
    });
    // The report of one v2 batch does not attest another.
    const wrong = await runCommand(attestCommand, [
      ...[String(pension.batchId), "--verdict", "confirmed", "--report", report],
      ...["--rpc", chain.url, "--contract", contract, "--signer", "dev:2"],
    ]);
    expect(wrong.code).to.equal(65);
    expect(wrong.stderr).to.include(`not batch ${pension.batchId}`);
  });

  it("fails a tampered export and names exactly its records: amount changed, record dropped, record added, keys swapped", async function () {
    const original = (await readFile(path.join(premium.dir, "records.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    const id = (i: number) => String(original[i]!.record.recordId);
    let newTotal = 0n;
    const dir = await tamperedCopy(premium.dir, path.join(work, "tampered"), (lines, keys) => {
      // record 4: its wage raised, shares and total consistent (the record still validates)
      const r = recordFromJson(lines[4]!.record) as PremiumRecord;
      const wage = r.wageBase + 1_000_000n;
      const s = premiumShares(wage, 1403, {
        unemployment: r.unemploymentShare > 0n,
        hazardous: r.hazardShare > 0n,
      });
      newTotal = s.total;
      lines[4]!.record = recordToJson({
        ...r,
        wageBase: wage,
        workerShare: s.worker,
        employerShare: s.employer,
        unemploymentShare: s.unemployment,
        hazardShare: s.hazard,
        total: s.total,
      });
      // records 12 and 13 (one record each) swap their person keys
      [keys[12], keys[13]] = [keys[13]!, keys[12]!];
      // record 7 dropped with its key; a new person's record added with a new key
      lines.splice(7, 1);
      keys.splice(7, 1);
      const added = recordFromJson(lines[14]!.record) as PremiumRecord; // original record 15
      lines.push({
        ...lines[14]!,
        salt: "0x" + "ab".repeat(32),
        record: recordToJson({
          ...added,
          recordId: "X-900",
          nationalId: nationalIdFor(900),
        }),
      });
      keys.push(new Uint8Array(randomBytes(32)));
      lines.forEach((l, i) => (l.index = i));
    });
    const r = await auditBatch({
      batchId: premium.batchId,
      anchored: await anchoredOf(premium.batchId),
      audited: { type: "batch-artifact", dir },
      referenceDir: premium.dir,
    });
    const m = r.report.mismatches;
    const check = (name: string) => r.report.checks.find((c) => c.name === name)!;
    expect(r.report.verdict).to.equal("mismatch");
    expect(check("export-integrity").ok).to.equal(true);
    expect(check("reference-root").ok).to.equal(true);
    expect(check("root").ok).to.equal(false);
    expect(check("record-count").ok).to.equal(true); // one dropped, one added
    expect(check("total").ok).to.equal(false);
    // the premium lane is named with both figures
    const lane = check("premium lane");
    expect(lane.ok).to.equal(false);
    expect(lane.anchored).to.equal(r.report.anchored.lanes!.premium);
    expect(lane.recomputed).to.equal(r.report.audited.lanes!.premium);
    expect(BigInt(lane.recomputed!) - BigInt(lane.anchored!)).to.equal(
      newTotal -
        BigInt(original[4]!.record.total!) -
        BigInt(original[7]!.record.total!) +
        BigInt(original[15]!.record.total!),
    );
    expect(check("records lane").ok).to.equal(true);
    expect(r.report.checks.some((c) => / subtree$/.test(c.name) && !c.ok)).to.equal(true);
    const total = m.find((e) => e.recordId === id(4) && e.field === "total")!;
    expect(total.problem).to.equal("changed");
    expect(total.recomputed).to.equal(newTotal.toString());
    expect(m.find((e) => e.recordId === id(7))!.problem).to.equal("missing");
    expect(m.find((e) => e.recordId === "X-900")!.problem).to.equal("added");
    const swapped = m.filter((e) => e.field === "personKey").map((e) => [e.recordId, e.detail]);
    expect(swapped).to.have.length(2);
    expect(swapped[0]![1]).to.include(`person key of record ${swapped[1]![0]}`);
    // nothing else is blamed
    expect(new Set(m.map((e) => e.recordId))).to.deep.equal(
      new Set([id(4), id(7), "X-900", id(12), id(13)]),
    );
    // a one-record person swapping keys with another keeps one key each: no person-key finding
    expect(check("person-keys").ok).to.equal(true);
    const text = new TextDecoder().decode(r.json) + new TextDecoder().decode(r.html);
    for (const l of original) expect(text).to.not.include(String(l.record.nationalId));
  });

  it("finds a person with two keys and a key shared by two people, by count only", async function () {
    const dir = await tamperedCopy(
      premium.dir,
      path.join(work, "two-keys"),
      (_lines, keys) => {
        keys[21] = new Uint8Array(randomBytes(32)); // person of records 1 and 21: two keys
        keys[15] = keys[16]!.slice(); // one key for the people of records 15 and 16
      },
      { updateDescriptor: false },
    );
    const r = await auditBatch({
      batchId: premium.batchId,
      anchored: await anchoredOf(premium.batchId),
      audited: { type: "batch-artifact", dir },
      referenceDir: premium.dir,
    });
    const check = (name: string) => r.report.checks.find((c) => c.name === name)!;
    expect(check("person-keys").ok).to.equal(false);
    expect(check("person-keys").recomputed).to.equal(
      "1 person(s) with two or more keys, 1 key(s) shared by two or more people",
    );
    // keys.bin edited without artifact.json: the integrity check names it
    expect(check("export-integrity").recomputed).to.include("keys.bin does not match");
    expect(
      r.report.mismatches.filter((e) => e.field === "personKey").map((e) => e.recordId),
    ).to.have.members(["P-15", "P-21"]);
    const text = new TextDecoder().decode(r.json) + new TextDecoder().decode(r.html);
    const lines = (await readFile(path.join(premium.dir, "records.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Line);
    expect(lines[15]!.record.recordId).to.equal("P-15");
    for (const l of lines) expect(text).to.not.include(String(l.record.nationalId));
  });

  it("refuses the original input files of a v2 batch, saying to audit the artifact", async function () {
    const csv = path.join(work, "premiums-1403-07.csv");
    const salts = path.join(premium.dir, "records.jsonl");
    let error: unknown;
    try {
      await auditBatch({
        batchId: premium.batchId,
        anchored: await anchoredOf(premium.batchId),
        audited: { type: "inputs", paths: [csv], salts },
        referenceDir: premium.dir,
      });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).to.equal("audit.inputs.v2");
    const r = await runCommand(auditCommand, [
      ...[csv, "--salts", salts, "--batch", String(premium.batchId)],
      ...["--rpc", chain.url, "--contract", contract, "--artifact", premium.dir],
    ]);
    expect(r.code).to.equal(65);
    expect(r.stderr).to.include("shafaf-tree/2").and.include("audit the batch artifact");
  });

  it("without a separate reference, an edited artifact fails by province subtree and lane", async function () {
    const dir = await tamperedCopy(premium.dir, path.join(work, "edited"), (lines) => {
      lines[3]!.record = { ...lines[3]!.record, days: 29 };
    });
    const r = await runCommand(auditCommand, [
      ...[dir, "--batch", String(premium.batchId), "--rpc", chain.url, "--contract", contract],
    ]);
    expect(r.code).to.equal(1);
    const province = String(
      JSON.parse((await readFile(path.join(premium.dir, "records.jsonl"), "utf8")).split("\n")[3]!)
        .record.province,
    );
    expect(r.stdout).to.include(`✗ days lane: anchored 900, recomputed 899`);
    expect(r.stdout).to.include(`✗ province ${province} subtree`);
    expect(r.stdout).to.include("MISMATCH");
  });
});
