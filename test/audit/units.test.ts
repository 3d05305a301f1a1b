/**
 * The audit's pure parts: every corruption vector of the core through `shafaf verify --root`,
 * each anomaly check on hand-made records, and the report's bytes frozen in golden files
 * (regenerate with UPDATE_GOLDEN=1 after an intended change, and review the diff).
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { auditBatch } from "../../src/audit/audit-batch.ts";
import {
  DEFAULT_ANOMALY_SETTINGS,
  findAnomalies,
  percentString,
} from "../../src/audit/find-anomalies.ts";
import { command as verifyCommand } from "../../src/cli/commands/verify.ts";
import type { LedgerRecord, PensionRecord, PremiumRecord } from "../../src/core/record.ts";
import { nationalIdFor } from "../anchor/helpers.ts";
import { premium as fixturePremium, writeArtifact } from "./batch-fixture.ts";
import { runCommand } from "./helpers.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const GOLDEN = path.join(ROOT, "test/golden/audit");
const hex32 = (n: number): `0x${string}` => `0x${n.toString(16).padStart(64, "0")}`;

/** The fixture's premium record `i`, under the golden's record ids. */
const premium = (i: number, over: Partial<PremiumRecord> = {}): PremiumRecord =>
  fixturePremium(i, { recordId: `G-${i}`, ...over });

function pension(i: number, over: Partial<PensionRecord> = {}): PensionRecord {
  return {
    kind: "pension",
    recordId: `N-${i}`,
    period: "1403-07",
    nationalId: nationalIdFor(500 + i),
    pensionFile: String(700_000 + i),
    category: "retirement",
    province: "IR-23",
    gross: 150_000_000n,
    deductions: 5_000_000n,
    net: 145_000_000n,
    dueOn: "1403-07-01",
    paidOn: "1403-07-03",
    ...over,
  };
}

const anomalyInput = (records: LedgerRecord[]) => ({
  kind: records[0]!.kind,
  period: "1403-07",
  records: records.map((record, i) => ({ record, subject: hex32(1000 + i) })),
  settings: DEFAULT_ANOMALY_SETTINGS,
});

