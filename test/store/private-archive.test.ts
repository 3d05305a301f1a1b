/**
 * The private archive and the restore over real LevelDB stores in temp folders (no chain): a
 * plain data directory is refused without `allowPlain` (and one in use, by name) and archived in
 * plain with it; that
 * archive restores to a store with the same records; the restore refuses an unlisted file, a
 * damaged archive.json, a mirror of another contract and a damaged mirror file, each by name,
 * writing nothing. (The sealed drill against a real chain is test/cli/backup-restore.test.ts.)
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseLedgerRecords } from "../../src/core/ledger-records.ts";
import { openLedgerStore, type JobRecord } from "../../src/store/ledger-store.ts";
import { PrivateArchiveError, writePrivateArchive } from "../../src/store/private-archive.ts";
import { restoreDataDir } from "../../src/store/restore-data-dir.ts";

const CONTRACT = "0x" + "ab".repeat(20);

const job: JobRecord = {
  format: "shafaf-job/1",
  jobId: "job-1",
  state: "prepared",
  kind: "premium",
  period: "1403-07",
  root: "0x" + "01".repeat(32),
  manifestHash: "0x" + "02".repeat(32),
  idempotencyKey: "k",
  recordCount: 3,
  total: "300",
  supersedes: null,
  reason: null,
  createdAt: "2026-12-06T00:00:00.000Z",
};

/** A mirror folder holding only chain.json, listed in mirror.json. */
async function writeMirror(dir: string, chain: { chainId: number; contract: string }) {
  const bytes = Buffer.from(JSON.stringify({ ...chain, lastIndexedBlock: 1 }));
  await mkdir(path.join(dir, "api/v1"), { recursive: true });
  await writeFile(path.join(dir, "api/v1/chain.json"), bytes);
  const files = [
    {
      path: "api/v1/chain.json",
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
    },
  ];
  await writeFile(
    path.join(dir, "mirror.json"),
    JSON.stringify({ format: "shafaf-mirror/1", files }),
  );
}

async function refusal(p: Promise<unknown>): Promise<PrivateArchiveError> {
  try {
    await p;
  } catch (error) {
    expect(error).to.be.instanceOf(PrivateArchiveError);
    return error as PrivateArchiveError;
  }
  throw new Error("expected a refusal");
}

describe("private archive (shafaf backup / shafaf restore)", function () {
  let work: string;
  let dataDir: string;
  let archive: string;
  let mirror: string;

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-archive-"));
    dataDir = path.join(work, "data");
    archive = path.join(work, "archive");
    mirror = path.join(work, "site");
    const store = await openLedgerStore(dataDir);
    await store.bindChain({ chainId: 31337, contract: CONTRACT });
    await store.putJob(job);
    await store.close();
    await writeMirror(mirror, { chainId: 31337, contract: CONTRACT });
  });
  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  describe("writePrivateArchive", function () {
    it("refuses a plain data directory unless told, writing nothing", async function () {
      const e = await refusal(writePrivateArchive({ dataDir, out: archive, dataKey: undefined }));
      expect(e.code).to.equal("archive.plain");
      expect(e.details).to.include("shafaf data encrypt");
      expect(existsSync(archive)).to.equal(false);
    });

    it("refuses a data directory whose store another process holds open, saying so", async function () {
      const store = await openLedgerStore(dataDir);
      try {
        const e = await refusal(
          writePrivateArchive({ dataDir, out: archive, dataKey: undefined, allowPlain: true }),
        );
        expect(e.code).to.equal("archive.in-use");
        expect(e.details).to.include("wait for shafaf anchor");
      } finally {
        await store.close();
      }
      expect(existsSync(archive)).to.equal(false);
    });

    it("archives it in plain with allowPlain: every record, listed with its SHA-256", async function () {
      const r = await writePrivateArchive({
        dataDir,
        out: archive,
        dataKey: undefined,
        allowPlain: true,
      });
      expect(r).to.deep.include({ sealed: false, batches: 0, records: 2 });
      const records = parseLedgerRecords(
        await readFile(path.join(archive, "ledger-records.jsonl")),
        "archive",
      );
      expect(records.map((x) => x.key)).to.deep.equal(["job!job-1", "meta!chain"]);
      const again = await refusal(
        writePrivateArchive({ dataDir, out: archive, dataKey: undefined, allowPlain: true }),
      );
      expect(again.code).to.equal("archive.not-empty");
    });
  });

  describe("restoreDataDir", function () {
    it("restores the records into a working ledger store", async function () {
      const target = path.join(work, "restored");
      const r = await restoreDataDir({ mirror, archive, dataDir: target, dataKey: undefined });
      expect(r).to.deep.include({ batches: 0, records: 2 });
      const store = await openLedgerStore(target);
      try {
        expect(await store.getJob("job-1")).to.deep.equal(job);
        expect(await store.getChainBinding()).to.deep.equal({ chainId: 31337, contract: CONTRACT });
      } finally {
        await store.close();
      }
    });

    it("refuses an unlisted archive file and a damaged archive.json, by name", async function () {
      const target = path.join(work, "not-restored");
      await writeFile(path.join(archive, "extra.bin"), "x");
      const unlisted = await refusal(
        restoreDataDir({ mirror, archive, dataDir: target, dataKey: undefined }),
      );
      expect(unlisted.code).to.equal("archive.corrupt");
      expect(unlisted.shortMessage).to.include("extra.bin");
      await rm(path.join(archive, "extra.bin"));
      const manifest = await readFile(path.join(archive, "archive.json"), "utf8");
      await writeFile(path.join(archive, "archive.json"), manifest.replace('"format"', '"formt"'));
      const damaged = await refusal(
        restoreDataDir({ mirror, archive, dataDir: target, dataKey: undefined }),
      );
      expect(damaged.code).to.equal("archive.format");
      await writeFile(path.join(archive, "archive.json"), manifest);
      expect(existsSync(target)).to.equal(false);
    });

    it("refuses a mirror of another contract, and a mirror file that does not match mirror.json", async function () {
      const target = path.join(work, "not-restored");
      const other = path.join(work, "other-site");
      await writeMirror(other, { chainId: 31337, contract: "0x" + "cd".repeat(20) });
      const e = await refusal(
        restoreDataDir({ mirror: other, archive, dataDir: target, dataKey: undefined }),
      );
      expect(e.code).to.equal("archive.mirror-mismatch");
      expect(e.shortMessage).to.include("0x" + "cd".repeat(20));
      await writeFile(path.join(other, "api/v1/chain.json"), "{}");
      const damaged = await refusal(
        restoreDataDir({ mirror: other, archive, dataDir: target, dataKey: undefined }),
      );
      expect(damaged.code).to.equal("archive.mirror-corrupt");
      expect(damaged.shortMessage).to.include("api/v1/chain.json");
      expect(existsSync(target)).to.equal(false);
      expect(existsSync(`${target}.restoring`)).to.equal(false);
    });
  });
});
