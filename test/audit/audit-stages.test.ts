/**
 * The stages of an audit (`src/audit/audit-batch.ts` drives them): read the reference and the
 * export, recompute, compare (batch and record level), anomalies' context, report bytes.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { previousPeriod } from "../../src/audit/audit-history.ts";
import { buildReport, writeReport } from "../../src/audit/audit-batch.ts";
import {
  compareManifestFields,
  compareProvinces,
  compareReference,
} from "../../src/audit/compare-batch.ts";
import { compareRecords, sortMismatches } from "../../src/audit/compare-records.ts";
import { DEFAULT_ANOMALY_SETTINGS } from "../../src/audit/find-anomalies.ts";
import type { AnchoredBatch } from "../../src/audit/read-anchored-batch.ts";
import { readAuditedExport, readSalts } from "../../src/audit/read-audited-export.ts";
import { readReference, type Reference } from "../../src/audit/read-reference.ts";
import { recomputeBatch } from "../../src/audit/recompute-batch.ts";
import { createBatchAccumulator } from "../../src/core/batch-accumulator.ts";
import { keccak256 } from "../../src/core/keccak.ts";
import { bytesToHex } from "../../src/core/hex.ts";
import { DEFAULT_RATE_TABLE } from "../../src/core/rates.ts";
import { hex32, opening, pension, premium, writeArtifact } from "./batch-fixture.ts";

const anchoredOf = (reference: Reference): AnchoredBatch => {
  const d = reference.descriptor;
  return {
    source: "artifact",
    chainId: null,
    contract: null,
    batchId: 1,
    kind: d.kind,
    period: d.period,
    root: d.root,
    recordCount: d.recordCount,
    total: BigInt(d.total),
    manifestHash: d.manifestHash,
    supersedes: null,
    supersededBy: null,
    confirmations: null,
    disputes: null,
  };
};

describe("audit stages", function () {
  let tmp: string;
  beforeEach(async function () {
    tmp = await mkdtemp(path.join(tmpdir(), "shafaf-audit-stages-"));
  });
  afterEach(async function () {
    await rm(tmp, { recursive: true, force: true });
  });

  /** Reads `dir` as reference and as export, the way `auditBatch` does. */
  async function readBoth(dir: string) {
    const reference = await readReference(dir);
    const anchored = anchoredOf(reference);
    const checks = compareReference(reference, anchored);
    const exported = await readAuditedExport(
      { type: "batch-artifact", dir },
      { kind: anchored.kind, period: anchored.period, rates: DEFAULT_RATE_TABLE, reference },
    );
    return { reference, anchored, checks, exported };
  }

  async function editLine(dir: string, index: number, edit: (o: Record<string, unknown>) => void) {
    const file = path.join(dir, "records.jsonl");
    const lines = (await readFile(file, "utf8")).trimEnd().split("\n");
    const o = JSON.parse(lines[index]!) as Record<string, unknown>;
    edit(o);
    lines[index] = JSON.stringify(o);
    await writeFile(file, lines.join("\n") + "\n");
  }

  describe("read", function () {
    it("opens every anchored leaf of an honest reference, and the export's records", async function () {
      const dir = await writeArtifact(
        tmp,
        [0, 1, 2].map((i) => premium(i)),
      );
      const { reference, checks, exported } = await readBoth(dir);
      expect(reference.detail).to.equal("records.jsonl opens every anchored leaf");
      expect(reference.lines?.get("S-1")?.index).to.equal(1);
      expect(checks.every((c) => c.ok)).to.equal(true);
      expect(exported.records.map((r) => r.index)).to.deep.equal([0, 1, 2]);
      expect(exported.problems).to.deep.equal([]);
      expect(exported.files.map((f) => f.name)).to.deep.equal(["manifest.json", "records.jsonl"]);
    });

    it("says the reference records are unavailable when records.jsonl no longer matches", async function () {
      const dir = await writeArtifact(
        tmp,
        [0, 1, 2].map((i) => premium(i)),
      );
      await editLine(dir, 1, (o) => void (o.salt = hex32(99)));
      const { reference, exported } = await readBoth(dir);
      expect(reference.lines).to.equal(undefined);
      expect(reference.detail).to.match(/^records unavailable: records.jsonl does not match/);
      expect(exported.problems).to.deep.equal([
        "records.jsonl does not match the sha256 in artifact.json",
      ]);
    });

    it("turns a malformed export line into an 'invalid' mismatch, not an error", async function () {
      const dir = await writeArtifact(
        tmp,
        [0, 1].map((i) => premium(i)),
      );
      await editLine(dir, 0, (o) => void (o.subject = "0x12"));
      const { exported } = await readBoth(dir);
      expect(exported.records).to.have.length(1);
      expect(exported.invalid.map((m) => [m.problem, m.recordId, m.source])).to.deep.equal([
        ["invalid", "S-0", "records.jsonl:1"],
      ]);
    });

    it("refuses a salts file that gives one record two salts, naming the line", async function () {
      const file = path.join(tmp, "salts.jsonl");
      const line = JSON.stringify({ recordId: "S-1", ...opening(1) });
      await writeFile(file, `${line}\n${line}\n`);
      let caught: unknown;
      await readSalts(file).catch((e: unknown) => (caught = e));
      expect(caught).to.have.property("code", "audit.salts.duplicate");
      expect((caught as Error).message).to.contain("salts.jsonl:2");
    });
  });

  describe("recompute", function () {
    it("recomputes the anchored root and manifest hash, with the pipeline's fold", async function () {
      const records = Array.from({ length: 7 }, (_, i) => pension(i));
      const dir = await writeArtifact(tmp, records);
      const { reference, anchored, exported } = await readBoth(dir);
      const r = recomputeBatch({ anchored, reference, exported, rulesVersion: "x" });
      expect(r.tree?.root).to.equal(anchored.root);
      expect(r.rebuilt.hash).to.equal(anchored.manifestHash);
      // The same records.jsonl bytes as the reference's: its leaf hashes are reused, not rehashed.
      expect(r.hashes).to.equal(reference.leafHashes);
      const acc = createBatchAccumulator();
      records.forEach((rec, i) => acc.add(rec, opening(i).subject));
      expect(r.figures).to.deep.equal(acc.figures());
    });
  });

  describe("compare", function () {
    it("sets the reference's records unavailable when its tree is not the anchored tree", async function () {
      const dir = await writeArtifact(
        tmp,
        [0, 1].map((i) => premium(i)),
      );
      const reference = await readReference(dir);
      const anchored = { ...anchoredOf(reference), root: hex32(1) };
      const checks = compareReference(reference, anchored);
      expect(checks.map((c) => [c.name, c.ok])).to.deep.equal([
        ["reference-root", false],
        ["reference-manifest", true],
      ]);
      expect(reference.lines).to.equal(undefined);
      expect(compareRecords(reference, anchored.root, [], () => "")).to.deep.equal([]);
    });

    it("names a changed amount, missing records, and a salt and subject taken from another record", async function () {
      const dir = await writeArtifact(
        tmp,
        [0, 1, 2, 3].map((i) => premium(i)),
      );
      const reference = await readReference(dir);
      const exportDir = await writeArtifact(path.join(tmp, "export"), [
        premium(0),
        premium(0),
        premium(2, { total: 1n }),
      ]);
      const { exported } = await readBoth(exportDir);
      const anchored = anchoredOf(reference);
      const r = recomputeBatch({ anchored, reference, exported, rulesVersion: "x" });
      const found = sortMismatches(
        compareRecords(reference, anchored.root, exported.records, r.leafOf),
      ).map((m) => [m.problem, m.recordId, m.field]);
      // Export line 2 carries record 0 with record 1's salt and subject; line 3 record 2 edited
      // and opened with record 2's salt: the field is named.
      expect(found).to.deep.equal([
        ["changed", "S-0", "salt"],
        ["changed", "S-0", "subject"],
        ["missing", "S-1", null],
        ["changed", "S-2", "total"],
        ["missing", "S-3", null],
      ]);
    });

    it("calls a record given twice a duplicate of its anchored leaf", async function () {
      const dir = await writeArtifact(
        tmp,
        [0, 1].map((i) => premium(i)),
      );
      const { reference, anchored, exported } = await readBoth(dir);
      const twice = { ...exported, records: [...exported.records, exported.records[1]!] };
      const r = recomputeBatch({ anchored, reference, exported: twice, rulesVersion: "x" });
      const found = compareRecords(reference, anchored.root, twice.records, r.leafOf);
      expect(found.map((m) => [m.problem, m.recordId, m.anchoredIndex])).to.deep.equal([
        ["duplicate", "S-1", 1],
      ]);
    });

    it("compares provinces cell by cell, and lists the manifest fields that differ", async function () {
      const dir = await writeArtifact(
        tmp,
        [0, 1, 2].map((i) => premium(i)),
      );
      const { reference, anchored, exported } = await readBoth(dir);
      const honest = recomputeBatch({ anchored, reference, exported, rulesVersion: "x" });
      expect(
        compareProvinces(anchored, reference, honest).map((c) => [c.name, c.ok]),
      ).to.deep.equal([
        ["province IR-10", true],
        ["province IR-23", true],
      ]);
      const fewer = { ...exported, records: exported.records.slice(0, 2) };
      const r = recomputeBatch({ anchored, reference, exported: fewer, rulesVersion: "x" });
      const cells = compareProvinces(anchored, reference, r);
      expect(cells.find((c) => c.name === "province IR-23")).to.include({
        ok: false,
        recomputed: `1 records, ${premium(0).total} Rials`,
      });
      const fields = compareManifestFields(anchored, reference.manifest, r).map((c) => c.name);
      expect(fields).to.include.members([
        "manifest.byProvince",
        "manifest.recordCount",
        "manifest.total",
      ]);
      expect(compareManifestFields(anchored, reference.manifest, honest)).to.deep.equal([]);
    });

    it("orders mismatches by record id (none last), problem, field, source, then index", function () {
      const m = (
        recordId: string | null,
        problem: "changed" | "missing",
        field: string | null,
      ) => ({
        problem,
        recordId,
        anchoredIndex: null,
        source: null,
        field,
        anchored: null,
        recomputed: null,
        detail: "",
      });
      const sorted = sortMismatches([
        m(null, "missing", null),
        m("B", "changed", "total"),
        m("A", "missing", null),
        m("B", "changed", "days"),
      ]);
      expect(sorted.map((x) => [x.recordId, x.field])).to.deep.equal([
        ["A", null],
        ["B", "days"],
        ["B", "total"],
        [null, null],
      ]);
    });
  });

  describe("anomalies and report", function () {
    it("takes the month before, across a year", function () {
      expect(previousPeriod("1403-01")).to.equal("1402-12");
      expect(previousPeriod("1403-10")).to.equal("1403-09");
    });

    it("writes the report as 2-space JSON with a newline, its keccak256 and a page that names it", async function () {
      const dir = await writeArtifact(
        tmp,
        [0, 1].map((i) => premium(i)),
      );
      const { reference, anchored, checks, exported } = await readBoth(dir);
      const recomputed = recomputeBatch({ anchored, reference, exported, rulesVersion: "x" });
      const report = buildReport({
        params: { batchId: 1, audited: { type: "batch-artifact", dir } },
        settings: DEFAULT_ANOMALY_SETTINGS,
        anchored,
        reference,
        exported,
        recomputed,
        checks,
        mismatches: [],
        found: { anomalies: [], checks: [], pensionsOnTime: null },
      });
      expect(report.verdict).to.equal("match");
      const broken = buildReport({
        params: { batchId: 1, audited: { type: "batch-artifact", dir } },
        settings: DEFAULT_ANOMALY_SETTINGS,
        anchored: { ...anchored, total: 1n },
        reference,
        exported,
        recomputed,
        checks: [
          ...checks,
          { name: "total", ok: false, anchored: "1", recomputed: "2", detail: "" },
        ],
        mismatches: [],
        found: { anomalies: [], checks: [], pensionsOnTime: null },
      });
      expect(broken.verdict).to.equal("mismatch");
      const out = writeReport(report);
      const text = new TextDecoder().decode(out.json);
      expect(text).to.equal(JSON.stringify(report, null, 2) + "\n");
      expect(out.reportHash).to.equal(bytesToHex(keccak256(out.json)));
      expect(new TextDecoder().decode(out.html)).to.contain(out.reportHash);
    });
  });
});
