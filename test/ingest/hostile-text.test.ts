import { writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { type IngestIssue } from "../../src/ingest/ingest-issue.ts";
import { readCsv, type ReadCsvOptions } from "../../src/ingest/read-csv.ts";
import { readJsonl } from "../../src/ingest/read-jsonl.ts";
import { collect, PREMIUM_HEADER, premiumLine, tempDir } from "./helpers.ts";

/** The personal values of `premiumLine(1)` and `premiumLine(2)`. */
const PERSONAL = ["0012345679", "10000001", "10000002", "100000000", "7000000", "20000000"];

function expectNoPersonalValue(issues: readonly IngestIssue[]): void {
  const text = JSON.stringify(issues);
  for (const v of PERSONAL) expect(text, `issues hold ${v}`).to.not.include(v);
}

describe("hostile text inputs: no personal value in a message", function () {
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(function () {
    cleanup();
  });
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  async function csv(p: string, options: ReadCsvOptions = {}) {
    const issues: IngestIssue[] = [];
    const rows = await collect(readCsv(p, { onIssue: (i) => issues.push(i), ...options }));
    return { rows, issues };
  }

  it("says a CSV without its header line has no header, and shows none of the first row's values", async function () {
    const p = file("no-header.csv", [premiumLine(1), premiumLine(2)].join("\n") + "\n");
    for (const options of [{ kind: "premium" as const }, {}]) {
      const { rows, issues } = await csv(p, options);
      expect(rows).to.deep.equal([]);
      expect(issues).to.have.length(1);
      expectNoPersonalValue(issues);
    }
    for (const options of [{ kind: "premium" as const }, {}]) {
      const { issues } = await csv(p, options);
      expect(issues[0]!.rule).to.equal("csv.header.not-a-header");
      expect(issues[0]!.message).to.equal(
        "the first line is not a header: 14 of its 14 cells are not column names",
      );
    }
  });

  it("says a CSV with CR-only line ends reads as one line, and shows none of its values", async function () {
    const p = file("cr.csv", [PREMIUM_HEADER, premiumLine(1), premiumLine(2)].join("\r") + "\r");
    const { rows, issues } = await csv(p, { kind: "premium" });
    expect(rows).to.deep.equal([]);
    expect(issues.map((i) => i.rule)).to.deep.equal(["csv.line-ends"]);
    expectNoPersonalValue(issues);
  });

  it("masks an unknown column that looks like a value, and names one that looks like a column", async function () {
    const p = file("odd.csv", `${PREMIUM_HEADER},bonus,0012345679\n`);
    const { issues } = await csv(p, { kind: "premium" });
    expect(issues.map((i) => [i.rule, i.field, i.message])).to.deep.equal([
      ["csv.header.unknown-column", "bonus", 'unknown column "bonus"'],
      ["csv.header.unknown-column", "", "unknown column [number, 10 chars]"],
    ]);
    expectNoPersonalValue(issues);
  });

  it("masks a JSON Lines key that looks like a value", async function () {
    const good = `{"record_id":"P-1","period":"1403-07","national_id":"0012345679"`;
    const p = file("odd.jsonl", `${good},"10000001":"x","bonus":1}\n`);
    const issues: IngestIssue[] = [];
    await collect(readJsonl(p, { kind: "premium", onIssue: (i) => issues.push(i) }));
    const unknown = issues.filter((i) => i.rule === "jsonl.unknown-key");
    expect(unknown.map((i) => [i.field, i.message])).to.deep.equal([
      ["", "unknown key [number, 8 chars]"],
      ["bonus", 'unknown key "bonus"'],
    ]);
    expectNoPersonalValue(issues);
  });
});
