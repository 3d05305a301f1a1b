/**
 * The restore drill, end to end: the real CLI in child processes against a real Hardhat node.
 * Two v2 batches anchored with --data-key; the mirror exported after each (incrementally: the
 * second export writes the new batch's files and the index files only, a third writes nothing);
 * the private archive taken (sealed: no national ID, salt or amount in plain); the data directory
 * deleted; `shafaf restore` from mirror + archive; every receipt (`receipts export`) and person
 * proof (`person prove`) byte-identical to before. A corrupted archive file, a stale or forged
 * mirror, a missing key and a non-empty target are refused by name, writing nothing.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import type { MirrorManifest } from "../../src/core/mirror-layout.ts";
import { PREMIUM_COLUMNS, premiumRows, runCli, toCsv, type Row } from "../anchor/helpers.ts";

const PASSWORD = { SHAFAF_KEYSTORE_PASSWORD: "correct horse battery staple" };

interface AnchorJson {
  status: string;
  batchId: number;
  jobId: string;
}

async function allFiles(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await allFiles(dir, child)));
    else out.push(child);
  }
  return out;
}

describe("backup and restore (the restore drill, end to end)", function () {
  this.timeout(600_000);
  let chain: DevChain;
  let work: string;
  let contract: string;
  let vrfFile: string;
  let dataKey: string;
  const dataDir = () => path.join(work, "data");
  const site = () => path.join(work, "site");
  const archive = () => path.join(work, "archive");
  const rowsA = premiumRows(40, { period: "1403-07" });
  const rowsB = premiumRows(30, { period: "1403-08", prefix: "B", start: 500 });
  // Persons in both batches: their proofs span the two.
  for (let i = 0; i < 10; i++) rowsB[i]!.national_id = rowsA[i]!.national_id!;
  const anchored: AnchorJson[] = [];
  const exports: { written: number; kept: number; seconds: number; stdout: string }[] = [];
  let firstMirror: string;

  const cli = async (args: string[]) => {
    const r = await runCli(args, { env: PASSWORD });
    expect(r.code, `${args.join(" ")}: ${r.stderr}`).to.equal(0);
    return r;
  };
  const anchor = async (rows: Row[], period: string) => {
    const csv = path.join(work, `premiums-${period}.csv`);
    await writeFile(csv, toCsv(PREMIUM_COLUMNS, rows));
    const r = await cli([
      ...["anchor", csv, "--kind", "premium", "--period", period, "--rpc", chain.url],
      ...["--contract", contract, "--data-dir", dataDir(), "--signer", "dev:0"],
      ...["--vrf-key", vrfFile, "--data-key", dataKey, "--json"],
    ]);
    anchored.push(JSON.parse(r.stdout) as AnchorJson);
  };
  const exportMirror = async () => {
    await cli([
      ...["index", "--rpc", chain.url, "--contract", contract],
      ...["--data-dir", dataDir(), "--once"],
    ]);
    const started = performance.now();
    const r = await cli(["mirror", "export", "--data-dir", dataDir(), "--out", site()]);
    const m = /\((\d+) written, (\d+) kept, (\d+) removed\)/.exec(r.stdout);
    expect(m, r.stdout).to.not.equal(null);
    exports.push({
      written: Number(m![1]),
      kept: Number(m![2]),
      seconds: (performance.now() - started) / 1000,
      stdout: r.stdout,
    });
  };
  /** Every receipt of every batch, and two person proofs, as the CLI writes them. */
  const snapshot = async (dir: string, tag: string) => {
    const out: Record<string, string> = {};
    for (const a of anchored) {
      const folder = path.join(work, `receipts-${tag}`);
      await cli([
        ...["receipts", "export", "--batch", String(a.batchId), "--out", folder],
        ...["--format", "jsonl", "--data-dir", dir, "--data-key", dataKey],
      ]);
      out[`receipts ${a.batchId}`] = await readFile(
        path.join(folder, `batch-${a.batchId}.receipts.jsonl`),
        "utf8",
      );
      for (const person of [rowsA[1]!.national_id!, rowsB[20]!.national_id!]) {
        const file = path.join(work, `proof-${tag}-${a.batchId}-${person}.json`);
        await cli([
          ...["person", "prove", "--batch", String(a.batchId), "--national-id", person],
          ...["--vrf-key", vrfFile, "--data-dir", dir, "--data-key", dataKey, "--out", file],
        ]);
        out[`proof ${a.batchId} ${person}`] = await readFile(file, "utf8");
      }
    }
    return out;
  };
  const restore = (mirror: string, arch: string, target: string, extra = ["--data-key", dataKey]) =>
    runCli(["restore", "--mirror", mirror, "--archive", arch, "--data-dir", target, ...extra], {
      env: PASSWORD,
    });

  let original: Record<string, string>;

  before(async function () {
    chain = await startDevChain();
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-restore-drill-"));
    const deployed = await cli(["deploy", "--rpc", chain.url, "--signer", "dev:0", "--json"]);
    contract = (JSON.parse(deployed.stdout) as { address: string }).address;
    vrfFile = path.join(work, "vrf.json");
    dataKey = path.join(work, "data-key.json");
    await cli(["keys", "new-vrf", "--out", vrfFile]);
    await cli([
      ...["keys", "register-vrf", vrfFile, "--rpc", chain.url, "--contract", contract],
      ...["--signer", "dev:0"],
    ]);
    await cli(["keys", "new-data", "--out", dataKey]);
    await anchor(rowsA, "1403-07");
    await exportMirror();
    firstMirror = path.join(work, "site-after-batch-1");
    await cp(site(), firstMirror, { recursive: true });
    await anchor(rowsB, "1403-08");
    await exportMirror();
    await exportMirror();
    original = await snapshot(dataDir(), "before");
  });

  after(async function () {
    await chain?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it("exports the mirror incrementally: batch 2's files and the index files, then nothing", async function () {
    const manifest = JSON.parse(
      await readFile(path.join(site(), "mirror.json"), "utf8"),
    ) as MirrorManifest;
    const before1 = JSON.parse(
      await readFile(path.join(firstMirror, "mirror.json"), "utf8"),
    ) as MirrorManifest;
    const old = new Map(before1.files.map((f) => [f.path, f.sha256]));
    const changed = manifest.files.filter((f) => old.get(f.path) !== f.sha256).map((f) => f.path);
    // What changed is batch 2's own files plus the index files that list or count batches.
    const b2 = anchored[1]!.batchId;
    for (const p of changed)
      expect(p, p).to.match(
        new RegExp(
          `^api/v1/(batches/${b2}(\\.json|/)|batches\\.json|events\\.json|stats\\.json|chain\\.json|vrf-keys\\.json)`,
        ),
      );
    expect(changed.filter((p) => p.startsWith(`api/v1/batches/${b2}/tiles`))).to.not.be.empty;
    // The second export wrote exactly those (and mirror.json); the third wrote nothing.
    expect(exports[1]!.written).to.equal(changed.length + 1);
    expect(exports[2]!.written).to.equal(0);
    expect(exports[2]!.kept).to.equal(manifest.files.length + 1);
    // The folder holds exactly what mirror.json lists, byte for byte (this chain has no ledger
    // log, so `mirror verify`'s policy checks do not apply; test/mirror covers them).
    const { createHash } = await import("node:crypto");
    expect((await allFiles(site())).filter((f) => f !== "mirror.json").sort()).to.deep.equal(
      manifest.files.map((f) => f.path),
    );
    for (const f of manifest.files)
      expect(
        createHash("sha256")
          .update(await readFile(path.join(site(), f.path)))
          .digest("hex"),
        f.path,
      ).to.equal(f.sha256);
    console.log(
      `      mirror export: first ${exports[0]!.seconds.toFixed(2)} s, after one more batch ` +
        `${exports[1]!.seconds.toFixed(2)} s (${exports[1]!.written} written), nothing new ` +
        `${exports[2]!.seconds.toFixed(2)} s (${exports[2]!.written} written, ${exports[2]!.kept} kept)`,
    );
  });

  it("refuses to archive without the data key, and writes a sealed archive with it", async function () {
    const refused = await runCli(["backup", "--data-dir", dataDir(), "--out", archive()]);
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.include("--data-key");
    expect(existsSync(archive())).to.equal(false);
    const r = await cli([
      ...["backup", "--data-dir", dataDir(), "--out", archive(), "--data-key", dataKey, "--json"],
    ]);
    const summary = JSON.parse(r.stdout) as {
      batches: number;
      sealed: boolean;
      bytes: number;
      records: number;
      seconds: number;
    };
    console.log(
      `      backup: ${summary.records} records, ${summary.bytes} bytes in ${summary.seconds.toFixed(2)} s`,
    );
    expect(summary).to.deep.include({ batches: 2, sealed: true });
    const files = await allFiles(archive());
    expect(files).to.include.members([
      "archive.json",
      "ledger-records.jsonl",
      "secrets/pseudonym.key",
    ]);
    expect(files.some((f) => f.includes("/tiles/"))).to.equal(false);
    // No national ID, and no receipt code, in plain anywhere in the archive.
    const codes = [...original["receipts 1"]!.matchAll(/"code":"([^"]+)"/g)].map((m) => m[1]!);
    expect(codes.length).to.be.greaterThan(10);
    for (const f of files) {
      const text = (await readFile(path.join(archive(), f))).toString("latin1");
      for (const needle of [...rowsA.map((r) => r.national_id!), ...codes.slice(0, 10)])
        expect(text.includes(needle), `${needle} in ${f}`).to.equal(false);
      expect((await stat(path.join(archive(), f))).mode & 0o077, f).to.equal(0);
    }
  });

  describe("after the data directory is lost", function () {
    before(async function () {
      await rm(dataDir(), { recursive: true, force: true });
    });

    it("refuses a corrupted archive file, naming it, and writes nothing", async function () {
      const bad = path.join(work, "archive-bad");
      await cp(archive(), bad, { recursive: true });
      const keys = `batches/${anchored[0]!.jobId}/keys.bin`;
      const bytes = await readFile(path.join(bad, keys));
      bytes[bytes.length - 5]! ^= 1;
      await writeFile(path.join(bad, keys), bytes);
      const target = path.join(work, "restored-bad");
      const r = await restore(site(), bad, target);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include(keys).and.include("does not match archive.json");
      expect(existsSync(target)).to.equal(false);
      expect(existsSync(`${target}.restoring`)).to.equal(false);
    });

    it("refuses a mirror of an earlier state or with a forged batch, naming the batch", async function () {
      const target = path.join(work, "restored-mismatch");
      const stale = await restore(firstMirror, archive(), target);
      expect(stale.code).to.equal(1);
      expect(stale.stderr).to.include(`the mirror has no batch ${anchored[1]!.batchId}`);
      // A forged batch view, with mirror.json rewritten to match it.
      const forged = path.join(work, "site-forged");
      await cp(site(), forged, { recursive: true });
      const rel = `api/v1/batches/${anchored[0]!.batchId}.json`;
      const view = JSON.parse(await readFile(path.join(forged, rel), "utf8")) as { root: string };
      view.root = "0x" + "11".repeat(32);
      const text = JSON.stringify(view);
      await writeFile(path.join(forged, rel), text);
      const m = JSON.parse(
        await readFile(path.join(forged, "mirror.json"), "utf8"),
      ) as MirrorManifest;
      const { createHash } = await import("node:crypto");
      const entry = m.files.find((f) => f.path === rel)!;
      entry.size = Buffer.byteLength(text);
      entry.sha256 = createHash("sha256").update(text).digest("hex");
      await writeFile(path.join(forged, "mirror.json"), JSON.stringify(m));
      const r = await restore(forged, archive(), target);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include(`batch ${anchored[0]!.batchId}: the mirror's root`);
      // The same file changed without mirror.json: the mirror is refused as damaged.
      await writeFile(
        path.join(forged, "mirror.json"),
        await readFile(path.join(site(), "mirror.json")),
      );
      const damaged = await restore(forged, archive(), target);
      expect(damaged.code).to.equal(1);
      expect(damaged.stderr).to.include(`the mirror's ${rel} does not match its mirror.json`);
      expect(existsSync(target)).to.equal(false);
    });

    it("refuses without the data key, and refuses a non-empty target", async function () {
      const target = path.join(work, "restored-nokey");
      const r = await restore(site(), archive(), target, []);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.include("--data-key");
      await mkdir(target);
      await writeFile(path.join(target, "keep.txt"), "mine");
      const busy = await restore(site(), archive(), target);
      expect(busy.code).to.equal(1);
      expect(busy.stderr).to.include("is not empty");
      expect(await readFile(path.join(target, "keep.txt"), "utf8")).to.equal("mine");
    });

    it("restores from mirror + archive (over a killed run's staging folder): every receipt and person proof byte-identical", async function () {
      // A killed restore left its staging folder: the re-run starts it again.
      await mkdir(`${dataDir()}.restoring/ledger`, { recursive: true });
      await writeFile(`${dataDir()}.restoring/ledger/half-written`, "x");
      const r = await restore(site(), archive(), dataDir(), ["--data-key", dataKey, "--json"]);
      expect(r.code, r.stderr).to.equal(0);
      const done = JSON.parse(r.stdout) as { seconds: number };
      expect(done).to.deep.include({ batches: 2, tiled: 2 });
      console.log(`      restore: ${done.seconds.toFixed(2)} s (checks, records, tiles rebuilt)`);
      expect(existsSync(`${dataDir()}.restoring`)).to.equal(false);
      expect((await stat(dataDir())).mode & 0o777).to.equal(0o700);
      const after = await snapshot(dataDir(), "after");
      expect(Object.keys(after)).to.have.length(6);
      for (const [k, v] of Object.entries(original)) expect(after[k], k).to.equal(v);
      // The index is rebuilt from the chain, and the mirror exported again changes nothing.
      await exportMirror();
      expect(exports.at(-1).written).to.equal(0);
    });
  });
});
