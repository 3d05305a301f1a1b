import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { zipSync } from "fflate";
import { crc32 } from "node:zlib";
import { runAnchorJob } from "../../src/anchor/run-anchor-job.ts";
import type { IngestIssue } from "../../src/ingest/ingest-issue.ts";
import { readSsoLists } from "../../src/ingest/read-sso-list.ts";
import { writeSsoList } from "../../src/ingest/write-sso-list.ts";
import { collect, LIST_HEADER, tempDir, worker } from "./helpers.ts";
import { buildZip, deflatedMember, zeroBombMember, type RawZipMember } from "./zip-builder.ts";

const READER = path.resolve(import.meta.dirname, "../../src/ingest/read-sso-list.ts");
const GIB = 1 << 30;
/** Peak resident memory a reader may add while reading a hostile zip. */
const RSS_CAP = 200 << 20;

interface ChildResult {
  growth: number;
  rows: number;
  issues: IngestIssue[];
}

/** Reads `zip` in a fresh Node process; returns its peak RSS growth, rows and issues. */
function readInChild(zip: string, zipLimits: object = {}): ChildResult {
  const code = `
    const { readSsoLists } = await import(${JSON.stringify(READER)});
    // The peak so far (loading modules through tsx can peak above the settled RSS): growth is
    // what reading the zip adds on top of what loading the reader already needed.
    const base = Math.max(process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
    const issues = [];
    let rows = 0;
    for await (const _ of readSsoLists(${JSON.stringify(zip)}, {
      province: "IR-23", onIssue: (i) => issues.push(i), zipLimits: ${JSON.stringify(zipLimits)},
    })) rows++;
    process.stdout.write(JSON.stringify({ growth: process.resourceUsage().maxRSS * 1024 - base, rows, issues }));
  `;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    encoding: "utf8",
    maxBuffer: 16 << 20,
  });
  expect(r.stderr, "child stderr").to.equal("");
  return JSON.parse(r.stdout) as ChildResult;
}

async function listPair(dir: string, workers = 3): Promise<{ kar: Buffer; wor: Buffer }> {
  await writeSsoList(
    dir,
    { header: LIST_HEADER, workers: Array.from({ length: workers }, (_, i) => worker(i + 1)) },
    { layout: "v6" },
  );
  return {
    kar: readFileSync(path.join(dir, "DSKKAR00.DBF")),
    wor: readFileSync(path.join(dir, "DSKWOR00.DBF")),
  };
}

/** A DBF header prefix (first 12 bytes) announcing `records` records of `recordLength` bytes. */
function announcing(wor: Buffer, size: number): Uint8Array {
  const head = Buffer.from(wor.subarray(0, 12));
  const headerLength = head.readUInt16LE(8);
  const recordLength = head.readUInt16LE(10);
  head.writeUInt32LE(Math.floor((size - headerLength - 1) / recordLength), 4);
  return head;
}

