/**
 * `shafaf anchor` writes `shafaf-tree/2` batches end to end: the real CLI in child processes
 * against a real Hardhat node — deploy (the deployer may register VRF keys), `keys new-vrf`,
 * `keys register-vrf`, anchor CSV and JSON Lines with `--vrf-key`, the artifact, the chain's
 * batch, `receipts export` of `shafaf-receipt/2` and `shafaf verify` on them, the person-key cache.
 */
import { expect } from "chai";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { createLedgerClient } from "../../src/chain/ledger-client.ts";
import { createRpc } from "../../src/chain/rpc.ts";
import { verifyDocumentOffline } from "../../src/core/verify-document.ts";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { startDemoLog } from "../../src/cli/demo-log.ts";
import { syncLedgerLog } from "../../src/log/sync-ledger-log.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";
import {
  PREMIUM_COLUMNS,
  nationalIdFor,
  pensionRows,
  premiumRows,
  runCli,
  toCsv,
  toJsonl,
} from "./helpers.ts";

const PASSWORD = { SHAFAF_KEYSTORE_PASSWORD: "correct horse battery staple" };

interface AnchorJson {
  status: string;
  batchId: number;
  root: string;
  recordCount: number;
  jobId: string;
  scheme: string;
  alreadyComplete: boolean;
  personKeys?: { people: number; cached: number; enrolled: number };
}

