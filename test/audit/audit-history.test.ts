/**
 * The audit's history, read for the corrections' targets only (audit-history.ts): on real
 * artifacts written by the anchor pipeline in temp data directories, the correction-target and
 * jump findings are those the whole-history Map and the previous period's records gave, the
 * audited batch is no part of its own history (not even a copy of it elsewhere), the CLI's
 * `--data-dir` and `--previous` give the same, and the pass keeps the targets' periods only
 * (what it keeps does not grow with the history; keys.bin is not read; sealed history opens).
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { auditBatch } from "../../src/audit/audit-batch.ts";
import {
  listHistory,
  resolveTargets,
  type HistoryPassStats,
} from "../../src/audit/audit-history.ts";
import {
  DEFAULT_ANOMALY_SETTINGS,
  findAnomalies,
  type Anomaly,
  type AnomalyRecord,
} from "../../src/audit/find-anomalies.ts";
import { command as auditCommand } from "../../src/cli/commands/audit.ts";
import { recordFromJson } from "../../src/core/receipt.ts";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { dataKeyOf } from "../../src/store/private-store.ts";
import { sealDataDirectory } from "../../src/store/seal-data-dir.ts";
import {
  PENSION_COLUMNS,
  PREMIUM_COLUMNS,
  pensionRows,
  premiumRows,
  toCsv,
  type Row,
} from "../anchor/helpers.ts";
import { runCommand } from "./helpers.ts";
import { pipelineBatch, writeSyntheticPremiumCsv } from "./synthetic-batch.ts";

const COLUMNS = [...PREMIUM_COLUMNS, "supersedes", "reason"];
const A = "1000000001";
const B = "1000000002";

/** The records (with their subjects) of an artifact, read whole: the old stages' input. */
async function recordsOf(dir: string): Promise<AnomalyRecord[]> {
  const a = (await readBatchArtifact(dir))!;
  const out: AnomalyRecord[] = [];
  for await (const line of a.records())
    out.push({ record: recordFromJson(line.record)!, subject: line.subject });
  return out;
}

/** Record id → periods over whole artifacts, as `readHistory` built it before (every record id). */
async function wholeHistory(dirs: readonly string[]): Promise<Map<string, string[]>> {
  const ids = new Map<string, string[]>();
  for (const dir of dirs) {
    const a = (await readBatchArtifact(dir))!;
    if (a.descriptor.kind !== "premium") continue;
    for await (const line of a.records()) {
      const id = String(line.record.recordId);
      const periods = ids.get(id) ?? [];
      if (!periods.includes(a.descriptor.period)) periods.push(a.descriptor.period);
      ids.set(id, periods);
    }
  }
  return ids;
}

const of = (anomalies: readonly Anomaly[], ...checks: string[]): Anomaly[] =>
  anomalies.filter((a) => checks.includes(a.check));

