/**
 * The readers' fuzz campaign (issue #19): every reader of untrusted files is fed mutated copies of
 * valid seeds. What must hold for every case:
 * - the reader ends: it yields rows and reports issues through `onIssue`, and never throws;
 *   without `onIssue` it throws only `IngestError`; the receipt verifier never throws;
 * - every issue has a documented rule (`csv.*`, `jsonl.*`, `sso.*`, `input.*`) and no stack trace;
 * - no personal value of the seeds (national IDs, insurance numbers, amounts) is in any issue;
 * - memory stays under a cap (peak RSS growth, checked once per reader).
 * `npm test` runs `FUZZ_RUNS` (default 60) cases per reader; `npm run fuzz` runs 2,000.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { zipSync } from "fflate";
import { bytesToHex } from "../../src/core/hex.ts";
import { leafHashes, leafValues } from "../../src/core/leaf.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import { buildReceipt } from "../../src/core/receipt.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import type { LedgerRecord } from "../../src/core/record.ts";
import { validateRecord } from "../../src/core/validate-record.ts";
import { verifyReceipt } from "../../src/core/verify-receipt.ts";
import { IngestError, type IngestIssue } from "../../src/ingest/ingest-issue.ts";
import { openInputs } from "../../src/ingest/open-inputs.ts";
import { readCsv } from "../../src/ingest/read-csv.ts";
import { readJsonl } from "../../src/ingest/read-jsonl.ts";
import { readSsoLists } from "../../src/ingest/read-sso-list.ts";
import { writeSsoList } from "../../src/ingest/write-sso-list.ts";
import { LIST_HEADER, PREMIUM_HEADER, premiumLine, tempDir, worker } from "../ingest/helpers.ts";
import { editsArb, FUZZ_RUNS, mutate, PERSONAL_VALUES } from "./mutate.ts";

const RULE = /^(csv|jsonl|sso|input)\.[a-z0-9.-]+$/;
/** Peak resident memory the fuzzing of one reader may add. */
const RSS_CAP = 256 << 20;

/** Checks every issue of one case: documented rule, no stack trace, no personal value. */
function checkIssues(issues: readonly IngestIssue[]): void {
  for (const issue of issues) {
    expect(issue.rule, JSON.stringify(issue)).to.match(RULE);
    const text = JSON.stringify(issue);
    expect(text, "stack trace in an issue").to.not.match(/\n\s+at |Error:|node:internal/);
    for (const v of PERSONAL_VALUES)
      expect(text, `personal value ${v} in an issue`).to.not.include(v);
  }
}

/** Runs a reader to its end with `onIssue`; returns the issues and the number of rows. */
async function drain(rows: AsyncIterable<unknown>, issues: IngestIssue[]): Promise<number> {
  let n = 0;
  for await (const _ of rows) n++;
  checkIssues(issues);
  return n;
}

/** Peak RSS growth while `run` runs (0 when the process peak was already higher). */
async function peakGrowth(run: () => Promise<void>): Promise<number> {
  const startRss = process.memoryUsage().rss;
  const peakBefore = process.resourceUsage().maxRSS * 1024;
  await run();
  const peakAfter = process.resourceUsage().maxRSS * 1024;
  return peakAfter > peakBefore ? peakAfter - startRss : 0;
}

const PENSION_LINE =
  "P-1,1403-07,1234567891,PF1,retirement,IR-23,100000000,7000000,93000000,1403-07-25,1403-07-26";
const PENSION_HEADER =
  "record_id,period,national_id,pension_file,category,province,gross,deductions,net,due_on,paid_on";

