import { expect } from "chai";
import { manifestFinding, quarantineLists } from "../../src/anchor/list-quarantine.ts";
import type { ValidationIssue } from "../../src/anchor/run-anchor-job.ts";

const issue = (over: Partial<ValidationIssue>): ValidationIssue => ({
  file: "a.csv",
  field: "",
  rule: "r",
  value: "",
  message: "m",
  hint: "h",
  ...over,
});

describe("list-quarantine", function () {
  describe("quarantineLists", function () {
    const lists = new Map([
      ["m/w1", { rows: 3, workshops: new Set(["1"]) }],
      ["m/w2", { rows: 4, workshops: new Set(["2"]) }],
      ["z.zip!w3", { rows: 5, workshops: new Set(["3"]) }],
      ["z.zip!w4", { rows: 6, workshops: new Set(["4"]) }],
      ["b.csv", { rows: 7, workshops: new Set(["5", "6"]) }],
    ]);

    it("takes each issue's list, or its file when it has none; sorted, rules distinct", function () {
      const q = quarantineLists(
        [
          issue({ file: "m/w2/DSKWOR00.DBF", list: "m/w2", rule: "sso.worker-share", line: 2 }),
          issue({ file: "m/w2/DSKWOR00.DBF", list: "m/w2", rule: "sso.worker-share", line: 3 }),
          issue({ file: "b.csv", rule: "national-id.checksum", line: 4 }),
        ],
        lists,
      );
      expect(
        q.quarantined.map((x) => [x.list, x.rows, x.workshops, x.issues.length]),
      ).to.deep.equal([
        ["b.csv", 7, ["5", "6"], 1],
        ["m/w2", 4, ["2"], 2],
      ]);
      expect(q.exclude.summary).to.deep.equal([
        { list: "b.csv", rows: 7, rules: ["national-id.checksum"] },
        { list: "m/w2", rows: 4, rules: ["sso.worker-share"] },
      ]);
      expect([...q.exclude.lists].sort()).to.deep.equal(["b.csv", "m/w2"]);
    });

    it("a problem of a zip as a whole takes every list read from it", function () {
      const q = quarantineLists([issue({ file: "z.zip", rule: "sso.zip" })], lists);
      expect(q.quarantined.map((x) => [x.list, x.issues.length])).to.deep.equal([
        ["z.zip", 1],
        ["z.zip!w3", 0],
        ["z.zip!w4", 0],
      ]);
      expect([...q.exclude.files]).to.deep.equal(["z.zip"]);
    });
  });

  it("manifestFinding keeps where and which rule, not the prose or the value", function () {
    expect(
      manifestFinding(
        issue({
          file: "z.zip",
          entry: "w3/DSKKAR00.DBF",
          line: 1,
          field: "DSK_TTOTL",
          rule: "sso.header-total",
          value: "[number, 9 chars]",
          list: "z.zip!w3",
        }),
      ),
    ).to.deep.equal({
      file: "z.zip!w3/DSKKAR00.DBF",
      line: 1,
      field: "DSK_TTOTL",
      rule: "sso.header-total",
      list: "z.zip!w3",
    });
  });
});
