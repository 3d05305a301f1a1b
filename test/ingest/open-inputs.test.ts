import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { detectInputFormat, openInputs } from "../../src/ingest/open-inputs.ts";
import { writeSsoList } from "../../src/ingest/write-sso-list.ts";
import { sha256File } from "../../src/ingest/source-info.ts";
import { collect, LIST_HEADER, PREMIUM_HEADER, premiumLine, tempDir, worker } from "./helpers.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Runs `shafaf <args>` in a child process (the real CLI entry point). */
function shafaf(args: string[], cwd: string) {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(ROOT, "src/cli/main.ts"), ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, INIT_CWD: cwd },
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("openInputs", function () {
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(function () {
    cleanup();
  });

  it("detects formats by extension and by content", async function () {
    const p = (n: string, c: string | Buffer) => {
      const f = path.join(dir, n);
      writeFileSync(f, c);
      return f;
    };
    expect(await detectInputFormat(p("a.csv", "x"))).to.equal("csv");
    expect(await detectInputFormat(p("a.ndjson", "x"))).to.equal("jsonl");
    expect(await detectInputFormat(p("a.DBF", "x"))).to.equal("sso-dbf");
    expect(await detectInputFormat(p("noext1", '\uFEFF  {"a":1}'))).to.equal("jsonl");
    expect(await detectInputFormat(p("noext2", PREMIUM_HEADER))).to.equal("csv");
    expect(await detectInputFormat(p("noext3", Buffer.from([0x03, 0x7d, 1, 1])))).to.equal(
      "sso-dbf",
    );
    expect(await detectInputFormat(dir)).to.equal("sso-dbf");
  });

  it("streams CSV, JSON Lines and DBF lists as one set of rows, with issues and sources pooled", async function () {
    const csv = path.join(dir, "a.csv");
    writeFileSync(csv, [PREMIUM_HEADER, premiumLine(1), "short,row"].join("\n"));
    const jsonl = path.join(dir, "b.jsonl");
    const fields = Object.fromEntries(
      PREMIUM_HEADER.split(",").map((k, i) => [k, premiumLine(2).split(",")[i]]),
    );
    writeFileSync(jsonl, JSON.stringify(fields) + "\n");
    const lists = path.join(dir, "lists");
    await writeSsoList(
      path.join(lists, "w1"),
      { header: LIST_HEADER, workers: [worker(1), worker(2)] },
      { layout: "v6" },
    );
    const inputs = openInputs(
      [csv, jsonl, lists, path.join(lists, "w1", "DSKKAR00.DBF"), path.join(dir, "missing.csv")],
      {
        kind: "premium",
        provinceOf: (code) => (code === "1234567890" ? "IR-07" : undefined),
      },
    );
    const rows = await collect(inputs.rows);
    expect(rows.map((r) => r.fields.record_id)).to.deep.equal([
      "P-1",
      "P-2",
      `1234567890-140307-01-${worker(1).insuranceNo}`,
      `1234567890-140307-01-${worker(2).insuranceNo}`,
    ]);
    expect(rows[2]!.fields.province).to.equal("IR-07");
    expect(inputs.issues().map((i) => i.rule)).to.deep.equal(["csv.ragged-row", "input.missing"]);
    const sources = inputs.sources();
    expect(sources.map((s) => [s.name, s.format, s.encoding])).to.deep.equal([
      ["a.csv", "csv", "utf-8"],
      ["b.jsonl", "jsonl", "utf-8"],
      ["lists/w1/DSKKAR00.DBF", "sso-dbf", "iran-system"],
      ["lists/w1/DSKWOR00.DBF", "sso-dbf", "iran-system"],
    ]);
    expect(sources[0]!.sha256).to.equal(await sha256File(csv));
    expect(sources[3]!.sha256).to.equal(await sha256File(path.join(lists, "w1", "DSKWOR00.DBF")));
  });

  it("gives the same rows, issues and sources by batch (rowBatches) as row by row", async function () {
    const csv = path.join(dir, "a.csv");
    const lines = [PREMIUM_HEADER];
    for (let i = 1; i <= 300; i++) lines.push(premiumLine(i));
    lines.push("short,row");
    writeFileSync(csv, lines.join("\n"));
    const lists = path.join(dir, "lists");
    await writeSsoList(
      path.join(lists, "w1"),
      { header: LIST_HEADER, workers: [worker(1), worker(2)] },
      { layout: "v6" },
    );
    const open = () => openInputs([csv, lists], { kind: "premium", province: "IR-07" });
    const byRow = open();
    const rows = await collect(byRow.rows);
    const byBatch = open();
    const batched = [];
    for await (const batch of byBatch.rowBatches) batched.push(...batch);
    expect(rows).to.have.length(302);
    expect(batched).to.deep.equal(rows);
    expect(byBatch.issues()).to.deep.equal(byRow.issues());
    expect(byBatch.sources()).to.deep.equal(byRow.sources());
  });

  it("refuses DBF lists for pensions", async function () {
    await writeSsoList(dir, { header: LIST_HEADER, workers: [worker(1)] }, { layout: "v6" });
    const inputs = openInputs([dir], { kind: "pension" });
    expect(await collect(inputs.rows)).to.deep.equal([]);
    expect(inputs.issues().map((i) => i.rule)).to.deep.equal(["input.kind"]);
  });
});

