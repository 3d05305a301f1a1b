/**
 * Encryption at rest end to end: the real CLI in child processes against a real Hardhat node —
 * `keys new-data`, `anchor --data-key`, then a search of every byte of the data directory for the
 * national IDs, salts and amounts anchored (none in plain); receipts, person proofs and the audit
 * with the key, refusals by name without it or with another; a plain data directory sealed in
 * place by `shafaf data encrypt` giving byte-identical receipts and person proofs.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { exportBatchArtifact } from "../../src/store/export-artifact.ts";
import { isSealed } from "../../src/store/private-store.ts";
import {
  MAIN,
  PREMIUM_COLUMNS,
  ROOT,
  premiumRows,
  runCli,
  toCsv,
  type Row,
} from "../anchor/helpers.ts";

const PASSWORD = { SHAFAF_KEYSTORE_PASSWORD: "correct horse battery staple" };

/** Every file under `dir` (recursively) with its mode; folders too. */
async function walk(dir: string): Promise<{ file: string; mode: number; isDir: boolean }[]> {
  const out: { file: string; mode: number; isDir: boolean }[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    out.push({ file, mode: (await stat(file)).mode & 0o777, isDir: entry.isDirectory() });
    if (entry.isDirectory()) out.push(...(await walk(file)));
  }
  return out;
}

/** The strings of `needles` found in plain in any file under `dir`, with where. */
async function findInPlain(dir: string, needles: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  for (const f of await walk(dir)) {
    if (f.isDir) continue;
    const text = (await readFile(f.file)).toString("latin1");
    for (const n of needles)
      if (text.includes(n)) found.push(`${n} in ${path.relative(dir, f.file)}`);
  }
  return found;
}

interface AnchorJson {
  status: string;
  batchId: number;
  jobId: string;
}

