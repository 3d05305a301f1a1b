import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import type { IngestIssue } from "../../src/ingest/ingest-issue.ts";
import { readJsonl } from "../../src/ingest/read-jsonl.ts";
import type { SourceInfo } from "../../src/ingest/source-info.ts";
import { validateRecord } from "../../src/core/validate-record.ts";
import { collect, encodeCp1256, tempDir } from "./helpers.ts";

const pension = {
  record_id: "A-1",
  period: "1403-07",
  national_id: "0012345679",
  pension_file: "F-1",
  category: "retirement",
  province: "IR-23",
  gross: 1000,
  deductions: "0",
  net: 1000,
  due_on: "1403-07-01",
  paid_on: "1403-07-02",
};

describe("readJsonl", function () {
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(function () {
    cleanup();
  });
  const file = (content: string | Buffer) => {
    const p = path.join(dir, "in.jsonl");
    writeFileSync(p, content);
    return p;
  };
  async function read(p: string) {
    const issues: IngestIssue[] = [];
    const sources: SourceInfo[] = [];
    const rows = await collect(
      readJsonl(p, { onIssue: (i) => issues.push(i), onSource: (s) => sources.push(s) }),
    );
    return { rows, issues, sources };
  }

  it("reads objects with string or integer values, CRLF, blank lines and a BOM", async function () {
    const p = file(
      "\uFEFF" +
        JSON.stringify(pension) +
        "\r\n\r\n" +
        JSON.stringify({ ...pension, record_id: "A-2", supersedes: null }) +
        "\n",
    );
    const { rows, issues, sources } = await read(p);
    expect(issues).to.deep.equal([]);
    expect(rows.map((r) => r.source.line)).to.deep.equal([1, 3]);
    expect(rows[0]!.fields.gross).to.equal("1000");
    expect(rows[1]!.fields.supersedes).to.equal(undefined);
    expect(validateRecord("pension", rows[0]!.fields).ok).to.equal(true);
    expect(sources[0]).to.include({ format: "jsonl", records: 2 });
  });

  it("accepts amounts beyond 2^53 as strings", async function () {
    const big = "123456789012345678901234567890";
    const { rows, issues } = await read(
      file(JSON.stringify({ ...pension, gross: big, net: big }) + "\n"),
    );
    expect(issues).to.deep.equal([]);
    expect(rows[0]!.fields.gross).to.equal(big);
  });

  it("rejects floats, unsafe integers, exponents, other types and unknown keys with clear messages", async function () {
    const lines = [
      JSON.stringify({ ...pension, gross: 10.5 }),
      `{"record_id":"A-3","gross":9007199254740993,"net":1000}`,
      `{"record_id":"A-4","gross":1.0,"net":1e3}`,
      JSON.stringify({ ...pension, deductions: true, net: [1] }),
      JSON.stringify({ ...pension, bonus: "1" }),
      "[1,2]",
      '{"record_id": "A-6", national_id: 0012345679}',
    ];
    const { rows, issues } = await read(file(lines.join("\n") + "\n"));
    expect(rows).to.deep.equal([]);
    expect(issues.map((i) => [i.source.line, i.rule, i.field])).to.deep.equal([
      [1, "jsonl.float", "gross"],
      [2, "jsonl.unsafe-integer", "gross"],
      [3, "jsonl.float", "gross"],
      [3, "jsonl.float", "net"],
      [4, "jsonl.type", "deductions"],
      [4, "jsonl.type", "net"],
      [5, "jsonl.unknown-key", "bonus"],
      [6, "jsonl.not-object", ""],
      [7, "jsonl.syntax", ""],
    ]);
    expect(issues[1]!.hint).to.contain('"gross": "…"');
    // The syntax error names a position, never the line's text (it holds a national ID).
    expect(JSON.stringify(issues[8])).to.not.contain("0012345679");
  });

  it("refuses a file that is not UTF-8", async function () {
    const { rows, issues } = await read(
      file(encodeCp1256(JSON.stringify({ ...pension, province: "تهران" }) + "\n")),
    );
    expect(rows).to.deep.equal([]);
    expect(issues.map((i) => i.rule)).to.deep.equal(["jsonl.encoding"]);
  });
});