describe("hostile zips (readSsoLists)", function () {
  this.timeout(180_000);
  let dir: string;
  let cleanup: () => void;
  let pair: { kar: Buffer; wor: Buffer };
  let karMember: RawZipMember;
  let bomb: RawZipMember;

  before(async function () {
    ({ dir, cleanup } = tempDir("shafaf-hostile-zip-"));
    pair = await listPair(path.join(dir, "pair"));
    karMember = await deflatedMember("l/DSKKAR00.DBF", pair.kar);
    // A worker file whose DBF header announces 1 GiB of records, then zeros: ≈ 1 MiB deflated.
    bomb = await zeroBombMember("l/DSKWOR00.DBF", announcing(pair.wor, GIB), GIB);
    expect(bomb.data.length).to.be.below(1.1 * (1 << 20));
  });
  after(function () {
    cleanup();
  });

  it("rejects a 1 MiB zip whose worker file inflates to 1 GiB, before inflating it, in bounded memory", function () {
    const zip = path.join(dir, "bomb.zip");
    writeFileSync(zip, buildZip([karMember, bomb]));
    const r = readInChild(zip);
    expect(r.rows).to.equal(0);
    expect(r.issues.map((i) => [i.rule, i.source.entry])).to.deep.equal([
      ["sso.zip-limit", "l/DSKWOR00.DBF"],
    ]);
    expect(r.issues[0]!.message).to.contain(`inflates to ${GIB} bytes`);
    expect(r.growth).to.be.below(RSS_CAP);
  });

  it("makes the staff upload's pipeline (runAnchorJob, as shafaf serve runs it) answer invalid", async function () {
    const zip = path.join(dir, "upload.zip");
    writeFileSync(zip, buildZip([karMember, bomb]));
    const r = await runAnchorJob({
      inputs: [zip],
      kind: "premium",
      period: "1403-07",
      province: "IR-23",
      dryRun: true,
      pseudonymKey: new Uint8Array(32).fill(7),
    });
    expect(r.status).to.equal("invalid");
    if (r.status !== "invalid") return;
    expect(r.issues.map((i) => [i.rule, i.entry])).to.deep.equal([
      ["sso.zip-limit", "l/DSKWOR00.DBF"],
    ]);
  });

  it("stops inflating at the size the directory declares when the directory lies", function () {
    const zip = path.join(dir, "liar.zip");
    writeFileSync(zip, buildZip([karMember, { ...bomb, size: pair.wor.length }]));
    const r = readInChild(zip);
    expect(r.issues.map((i) => i.rule)).to.include("sso.zip-limit");
    expect(r.issues.find((i) => i.rule === "sso.zip-limit")!.message).to.contain(
      `more than the ${pair.wor.length} bytes its directory entry declares`,
    );
    expect(r.growth).to.be.below(RSS_CAP);
  });

  it("streams a 1 GiB worker file in bounded memory when the limits allow it", function () {
    const zip = path.join(dir, "allowed.zip");
    writeFileSync(zip, buildZip([karMember, bomb]));
    const r = readInChild(zip, {
      maxMemberBytes: 2 * GIB,
      maxTotalBytes: 2 * GIB,
      maxRatio: Number.MAX_SAFE_INTEGER,
    });
    // The zeros are not records ListDisk writes: the reader says so, but only after streaming.
    expect(r.issues.map((i) => i.rule)).to.not.include("sso.zip-limit");
    expect(r.growth).to.be.below(RSS_CAP);
  });

  it("rejects a worker file longer than its own DBF header announces", async function () {
    const padded = Buffer.concat([pair.wor, Buffer.alloc(256 << 10)]);
    const zip = path.join(dir, "padded.zip");
    writeFileSync(zip, buildZip([karMember, await deflatedMember("l/DSKWOR00.DBF", padded)]));
    const issues: IngestIssue[] = [];
    const rows = await collect(
      readSsoLists(zip, { province: "IR-23", onIssue: (i) => issues.push(i) }),
    );
    expect(rows).to.deep.equal([]);
    expect(issues.map((i) => i.rule)).to.deep.equal(["sso.zip-limit"]);
    expect(issues[0]!.message).to.contain(`but its DBF header announces ${pair.wor.length}`);
  });

  it("reports a member that fails its CRC-32 check", async function () {
    const wor = await deflatedMember("l/DSKWOR00.DBF", pair.wor);
    const zip = path.join(dir, "crc.zip");
    writeFileSync(zip, buildZip([karMember, { ...wor, crc32: (wor.crc32 ^ 1) >>> 0 }]));
    const issues: IngestIssue[] = [];
    await collect(readSsoLists(zip, { province: "IR-23", onIssue: (i) => issues.push(i) }));
    expect(issues.map((i) => [i.rule, i.message])).to.deep.equal([
      ["sso.zip", "l/DSKWOR00.DBF fails its CRC-32 check"],
    ]);
  });

  it("reads a valid pair beside 3,000 other files (the directory is walked with a loop)", async function () {
    const files: Record<string, Uint8Array> = {
      "l/DSKKAR00.DBF": pair.kar,
      "l/DSKWOR00.DBF": pair.wor,
    };
    for (let i = 0; i < 3000; i++) files[`other/${i}.txt`] = new Uint8Array([i & 0xff]);
    const zip = path.join(dir, "many.zip");
    writeFileSync(zip, zipSync(files, { level: 0 }));
    const issues: IngestIssue[] = [];
    const rows = await collect(
      readSsoLists(zip, { province: "IR-23", onIssue: (i) => issues.push(i) }),
    );
    expect(issues).to.deep.equal([]);
    expect(rows).to.have.length(3);
  });

  it("reads a stored member with honest sizes (the builder itself makes readable zips)", async function () {
    const zip = path.join(dir, "stored.zip");
    const stored = (name: string, b: Buffer): RawZipMember => ({
      name,
      data: b,
      method: 0,
      size: b.length,
      crc32: crc32(b),
    });
    writeFileSync(
      zip,
      buildZip([stored("l/DSKKAR00.DBF", pair.kar), stored("l/DSKWOR00.DBF", pair.wor)]),
    );
    const issues: IngestIssue[] = [];
    const rows = await collect(
      readSsoLists(zip, { province: "IR-23", onIssue: (i) => issues.push(i) }),
    );
    expect(issues).to.deep.equal([]);
    expect(rows).to.have.length(3);
  });
});
