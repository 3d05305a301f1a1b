/**
 * The audit of sealed artifacts (encryption at rest) reads their files in place, with the data
 * key: its report is byte for byte the report of the same artifacts in plain (intact, an export
 * that differs from the sealed reference, with sealed history), and without the key it refuses.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { auditBatch } from "../../src/audit/audit-batch.ts";
import { createHash } from "node:crypto";
import { dataKeyOf, isSealed, PrivateFileError } from "../../src/store/private-store.ts";
import { sealDataDirectory } from "../../src/store/seal-data-dir.ts";
import { pipelineBatch, writeSyntheticPremiumCsv } from "./synthetic-batch.ts";

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe("auditBatch of sealed artifacts", function () {
  this.timeout(120_000);
  const key = dataKeyOf(new Uint8Array(randomBytes(32)));
  let work: string;
  /** Per scheme: the plain artifact and the same artifact sealed (in a sealed copy of its data directory). */
  const batch: Record<1 | 2, { plain: string; sealed: string; sealedBatches: string }> = {
    1: { plain: "", sealed: "", sealedBatches: "" },
    2: { plain: "", sealed: "", sealedBatches: "" },
  };

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-sealed-audit-"));
    const csv = path.join(work, "premiums.csv");
    await writeSyntheticPremiumCsv(csv, 300);
    for (const scheme of [1, 2] as const) {
      const plainDir = path.join(work, `plain-${scheme}`);
      const { dir } = await pipelineBatch({ csv, dataDir: plainDir, scheme });
      const sealedDir = path.join(work, `sealed-${scheme}`);
      await cp(plainDir, sealedDir, { recursive: true });
      await sealDataDirectory(sealedDir, key);
      const sealedBatches = path.join(sealedDir, "batches");
      batch[scheme] = {
        plain: dir!,
        sealed: path.join(sealedBatches, path.basename(dir!)),
        sealedBatches,
      };
      const records = await readFile(path.join(batch[scheme].sealed, "records.jsonl"));
      expect(isSealed(records), "records.jsonl is sealed").to.equal(true);
    }
  });

  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  for (const scheme of [2, 1] as const) {
    it(`writes the plain artifact's report byte for byte, shafaf-tree/${scheme}, with sealed history`, async function () {
      const { plain, sealed, sealedBatches } = batch[scheme];
      const plainReport = await auditBatch({
        batchId: 1,
        audited: { type: "batch-artifact", dir: plain },
        historyDirs: [path.dirname(plain)],
      });
      const sealedReport = await auditBatch({
        batchId: 1,
        audited: { type: "batch-artifact", dir: sealed },
        historyDirs: [sealedBatches],
        dataKey: key,
      });
      expect(plainReport.report.verdict).to.equal("match");
      expect(text(sealedReport.json)).to.equal(text(plainReport.json));
    });

    it(`explains an export that differs from a sealed reference as from the plain one, shafaf-tree/${scheme}`, async function () {
      const { plain, sealed } = batch[scheme];
      const altered = path.join(work, `altered-${scheme}`);
      await cp(plain, altered, { recursive: true });
      // One record dropped from the export: the anchored record is read back from the reference.
      const lines = (await readFile(path.join(altered, "records.jsonl"), "utf8")).split("\n");
      lines.splice(5, 1);
      const records = Buffer.from(lines.join("\n"));
      await writeFile(path.join(altered, "records.jsonl"), records);
      const file = path.join(altered, "artifact.json");
      const d = JSON.parse(await readFile(file, "utf8")) as {
        files: Record<string, { sha256: string; bytes: number }>;
      };
      d.files["records.jsonl"] = {
        sha256: createHash("sha256").update(records).digest("hex"),
        bytes: records.length,
      };
      await writeFile(file, JSON.stringify(d, null, 2) + "\n");
      const audited = { type: "batch-artifact" as const, dir: altered };
      const againstPlain = await auditBatch({ batchId: 1, audited, referenceDir: plain });
      const againstSealed = await auditBatch({
        batchId: 1,
        audited,
        referenceDir: sealed,
        dataKey: key,
      });
      expect(againstPlain.report.mismatches.length).to.be.greaterThan(0);
      expect(text(againstSealed.json)).to.equal(text(againstPlain.json));
    });
  }

  it("refuses a sealed artifact without the data key, and writes no plain copy", async function () {
    const before = await readdir(path.dirname(batch[2].sealed));
    let failure: unknown;
    try {
      await auditBatch({ batchId: 1, audited: { type: "batch-artifact", dir: batch[2].sealed } });
    } catch (error) {
      failure = error;
    }
    expect(failure).to.be.instanceOf(PrivateFileError);
    expect((failure as PrivateFileError).failure).to.equal("no-key");
    expect(await readdir(path.dirname(batch[2].sealed))).to.deep.equal(before);
  });
});
