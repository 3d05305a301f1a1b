import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { decodeCp1256 } from "../../src/ingest/cp1256.ts";
import { IngestError, type IngestIssue } from "../../src/ingest/ingest-issue.ts";
import { readCsv, type ReadCsvOptions } from "../../src/ingest/read-csv.ts";
import type { SourceInfo } from "../../src/ingest/source-info.ts";
import { detectTextEncoding } from "../../src/ingest/text-source.ts";
import { validateRecord } from "../../src/core/validate-record.ts";
import { collect, CP1256, encodeCp1256, PREMIUM_HEADER, premiumLine, tempDir } from "./helpers.ts";

const PENSION_HEADER =
  "record_id,period,national_id,pension_file,category,province,gross,deductions,net,due_on,paid_on";

describe("readCsv", function () {
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(function () {
    cleanup();
  });

  const file = (name: string, content: string | Buffer) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  async function read(p: string, options: ReadCsvOptions = {}) {
    const issues: IngestIssue[] = [];
    const sources: SourceInfo[] = [];
    const rows = await collect(
      readCsv(p, { onIssue: (i) => issues.push(i), onSource: (s) => sources.push(s), ...options }),
    );
    return { rows, issues, sources };
  }

  it("reads UTF-8 with a BOM and CRLF line ends; rows validate with core", async function () {
    const p = file(
      "p.csv",
      "\uFEFF" + [PREMIUM_HEADER, premiumLine(1), premiumLine(2)].join("\r\n") + "\r\n",
    );
    const { rows, issues, sources } = await read(p, { kind: "premium" });
    expect(issues).to.deep.equal([]);
    expect(rows.map((r) => r.source)).to.deep.equal([
      { file: "p.csv", line: 2 },
      { file: "p.csv", line: 3 },
    ]);
    expect(rows[0]!.fields.record_id).to.equal("P-1");
    expect(rows[0]!.fields.paid_on).to.equal("1403-08-02");
    expect(validateRecord("premium", rows[0]!.fields).ok).to.equal(true);
    expect(sources).to.have.length(1);
    expect(sources[0]).to.include({
      name: "p.csv",
      format: "csv",
      encoding: "utf-8-bom",
      records: 2,
    });
  });

  it("reads UTF-8 without BOM and LF, and a last line without a newline", async function () {
    const p = file("p.csv", [PREMIUM_HEADER, premiumLine(1), premiumLine(2)].join("\n"));
    const { rows, sources } = await read(p);
    expect(rows).to.have.length(2);
    expect(sources[0]!.encoding).to.equal("utf-8");
  });

  it("parses RFC 4180 quoting: delimiters, doubled quotes and newlines inside fields, with editor line numbers", async function () {
    const lines = [
      PENSION_HEADER + ",reason,supersedes",
      'A-1,1403-07,0012345679,F-1,"بازنشستگی",IR-23,"1000","0",1000,1403-07-01,1403-07-02,"fix, ""typo""\nsecond line",A-0',
      "A-2,1403-07,0012345679,F-2,survivors,IR-23,5,0,5,1403-07-01,1403-07-02,,",
    ];
    const p = file("q.csv", lines.join("\r\n") + "\r\n");
    const { rows, issues } = await read(p);
    expect(issues).to.deep.equal([]);
    expect(rows[0]!.fields.reason).to.equal('fix, "typo"\nsecond line');
    expect(rows[0]!.fields.category).to.equal("بازنشستگی");
    expect(rows.map((r) => r.source.line)).to.deep.equal([2, 4]);
    expect(rows[1]!.fields.reason).to.equal(undefined);
  });

  it("leaves Persian and Arabic digits for core to normalise", async function () {
    const p = file(
      "d.csv",
      `${PREMIUM_HEADER}\n${premiumLine(1).replace("1403-07", "۱۴۰۳-۰۷").replace("0012345679", "٠٠١٢٣٤٥٦٧٩")}\n`,
    );
    const { rows } = await read(p);
    expect(rows[0]!.fields.period).to.equal("۱۴۰۳-۰۷");
    expect(rows[0]!.fields.national_id).to.equal("٠٠١٢٣٤٥٦٧٩");
    const v = validateRecord("premium", rows[0]!.fields);
    expect(v.ok && v.record.period).to.equal("1403-07");
  });

  it("detects Windows-1256 as saved by Excel in a Persian locale", async function () {
    const text = `${PENSION_HEADER}\r\nA-1,1403-07,0012345679,F-1,بازنشستگی,تهران,1000,0,1000,1403-07-01,1403-07-02\r\n`;
    const p = file("e.csv", encodeCp1256(text));
    expect((await detectTextEncoding(p)).encoding).to.equal("cp1256");
    const { rows, sources, issues } = await read(p);
    expect(issues).to.deep.equal([]);
    expect(sources[0]!.encoding).to.equal("cp1256");
    // Persian yeh is not in cp1256: Excel writes Arabic yeh, folded back to Persian when read.
    expect(rows[0]!.fields.category).to.equal("بازنشستگی");
    expect(rows[0]!.fields.province).to.equal("تهران");
    expect(validateRecord("pension", rows[0]!.fields).ok).to.equal(true);
  });

  it("agrees with Node's windows-1256 decoder on every byte of the hand-written table", function () {
    for (const [ch, byte] of Object.entries(CP1256)) {
      expect(decodeCp1256(Uint8Array.of(byte)), `0x${byte.toString(16)}`).to.equal(ch);
    }
  });

  it("decodes a forced encoding, and rejects bytes that are neither UTF-8 nor Persian cp1256", async function () {
    const text = `${PENSION_HEADER}\nA-1,1403-07,0012345679,F-1,retirement,قم,1,0,1,1403-07-01,1403-07-02\n`;
    const p = file("f.csv", encodeCp1256(text));
    expect((await read(p, { encoding: "cp1256" })).rows[0]!.fields.province).to.equal("قم");
    const garbage = file(
      "g.csv",
      Buffer.concat([
        Buffer.from(PREMIUM_HEADER + "\n"),
        Buffer.from([0xe0, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xfc, 0xfb, 0x0a]),
      ]),
    );
    const { rows, issues } = await read(garbage);
    expect(rows).to.deep.equal([]);
    expect(issues.map((i) => i.rule)).to.deep.equal(["csv.encoding"]);
    expect(issues[0]!.hint).to.contain("--encoding cp1256");
    const utf16 = file(
      "w.csv",
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(PREMIUM_HEADER, "utf16le")]),
    );
    const r16 = await read(utf16);
    expect(r16.issues.map((i) => i.message)).to.deep.equal([
      'the file is UTF-16 (Excel\'s "Unicode Text"), which is not supported (first bad byte near offset 0)',
    ]);
  });

  it("reports unknown, missing and repeated columns all at once, naming the file, and yields no rows", async function () {
    const p = file(
      "h.csv",
      "record_id,period,nationalid,workshop_code,insurance_no,province,days,wage_base,worker_share,employer_share,unemployment_share,hazard_share,total,total,bonus\n" +
        premiumLine(1) +
        "\n",
    );
    const { rows, issues } = await read(p, { kind: "premium" });
    expect(rows).to.deep.equal([]);
    expect(issues.map((i) => `${i.rule}:${i.field}`)).to.deep.equal([
      "csv.header.unknown-column:nationalid",
      "csv.header.repeated-column:total",
      "csv.header.unknown-column:bonus",
      "csv.header.missing-column:national_id",
    ]);
    expect(issues[0]!.source).to.deep.equal({ file: "h.csv", line: 1 });
    expect(issues[0]!.hint).to.contain("record_id,period,national_id,workshop_code");
  });

  it("infers the kind from the header, and refuses a header that is neither", async function () {
    expect((await read(file("k.csv", `${PENSION_HEADER}\n`))).issues).to.deep.equal([]);
    const { issues } = await read(file("n.csv", "a,b,c\n1,2,3\n"));
    expect(issues.map((i) => i.rule)).to.deep.equal(["csv.header.kind"]);
  });

  it("reports ragged rows and broken quotes with their line, skips blank and empty rows", async function () {
    const p = file(
      "r.csv",
      [
        PREMIUM_HEADER,
        premiumLine(1),
        "",
        ",,,,,,,,,,,,,",
        "P-3,1403-07",
        premiumLine(4) + ",,",
        'P-5,"14"03-07,x,x,x,x,x,x,x,x,x,x,x,x',
        premiumLine(6),
      ].join("\n") + "\n",
    );
    const { rows, issues } = await read(p);
    expect(rows.map((r) => r.source.line)).to.deep.equal([2, 6, 8]);
    expect(issues.map((i) => [i.rule, i.source.line])).to.deep.equal([
      ["csv.ragged-row", 5],
      ["csv.syntax", 7],
    ]);
    expect(issues[0]!.message).to.equal("the row has 2 fields; the header has 14");
  });

  it("reports a quoted field that is never closed", async function () {
    const p = file("u.csv", `${PREMIUM_HEADER}\n${premiumLine(1)}\nP-2,"1403-07,0012345679\n`);
    const { rows, issues } = await read(p);
    expect(rows).to.have.length(1);
    expect(issues.map((i) => [i.rule, i.source.line])).to.deep.equal([["csv.syntax", 3]]);
    expect(issues[0]!.message).to.contain("not closed");
  });

  it("accepts ; and tab as delimiters when the header uses them", async function () {
    const semi = file(
      "s.csv",
      [PREMIUM_HEADER.replaceAll(",", ";"), premiumLine(1).replaceAll(",", ";")].join("\n"),
    );
    const tab = file(
      "t.csv",
      [PREMIUM_HEADER.replaceAll(",", "\t"), premiumLine(1).replaceAll(",", "\t")].join("\n"),
    );
    expect((await read(semi)).rows[0]!.fields.total).to.equal("30000000");
    expect((await read(tab)).rows[0]!.fields.total).to.equal("30000000");
  });

  it("lists the first 1,000 problems of a rule per file and counts the rest", async function () {
    const p = file(
      "many.csv",
      [PREMIUM_HEADER, ...Array.from({ length: 1205 }, () => "a,b")].join("\n"),
    );
    const { issues } = await read(p);
    expect(issues).to.have.length(1001);
    expect(issues[999]!.source.line).to.equal(1001);
    expect(issues[1000]!.message).to.equal(
      "205 more problems of this kind (1205 in all) are not listed",
    );
  });

  it("throws one IngestError with every issue when no onIssue is given", async function () {
    const p = file("x.csv", [PREMIUM_HEADER, "a,b", "c,d"].join("\n"));
    const err = await collect(readCsv(p)).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(IngestError);
    expect((err as IngestError).issues.map((i) => i.source.line)).to.deep.equal([2, 3]);
  });

  it("parses any table the same however the file is split into chunks (property, 2.5 MB files)", async function () {
    this.timeout(60_000);
    const cell = fc.oneof(
      fc.constantFrom("", "x", "۱۴۰۳", "a,b", 'say "hi"', "two\nlines", "crlf\r\nend", " padded "),
      fc.string({ maxLength: 8 }).filter((s) => !s.includes("\r")),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(cell, { minLength: 14, maxLength: 14 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 0, max: 1 }),
        async (table, crlf) => {
          const eol = crlf === 1 ? "\r\n" : "\n";
          const quote = (v: string) =>
            /[",\r\n]/.test(v) || v !== v.trim() ? `"${v.replaceAll('"', '""')}"` : v;
          // A 2.5 MB filler column pushes the table across several 1 MiB read chunks.
          const filler = Array.from({ length: 25_000 }, (_, i) => premiumLine(i)).join(eol);
          const body = table.map((r) => r.map(quote).join(",")).join(eol);
          const p = file("prop.csv", PREMIUM_HEADER + eol + filler + eol + body + eol);
          const { rows, issues } = await read(p);
          const expected = table.filter((r) => r.some((v) => v.trim() !== ""));
          expect(issues).to.deep.equal([]);
          const tail = rows.slice(25_000);
          expect(tail.map((r) => Object.values(r.fields).map((v) => v ?? ""))).to.deep.equal(
            expected.map((r) => r.map((v) => v.trim())),
          );
          // Editor line numbers: count the newlines before each row.
          let line = 2 + 25_000;
          const lines: number[] = [];
          for (const r of table) {
            if (r.some((v) => v.trim() !== "")) lines.push(line);
            line += 1 + r.join("").split("\n").length - 1;
          }
          expect(tail.map((r) => r.source.line)).to.deep.equal(lines);
        },
      ),
      { numRuns: 6 },
    );
  });
});