describe("fuzz: readers of untrusted files", function () {
  this.timeout(Math.max(120_000, FUZZ_RUNS * 500));
  let dir: string;
  let cleanup: () => void;
  /** Each case overwrites the previous case's file of the same name (cases run one at a time). */
  const caseFile = (name: string, bytes: Uint8Array) => {
    const p = path.join(dir, `case-${name}`);
    writeFileSync(p, bytes);
    return p;
  };
  let pair: { kar: Uint8Array; wor: Uint8Array };
  let zips: Uint8Array[];

  before(async function () {
    ({ dir, cleanup } = tempDir("shafaf-fuzz-"));
    const src = path.join(dir, "seed-pair");
    await writeSsoList(
      src,
      { header: LIST_HEADER, workers: [1, 2, 3].map((i) => worker(i, 100_000_000n)) },
      { layout: "v6" },
    );
    pair = {
      kar: new Uint8Array(readFileSync(path.join(src, "DSKKAR00.DBF"))),
      wor: new Uint8Array(readFileSync(path.join(src, "DSKWOR00.DBF"))),
    };
    zips = [
      zipSync({ "l/DSKKAR00.DBF": pair.kar, "l/DSKWOR00.DBF": pair.wor }),
      zipSync(
        { "a/DSKKAR00.DBF": pair.kar, "a/DSKWOR00.DBF": pair.wor, "r.txt": new Uint8Array(9) },
        { level: 0 },
      ),
    ];
  });
  after(function () {
    cleanup();
  });

  const csvSeeds = [
    `${PREMIUM_HEADER}\n${premiumLine(1)}\n${premiumLine(2)}\n`,
    `${PREMIUM_HEADER}\r\n${premiumLine(1)}\r\n"${premiumLine(3).replace(/,/g, '","')}"\r\n`,
    `${PENSION_HEADER.replace(/,/g, ";")}\n${PENSION_LINE.replace(/,/g, ";")}\n`,
    `${premiumLine(1)}\n${premiumLine(2)}\n`,
  ].map((s) => new TextEncoder().encode(s));

  it("CSV: documented issues only, no personal value, bounded memory", async function () {
    const growth = await peakGrowth(() =>
      fc.assert(
        fc.asyncProperty(
          fc.nat(csvSeeds.length - 1),
          editsArb,
          fc.boolean(),
          async (s, edits, kind) => {
            const issues: IngestIssue[] = [];
            const p = caseFile("x.csv", mutate(csvSeeds[s]!, edits));
            await drain(
              readCsv(p, { onIssue: (i) => issues.push(i), ...(kind ? { kind: "premium" } : {}) }),
              issues,
            );
          },
        ),
        { numRuns: FUZZ_RUNS },
      ),
    );
    expect(growth).to.be.below(RSS_CAP);
  });

  const jsonlSeeds = [
    [1, 2].map((i) => JSON.stringify(csvRecord(premiumLine(i), PREMIUM_HEADER))).join("\n") + "\n",
    JSON.stringify(csvRecord(PENSION_LINE, PENSION_HEADER)) + "\r\n",
  ].map((s) => new TextEncoder().encode(s));

  it("JSON Lines: documented issues only, no personal value, bounded memory", async function () {
    const growth = await peakGrowth(() =>
      fc.assert(
        fc.asyncProperty(fc.nat(jsonlSeeds.length - 1), editsArb, async (s, edits) => {
          const issues: IngestIssue[] = [];
          const p = caseFile("x.jsonl", mutate(jsonlSeeds[s]!, edits));
          await drain(readJsonl(p, { onIssue: (i) => issues.push(i) }), issues);
        }),
        { numRuns: FUZZ_RUNS },
      ),
    );
    expect(growth).to.be.below(RSS_CAP);
  });

  it("DBF pairs: documented issues only, no personal value, bounded memory", async function () {
    const growth = await peakGrowth(() =>
      fc.assert(
        fc.asyncProperty(fc.boolean(), editsArb, async (worker, edits) => {
          const issues: IngestIssue[] = [];
          const folder = path.join(dir, "case-pair");
          mkdirSync(folder, { recursive: true });
          writeFileSync(
            path.join(folder, "DSKKAR00.DBF"),
            worker ? pair.kar : mutate(pair.kar, edits),
          );
          writeFileSync(
            path.join(folder, "DSKWOR00.DBF"),
            worker ? mutate(pair.wor, edits) : pair.wor,
          );
          await drain(
            readSsoLists(folder, { province: "IR-23", onIssue: (i) => issues.push(i) }),
            issues,
          );
        }),
        { numRuns: FUZZ_RUNS },
      ),
    );
    expect(growth).to.be.below(RSS_CAP);
  });

  it("zips: documented issues only, no personal value, bounded memory", async function () {
    const growth = await peakGrowth(() =>
      fc.assert(
        fc.asyncProperty(fc.nat(1), editsArb, fc.boolean(), async (s, edits, directoryOnly) => {
          const seed = zips[s]!;
          // Half the cases edit only the central directory and its end record (last 200 bytes).
          const bytes = directoryOnly
            ? concat(seed.subarray(0, seed.length - 200), mutate(seed.subarray(-200), edits))
            : mutate(seed, edits);
          const issues: IngestIssue[] = [];
          const p = caseFile("x.zip", bytes);
          await drain(
            readSsoLists(p, { province: "IR-23", onIssue: (i) => issues.push(i) }),
            issues,
          );
        }),
        { numRuns: FUZZ_RUNS },
      ),
    );
    expect(growth).to.be.below(RSS_CAP);
  });

  it("uploads (openInputs, any bytes under any upload format): issues only, never a throw", async function () {
    const seeds = () => [...csvSeeds, ...jsonlSeeds, ...zips];
    const growth = await peakGrowth(() =>
      fc.assert(
        fc.asyncProperty(
          fc.nat(seeds().length - 1),
          fc.constantFrom("csv", "jsonl", "zip", "bin"),
          editsArb,
          async (s, ext, edits) => {
            const p = caseFile(`upload.${ext}`, mutate(seeds()[s]!, edits));
            const opened = openInputs([p], { kind: "premium", province: "IR-23" });
            let rows = 0;
            for await (const _ of opened.rows) rows++;
            checkIssues(opened.issues());
            expect(rows).to.be.at.least(0);
          },
        ),
        { numRuns: FUZZ_RUNS },
      ),
    );
    expect(growth).to.be.below(RSS_CAP);
  });

  it("without onIssue, a reader throws IngestError and nothing else", async function () {
    await fc.assert(
      fc.asyncProperty(fc.nat(csvSeeds.length - 1), editsArb, async (s, edits) => {
        const p = caseFile("x.csv", mutate(csvSeeds[s]!, edits));
        const z = caseFile("x.zip", mutate(zips[0]!, edits));
        for (const rows of [
          readCsv(p, { kind: "premium" }),
          readSsoLists(z, { province: "IR-23" }),
        ]) {
          try {
            for await (const _ of rows);
          } catch (error) {
            expect(error).to.be.instanceOf(IngestError);
            checkIssues((error as IngestError).issues);
            expect((error as Error).message).to.not.match(/\n\s+at /);
          }
        }
      }),
      { numRuns: Math.ceil(FUZZ_RUNS / 2) },
    );
  });

  it("receipts: the verifier never throws, and a receipt with a changed opening, proof or root never verifies", async function () {
    const { receipt, root } = receiptFixture();
    const text = new TextEncoder().encode(JSON.stringify(receipt));
    // Every string or number in the receipt, by path: half the cases edit one of them in place
    // (the JSON stays valid), half edit the JSON text (most of those are not JSON any more).
    const leaves: (string | number)[][] = [];
    const walk = (x: unknown, at: (string | number)[]) => {
      if (typeof x === "string" || typeof x === "number") leaves.push(at);
      else if (x !== null && typeof x === "object")
        for (const [k, v] of Object.entries(x)) walk(v, [...at, Array.isArray(x) ? Number(k) : k]);
    };
    walk(receipt, []);
    await fc.assert(
      fc.asyncProperty(
        editsArb,
        fc.nat(leaves.length - 1),
        fc.boolean(),
        async (edits, leaf, inPlace) => {
          let parsed: unknown;
          if (inPlace) {
            parsed = JSON.parse(JSON.stringify(receipt));
            const at = leaves[leaf]!;
            let holder = parsed as Record<string | number, unknown>;
            for (const k of at.slice(0, -1)) holder = holder[k] as Record<string | number, unknown>;
            const key = at[at.length - 1]!;
            const old = holder[key];
            const edited = new TextDecoder().decode(
              mutate(new TextEncoder().encode(String(old)), edits),
            );
            holder[key] =
              typeof old === "number" && /^-?[0-9]+$/.test(edited) ? Number(edited) : edited;
          } else {
            try {
              parsed = JSON.parse(new TextDecoder().decode(mutate(text, edits)));
            } catch {
              return; // not JSON: `shafaf verify` reports that before the verifier runs
            }
          }
          const r = await verifyReceipt(parsed, { root });
          expect(["verified", "failed", "inconclusive"]).to.include(r.status);
          if (r.status === "verified") {
            // Only edits outside what the leaf and the proof bind may leave a receipt valid.
            const before = receipt as unknown as Record<string, unknown>;
            const after = parsed as Record<string, unknown>;
            // Hex is read in any case; the record's text is exact.
            const same = (k: string, fold: boolean) => {
              const [a, b] = [String(JSON.stringify(after[k])), String(JSON.stringify(before[k]))];
              return fold ? a.toLowerCase() === b.toLowerCase() : a === b;
            };
            expect(same("record", false), "record").to.equal(true);
            for (const k of ["proof", "root", "values"]) expect(same(k, true), k).to.equal(true);
          }
        },
      ),
      { numRuns: FUZZ_RUNS },
    );
  });
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function csvRecord(line: string, header: string): Record<string, string> {
  const keys = header.split(",");
  const values = line.split(",");
  return Object.fromEntries(keys.map((k, i) => [k, values[i]!]));
}

function receiptFixture() {
  let counter = 7;
  const rand = (len: number) =>
    Uint8Array.from({ length: len }, () => (counter = (counter * 1103515245 + 12345) >>> 0) >>> 24);
  const records: LedgerRecord[] = [0, 1, 2].map((i) => {
    const r = validateRecord(
      "pension",
      csvRecord(PENSION_LINE.replace("P-1", `P-${i}`), PENSION_HEADER),
    );
    if (!r.ok) throw new Error("fixture");
    return r.record;
  });
  const values = records.map((r) =>
    leafValues(r, {
      salt: bytesToHex(rand(32)),
      subject: subjectPseudonym(new Uint8Array(32).fill(1), r.nationalId),
    }),
  );
  const tree = buildMerkleTree(leafHashes(values));
  const receipt = buildReceipt({
    chainId: 31337,
    contract: "0x5FbDB2315678afecb367f032d93F642f64180aa3",
    batchId: 3,
    tree,
    index: 1,
    record: records[1]!,
    values: values[1]!,
    anchor: { txHash: bytesToHex(rand(32)), blockNumber: 12 },
    code: newReceiptCode(rand),
  });
  return { receipt, root: tree.root };
}
