import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { zipSync } from "fflate";
import { parseDbfHeader } from "../../src/ingest/dbf.ts";
import { IngestError, type IngestIssue } from "../../src/ingest/ingest-issue.ts";
import { readSsoListEntries, readSsoLists } from "../../src/ingest/read-sso-list.ts";
import type { SourceInfo } from "../../src/ingest/source-info.ts";
import { SSO_LAYOUTS } from "../../src/ingest/sso-list.ts";
import { SsoListWriteError, writeSsoList } from "../../src/ingest/write-sso-list.ts";
import { validateRecord } from "../../src/core/validate-record.ts";
import { collect, CP1256, LIST_HEADER, tempDir, worker, writeRawDbf } from "./helpers.ts";

const TEMPLATES = path.resolve(import.meta.dirname, "../fixtures/ingest/sso-listdisk");
const GOLDEN = path.resolve(import.meta.dirname, "../golden/ingest");
const TEMPLATE_DATES = { kar: [7, 8, 8], wor: [10, 10, 9] } as const;
const FIXED_DATE = [125, 8, 1] as const;

async function readAll(
  input: string,
  options: Parameters<typeof readSsoLists>[1] = {},
  province: string | null = "IR-23",
) {
  const issues: IngestIssue[] = [];
  const sources: SourceInfo[] = [];
  const rows = await collect(
    readSsoLists(input, {
      ...(province !== null ? { province } : {}),
      onIssue: (i) => issues.push(i),
      onSource: (s) => sources.push(s),
      ...options,
    }),
  );
  return { rows, issues, sources, errors: issues.filter((i) => i.severity !== "warning") };
}

