import { writeFileSync } from "node:fs";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { expect } from "chai";
import type { IngestIssue } from "../../src/ingest/ingest-issue.ts";
import type { RawRow } from "../../src/ingest/raw-row.ts";
import { readSsoLists } from "../../src/ingest/read-sso-list.ts";
import { openInputs } from "../../src/ingest/open-inputs.ts";
import { SSO_LAYOUTS } from "../../src/ingest/sso-list.ts";
import { validateRecord } from "../../src/core/validate-record.ts";
import { decideListCoverage, workerCoverage } from "../../src/core/unemployment-coverage.ts";
import { collect, tempDir, worker, writeRawDbf } from "./helpers.ts";
import { patchNumber, readNumber, threePercent, workforce, writeList } from "./employers-lists.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

async function readAll(dir: string): Promise<{ rows: RawRow[]; issues: IngestIssue[] }> {
  const issues: IngestIssue[] = [];
  const rows = await collect(
    readSsoLists(dir, { province: "IR-23", onIssue: (i) => issues.push(i) }),
  );
  return { rows, issues };
}

const sum = (rows: RawRow[], field: string): bigint =>
  rows.reduce((n, r) => n + BigInt(r.fields[field] ?? "0"), 0n);

describe("real employers' lists (issue #17)", function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    ({ dir, cleanup } = tempDir("shafaf-employers-"));
  });
  afterEach(function () {
    cleanup();
  });

  describe("unemployment coverage per worker", function () {
    it("reads directors and foreign workers left out of DSK_BIC: 0 for them, 3 % for the rest, Rial for Rial", async function () {
      const workers = await writeList(dir, workforce());
      const bic = readNumber(path.join(dir, "DSKKAR00.DBF"), 1, "DSK_BIC");
      const covered = workers.slice(4).reduce((n, w) => n + threePercent(w.insurableBase), 0n);
      expect(bic, "the writer leaves them out as ListDisk does").to.equal(covered);

      const { rows, issues } = await readAll(dir);
      expect(issues).to.deep.equal([]);
      expect(rows.map((r) => r.fields.unemployment_share)).to.deep.equal(
        workers.map((w, i) => (i < 4 ? "0" : threePercent(w.insurableBase).toString())),
      );
      expect(sum(rows, "unemployment_share")).to.equal(bic);
      // every row is a record core accepts, totals included
      for (const r of rows)
        expect(validateRecord("premium", r.fields).ok, r.fields.record_id).to.equal(true);
    });

    it("identifies the two foreign workers without a national code by insurance number + nationality", async function () {
      await writeList(dir, workforce());
      const { rows } = await readAll(dir);
      expect(rows[2]!.fields).to.include({ national_id: "", nationality: "AFG" });
      const r = validateRecord("premium", rows[3]!.fields);
      expect(r.ok && r.record.nationalId).to.equal("insured:20000003:AFG");
      expect(rows[4]!.fields.nationality).to.equal(undefined);
    });

    it("accepts a list that also pays for board members named by title, and says which reading it took", async function () {
      const workers = workforce();
      workers[5] = { ...workers[5]!, jobCode: "112233", jobTitle: "عضو هیات مدیره" };
      const paidFor = [4, 5, 6, 7];
      const bic = paidFor.reduce((n, i) => n + threePercent(workers[i]!.insurableBase), 0n);
      await writeList(dir, workers, { override: { DSK_BIC: bic } });
      const { rows, issues } = await readAll(dir);
      expect(issues).to.deep.equal([]);
      expect(rows[5]!.fields.unemployment_share).to.equal(
        threePercent(workers[5].insurableBase).toString(),
      );
      expect(sum(rows, "unemployment_share")).to.equal(bic);
      const decided = decideListCoverage(
        workers.map((w) => ({ base: w.insurableBase, coverage: workerCoverage(w).coverage })),
        bic,
        1403,
      );
      expect(decided.ok && decided.alternative).to.equal("rules-with-uncertain");
    });

    it("records an employer who paid for everyone as declared, with a finding", async function () {
      const workers = workforce();
      const all = workers.reduce((n, w) => n + threePercent(w.insurableBase), 0n);
      await writeList(dir, workers, { override: { DSK_BIC: all } });
      const { rows, issues } = await readAll(dir);
      expect(issues.map((i) => [i.rule, i.severity])).to.deep.equal([
        ["sso.unemployment-overpaid", "finding"],
      ]);
      expect(sum(rows, "unemployment_share")).to.equal(all);
    });

    it("says so, with the alternatives, when DSK_BIC fits no reading of the list", async function () {
      const workers = workforce();
      await writeList(dir, workers, { override: { DSK_BIC: 12_345n } });
      const { issues } = await readAll(dir);
      expect(issues).to.have.length(1);
      const i = issues[0]!;
      expect(i).to.include({ rule: "sso.unemployment-coverage", field: "DSK_BIC" });
      expect(i.severity).to.equal(undefined);
      expect(i.message).to.include("the workers the coverage rules cover (4)");
      expect(i.message).to.include("every worker (8)");
      expect(i.message).to.include("nobody");
      expect(JSON.stringify(i)).to.not.include("12345");
    });
  });

  describe("a record edited after ListDisk computed the header", function () {
    it("a header total off by a Rial is a finding; the workers' records stand", async function () {
      await writeList(dir, workforce());
      const wor = path.join(dir, "DSKWOR00.DBF");
      patchNumber(wor, 6, "DSW_TOTL", readNumber(wor, 6, "DSW_TOTL") + 1n);
      const { rows, issues } = await readAll(dir);
      expect(rows).to.have.length(8);
      expect(issues.map((i) => [i.rule, i.field, i.severity])).to.deep.equal([
        ["sso.header-total", "DSK_TTOTL", "finding"],
      ]);
    });

    it("an edited insurable base with a worker share 1 Rial off is an error of that record", async function () {
      await writeList(dir, workforce());
      const wor = path.join(dir, "DSKWOR00.DBF");
      const kar = path.join(dir, "DSKKAR00.DBF");
      const mash = readNumber(wor, 6, "DSW_MASH") + 10n;
      patchNumber(wor, 6, "DSW_MASH", mash);
      patchNumber(wor, 6, "DSW_BIME", readNumber(wor, 6, "DSW_BIME") + 2n);
      // header re-summed from the edited values, as the field's list shows
      patchNumber(kar, 1, "DSK_TMASH", readNumber(kar, 1, "DSK_TMASH") + 10n);
      patchNumber(kar, 1, "DSK_TBIME", readNumber(kar, 1, "DSK_TBIME") + 2n);
      const { issues } = await readAll(dir);
      const errors = issues.filter((i) => i.severity === undefined);
      expect(errors.map((i) => [i.rule, i.source.record])).to.deep.equal([
        ["sso.insurable-base", 6],
        ["sso.worker-share", 6],
      ]);
      expect(errors.every((i) => i.source.list === path.basename(dir))).to.equal(true);
    });
  });

  describe("duplicates", function () {
    it("an insurance number twice in one list is reported by the reader", async function () {
      const workers = workforce();
      workers[7] = { ...workers[7]!, insuranceNo: workers[6]!.insuranceNo };
      await writeList(dir, workers);
      const { issues } = await readAll(dir);
      expect(issues.map((i) => [i.rule, i.source.record])).to.deep.equal([
        ["sso.duplicate-insurance-no", 8],
      ]);
    });

    it("shafaf dbf read reports what shafaf anchor would: duplicates and record rules", async function () {
      const workers = workforce();
      workers[7] = { ...workers[7]!, insuranceNo: workers[6]!.insuranceNo };
      workers[4] = { ...workers[4]!, nationalId: "0012345678" };
      await writeList(dir, workers);
      const r = spawnSync(
        process.execPath,
        [
          "--import",
          "tsx",
          path.join(ROOT, "src/cli/main.ts"),
          "dbf",
          "read",
          dir,
          "--province",
          "IR-23",
          "--json",
        ],
        { encoding: "utf8", cwd: ROOT },
      );
      expect(r.status, r.stderr).to.equal(65);
      const out = JSON.parse(r.stdout) as { issues: IngestIssue[] };
      const rules = out.issues.map((i) => i.rule).sort();
      expect(rules).to.deep.equal(
        ["national-id.checksum", "record-id.duplicate", "sso.duplicate-insurance-no"].sort(),
      );
      expect(JSON.stringify(out.issues)).to.not.include("0012345678");
    });
  });

  describe("the wide layout's DSK_TKOSO and DSK_TBIM20", function () {
    function writeWide(tkoso: bigint, tbim20: bigint): bigint {
      const w = worker(5);
      const base = w.insurableBase;
      const employer = (base * 2000n + 5000n) / 10000n;
      writeRawDbf(path.join(dir, "DSKKAR00.DBF"), SSO_LAYOUTS.wide.kar, [
        {
          DSK_ID: "1234567890",
          DSK_YY: "3",
          DSK_MM: "7",
          DSK_LISTNO: "01",
          DSK_NUM: "1",
          DSK_TDD: "31",
          DSK_TROOZ: String(w.dailyWage),
          DSK_TMAH: String(w.monthlyWage),
          DSK_TMAZ: String(w.benefits),
          DSK_TMASH: String(base),
          DSK_TTOTL: String(w.totalPay),
          DSK_TBIME: String(w.workerShare),
          DSK_TKOSO: String(tkoso === -1n ? employer : tkoso),
          DSK_BIC: String(threePercent(base)),
          DSK_BIMH: "0",
          DSK_TBIM20: String(tbim20 === -1n ? employer : tbim20),
        },
      ]);
      writeRawDbf(path.join(dir, "DSKWOR00.DBF"), SSO_LAYOUTS.wide.wor, [
        {
          DSW_ID: "1234567890",
          DSW_YY: "3",
          DSW_MM: "7",
          DSW_LISTNO: "01",
          DSW_ID1: w.insuranceNo,
          DSW_DD: "31",
          DSW_ROOZ: String(w.dailyWage),
          DSW_MAH: String(w.monthlyWage),
          DSW_MAZ: String(w.benefits),
          DSW_MASH: String(base),
          DSW_TOTL: String(w.totalPay),
          DSW_BIME: String(w.workerShare),
          DSW_BIME20: String(tbim20 === 0n ? 0n : employer),
          DSW_KOSO: "0",
          PER_NATCOD: w.nationalId,
          DSW_JOB: "712345",
        },
      ]);
      return employer;
    }

    it("accepts the employer share in DSK_TBIM20 with DSK_TKOSO = 0", async function () {
      const employer = writeWide(0n, -1n);
      const { rows, issues } = await readAll(dir);
      expect(issues).to.deep.equal([]);
      expect(rows[0]!.fields.employer_share).to.equal(employer.toString());
    });

    it("accepts it in both", async function () {
      writeWide(-1n, -1n);
      expect((await readAll(dir)).issues).to.deep.equal([]);
    });

    it("accepts it in DSK_TKOSO alone (DSK_TBIM20 = 0, as the v6 layout)", async function () {
      writeWide(-1n, 0n);
      expect((await readAll(dir)).issues).to.deep.equal([]);
    });

    it("reports a list where neither holds it", async function () {
      writeWide(0n, 0n);
      const { issues } = await readAll(dir);
      expect(issues.map((i) => [i.rule, i.field, i.severity])).to.deep.equal([
        ["sso.header-total", "DSK_TKOSO", "finding"],
      ]);
    });
  });

  describe("written with shafaf dbf write", function () {
    const cli = (args: string[]) =>
      spawnSync(
        process.execPath,
        ["--import", "tsx", path.join(ROOT, "src/cli/main.ts"), ...args],
        {
          encoding: "utf8",
          cwd: ROOT,
          env: { ...process.env, INIT_CWD: dir },
        },
      );

    it("writes two foreign workers without a national code and a managing director; reading gives the declared premium per worker", function () {
      const input = path.join(dir, "workers.csv");
      writeFileSync(
        input,
        [
          "DSK_ID,DSK_YY,DSK_MM,DSK_LISTNO,DSW_ID1,DSW_DD,DSW_MAH,PER_NATCOD,DSW_NAT,DSW_JOB,DSW_OCP",
          "1234567890,1403,7,01,10000001,31,100000000,0012345679,ایرانی,027079,مدیرعامل",
          "1234567890,1403,7,01,10000002,31,90000000,1234567891,ایرانی,712345,کارگر",
          "1234567890,1403,7,01,10000003,31,80000000,,افغانی,712345,کارگر",
          "1234567890,1403,7,01,10000004,31,70000000,,پاکستانی,712345,کارگر",
        ].join("\n"),
      );
      const out = path.join(dir, "out");
      const w = cli(["dbf", "write", "--from", input, "--out", out, "--layout", "v6"]);
      expect(w.status, w.stderr).to.equal(0);
      const r = cli(["dbf", "read", out, "--province", "IR-23", "--json"]);
      expect(r.status, r.stderr).to.equal(0);
      const { rows } = JSON.parse(r.stdout) as { rows: RawRow[] };
      expect(
        rows.map((x) => [x.fields.national_id, x.fields.nationality, x.fields.unemployment_share]),
      ).to.deep.equal([
        ["0012345679", undefined, "0"],
        ["1234567891", undefined, "2700000"],
        ["", "AFG", "0"],
        ["", "PAK", "0"],
      ]);
      const bic = readNumber(path.join(out, "1234567890-140307-01", "DSKKAR00.DBF"), 1, "DSK_BIC");
      expect(bic).to.equal(2_700_000n);
    });
  });

  describe("CSV and JSON Lines", function () {
    it("carry foreign_id and nationality columns; rows validate to foreign identifiers", async function () {
      const csv = path.join(dir, "p.csv");
      const head =
        "record_id,period,national_id,workshop_code,insurance_no,province,days,wage_base,worker_share,employer_share,unemployment_share,hazard_share,total,foreign_id,nationality";
      writeFileSync(
        csv,
        [
          head,
          "A-1,1403-07,,1234567890,12345678,IR-23,30,100000000,7000000,20000000,0,0,27000000,123456789012,افغانی",
          "A-2,1403-07,,1234567890,12345679,IR-23,30,100000000,7000000,20000000,0,0,27000000,,AFG",
        ].join("\n"),
      );
      const jsonl = path.join(dir, "p.jsonl");
      writeFileSync(
        jsonl,
        JSON.stringify({
          record_id: "A-3",
          period: "1403-07",
          national_id: null,
          workshop_code: "1234567890",
          insurance_no: "12345670",
          province: "IR-23",
          days: 30,
          wage_base: "100000000",
          worker_share: "7000000",
          employer_share: "20000000",
          unemployment_share: "0",
          hazard_share: "0",
          total: "27000000",
          foreign_id: "۱۲۳۴۵۶۷۸۹۰۱۳",
        }) + "\n",
      );
      const opened = openInputs([csv, jsonl], { kind: "premium" });
      const rows = await collect(opened.rows);
      expect(opened.issues()).to.deep.equal([]);
      const ids = rows.map((r) => {
        const v = validateRecord("premium", r.fields);
        if (!v.ok) throw new Error(JSON.stringify(v.issues));
        return v.record.nationalId;
      });
      expect(ids).to.deep.equal([
        "foreign:123456789012",
        "insured:12345679:AFG",
        "foreign:123456789013",
      ]);
    });
  });
});
