/**
 * The locator tables staged on a second thread while the records are read
 * (src/anchor/locator-stager.ts): the same bytes as the tables the locator pass writes from the
 * artifact afterwards, renamed into place by it; a failing worker rejects the writer with a
 * `store.locators.worker` error and leaves no artifact folder; at most two chunks in flight.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { createLocatorStager, LocatorStagerError } from "../../src/anchor/locator-stager.ts";
import { createBatchArtifactWriter, readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { locatorRole, writeBatchLocators } from "../../src/store/batch-locators.ts";
import { LOCATOR_FILES } from "../../src/store/locator-table.ts";
import { dataKeyOf, readPrivateFile } from "../../src/store/private-store.ts";
import { pipelineBatch, writeSyntheticPremiumCsv } from "../audit/synthetic-batch.ts";

describe("locator stager (the locator tables on a second thread)", function () {
  this.timeout(120_000);
  let work: string;
  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-locator-stager-"));
  });
  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  const tables = async (dir: string): Promise<Buffer[]> =>
    Promise.all(Object.values(LOCATOR_FILES).map((f) => readFile(path.join(dir, f))));

  it("stages the same table bytes as the locator pass writes from the artifact, and the pass renames them into place", async function () {
    const csv = path.join(work, "a.csv");
    await writeSyntheticPremiumCsv(csv, 2_500);
    const { dir, locators } = await pipelineBatch({ csv, dataDir: path.join(work, "a") });
    expect(locators).not.to.equal(undefined);
    const staged = await Promise.all(
      [locators!["receipt-code"], locators!.subject].map((n) => readFile(path.join(dir!, n))),
    );
    const artifact = (await readBatchArtifact(dir!))!;
    const ids: string[] = [];
    await writeBatchLocators(
      artifact,
      undefined,
      async (records) => {
        for (const r of records) ids.push(r.recordId);
        return Promise.resolve();
      },
      locators,
    );
    expect(ids).to.have.length(2_500); // the record ids still go to the caller, in line order
    expect(ids[0]).to.equal("P-0");
    expect(await tables(dir!)).to.deep.equal(staged);
    expect((await readdir(dir!)).filter((n) => n.endsWith(".tmp"))).to.deep.equal([]);
    // The same tables from the artifact alone (a resumed job).
    for (const f of Object.values(LOCATOR_FILES)) await rm(path.join(dir!, f));
    await writeBatchLocators(artifact, undefined);
    expect(await tables(dir!)).to.deep.equal(staged);
  });

  it("seals the staged tables with the data key for their roles: the plain tables' bytes inside", async function () {
    const key = dataKeyOf(new Uint8Array(32).fill(5));
    const jobId = "ab".repeat(16);
    const dirs = [path.join(work, "sealed"), path.join(work, "plain")];
    for (const d of dirs) await mkdir(d);
    const sealed = await createLocatorStager({ dir: dirs[0]!, jobId, dataKey: key, chunk: 3 });
    const plain = await createLocatorStager({ dir: dirs[1]!, jobId, dataKey: undefined, chunk: 5 });
    for (let i = 0; i < 10; i++)
      for (const s of [sealed, plain]) await s.add(`CODE-${i}`, `0x${String(i % 4).repeat(64)}`);
    const [a, b] = [await sealed.finish(), await plain.finish()];
    for (const kind of ["receipt-code", "subject"] as const) {
      const opened = await readPrivateFile(
        path.join(dirs[0]!, a[kind]),
        locatorRole(jobId, kind),
        key,
        { allowPlain: false },
      );
      const want = await readFile(path.join(dirs[1]!, b[kind]));
      expect(Buffer.from(opened).equals(want), kind).to.equal(true);
      expect((await readFile(path.join(dirs[0]!, a[kind]))).equals(want)).to.equal(false);
    }
  });

  it("rejects with store.locators.worker when the worker fails, and the writer leaves nothing", async function () {
    const batches = path.join(work, "failing");
    const jobId = "cd".repeat(16);
    const writer = await createBatchArtifactWriter(batches, jobId, {
      // A folder that does not exist: the worker cannot write its tables.
      lines: () =>
        createLocatorStager({ dir: path.join(work, "missing"), jobId, dataKey: undefined }),
    });
    for (let i = 0; i < 3; i++)
      await writer.append({
        index: i,
        code: `C-${i}`,
        salt: "0x00",
        subject: "0x" + "1".repeat(64),
        source: { file: "x.csv", line: i + 2 },
        record: { recordId: `R-${i}` },
      });
    let thrown: unknown;
    try {
      await writer.commit({
        manifestBytes: new Uint8Array(2),
        tree: new Uint8Array(0),
        descriptor: {
          kind: "premium",
          period: "1403-07",
          recordCount: 3,
          total: "0",
          root: "0x00",
          manifestHash: "0x00",
          idempotencyKey: "0x00",
          supersedes: null,
          reason: null,
          createdAt: "2026-01-01T00:00:00.000Z",
        },
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(LocatorStagerError);
    expect((thrown as LocatorStagerError).code).to.equal("store.locators.worker");
    await writer.abort();
    expect(await readdir(batches)).to.deep.equal([]);
    expect(existsSync(path.join(batches, jobId))).to.equal(false);
  });

  it("makes the writer wait once two chunks are in flight", async function () {
    const stager = await createLocatorStager({
      dir: work,
      jobId: "ef".repeat(16),
      dataKey: undefined,
      chunk: 1,
    });
    try {
      expect(stager.add("A", "0x" + "1".repeat(64))).to.equal(undefined);
      expect(stager.add("B", "0x" + "2".repeat(64))).to.equal(undefined);
      const third = stager.add("C", "0x" + "3".repeat(64));
      expect(third).to.be.instanceOf(Promise);
      await third;
      const names = await stager.finish();
      const receipts = await readFile(path.join(work, names["receipt-code"]));
      expect(receipts.subarray(0, 8).toString("latin1")).to.equal("SHAFAFLC");
    } finally {
      await stager.abort();
    }
  });
});