describe("SSO lists", function () {
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(function () {
    cleanup();
  });

  describe("writeSsoList", function () {
    it("reproduces the official empty v6 templates byte for byte", async function () {
      await writeSsoList(dir, { workers: [] }, { layout: "v6", updated: TEMPLATE_DATES });
      for (const f of ["DSKKAR00.DBF", "DSKWOR00.DBF"]) {
        expect(
          readFileSync(path.join(dir, f)).equals(readFileSync(path.join(TEMPLATES, f))),
          f,
        ).to.equal(true);
      }
    });

    it("writes the v2.7 layout as the first 23 and 27 template fields (record lengths 287, 447)", async function () {
      await writeSsoList(dir, { workers: [] }, { layout: "v2.7", updated: TEMPLATE_DATES });
      const kar = parseDbfHeader(readFileSync(path.join(dir, "DSKKAR00.DBF")))!;
      const wor = parseDbfHeader(readFileSync(path.join(dir, "DSKWOR00.DBF")))!;
      const tKar = parseDbfHeader(readFileSync(path.join(TEMPLATES, "DSKKAR00.DBF")))!;
      const tWor = parseDbfHeader(readFileSync(path.join(TEMPLATES, "DSKWOR00.DBF")))!;
      expect([
        kar.fields.length,
        kar.recordLength,
        wor.fields.length,
        wor.recordLength,
      ]).to.deep.equal([23, 287, 27, 447]);
      expect(kar.fields).to.deep.equal(tKar.fields.slice(0, 23));
      expect(wor.fields).to.deep.equal(tWor.fields.slice(0, 27));
    });

    it("lays out a list as ListDisk does: LDID 0x7E, 0x0D terminator, record count, 0x1A last", async function () {
      const workers = [worker(1), worker(2), worker(3)];
      await writeSsoList(
        dir,
        { header: LIST_HEADER, workers },
        { layout: "v6", updated: FIXED_DATE },
      );
      for (const [f, n, size] of [
        ["DSKKAR00.DBF", 1, 311],
        ["DSKWOR00.DBF", 3, 469],
      ] as const) {
        const b = readFileSync(path.join(dir, f));
        const h = parseDbfHeader(b)!;
        expect(b[29]).to.equal(0x7e);
        expect(b[h.headerLength - 1]).to.equal(0x0d);
        expect(h.recordCount).to.equal(n);
        expect(b.length).to.equal(h.headerLength + n * size + 1);
        expect(b[b.length - 1]).to.equal(0x1a);
        expect([...h.updated]).to.deep.equal([...FIXED_DATE]);
      }
    });

    it("matches the frozen golden pair for a synthetic list", async function () {
      const workers = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => worker(i));
      await writeSsoList(
        dir,
        { header: LIST_HEADER, workers },
        { layout: "v6", updated: FIXED_DATE },
      );
      const golden = path.join(GOLDEN, "list-v6");
      if (process.env.UPDATE_GOLDEN === "1") {
        mkdirSync(golden, { recursive: true });
        for (const f of ["DSKKAR00.DBF", "DSKWOR00.DBF"])
          writeFileSync(path.join(golden, f), readFileSync(path.join(dir, f)));
      }
      for (const f of ["DSKKAR00.DBF", "DSKWOR00.DBF"]) {
        expect(
          readFileSync(path.join(dir, f)).equals(readFileSync(path.join(golden, f))),
          f,
        ).to.equal(true);
      }
    });

    it("refuses text longer than its field or outside Iran System, naming field and worker only", async function () {
      const long = { ...worker(1), firstName: "ب".repeat(61) };
      const err = await writeSsoList(
        dir,
        { header: LIST_HEADER, workers: [worker(0), long] },
        { layout: "v6" },
      ).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(SsoListWriteError);
      expect((err as SsoListWriteError).field).to.equal("DSW_FNAME");
      expect((err as SsoListWriteError).worker).to.equal(2);
      const latin = await writeSsoList(
        dir,
        { header: LIST_HEADER, workers: [{ ...worker(1), lastName: "Müller" }] },
        { layout: "v6" },
      ).catch((e: unknown) => e);
      expect((latin as Error).message).to.match(/DSW_LNAME of worker 1: character U\+00FC/);
      expect((latin as Error).message).to.not.contain("Müller");
    });
  });

  describe("readSsoLists", function () {
    it("reads back a written list: the same workers, names decoded, premium rows that core accepts", async function () {
      const workers = Array.from({ length: 12 }, (_, i) => worker(i));
      await writeSsoList(dir, { header: LIST_HEADER, workers }, { layout: "v6" });
      const entries = await collect(readSsoListEntries(dir, { province: "IR-23" }));
      expect(entries.map((e) => e.worker)).to.deep.equal(workers);
      expect(entries[0]!.header.workshopName).to.equal(LIST_HEADER.workshopName);
      expect(entries[0]!.header.address).to.equal(LIST_HEADER.address);
      const { rows, issues, sources } = await readAll(dir);
      expect(issues).to.deep.equal([]);
      expect(rows).to.have.length(12);
      const r = rows[3]!;
      expect(r.source).to.deep.equal({
        file: `${path.basename(dir)}/DSKWOR00.DBF`,
        line: 4,
        list: path.basename(dir),
      });
      expect(r.fields.record_id).to.equal(`1234567890-140307-01-${workers[3]!.insuranceNo}`);
      expect(r.fields.period).to.equal("1403-07");
      expect(r.fields.national_id).to.equal(workers[3]!.nationalId);
      expect(r.fields.wage_base).to.equal(String(workers[3]!.insurableBase));
      expect(r.fields.worker_share).to.equal(String(workers[3]!.workerShare));
      for (const row of rows) {
        const v = validateRecord("premium", row.fields, { expectedPeriod: "1403-07" });
        expect(v.ok, v.ok ? "" : JSON.stringify(v.issues)).to.equal(true);
      }
      expect(sources.map((s) => [s.layout, s.encoding, s.records])).to.deep.equal([
        ["v6", "iran-system", 1],
        ["v6", "iran-system", 12],
      ]);
      expect(sources[1]!.sha256).to.match(/^[0-9a-f]{64}$/);
    });

    it("decodes names of long lists in order once the code page is known", async function () {
      const workers = Array.from({ length: 3000 }, (_, i) => worker(i, 100_000_000n));
      await writeSsoList(dir, { header: LIST_HEADER, workers }, { layout: "v6" });
      const entries = await collect(readSsoListEntries(dir, { province: "IR-23" }));
      expect(entries.map((e) => e.source.line)).to.deep.equal(workers.map((_, i) => i + 1));
      expect(entries.map((e) => e.worker.lastName)).to.deep.equal(workers.map((w) => w.lastName));
    });

    it("reads the v2.7 layout", async function () {
      await writeSsoList(
        dir,
        { header: LIST_HEADER, workers: [worker(1), worker(2)] },
        { layout: "v2.7" },
      );
      const { rows, errors, sources } = await readAll(dir);
      expect(errors).to.deep.equal([]);
      expect(rows).to.have.length(2);
      expect(sources.map((s) => s.layout)).to.deep.equal(["v2.7", "v2.7"]);
    });

    it("reads the wide layout (26 and 31 fields, DSW_JOB after PER_NATCOD)", async function () {
      const w = worker(5);
      const base = w.insurableBase;
      writeRawDbf(
        path.join(dir, "DSKKAR00.DBF"),
        SSO_LAYOUTS.wide.kar,
        [
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
            DSK_TKOSO: String((base * 2000n + 5000n) / 10000n),
            DSK_BIC: "0",
            DSK_BIMH: "0",
            DSK_TBIM20: "5",
            DSK_NAME: "کارگاه",
          },
        ],
        { text: new Set(["DSK_NAME"]) },
      );
      writeRawDbf(
        path.join(dir, "DSKWOR00.DBF"),
        SSO_LAYOUTS.wide.wor,
        [
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
            DSW_BIME20: "5",
            DSW_KOSO: "0",
            PER_NATCOD: w.nationalId,
            DSW_JOB: "712345",
            DSW_FNAME: w.firstName,
          },
        ],
        { text: new Set(["DSW_FNAME"]) },
      );
      expect(SSO_LAYOUTS.wide.kar).to.have.length(26);
      expect(SSO_LAYOUTS.wide.wor).to.have.length(31);
      const { rows, errors, sources } = await readAll(dir);
      expect(errors).to.deep.equal([]);
      expect(rows).to.have.length(1);
      expect(rows[0]!.fields.national_id).to.equal(w.nationalId);
      expect(rows[0]!.fields.unemployment_share).to.equal("0");
      expect(sources.map((s) => s.layout)).to.deep.equal(["wide", "wide"]);
      const entries = await collect(readSsoListEntries(dir, { province: "IR-23" }));
      expect(entries[0]!.worker.jobCode).to.equal("712345");
      expect(entries[0]!.worker.firstName).to.equal(w.firstName);
    });

    it("reports an unknown layout instead of guessing", async function () {
      await writeSsoList(dir, { header: LIST_HEADER, workers: [worker(1)] }, { layout: "v6" });
      writeRawDbf(
        path.join(dir, "DSKWOR00.DBF"),
        SSO_LAYOUTS.v6.wor.filter((f) => f.name !== "PER_NATCOD"),
        [{ DSW_ID: "1234567890" }],
      );
      const { rows, errors } = await readAll(dir);
      expect(rows).to.deep.equal([]);
      expect(errors.map((e) => e.rule)).to.deep.equal(["sso.layout"]);
      expect(errors[0]!.message).to.match(/missing PER_NATCOD/);
    });

    it("reports every header total, count and share mismatch at once, without amounts or names", async function () {
      const workers = [
        worker(1),
        worker(2),
        { ...worker(3), workerShare: worker(3).workerShare + 1n },
      ];
      await writeSsoList(
        dir,
        {
          header: {
            ...LIST_HEADER,
            override: { DSK_NUM: 4n, DSK_TMASH: 1n, DSK_TKOSO: 2n, DSK_BIC: 3n, DSK_TDD: 90n },
          },
          workers,
        },
        { layout: "v6" },
      );
      const { rows, errors } = await readAll(dir);
      expect(rows).to.have.length(3);
      const got = errors.map((e) => `${e.rule}:${e.field}`).sort();
      expect(got).to.deep.equal(
        [
          "sso.header-count:DSK_NUM",
          "sso.unemployment-coverage:DSK_BIC",
          "sso.header-total:DSK_TDD",
          "sso.header-total:DSK_TKOSO",
          "sso.header-total:DSK_TMASH",
          "sso.worker-share:DSW_BIME",
        ].sort(),
      );
      // Header totals that change no worker's record are findings; the rest are errors.
      expect(
        errors
          .filter((e) => e.severity === "finding")
          .map((e) => e.field)
          .sort(),
      ).to.deep.equal(["DSK_TDD", "DSK_TKOSO", "DSK_TMASH"]);
      const share = errors.find((e) => e.rule === "sso.worker-share")!;
      expect(share.source.record).to.equal(3);
      for (const e of errors) {
        const text = JSON.stringify(e);
        expect(text).to.not.contain(String(workers[0]!.insurableBase));
        expect(text).to.not.contain("علی");
        expect(text).to.not.contain(LIST_HEADER.workshopName);
      }
    });

    it("accepts shares rounded on the list's total as well as per worker", async function () {
      // 7 workers of 10 000 001 Rials: 20 % per worker rounds to 2 000 000 each (Σ 14 000 000);
      // 20 % of the total 70 000 007 is 14 000 001.
      const workers = Array.from({ length: 7 }, (_, i) => worker(i, 10_000_001n));
      await writeSsoList(
        dir,
        { header: { ...LIST_HEADER, override: { DSK_TKOSO: 14_000_001n } }, workers },
        { layout: "v6" },
      );
      expect((await readAll(dir)).errors).to.deep.equal([]);
    });

    it("skips deleted records and says how many, as a warning", async function () {
      await writeSsoList(
        dir,
        {
          header: { ...LIST_HEADER, override: { DSK_NUM: 2n } },
          workers: [worker(1), worker(2), worker(3)],
        },
        { layout: "v6" },
      );
      const wor = readFileSync(path.join(dir, "DSKWOR00.DBF"));
      const h = parseDbfHeader(wor)!;
      wor[h.headerLength + h.recordLength] = 0x2a; // delete worker 2
      writeFileSync(path.join(dir, "DSKWOR00.DBF"), wor);
      const { rows, issues } = await readAll(dir);
      expect(rows.map((r) => r.source.line)).to.deep.equal([1, 3]);
      const deleted = issues.find((i) => i.rule === "sso.deleted-records")!;
      expect(deleted.severity).to.equal("warning");
      expect(deleted.message).to.match(/^1 records? marked deleted/);
      // Totals now disagree (the header still counts worker 2's wage): reported as errors.
      expect(issues.some((i) => i.rule === "sso.header-total" && i.field === "DSK_TMASH")).to.equal(
        true,
      );
    });

    it("detects cp1256 text per file and decodes it", async function () {
      const w = worker(1);
      const cp = (s: string) =>
        Buffer.from(Array.from(s, (c) => CP1256[c] ?? (c === "ی" ? 0xed : c.charCodeAt(0))));
      await writeSsoList(dir, { header: LIST_HEADER, workers: [w] }, { layout: "v6" });
      const spec = SSO_LAYOUTS.v6.wor;
      const record: Record<string, string | Uint8Array> = {
        DSW_ID: "1234567890",
        DSW_YY: "3",
        DSW_MM: "7",
        DSW_LISTNO: "01",
        DSW_ID1: w.insuranceNo,
        DSW_DD: "31",
        DSW_ROOZ: String(w.dailyWage),
        DSW_MAH: String(w.monthlyWage),
        DSW_MAZ: String(w.benefits),
        DSW_MASH: String(w.insurableBase),
        DSW_TOTL: String(w.totalPay),
        DSW_BIME: String(w.workerShare),
        PER_NATCOD: w.nationalId,
        DSW_FNAME: cp("رضا"),
        DSW_LNAME: cp("کریمی"),
        DSW_SEX: cp("مرد"),
        DSW_NAT: cp("ایرانی"),
      };
      writeRawDbf(path.join(dir, "DSKWOR00.DBF"), spec, [record]);
      const { errors, sources } = await readAll(dir);
      expect(errors).to.deep.equal([]);
      expect(sources[1]!.encoding).to.equal("cp1256");
      const [entry] = await collect(readSsoListEntries(dir, { province: "IR-23" }));
      expect(entry!.worker.firstName).to.equal("رضا");
      expect(entry!.worker.nationality).to.equal("ایرانی"); // Arabic yeh in the file, folded to Persian
    });

    it("reports text that is neither Iran System nor cp1256", async function () {
      await writeSsoList(
        dir,
        { header: LIST_HEADER, workers: [worker(1), worker(2)] },
        { layout: "v6" },
      );
      const wor = readFileSync(path.join(dir, "DSKWOR00.DBF"));
      const h = parseDbfHeader(wor)!;
      const fname = h.fields.find((f) => f.name === "DSW_FNAME")!;
      wor.fill(
        0xd7,
        h.headerLength + h.recordLength + fname.offset,
        h.headerLength + h.recordLength + fname.offset + 4,
      );
      writeFileSync(path.join(dir, "DSKWOR00.DBF"), wor);
      const { errors } = await readAll(dir);
      expect(errors.map((e) => e.rule)).to.deep.equal(["sso.text-encoding"]);
      expect(errors[0]!.source.record).to.equal(2);
    });

    it("reads a folder of pairs in sub-folders with any case of file names, and reports a lone file", async function () {
      await writeSsoList(
        path.join(dir, "b"),
        { header: { ...LIST_HEADER, workshopCode: "2000000002" }, workers: [worker(1)] },
        { layout: "v6" },
      );
      await writeSsoList(
        path.join(dir, "a", "x"),
        { header: LIST_HEADER, workers: [worker(2), worker(3)] },
        { layout: "v2.7" },
      );
      renameSync(path.join(dir, "b", "DSKWOR00.DBF"), path.join(dir, "b", "dskwor00.dbf"));
      renameSync(path.join(dir, "b", "DSKKAR00.DBF"), path.join(dir, "b", "DskKar00.Dbf"));
      mkdirSync(path.join(dir, "c"));
      writeFileSync(
        path.join(dir, "c", "DSKKAR00.DBF"),
        readFileSync(path.join(dir, "b", "DskKar00.Dbf")),
      );
      const { rows, errors } = await readAll(dir);
      expect(rows.map((r) => r.fields.workshop_code)).to.deep.equal([
        "1234567890",
        "1234567890",
        "2000000002",
      ]);
      expect(errors.map((e) => e.rule)).to.deep.equal(["sso.pair"]);
      expect(errors[0]!.message).to.contain("DSKWOR00.DBF is missing");
    });

    it("reads a zip of pairs, stored or deflated, streaming a worker file larger than a chunk", async function () {
      const many = Array.from({ length: 5000 }, (_, i) => worker(i, 100_000_000n)); // 2.3 MB of records
      await writeSsoList(
        path.join(dir, "src", "big"),
        { header: LIST_HEADER, workers: many },
        { layout: "v6" },
      );
      await writeSsoList(
        path.join(dir, "src", "small"),
        { header: { ...LIST_HEADER, workshopCode: "2000000002" }, workers: [worker(1)] },
        { layout: "v2.7" },
      );
      const file = (p: string) => new Uint8Array(readFileSync(path.join(dir, "src", p)));
      const zip = zipSync({
        "lists/big/DSKWOR00.DBF": [file("big/DSKWOR00.DBF"), { level: 6 }],
        "lists/small/dskkar00.dbf": [file("small/DSKKAR00.DBF"), { level: 0 }],
        "lists/big/DSKKAR00.DBF": [file("big/DSKKAR00.DBF"), { level: 6 }],
        "lists/small/dskwor00.dbf": [file("small/DSKWOR00.DBF"), { level: 0 }],
        "readme.txt": new TextEncoder().encode("hello"),
      });
      writeFileSync(path.join(dir, "lists.zip"), zip);
      const { rows, errors, sources } = await readAll(path.join(dir, "lists.zip"));
      expect(errors).to.deep.equal([]);
      expect(rows).to.have.length(5001);
      expect(rows[0]!.source.entry).to.equal("lists/big/DSKWOR00.DBF");
      expect(rows[4999]!.fields.insurance_no).to.equal(many[4999]!.insuranceNo);
      expect(rows[5000]!.source).to.deep.equal({
        file: "lists.zip",
        entry: "lists/small/dskwor00.dbf",
        line: 1,
        list: "lists.zip!lists/small",
      });
      const folderRows = (await readAll(path.join(dir, "src"))).rows;
      expect(rows.map((r) => r.fields)).to.deep.equal(folderRows.map((r) => r.fields));
      expect(sources.map((s) => s.entry)).to.deep.equal([
        "lists/big/DSKKAR00.DBF",
        "lists/big/DSKWOR00.DBF",
        "lists/small/dskkar00.dbf",
        "lists/small/dskwor00.dbf",
      ]);
      expect(new Set(sources.map((s) => s.containerSha256)).size).to.equal(1);
    });

    it("reports a damaged zip as one issue", async function () {
      writeFileSync(
        path.join(dir, "bad.zip"),
        Buffer.from("PK\u0003\u0004 this is not a zip at all"),
      );
      const { rows, errors } = await readAll(path.join(dir, "bad.zip"));
      expect(rows).to.deep.equal([]);
      expect(errors.map((e) => e.rule)).to.have.length(1);
    });

    it("turns two-digit years into four by the pivot (99 → 1399, 3 → 1403)", async function () {
      await writeSsoList(
        dir,
        { header: { ...LIST_HEADER, year: 1399, month: 12 }, workers: [worker(1)] },
        { layout: "v6" },
      );
      expect((await readAll(dir)).rows[0]!.fields.period).to.equal("1399-12");
      expect((await readAll(dir, { yearPivot: 100 })).rows[0]!.fields.period).to.equal("1499-12");
    });

    it("takes the province from provinceOf, and reports a workshop with none", async function () {
      await writeSsoList(dir, { header: LIST_HEADER, workers: [worker(1)] }, { layout: "v6" });
      const named = await readAll(
        dir,
        { provinceOf: (c) => (c === "1234567890" ? "IR-07" : undefined) },
        null,
      );
      expect(named.rows[0]!.fields.province).to.equal("IR-07");
      const none = await readAll(dir, {}, null);
      expect(none.errors.map((e) => e.rule)).to.deep.equal(["sso.province"]);
      expect(none.rows[0]!.fields.province).to.equal(undefined);
    });

    it("reports a header that counts more records than the file holds", async function () {
      await writeSsoList(
        dir,
        { header: LIST_HEADER, workers: [worker(1), worker(2)] },
        { layout: "v6" },
      );
      const wor = readFileSync(path.join(dir, "DSKWOR00.DBF"));
      wor.writeUInt32LE(3, 4);
      writeFileSync(path.join(dir, "DSKWOR00.DBF"), wor);
      const { errors } = await readAll(dir);
      expect(errors.map((e) => e.rule)).to.deep.equal(["sso.record-count"]);
    });

    it("reports the empty template (a header file without its record)", async function () {
      const { rows, errors } = await readAll(TEMPLATES);
      expect(rows).to.deep.equal([]);
      expect(errors.map((e) => e.rule)).to.deep.equal(["sso.header-record"]);
    });

    it("throws one IngestError with every issue when no onIssue is given", async function () {
      await writeSsoList(
        dir,
        {
          header: { ...LIST_HEADER, override: { DSK_NUM: 9n, DSK_TTOTL: 1n } },
          workers: [worker(1)],
        },
        { layout: "v6" },
      );
      const err = await collect(readSsoLists(dir, { province: "IR-23" })).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(IngestError);
      expect((err as IngestError).issues.map((i) => i.field).sort()).to.deep.equal([
        "DSK_NUM",
        "DSK_TTOTL",
      ]);
    });
  });
});