describe("shafaf dbf", function () {
  this.timeout(60_000);
  let dir: string;
  let cleanup: () => void;
  beforeEach(function () {
    ({ dir, cleanup } = tempDir());
  });
  afterEach(function () {
    cleanup();
  });

  it("writes lists from a table of DBF field names and reads them back as premium rows", function () {
    const input = path.join(dir, "rows.csv");
    writeFileSync(
      input,
      [
        "dsk_id,DSK_NAME,DSK_YY,DSK_MM,DSK_LISTNO,DSW_ID1,DSW_FNAME,DSW_LNAME,DSW_SEX,DSW_DD,DSW_MAH,DSW_MAZ,PER_NATCOD",
        "1234567890,کارگاه لاله,1403,7,01,10000001,علی,محمدی,مرد,31,93000000,7000000,0012345679",
        "1234567890,کارگاه لاله,1403,7,01,10000002,زهرا,کریمی,زن,30,90000000,0,1234567891",
        "2000000002,کارگاه دو,03,7,01,10000003,رضا,احمدی,مرد,31,80000001,0,2740583311",
      ].join("\n"),
    );
    const out = path.join(dir, "out");
    const w = shafaf(["dbf", "write", "--from", input, "--out", out, "--layout", "v2.7"], dir);
    expect(w.status, w.stderr).to.equal(0);
    expect(w.stdout.trim().split("\n")).to.have.length(4);
    expect(readFileSync(path.join(out, "1234567890-140307-01", "DSKWOR00.DBF"))[29]).to.equal(0x7e);
    const register = path.join(dir, "workshops.csv");
    writeFileSync(register, "workshop_code,province\n2000000002,IR-10\n");
    const r = shafaf(["dbf", "read", out, "--province", "IR-23", "--workshops", register], dir);
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).to.match(/^record_id,period,national_id,workshop_code/);
    expect(lines.slice(1)).to.deep.equal([
      "1234567890-140307-01-10000001,1403-07,0012345679,1234567890,10000001,IR-23,31,100000000,7000000,20000000,3000000,0,30000000,,,,,",
      "1234567890-140307-01-10000002,1403-07,1234567891,1234567890,10000002,IR-23,30,90000000,6300000,18000000,2700000,0,27000000,,,,,",
      "2000000002-140307-01-10000003,1403-07,2740583311,2000000002,10000003,IR-10,31,80000001,5600000,16000000,2400000,0,24000000,,,,,",
    ]);
    expect(r.stderr).to.contain("2 list(s), 3 worker row(s); header checks: passed");
    const j = shafaf(["dbf", "read", path.join(out, "2000000002-140307-01"), "--json"], dir);
    expect(j.status).to.equal(65); // no province given
    const parsed = JSON.parse(j.stdout) as {
      rows: unknown[];
      issues: { rule: string }[];
      sources: { layout: string }[];
    };
    expect(parsed.rows).to.have.length(1);
    expect(parsed.issues.map((i) => i.rule)).to.deep.equal(["sso.province"]);
    expect(parsed.sources.map((s) => s.layout)).to.deep.equal(["v2.7", "v2.7"]);
  });

  it("lists bad input rows and writes nothing; usage errors exit 64", function () {
    const input = path.join(dir, "rows.csv");
    writeFileSync(
      input,
      "DSK_ID,DSK_YY,DSK_MM,DSK_LISTNO,DSW_ID1,DSW_DD,DSW_MAH,PER_NATCOD,DSW_FNAME\n1234567890,1403,13,01,1,x,5,0012345679,Zoë\n",
    );
    const out = path.join(dir, "out");
    const w = shafaf(["dbf", "write", "--from", input, "--out", out], dir);
    expect(w.status).to.equal(65);
    expect(w.stderr).to.contain("rows.csv:2:DSK_MM");
    expect(w.stderr).to.contain("rows.csv:2:DSW_DD");
    expect(shafaf(["dbf", "write", "--from", input], dir).status).to.equal(64);
    expect(
      shafaf(["dbf", "write", "--from", input, "--out", out, "--layout", "wide"], dir).status,
    ).to.equal(64);
    expect(shafaf(["dbf", "frobnicate"], dir).status).to.equal(64);
    mkdirSync(out, { recursive: true });
    const r = shafaf(["dbf", "read", out], dir);
    expect(r.status).to.equal(65);
    expect(r.stderr).to.contain("no SSO list files found");
  });
});
