import { expect } from "chai";
import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sweepUploads, UPLOAD_RETENTION_MS } from "../../src/cli/commands/serve.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";

describe("personal data at rest", function () {
  let work: string;
  let umask: number;
  beforeEach(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-private-"));
    umask = process.umask(0o022); // the usual default: files 0644, folders 0755
  });
  afterEach(async function () {
    process.umask(umask);
    await rm(work, { recursive: true, force: true });
  });

  describe("openLedgerStore", function () {
    it("makes the data directory and the LevelDB folder 0700 and its files 0600", async function () {
      const dataDir = path.join(work, "data");
      await mkdir(dataDir, { mode: 0o755 });
      const store = await openLedgerStore(dataDir);
      await store.bindChain({ chainId: 31337, contract: "0x" + "cc".repeat(20) });
      await store.close();
      // reopened: files LevelDB made with the loose umask are tightened too
      await (await openLedgerStore(dataDir)).close();
      expect((await stat(dataDir)).mode & 0o777).to.equal(0o700);
      const ledger = path.join(dataDir, "ledger");
      expect((await stat(ledger)).mode & 0o777).to.equal(0o700);
      const files = await readdir(ledger);
      expect(files.length).to.be.greaterThan(2);
      for (const name of files) {
        const info = await stat(path.join(ledger, name));
        if (info.isFile()) expect(info.mode & 0o777, name).to.equal(0o600);
      }
    });
  });

  describe("sweepUploads", function () {
    it("deletes temporary files and uploads older than the retention, keeps recent ones", async function () {
      const dir = path.join(work, "uploads");
      await mkdir(dir);
      const now = Date.now();
      const old = path.join(dir, "premium-1403-07-aaaa.csv");
      const recent = path.join(dir, "premium-1403-08-bbbb.csv");
      const tmp = path.join(dir, "premium-1403-09-cccc.csv.1234.tmp");
      for (const f of [old, recent, tmp]) await writeFile(f, "record_id\n");
      const past = (now - UPLOAD_RETENTION_MS - 60_000) / 1000;
      await utimes(old, past, past);
      expect(await sweepUploads(dir, now)).to.equal(2);
      expect(await readdir(dir)).to.deep.equal(["premium-1403-08-bbbb.csv"]);
      expect(await sweepUploads(path.join(work, "none"), now)).to.equal(0);
    });
  });
});