describe("audit units", function () {
  describe("shafaf verify --root on the core's corruption vectors (test/vectors/receipts-1.json)", function () {
    it("verifies the valid ones and fails every corruption with the expected checks", async function () {
      this.timeout(60_000);
      const vectors = JSON.parse(
        await readFile(path.join(ROOT, "test/vectors/receipts-1.json"), "utf8"),
      ) as {
        cases: {
          name: string;
          receipt: unknown;
          trust: { root: string; chainId: number; contract: string };
          expect: { status: string; failedChecks: string[] };
        }[];
      };
      expect(vectors.cases.length).to.be.greaterThan(10);
      const tmp = await mkdtemp(path.join(tmpdir(), "shafaf-vectors-"));
      try {
        for (const c of vectors.cases) {
          const file = path.join(tmp, "r.json");
          await writeFile(file, JSON.stringify(c.receipt));
          const r = await runCommand(verifyCommand, [
            file,
            "--root",
            c.trust.root,
            "--chain-id",
            String(c.trust.chainId),
            "--contract",
            c.trust.contract,
            "--json",
          ]);
          const out = JSON.parse(r.stdout) as {
            status: string;
            checks: { name: string; outcome: string }[];
          };
          expect(out.status, c.name).to.equal(c.expect.status);
          expect(r.code, c.name).to.equal(
            { verified: 0, failed: 1, inconclusive: 2 }[c.expect.status],
          );
          expect(
            out.checks.filter((k) => k.outcome === "fail").map((k) => k.name),
            c.name,
          ).to.have.members(c.expect.failedChecks);
        }
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });

    it("exits 64 on usage errors and 1 on a file that is not a receipt", async function () {
      expect((await runCommand(verifyCommand, [])).code).to.equal(64);
      expect((await runCommand(verifyCommand, ["x.json"])).code).to.equal(64);
      expect(
        (await runCommand(verifyCommand, ["NOT-A-CODE", "--rpc", "http://127.0.0.1:9"])).code,
      ).to.equal(64);
      expect(
        (
          await runCommand(verifyCommand, [
            "r.json",
            "--root",
            hex32(1),
            "--rpc",
            "http://127.0.0.1:9",
          ])
        ).code,
      ).to.equal(64);
      const tmp = await mkdtemp(path.join(tmpdir(), "shafaf-vectors-"));
      try {
        await writeFile(path.join(tmp, "r.json"), "{not json");
        const r = await runCommand(verifyCommand, [path.join(tmp, "r.json"), "--root", hex32(1)]);
        expect(r.code).to.equal(1);
        expect(r.stdout).to.include("not JSON");
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  });

  describe("findAnomalies", function () {
    it("reports shares that are not the statutory rates, naming the field", function () {
      const bad = premium(1, {
        employerShare: premium(1).employerShare + 1n,
        total: premium(1).total + 1n,
      });
      const r = findAnomalies(anomalyInput([premium(0), bad]));
      const found = r.anomalies.filter((a) => a.check === "statutory-rates");
      expect(found.map((a) => [a.recordIds[0], a.field])).to.deep.equal([
        ["G-1", "employer_share"],
        ["G-1", "total"],
      ]);
      expect(found[0]!.expected).to.equal(premium(1).employerShare.toString());
    });

    it("reports corrections that point at unknown records or at another period", function () {
      const records = [
        premium(0, { supersedes: "OLD-1", reason: "fix" }),
        premium(1, { supersedes: "OLD-2", reason: "fix" }),
        premium(2, { supersedes: "OLD-3", reason: "fix" }),
      ];
      const history = new Map([
        ["OLD-2", ["1403-06"]],
        ["OLD-3", ["1403-07"]],
      ]);
      const r = findAnomalies({ ...anomalyInput(records), history });
      expect(r.anomalies.map((a) => [a.recordIds[0], a.found])).to.deep.equal([
        ["G-0", "OLD-1"],
        ["G-1", "1403-06"],
      ]);
      const skipped = findAnomalies(anomalyInput(records)).checks.find(
        (c) => c.check === "correction-target",
      )!;
      expect(skipped.status).to.equal("skipped");
    });

    it("reports late pensions with the on-time rate, and honours --late-days", function () {
      const records = [
        pension(0),
        pension(1, { paidOn: "1403-07-09" }),
        pension(2, { paidOn: "1403-08-01" }),
        pension(3),
      ];
      const r = findAnomalies(anomalyInput(records));
      expect(r.pensionsOnTime).to.deep.equal({ onTime: 2, late: 2, rate: "50.00%" });
      const lenient = findAnomalies({
        ...anomalyInput(records),
        settings: { ...DEFAULT_ANOMALY_SETTINGS, lateDays: 8 },
      });
      expect(lenient.pensionsOnTime).to.deep.equal({ onTime: 3, late: 1, rate: "75.00%" });
      expect(percentString(2, 3)).to.equal("66.66%");
    });

    it("reports the same beneficiary twice in one pension file", function () {
      const input = anomalyInput([pension(0), pension(1, { pensionFile: "700000" })]);
      input.records[1]!.subject = input.records[0]!.subject;
      expect(
        findAnomalies(input).anomalies.filter((a) => a.check === "duplicate-person"),
      ).to.have.length(1);
    });

    it("reports DBF header totals that disagree with their rows, without personal data", function () {
      const r = findAnomalies({
        ...anomalyInput([premium(0)]),
        hadDbfInputs: true,
        ingestIssues: [
          {
            source: { file: "/somewhere/lists/w1/DSKKAR00.DBF", record: 1 },
            field: "DSK_TMASH",
            rule: "sso.header-total",
            value: "1*****9",
            message: "DSK_TMASH does not match",
            hint: "",
          },
        ],
      });
      expect(r.anomalies.map((a) => [a.check, a.subject, a.field])).to.deep.equal([
        ["header-totals", "DSKKAR00.DBF", "DSK_TMASH"],
      ]);
    });

    it("reports wage-base jumps above the threshold only for workshops big enough", function () {
      const now = Array.from({ length: 12 }, (_, i) =>
        premium(i, { workshopCode: "1000000009", wageBase: 200_000_000n }),
      );
      const then = Array.from({ length: 12 }, (_, i) =>
        premium(i, { workshopCode: "1000000009", period: "1403-06" }),
      );
      const r = findAnomalies({
        ...anomalyInput(now),
        previous: { period: "1403-06", records: then },
      });
      expect(
        r.anomalies.filter((a) => a.check === "wage-base-jump").map((a) => a.subject),
      ).to.deep.equal(["workshop 1000000009"]);
      expect(r.anomalies.filter((a) => a.check === "headcount-jump")).to.deep.equal([]);
      const high = findAnomalies({
        ...anomalyInput(now),
        previous: { period: "1403-06", records: then },
        settings: { ...DEFAULT_ANOMALY_SETTINGS, jumpThresholdPercent: 200 },
      });
      expect(high.anomalies.filter((a) => a.check === "wage-base-jump")).to.deep.equal([]);
      const small = findAnomalies({
        ...anomalyInput(now.slice(0, 3)),
        previous: { period: "1403-06", records: then.slice(0, 3) },
      });
      expect(small.anomalies.filter((a) => a.check === "wage-base-jump")).to.deep.equal([]);
    });
  });

  describe("the report (golden)", function () {
    /** A deterministic artifact: fixed records, salts, subjects and dates. */
    const goldenArtifact = (batchesDir: string): Promise<string> =>
      writeArtifact(
        batchesDir,
        [0, 1, 2, 3, 4].map((i) => premium(i)),
        { name: "golden", code: "GOLD", file: "golden.csv", rulesVersion: "golden" },
      );

    it("gives the same JSON and HTML bytes as the golden files", async function () {
      const tmp = await mkdtemp(path.join(tmpdir(), "shafaf-golden-"));
      try {
        const dir = await goldenArtifact(tmp);
        const r = await auditBatch({ batchId: 1, audited: { type: "batch-artifact", dir } });
        expect(r.report.verdict).to.equal("match");
        expect(r.report.anchored.source).to.equal("artifact");
        if (process.env.UPDATE_GOLDEN === "1") {
          await writeFile(path.join(GOLDEN, "report-premium.json"), r.json);
          await writeFile(path.join(GOLDEN, "report-premium.html"), r.html);
        }
        expect(new TextDecoder().decode(r.json)).to.equal(
          await readFile(path.join(GOLDEN, "report-premium.json"), "utf8"),
        );
        expect(new TextDecoder().decode(r.html)).to.equal(
          await readFile(path.join(GOLDEN, "report-premium.html"), "utf8"),
        );
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  });
});