describe("encryption at rest (end to end)", function () {
  this.timeout(300_000);
  let chain: DevChain;
  let work: string;
  let contract: string;
  let vrfFile: string;
  let dataKey: string;
  let otherKey: string;

  const anchor = (dataDir: string, csv: string, period: string, extra: string[] = []) =>
    runCli(
      [
        ...["anchor", csv, "--kind", "premium", "--period", period, "--rpc", chain.url],
        ...["--contract", contract, "--data-dir", dataDir, "--signer", "dev:0"],
        ...["--vrf-key", vrfFile, "--json", ...extra],
      ],
      { env: PASSWORD },
    );

  /** The national IDs, salts and amounts of `rows` anchored in `dataDir`'s batch `jobId`. */
  async function secretsOf(dataDir: string, jobId: string, rows: readonly Row[], key?: string) {
    const plain = path.join(work, `plain-${jobId}`);
    const { dataKeyOf } = await import("../../src/store/private-store.ts");
    const { loadDataKeystore } = await import("../../src/chain/data-keystore.ts");
    const k =
      key === undefined
        ? undefined
        : dataKeyOf((await loadDataKeystore(key, PASSWORD.SHAFAF_KEYSTORE_PASSWORD)).key);
    await exportBatchArtifact(path.join(dataDir, "batches", jobId), plain, k);
    const lines = (await readFile(path.join(plain, "records.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { salt: string });
    await rm(plain, { recursive: true, force: true });
    const manifest = await readFile(path.join(dataDir, "batches", jobId, "manifest.json"), "utf8");
    // Individual amounts; a figure that also is a public aggregate of the manifest (a province
    // of one record) is not a leak of the artifact and is left out.
    const amounts = [
      ...new Set(rows.flatMap((r) => [r.wage_base!, r.worker_share!, r.employer_share!, r.total!])),
    ]
      .filter((a) => a.length >= 6 && !manifest.includes(a))
      // As the records hold them (JSON strings): a bare digit run also occurs by chance inside
      // the hex of hashes and signed transactions.
      .map((a) => `"${a}"`);
    expect(amounts.length).to.be.greaterThan(20);
    return {
      ids: rows.map((r) => r.national_id!),
      salts: lines.map((l) => l.salt.slice(2)),
      amounts,
    };
  }

  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-atrest-e2e-"));
    const deployed = await runCli(["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"]);
    expect(deployed.code, deployed.stderr).to.equal(0);
    contract = (JSON.parse(deployed.stdout) as { address: string }).address;
    vrfFile = path.join(work, "vrf.json");
    dataKey = path.join(work, "data-key.json");
    otherKey = path.join(work, "other-data-key.json");
    for (const args of [
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
      ["keys", "new-data", "--out", dataKey, "--json"],
      ["keys", "new-data", "--out", otherKey],
    ]) {
      const r = await runCli(args, { env: PASSWORD });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).to.equal(0);
    }
    expect((await stat(dataKey)).mode & 0o777).to.equal(0o600);
    const shown = await runCli(["keys", "show-data", dataKey, "--verify"], { env: PASSWORD });
    expect(shown.stdout.trim()).to.match(/^[0-9a-f]{16}$/);
  });

  after(async function () {
    await chain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  describe("a data directory anchored with --data-key", function () {
    const dataDir = () => path.join(work, "sealed");
    const rows = premiumRows(40, { period: "1403-07" });
    for (let i = 30; i < 40; i++) rows[i]!.national_id = rows[i - 30]!.national_id!;
    let anchored: AnchorJson;

    before(async function () {
      const csv = path.join(work, "premiums-1403-07.csv");
      await writeFile(csv, toCsv(PREMIUM_COLUMNS, rows));
      const r = await anchor(dataDir(), csv, "1403-07", ["--data-key", dataKey]);
      expect(r.code, r.stderr).to.equal(0);
      anchored = JSON.parse(r.stdout) as AnchorJson;
      expect(anchored.status).to.equal("anchored");
    });

    it("holds no national ID, salt or individual amount in plain in any file, LevelDB included", async function () {
      const s = await secretsOf(dataDir(), anchored.jobId, rows, dataKey);
      expect(s.salts).to.have.length(40);
      expect(await findInPlain(dataDir(), [...s.ids, ...s.salts, ...s.amounts])).to.deep.equal([]);
      // The search can fail: the same bytes are found in the plain export of the artifact.
      const plain = path.join(work, "export-check");
      const { dataKeyOf } = await import("../../src/store/private-store.ts");
      const { loadDataKeystore } = await import("../../src/chain/data-keystore.ts");
      const k = dataKeyOf((await loadDataKeystore(dataKey, PASSWORD.SHAFAF_KEYSTORE_PASSWORD)).key);
      await exportBatchArtifact(path.join(dataDir(), "batches", anchored.jobId), plain, k);
      const inExport = await findInPlain(plain, [s.ids[0]!, s.salts[0]!, s.amounts[0]!]);
      expect(inExport).to.have.length(3);
      await rm(plain, { recursive: true, force: true });
    });

    it("keeps every folder 0700 and every file 0600 (public tiles aside, inside the 0700 artifact)", async function () {
      const entries = await walk(dataDir());
      expect(entries.length).to.be.greaterThan(10);
      for (const e of entries) {
        const rel = path.relative(dataDir(), e.file);
        // A batch's public tiles (batch-tiles-v1.md §6) are world-readable by design, and served
        // by the API; they sit inside the artifact's 0700 folder.
        const isPublic = /^batches\/[^/]+\/tiles\/(public(\/|$)|tiles\.json$)/.test(rel);
        expect(e.mode, rel).to.equal(
          isPublic ? (e.isDir ? 0o755 : 0o644) : e.isDir ? 0o700 : 0o600,
        );
      }
    });

    it("seals the batch's private tiles (level 0, leaves.bin, lines.bin) with the data key", async function () {
      const privateTiles = (await walk(dataDir())).filter(
        (e) => !e.isDir && /\/tiles\/private\//.test(e.file),
      );
      expect(privateTiles.map((e) => path.basename(e.file))).to.include.members([
        "leaves.bin",
        "lines.bin",
      ]);
      for (const e of privateTiles)
        expect(isSealed(await readFile(e.file)), path.relative(dataDir(), e.file)).to.equal(true);
    });

    it("exports receipts that verify on chain, and writes person proofs, with the key", async function () {
      const out = path.join(work, "sealed-receipts");
      const r = await runCli(
        [
          ...["receipts", "export", "--batch", String(anchored.batchId), "--out", out],
          ...["--format", "jsonl", "--data-dir", dataDir(), "--data-key", dataKey],
        ],
        { env: PASSWORD },
      );
      expect(r.code, r.stderr).to.equal(0);
      const file = path.join(out, `batch-${anchored.batchId}.receipts.jsonl`);
      const lines = (await readFile(file, "utf8")).trim().split("\n");
      expect(lines).to.have.length(40);
      const one = path.join(work, "one-receipt.json");
      await writeFile(one, lines[7]!);
      const v = await runCli(["verify", one, "--rpc", chain.url]);
      expect(v.code, v.stdout + v.stderr).to.equal(0);
      const byCode = await runCli(
        [
          ...["verify", (JSON.parse(lines[7]!) as { code: string }).code, "--rpc", chain.url],
          ...["--data-dir", dataDir(), "--data-key", dataKey],
        ],
        { env: PASSWORD },
      );
      expect(byCode.code, byCode.stdout + byCode.stderr).to.equal(0);
      const proof = path.join(work, "sealed-proof.json");
      const p = await runCli(
        [
          ...["person", "prove", "--batch", String(anchored.batchId)],
          ...["--national-id", rows[0]!.national_id!, "--vrf-key", vrfFile],
          ...["--data-dir", dataDir(), "--data-key", dataKey, "--out", proof, "--json"],
        ],
        { env: PASSWORD },
      );
      expect(p.code, p.stderr).to.equal(0);
      expect(JSON.parse(p.stdout)).to.deep.include({ type: "range", records: 2 });
      const pv = await runCli(["verify", proof, "--rpc", chain.url]);
      expect(pv.code, pv.stdout + pv.stderr).to.equal(0);
    });

    it("refuses, by name and with the fix, to read without the key or with another, and to anchor without it", async function () {
      const out = path.join(work, "refused");
      const exportWith = (extra: string[]) =>
        runCli(
          [
            ...["receipts", "export", "--batch", String(anchored.batchId), "--out", out],
            ...["--data-dir", dataDir(), ...extra],
          ],
          { env: PASSWORD },
        );
      const none = await exportWith([]);
      expect(none.code).to.equal(1);
      expect(none.stderr).to.match(
        /encrypted with data key [0-9a-f]{16}, and no data key was given/,
      );
      expect(none.stderr).to.match(/--data-key FILE/);
      const other = await exportWith(["--data-key", otherKey]);
      expect(other.code).to.equal(1);
      expect(other.stderr).to.match(/not with the given key/);
      for (const r of [none, other])
        for (const id of rows.map((x) => x.national_id!)) expect(r.stderr).not.to.contain(id);
      const csv = path.join(work, "premiums-1403-09.csv");
      await writeFile(
        csv,
        toCsv(PREMIUM_COLUMNS, premiumRows(5, { period: "1403-09", prefix: "Q" })),
      );
      const before = await readdir(path.join(dataDir(), "batches"));
      const plainAnchor = await anchor(dataDir(), csv, "1403-09");
      expect(plainAnchor.code).to.equal(1);
      expect(plainAnchor.stderr).to.match(/no data key was given/);
      expect(await readdir(path.join(dataDir(), "batches"))).to.deep.equal(before);
    });

    it("shafaf serve answers receipts from the sealed artifacts with --data-key, and refuses to start without it", async function () {
      const serve = (extra: string[]) =>
        spawn(
          process.execPath,
          [
            ...["--import", "tsx", MAIN, "serve", "--rpc", chain.url, "--contract", contract],
            ...["--port", "0", "--data-dir", dataDir(), ...extra],
          ],
          { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...PASSWORD } },
        );
      const refused = serve([]);
      let refusedErr = "";
      refused.stderr.on("data", (c: Buffer) => (refusedErr += c.toString("utf8")));
      const code = await new Promise<number | null>((r) => refused.once("exit", r));
      expect(code).to.not.equal(0);
      expect(refusedErr).to.match(/no data key was given/);
      expect(refusedErr).to.match(/--data-key FILE/);

      const server = serve(["--data-key", dataKey]);
      let err = "";
      server.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
      try {
        const url = await new Promise<string>((resolve, reject) => {
          let out = "";
          server.stdout.on("data", (c: Buffer) => {
            out += c.toString("utf8");
            const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
            if (m !== null) resolve(m[1]!);
          });
          server.once("exit", (c) => reject(new Error(`serve exited ${c}: ${err}`)));
        });
        const out = path.join(work, "sealed-receipts", `batch-${anchored.batchId}.receipts.jsonl`);
        const exported = JSON.parse((await readFile(out, "utf8")).split("\n")[3]!) as {
          code: string;
        };
        let answer: Response | undefined;
        for (let i = 0; i < 200; i++) {
          answer = await fetch(`${url}/api/v1/receipts/${encodeURIComponent(exported.code)}`);
          if (answer.status === 200) break;
          await new Promise((r) => setTimeout(r, 250)); // the indexer catches up
        }
        expect(answer?.status, err).to.equal(200);
        expect(await answer!.json()).to.deep.equal(exported);
      } finally {
        server.kill("SIGKILL");
        await new Promise((r) => server.once("exit", r));
      }
    });

    it("audits the sealed artifact in place with --data-key (no plain copy anywhere), and refuses it without the key", async function () {
      const tmpRoot = existsSync("/dev/shm") ? "/dev/shm" : os.tmpdir();
      const copies = async () =>
        (await readdir(tmpRoot)).filter((n) => n.startsWith("shafaf-audit-"));
      const left = await copies();
      const args = [
        ...["audit", path.join(dataDir(), "batches", anchored.jobId)],
        ...["--batch", String(anchored.batchId), "--rpc", chain.url, "--contract", contract],
        ...["--data-dir", dataDir()],
      ];
      const r = await runCli([...args, "--data-key", dataKey], { env: PASSWORD });
      expect(r.code, r.stdout + r.stderr).to.equal(0);
      expect(r.stdout).to.match(/MATCH/);
      expect(await copies()).to.deep.equal(left);
      const noKey = await runCli(args, { env: PASSWORD });
      expect(noKey.code, noKey.stdout + noKey.stderr).to.not.equal(0);
      expect(noKey.stderr).to.match(/store\.private\.no-key|no data key/);
    });
  });

  describe("a plain data directory (made before encryption at rest)", function () {
    const dataDir = () => path.join(work, "plain");
    const rows = premiumRows(24, { period: "1403-08", prefix: "E", start: 300 });
    for (let i = 20; i < 24; i++) rows[i]!.national_id = rows[i - 20]!.national_id!;
    let anchored: AnchorJson;
    const exportAll = async (out: string, extra: string[]) => {
      const r = await runCli(
        [
          ...["receipts", "export", "--batch", String(anchored.batchId), "--out", out],
          ...["--format", "jsonl", "--data-dir", dataDir(), ...extra],
        ],
        { env: PASSWORD },
      );
      expect(r.code, r.stderr).to.equal(0);
      return readFile(path.join(out, `batch-${anchored.batchId}.receipts.jsonl`), "utf8");
    };
    const prove = async (out: string, extra: string[]) => {
      const r = await runCli(
        [
          ...["person", "prove", "--batch", String(anchored.batchId)],
          ...["--national-id", rows[1]!.national_id!, "--vrf-key", vrfFile],
          ...["--data-dir", dataDir(), "--out", out, ...extra],
        ],
        { env: PASSWORD },
      );
      expect(r.code, r.stderr).to.equal(0);
      return readFile(out, "utf8");
    };

    it("keeps working without a key, and `shafaf data encrypt` seals it: receipts and person proofs byte-identical", async function () {
      const csv = path.join(work, "premiums-1403-08.csv");
      await writeFile(csv, toCsv(PREMIUM_COLUMNS, rows));
      const r = await anchor(dataDir(), csv, "1403-08");
      expect(r.code, r.stderr).to.equal(0);
      anchored = JSON.parse(r.stdout) as AnchorJson;
      const receiptsBefore = await exportAll(path.join(work, "r0"), []);
      const proofBefore = await prove(path.join(work, "p0.json"), []);
      const s = await secretsOf(dataDir(), anchored.jobId, rows);
      // Plain before: the search finds them.
      expect(await findInPlain(dataDir(), [s.ids[0]!, s.salts[0]!])).to.have.length.greaterThan(1);

      const sealed = await runCli(
        ["data", "encrypt", "--data-dir", dataDir(), "--data-key", dataKey, "--json"],
        { env: PASSWORD },
      );
      expect(sealed.code, sealed.stderr).to.equal(0);
      expect(JSON.parse(sealed.stdout)).to.deep.include({
        artifacts: 1,
        files: 3,
        alreadySealed: 0,
        pseudonymKey: true,
      });
      expect((JSON.parse(sealed.stdout) as { cacheEntries: number }).cacheEntries).to.equal(20);
      const status = await runCli(["data", "status", "--data-dir", dataDir(), "--json"]);
      expect(JSON.parse(status.stdout)).to.deep.include({ sealed: 1, plain: 0 });

      expect(await exportAll(path.join(work, "r1"), ["--data-key", dataKey])).to.equal(
        receiptsBefore,
      );
      expect(await prove(path.join(work, "p1.json"), ["--data-key", dataKey])).to.equal(
        proofBefore,
      );
      // No file of the directory holds any of them in plain any more.
      expect(await findInPlain(dataDir(), [...s.ids, ...s.salts, ...s.amounts])).to.deep.equal([]);
      // The plain tiles were dropped, and written again sealed at the first receipt.
      const privateTiles = (await walk(dataDir())).filter(
        (e) => !e.isDir && /\/tiles\/private\//.test(e.file),
      );
      expect(privateTiles).to.have.length.greaterThan(2);
      for (const e of privateTiles)
        expect(isSealed(await readFile(e.file)), path.relative(dataDir(), e.file)).to.equal(true);
      const again = await runCli(
        ["data", "encrypt", "--data-dir", dataDir(), "--data-key", dataKey, "--json"],
        { env: PASSWORD },
      );
      expect(JSON.parse(again.stdout)).to.deep.include({
        artifacts: 0,
        files: 0,
        alreadySealed: 1,
      });
    });
  });
});