describe("the audit's history: correction targets and the previous period, streamed", function () {
  this.timeout(120_000);
  let work: string;
  let dataDir: string;
  let batches: string;
  /** 1403-05: 10 workers in workshop A. */
  let may: string;
  /** 1403-06: 40 records J-0…J-39. */
  let june: string;
  /** 1403-06, pension: N-0…N-9 (another kind: not history for a premium batch). */
  let pensions: string;
  /** 1403-06, audited: corrections X-0…. */
  let fix: string;

  const batch = async (
    name: string,
    rows: Row[],
    kind: "premium" | "pension" = "premium",
  ): Promise<string> => {
    const csv = path.join(work, `${name}.csv`);
    await writeFile(csv, toCsv(kind === "premium" ? COLUMNS : PENSION_COLUMNS, rows));
    const { dir } = await pipelineBatch({ csv, dataDir, kind, period: rows[0]!.period! });
    return dir!;
  };

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-audit-history-"));
    dataDir = path.join(work, "data");
    batches = path.join(dataDir, "batches");
    const mayRows = premiumRows(10, { period: "1403-05", prefix: "M" });
    for (const r of mayRows) r.workshop_code = A;
    may = await batch("may", mayRows);
    june = await batch("june", premiumRows(40, { period: "1403-06", prefix: "J" }));
    pensions = await batch("pensions", pensionRows(10, { period: "1403-06" }), "pension");
    const fixRows = premiumRows(8, { period: "1403-06", prefix: "X", start: 100 });
    fixRows.forEach((r, i) => {
      r.record_id = `X-${i}`;
      r.workshop_code = i < 4 ? A : B;
    });
    const targets = ["J-3", "M-2", "NOPE-1", "X-4", "J-7", "N-5"];
    targets.forEach((t, i) => {
      fixRows[i]!.supersedes = t;
      fixRows[i]!.reason = "wage-correction";
    });
    fix = await batch("fix", fixRows);
  });

  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  const auditFix = (options: { historyDirs?: string[]; previousDir?: string } = {}) =>
    auditBatch({ batchId: 1, audited: { type: "batch-artifact", dir: fix }, ...options });

  it("reports corrections found, unknown or of another period as the whole history did, without the audited batch", async function () {
    const r = await auditFix({ historyDirs: [batches] });
    expect(r.report.verdict).to.equal("match");
    const found = of(r.report.anomalies, "correction-target");
    expect(found.map((a) => [a.recordIds[0], a.expected, a.found])).to.deep.equal([
      ["X-1", "1403-06", "1403-05"], // M-2: anchored for another period
      ["X-2", "a record anchored earlier", "NOPE-1"], // anchored nowhere
      ["X-3", "a record anchored earlier", "X-4"], // a record of the audited batch itself
      ["X-5", "a record anchored earlier", "N-5"], // a pension record: not a premium batch's
    ]);
    expect(r.report.anomalyChecks.find((c) => c.check === "correction-target")).to.deep.include({
      status: "run",
      found: 4,
    });
    // The same findings as the whole history Map of every earlier artifact (the old reading),
    // whose only difference was the audited batch's own records.
    const old = findAnomalies({
      kind: "premium",
      period: "1403-06",
      records: await recordsOf(fix),
      history: await wholeHistory([may, june, pensions]),
      settings: DEFAULT_ANOMALY_SETTINGS,
    });
    expect(found).to.deep.equal(of(old.anomalies, "correction-target"));
    // The old reading counted the audited batch in its own history: X-3's target was "found".
    const withOwn = findAnomalies({
      kind: "premium",
      period: "1403-06",
      records: await recordsOf(fix),
      history: await wholeHistory([may, june, pensions, fix]),
      settings: DEFAULT_ANOMALY_SETTINGS,
    });
    expect(of(withOwn.anomalies, "correction-target").map((a) => a.recordIds[0])).to.not.include(
      "X-3",
    );
  });

  it("leaves out a copy of the audited batch kept in another history folder (same root)", async function () {
    const elsewhere = path.join(work, "elsewhere");
    await mkdir(elsewhere);
    await cp(fix, path.join(elsewhere, path.basename(fix)), { recursive: true });
    const r = await auditFix({ historyDirs: [batches, elsewhere] });
    expect(
      of(r.report.anomalies, "correction-target").map((a) => [a.recordIds[0], a.found]),
    ).to.deep.include(["X-3", "X-4"]);
    const listed = await listHistory([batches, elsewhere], {
      dirs: [fix],
      kind: "premium",
      root: r.report.anchored.root,
    });
    expect(listed.map((a) => a.dir).sort()).to.deep.equal([june, may, pensions].sort());
  });

  it("finds the same headcount and wage-base jumps as the previous period's records did", async function () {
    const r = await auditFix({ historyDirs: [batches] });
    const jumps = of(r.report.anomalies, "headcount-jump", "wage-base-jump");
    expect(jumps.map((a) => [a.check, a.subject, a.expected, a.found])).to.deep.include([
      "headcount-jump",
      `workshop ${A}`,
      "within 50% of 10 (1403-05)",
      "4",
    ]);
    const old = findAnomalies({
      kind: "premium",
      period: "1403-06",
      records: await recordsOf(fix),
      previous: {
        period: "1403-05",
        records: (await recordsOf(may)).map((x) => x.record),
      },
      settings: DEFAULT_ANOMALY_SETTINGS,
    });
    expect(jumps).to.deep.equal(of(old.anomalies, "headcount-jump", "wage-base-jump"));
    // --previous names the same artifact: the same report, byte for byte.
    const named = await auditFix({ previousDir: may });
    expect(of(named.report.anomalies, "headcount-jump", "wage-base-jump")).to.deep.equal(jumps);
    // Without history the correction check is skipped, as before.
    expect(
      named.report.anomalyChecks.find((c) => c.check === "correction-target")!.status,
    ).to.equal("skipped");
  });

  it("gives the same report through `shafaf audit --data-dir` as through --history", async function () {
    const viaApi = await auditFix({ historyDirs: [batches] });
    const cli = await runCommand(auditCommand, [
      fix,
      "--batch",
      "1",
      "--data-dir",
      dataDir,
      "--json",
    ]);
    expect(cli.code, cli.stderr).to.equal(0);
    expect(cli.stdout).to.equal(new TextDecoder().decode(viaApi.json));
  });

  describe("the history pass keeps the targets, not the history", function () {
    let small: string;
    let large: string;
    const targets = new Set(["P-5", "P-150", "NOPE"]);

    before(async function () {
      for (const [name, rows] of [
        ["small", 200],
        ["large", 2_000],
      ] as const) {
        const csv = path.join(work, `${name}.csv`);
        await writeSyntheticPremiumCsv(csv, rows);
        const { dir } = await pipelineBatch({ csv, dataDir: path.join(work, name) });
        if (name === "small") small = dir!;
        else large = dir!;
      }
    });

    const pass = async (dirs: string[], t: ReadonlySet<string> = targets, key?: Uint8Array) => {
      const stats: HistoryPassStats = { artifactsRead: 0, linesRead: 0, kept: 0 };
      const where = await resolveTargets(
        await listHistory(dirs),
        "premium",
        t,
        key === undefined ? undefined : dataKeyOf(key),
        stats,
      );
      return { where, stats };
    };

    it("keeps as much for a history ten times larger: the targets' periods only", async function () {
      const s = await pass([small]);
      const l = await pass([large]);
      expect(s.stats).to.deep.equal({ artifactsRead: 1, linesRead: 200, kept: 2 });
      expect(l.stats).to.deep.equal({ artifactsRead: 1, linesRead: 2_000, kept: 2 });
      for (const { where } of [s, l])
        expect([...where]).to.deep.equal([
          ["P-5", ["1403-07"]],
          ["P-150", ["1403-07"]],
        ]);
    });

    it("reads nothing when no record is a correction", async function () {
      const none = await pass([small, large], new Set());
      expect(none.stats).to.deep.equal({ artifactsRead: 0, linesRead: 0, kept: 0 });
      expect(none.where.size).to.equal(0);
    });

    it("does not read keys.bin (32 bytes per record), and checks records.jsonl as it reads it", async function () {
      const copy = path.join(work, "no-keys");
      await cp(large, copy, { recursive: true });
      await rm(path.join(copy, "keys.bin"));
      expect([...(await pass([copy])).where.keys()]).to.deep.equal(["P-5", "P-150"]);
      await writeFile(path.join(copy, "records.jsonl"), "{}\n");
      let failure: unknown;
      await pass([copy]).catch((e: unknown) => (failure = e));
      expect((failure as Error | undefined)?.message).to.match(/records\.jsonl/);
    });

    it("opens sealed history in place with the data key, to the same answer", async function () {
      const key = new Uint8Array(randomBytes(32));
      const sealedDir = path.join(work, "large-sealed");
      await cp(path.join(work, "large"), sealedDir, { recursive: true });
      await sealDataDirectory(sealedDir, dataKeyOf(key));
      const sealed = await pass([path.join(sealedDir, "batches")], targets, key);
      expect(sealed.stats).to.deep.equal({ artifactsRead: 1, linesRead: 2_000, kept: 2 });
      expect([...sealed.where.keys()]).to.deep.equal(["P-5", "P-150"]);
    });
  });
});