describe("shafaf anchor: shafaf-tree/2 batches (end to end)", function () {
  this.timeout(240_000);
  let chain: DevChain;
  let work: string;
  let dataDir: string;
  let contract: string;
  let vrfFile: string;

  const anchor = (args: string[]) =>
    runCli(["anchor", ...args, "--rpc", chain.url, "--contract", contract, "--data-dir", dataDir], {
      env: PASSWORD,
    });
  const anchorJson = async (args: string[]): Promise<AnchorJson> => {
    const r = await anchor([...args, "--signer", "dev:0", "--vrf-key", vrfFile, "--json"]);
    expect(r.code, r.stderr).to.equal(0);
    return JSON.parse(r.stdout) as AnchorJson;
  };

  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-anchor-v2-"));
    dataDir = path.join(work, "data");
    const deployed = await runCli(["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"]);
    expect(deployed.code, deployed.stderr).to.equal(0);
    const info = JSON.parse(deployed.stdout) as { address: string; vrfRegistrars: string[] };
    contract = info.address;
    expect(info.vrfRegistrars).to.have.length(1);
    vrfFile = path.join(work, "vrf.json");
    const made = await runCli(["keys", "new-vrf", "--out", vrfFile], { env: PASSWORD });
    expect(made.code, made.stderr).to.equal(0);
  });

  after(async function () {
    await chain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("refuses a VRF key the ledger has not recorded, before reading anything", async function () {
    const csv = path.join(work, "early.csv");
    await writeFile(csv, toCsv(PREMIUM_COLUMNS, premiumRows(3, { period: "1403-01" })));
    const r = await anchor([
      csv,
      ...["--kind", "premium", "--period", "1403-01", "--signer", "dev:0", "--vrf-key", vrfFile],
    ]);
    expect(r.code).to.equal(65);
    expect(r.stderr).to.match(/not registered on this ledger/);
    expect(r.stderr).to.match(/shafaf keys register-vrf/);
    const registered = await runCli(
      ["keys", "register-vrf", vrfFile, "--rpc", chain.url, "--contract", contract],
      { env: PASSWORD },
    );
    expect(registered.code).to.equal(64); // no signer: usage
    const ok = await runCli(
      [
        ...["keys", "register-vrf", vrfFile, "--rpc", chain.url, "--contract", contract],
        ...["--signer", "dev:0"],
      ],
      { env: PASSWORD },
    );
    expect(ok.code, ok.stderr).to.equal(0);
  });

  it("without --vrf-key says how to get one, or to ask for the legacy tree", async function () {
    const r = await anchor([
      "x.csv",
      "--kind",
      "premium",
      "--period",
      "1403-07",
      "--signer",
      "dev:0",
    ]);
    expect(r.code).to.equal(64);
    expect(r.stderr).to.match(/--vrf-key FILE/);
    expect(r.stderr).to.match(/shafaf keys new-vrf/);
    expect(r.stderr).to.match(/--scheme 1/);
  });

  describe("a premium CSV where people work in two workshops", function () {
    let result: AnchorJson;
    let csv: string;

    before(async function () {
      const rows = premiumRows(30);
      // Records 20–29 are a second job of the people of records 0–9 in another workshop.
      for (let i = 20; i < 30; i++) {
        rows[i]!.national_id = rows[i - 20]!.national_id!;
        rows[i]!.province = rows[i - 20]!.province!;
      }
      csv = path.join(work, "premiums-1403-07.csv");
      await writeFile(csv, toCsv(PREMIUM_COLUMNS, rows));
      result = await anchorJson([csv, "--kind", "premium", "--period", "1403-07"]);
    });

    it("anchors a shafaf-tree/2 batch whose totals and VRF key are on chain", async function () {
      expect(result.status).to.equal("anchored");
      expect(result.scheme).to.equal("shafaf-tree/2");
      expect(result.personKeys).to.deep.equal({ people: 20, cached: 0, enrolled: 20 });
      const ledger = createLedgerClient({ rpc: createRpc({ url: chain.url }), address: contract });
      expect(await ledger.schemeOf(result.batchId)).to.equal("shafaf-tree/2");
      const batch = await ledger.getBatchV2(result.batchId);
      expect(batch.root).to.equal(result.root);
      const [key] = await ledger.vrfKeys();
      expect(batch.vrfKeyId).to.equal(key!.keyId);
      // records 30, persons 20 (a person's two jobs are in one province), days 30 each
      expect(batch.totals.slice(0, 2)).to.deep.equal([30n, 20n]);
      expect(batch.totals[3]).to.equal(900n);
    });

    it("writes a shafaf-batch/2 artifact with keys.bin and a shafaf-manifest/2", async function () {
      const artifact = await readBatchArtifact(path.join(dataDir, "batches", result.jobId));
      expect(artifact!.descriptor.format).to.equal("shafaf-batch/2");
      expect(artifact!.keys!.length).to.equal(30 * 32);
      expect(artifact!.descriptor.files["tree.bin"]).to.equal(undefined);
      const manifest = artifact!.manifest as {
        format: string;
        scheme: string;
        provinces: { code: string; size: number }[];
        lanes: string[];
      };
      expect(manifest.format).to.equal("shafaf-manifest/2");
      expect(manifest.scheme).to.equal("shafaf-tree/2");
      expect(manifest.provinces.map((p) => p.code)).to.deep.equal(["IR-07", "IR-10", "IR-23"]);
      expect(manifest.provinces.reduce((n, p) => n + p.size, 0)).to.equal(30);
      expect(manifest.lanes[0]).to.equal("30");
      // One person, one key: a person's two records carry the same k_b.
      const k = (i: number) =>
        Buffer.from(artifact!.keys!.subarray(i * 32, i * 32 + 32)).toString("hex");
      expect(k(20)).to.equal(k(0));
      expect(k(1)).to.not.equal(k(0));
      const mode = (await stat(path.join(dataDir, "person-keys"))).mode & 0o777;
      expect(mode).to.equal(0o700);
    });

    it("exports shafaf-receipt/2 receipts that verify offline and on chain", async function () {
      const out = path.join(work, "receipts");
      const exported = await runCli([
        ...["receipts", "export", "--batch", String(result.batchId), "--out", out],
        ...["--data-dir", dataDir],
      ]);
      expect(exported.code, exported.stderr).to.equal(0);
      const files = (await readdir(out)).filter((f) => f.endsWith(".json"));
      expect(files).to.have.length(30);
      const receipt = JSON.parse(await readFile(path.join(out, files[0]!), "utf8")) as {
        format: string;
        proof: { scheme: string };
      };
      expect(receipt.format).to.equal("shafaf-receipt/2");
      expect(receipt.proof.scheme).to.equal("shafaf-tree/2");
      expect(verifyDocumentOffline(receipt, { root: result.root }).status).to.equal("verified");
      const verified = await runCli(["verify", path.join(out, files[0]!), "--rpc", chain.url]);
      expect(verified.code, verified.stdout + verified.stderr).to.equal(0);
      // A lane changed by one is caught by the chain's totals.
      const tampered = structuredClone(receipt) as unknown as {
        record: { days: number };
      };
      tampered.record.days = tampered.record.days - 1;
      const bad = path.join(work, "tampered.json");
      await writeFile(bad, JSON.stringify(tampered));
      const refused = await runCli(["verify", bad, "--rpc", chain.url]);
      expect(refused.code).to.equal(1);
    });

    it("shafaf person prove: a range proof for a person with two records, an absence proof for one with none; verify accepts both and rejects corruption", async function () {
      const rows = premiumRows(30);
      const twice = rows[0]!.national_id!;
      const prove = (id: string, out: string) =>
        runCli(
          [
            ...["person", "prove", "--batch", String(result.batchId), "--national-id", id],
            ...["--vrf-key", vrfFile, "--data-dir", dataDir, "--out", out, "--json"],
          ],
          { env: PASSWORD },
        );
      const rangeFile = path.join(work, "range.json");
      const range = await prove(twice, rangeFile);
      expect(range.code, range.stderr).to.equal(0);
      expect(JSON.parse(range.stdout)).to.deep.include({ type: "range", records: 2 });
      expect((await stat(rangeFile)).mode & 0o777).to.equal(0o600);
      const absentFile = path.join(work, "absent.json");
      const absent = await prove(nationalIdFor(9_999), absentFile);
      expect(absent.code, absent.stderr).to.equal(0);
      expect(JSON.parse(absent.stdout)).to.deep.include({ type: "absence", records: 0 });
      for (const file of [rangeFile, absentFile]) {
        const v = await runCli(["verify", file, "--rpc", chain.url]);
        expect(v.code, v.stdout + v.stderr).to.equal(0);
      }
      // Hiding one of the two records (the range shrinks) fails, by name.
      const doc = JSON.parse(await readFile(rangeFile, "utf8")) as {
        records: unknown[];
        proof: { windows: { leaves: { key: string }[] }[] };
      };
      doc.records.pop();
      const hidden = path.join(work, "hidden.json");
      await writeFile(hidden, JSON.stringify(doc));
      const refused = await runCli(["verify", hidden, "--rpc", chain.url]);
      expect(refused.code).to.equal(1);
      // Another person's identifier with this proof: the VRF proof fails.
      const other = JSON.parse(await readFile(rangeFile, "utf8")) as { personId: string };
      other.personId = rows[1]!.national_id!;
      await writeFile(hidden, JSON.stringify(other));
      const wrong = await runCli(["verify", hidden, "--rpc", chain.url]);
      expect(wrong.code).to.equal(1);
      expect(wrong.stdout).to.match(/vrf/i);
      // Bad inputs: an identifier that is not one, a v1-less batch id, no key.
      const bad = await prove("12345", path.join(work, "x.json"));
      expect(bad.code).to.equal(65);
      expect(bad.stderr).to.match(/not a valid person identifier/);
      expect(bad.stderr).to.not.match(/12345/);
      const missing = await runCli(
        [
          ...["person", "prove", "--batch", "999", "--national-id", twice],
          ...["--vrf-key", vrfFile, "--data-dir", dataDir],
        ],
        { env: PASSWORD },
      );
      expect(missing.code).to.equal(65);
      expect(missing.stderr).to.match(/batch 999 was not anchored from this data directory/);
      const usage = await runCli(["person", "prove", "--batch", "1"]);
      expect(usage.code).to.equal(64);
    });

    it("shafaf person prove --log-dir adds the batch's log bundle: the proof verifies with no network", async function () {
      const logDir = path.join(work, "ledger-log");
      const demoLog = await startDemoLog({ dir: logDir });
      try {
        const store = await openLedgerStore(dataDir);
        let batches;
        try {
          batches = (await store.listBatches()).map((b) => ({
            chainId: b.chainId,
            contract: b.contract,
            batchId: b.batchId,
            scheme: b.scheme ?? ("shafaf-tree/1" as const),
            kind: b.kind,
            period: b.period,
            root: b.root,
            manifestHash: b.manifestHash,
            idempotencyKey: b.idempotencyKey,
            recordCount: b.recordCount,
            total: b.total,
            supersedes: b.supersedes,
            txHash: b.txHash,
          }));
        } finally {
          await store.close();
        }
        await syncLedgerLog({ log: demoLog.log, batches, witnesses: demoLog.witnesses });
        const file = path.join(work, "bundled-month.json");
        const args = [
          ...["person", "prove", "--batch", String(result.batchId)],
          ...["--national-id", premiumRows(30)[0]!.national_id!, "--vrf-key", vrfFile],
          ...["--data-dir", dataDir, "--out", file],
        ];
        const made = await runCli(
          [...args, "--log-dir", demoLog.log.dir, "--log-policy", demoLog.policyFile],
          { env: PASSWORD },
        );
        expect(made.code, made.stderr).to.equal(0);
        const doc = JSON.parse(await readFile(file, "utf8")) as {
          log?: { format: string };
          vrf: { publicKey: string };
        };
        expect(doc.log?.format).to.equal("shafaf-log-bundle/1");
        const offline = await runCli([
          ...["verify", file, "--policy", demoLog.policyFile],
          ...["--vrf-key", doc.vrf.publicKey],
        ]);
        expect(offline.code, offline.stdout + offline.stderr).to.equal(0);
        expect(offline.stdout).to.match(
          /VERIFIED: these are all of this person's records.*cosigned by/,
        );
        const usage = await runCli([...args, "--log-policy", demoLog.policyFile], {
          env: PASSWORD,
        });
        expect(usage.code).to.equal(64);
      } finally {
        await demoLog.close();
      }
    });

    it("a re-run does nothing; the next month reads its people from the cache", async function () {
      const again = await anchorJson([csv, "--kind", "premium", "--period", "1403-07"]);
      expect(again.alreadyComplete).to.equal(true);
      expect(again.batchId).to.equal(result.batchId);
      const next = path.join(work, "premiums-1403-08.csv");
      await writeFile(next, toCsv(PREMIUM_COLUMNS, premiumRows(25, { period: "1403-08" })));
      const second = await anchorJson([next, "--kind", "premium", "--period", "1403-08"]);
      expect(second.personKeys).to.deep.equal({ people: 25, cached: 20, enrolled: 5 });
    });
  });

  it("anchors a JSON Lines pension batch as shafaf-tree/2 and its receipts come from the API store", async function () {
    const jsonl = path.join(work, "pensions.jsonl");
    await writeFile(jsonl, toJsonl(pensionRows(9)));
    const result = await anchorJson([jsonl, "--kind", "pension", "--period", "1403-07"]);
    expect(result.scheme).to.equal("shafaf-tree/2");
    const store = await openLedgerStore(dataDir);
    try {
      const batch = await store.getBatch(result.batchId);
      expect(batch!.scheme).to.equal("shafaf-tree/2");
      const all: { format: string }[] = [];
      for await (const { code } of store.iterateReceiptCodesOfBatch(result.batchId))
        all.push((await store.getReceiptByCode(code))!);
      expect(all).to.have.length(9);
      expect(new Set(all.map((r) => r.format))).to.deep.equal(new Set(["shafaf-receipt/2"]));
    } finally {
      await store.close();
    }
    // A batch anchored before tiles existed (its tiles folder removed): the first receipt writes
    // them from the artifact, the same bytes the anchor job wrote, and the receipts are the same.
    const tilesDir = path.join(dataDir, "batches", result.jobId, "tiles");
    const before = await filesUnder(tilesDir);
    expect(Object.keys(before)).to.include.members(["tiles.json", "private/leaves.bin"]);
    await rm(tilesDir, { recursive: true });
    const again = await openLedgerStore(dataDir);
    try {
      const codes: string[] = [];
      for await (const { code } of again.iterateReceiptCodesOfBatch(result.batchId))
        codes.push(code);
      const receipt = await again.getReceiptByCode(codes[4]!);
      expect(receipt?.format).to.equal("shafaf-receipt/2");
      expect(await filesUnder(tilesDir)).to.deep.equal(before);
    } finally {
      await again.close();
    }
  });
});

/** Every file under `dir`: relative path → its bytes as hex. */
async function filesUnder(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const f = path.join(e.parentPath, e.name);
    out[path.relative(dir, f)] = (await readFile(f)).toString("hex");
  }
  return out;
}
