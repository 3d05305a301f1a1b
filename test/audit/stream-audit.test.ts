/**
 * The streaming audit of batch artifacts (`shafaf-tree/2` and `shafaf-tree/1`): its fold of the
 * tree equals core's builder, its report is byte for byte the one the in-memory stages write
 * (intact and tampered exports, a separate reference or the export as its own), and it audits
 * 200,000 records inside a heap in which the in-memory audit runs out of memory.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createHash, randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { auditBatch, buildReport, writeReport } from "../../src/audit/audit-batch.ts";
import type { AuditedExport } from "../../src/audit/audit-report.ts";
import { checkAnomalies } from "../../src/audit/audit-history.ts";
import {
  auditCheck,
  checkPersonKeys,
  compareBatch,
  compareReference,
  countPersonKeys,
} from "../../src/audit/compare-batch.ts";
import { compareRecords, sortMismatches } from "../../src/audit/compare-records.ts";
import { DEFAULT_ANOMALY_SETTINGS } from "../../src/audit/find-anomalies.ts";
import { foldSumTree, sortLeaves } from "../../src/core/fold-sum-tree.ts";
import type { AnchoredBatch } from "../../src/audit/read-anchored-batch.ts";
import { readAuditedExport } from "../../src/audit/read-audited-export.ts";
import { readReference } from "../../src/audit/read-reference.ts";
import { recomputeBatch } from "../../src/audit/recompute-batch.ts";
import type { LeafColumns } from "../../src/audit/scan-artifact.ts";
import { createDistinctSubjects, createPersonGroups } from "../../src/core/subject-columns.ts";
import { buildSumTree } from "../../src/core/build-sum-tree.ts";
import { premiumShares } from "../../src/core/rates.ts";
import { recordFromJson, recordToJson } from "../../src/core/receipt.ts";
import type { PremiumRecord } from "../../src/core/record.ts";
import { pipelineBatch, writeSyntheticPremiumCsv } from "./synthetic-batch.ts";

/** The audit as the in-memory stages make it (what `auditBatch` did before it streamed). */
async function inMemoryAudit(p: {
  audited: AuditedExport & { type: "batch-artifact" };
  referenceDir?: string;
}) {
  const settings = DEFAULT_ANOMALY_SETTINGS;
  const params = { batchId: 1, audited: p.audited, referenceDir: p.referenceDir };
  const reference = await readReference(p.referenceDir ?? p.audited.dir);
  const d = reference.descriptor;
  const anchored: AnchoredBatch = {
    source: "artifact",
    chainId: null,
    contract: null,
    batchId: 1,
    kind: d.kind,
    period: d.period,
    root: d.root.toLowerCase(),
    recordCount: d.recordCount,
    total: BigInt(d.total),
    manifestHash: d.manifestHash.toLowerCase(),
    supersedes: d.supersedes,
    supersededBy: null,
    confirmations: null,
    disputes: null,
    ...(d.scheme === "shafaf-tree/2"
      ? {
          v2: {
            scheme: "shafaf-tree/2" as const,
            vrfKeyId: (d.vrfKeyId ?? "").toLowerCase(),
            lanes: (d.lanes ?? []).map((l) => BigInt(l)),
          },
        }
      : {}),
  };
  const checks = compareReference(reference, anchored);
  const exported = await readAuditedExport(p.audited, {
    kind: d.kind,
    period: d.period,
    rates: settings.rates,
    reference,
  });
  checks.push(
    auditCheck(
      "export-integrity",
      "sha256 as in artifact.json",
      exported.problems!.length === 0
        ? "sha256 as in artifact.json"
        : exported.problems!.join("; "),
      "the audited artifact's files match the sha256 its descriptor recorded when it was written",
    ),
  );
  const recomputed = recomputeBatch({
    anchored,
    reference,
    exported,
    rulesVersion: settings.rates.version,
  });
  checks.push(
    ...checkPersonKeys(anchored, exported, exported.records.length + exported.invalid.length, () =>
      countPersonKeys(exported.records),
    ),
    ...compareBatch(anchored, reference, recomputed, reference.manifest ?? exported.manifest),
  );
  const mismatches = sortMismatches([
    ...exported.invalid,
    ...compareRecords(reference, anchored.root, exported.records, recomputed.leafOf),
  ]);
  const found = await checkAnomalies({ kind: d.kind, period: d.period, exported, settings });
  return writeReport(
    buildReport({
      params,
      settings,
      anchored,
      reference,
      exported,
      recomputed,
      checks,
      mismatches,
      found,
    }),
  );
}

interface Line {
  index: number;
  salt: string;
  subject: string;
  record: Record<string, string | number>;
}

/** A copy of an artifact whose lines and keys `edit` changes; artifact.json's sha256s follow. */
async function tamperedCopy(
  from: string,
  to: string,
  edit: (lines: Line[], keys: Uint8Array[]) => void,
): Promise<string> {
  await cp(from, to, { recursive: true });
  const lines = (await readFile(path.join(to, "records.jsonl"), "utf8"))
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Line);
  const v2 = existsSync(path.join(to, "keys.bin"));
  const bytes = v2 ? new Uint8Array(await readFile(path.join(to, "keys.bin"))) : undefined;
  const keys = lines.map((_, i) => bytes?.slice(i * 32, i * 32 + 32) ?? new Uint8Array(32));
  edit(lines, keys);
  const records = Buffer.from(lines.map((l) => JSON.stringify(l) + "\n").join(""), "utf8");
  const keysBin = Buffer.concat(keys);
  await writeFile(path.join(to, "records.jsonl"), records);
  if (v2) await writeFile(path.join(to, "keys.bin"), keysBin);
  const file = path.join(to, "artifact.json");
  const d = JSON.parse(await readFile(file, "utf8")) as {
    files: Record<string, { sha256: string; bytes: number }>;
  };
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
  d.files["records.jsonl"] = { sha256: sha(records), bytes: records.length };
  if (v2) d.files["keys.bin"] = { sha256: sha(keysBin), bytes: keysBin.length };
  await writeFile(file, JSON.stringify(d, null, 2) + "\n");
  return to;
}

/** Record `i` with a wage raised by `by` Rials and its shares kept consistent. */
function raised(line: Line, by: bigint): Record<string, string | number> {
  const r = recordFromJson(line.record) as PremiumRecord;
  const wage = r.wageBase + by;
  const s = premiumShares(wage, 1403, {
    unemployment: r.unemploymentShare > 0n,
    hazardous: r.hazardShare > 0n,
  });
  return recordToJson({
    ...r,
    wageBase: wage,
    workerShare: s.worker,
    employerShare: s.employer,
    unemploymentShare: s.unemployment,
    hazardShare: s.hazard,
    total: s.total,
  });
}

describe("the streaming audit of batch artifacts", function () {
  this.timeout(300_000);
  let work: string;
  let original: string;
  let originalV1: string;

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-stream-audit-"));
    const csv = path.join(work, "premiums.csv");
    await writeSyntheticPremiumCsv(csv, 1_500);
    original = (await pipelineBatch({ csv, dataDir: path.join(work, "data") })).dir!;
    originalV1 = (await pipelineBatch({ csv, dataDir: path.join(work, "data1"), scheme: 1 })).dir!;
  });
  after(async function () {
    await rm(work, { recursive: true, force: true });
  });

  describe("foldSumTree", function () {
    it("gives buildSumTree's root, lanes and province subtrees, for any chunk size", function () {
      const codes = ["IR-23", "IR-01", "IR-10"];
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              person: fc.integer({ min: 0, max: 40 }),
              province: fc.integer({ min: 0, max: 2 }),
              amount: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
              seed: fc.integer({ min: 0, max: 1 << 30 }),
            }),
            { minLength: 1, maxLength: 140 },
          ),
          fc.constantFrom(2, 4, 8, 64),
          (rows, chunk) => {
            const n = rows.length;
            const keys = new Uint8Array(n * 32);
            const commitments = new Uint8Array(n * 32);
            const amounts = new BigUint64Array(n * 3);
            rows.forEach((r, i) => {
              keys.set(createHash("sha256").update(`p${r.person}`).digest(), i * 32);
              commitments.set(createHash("sha256").update(`c${r.seed}`).digest(), i * 32);
              amounts.set([r.amount & 0xffffn, BigInt(r.person), r.amount], i * 3);
            });
            const columns: LeafColumns = {
              kind: "premium",
              count: n,
              keys,
              commitments,
              amounts,
              province: Uint16Array.from(rows.map((r) => r.province)),
              codes,
              line: Uint32Array.from(rows.map((_, i) => i)),
            };
            let want;
            try {
              want = buildSumTree("premium", {
                keys,
                commitments,
                provinces: rows.map((r) => codes[r.province]!),
                amounts,
              });
            } catch (error) {
              expect(() => foldSumTree(columns, sortLeaves(columns), chunk)).to.throw(
                (error as Error).message,
              );
              return;
            }
            const got = foldSumTree(columns, sortLeaves(columns), chunk);
            expect(got.root).to.equal(want.root);
            expect(got.lanes).to.deep.equal(want.lanes);
            expect(got.provinces).to.deep.equal(want.provinces);
          },
        ),
        { numRuns: 150 },
      );
    });
  });

  describe("subject columns", function () {
    const subjectOf = (n: number) => `0x${createHash("sha256").update(`s${n}`).digest("hex")}`;
    it("count distinct subjects and group (list, person) as a Set and a Map of strings do", function () {
      fc.assert(
        fc.property(
          fc.array(
            fc.record({
              person: fc.integer({ min: 0, max: 30 }),
              owner: fc.constantFrom("1000000001", "0000000001", "700001", "file-7", "F"),
            }),
            { maxLength: 200 },
          ),
          (rows) => {
            const distinct = createDistinctSubjects(rows.length % 3);
            const groups = createPersonGroups(rows.length % 3);
            const want = new Map<string, { owner: string; subject: string; ids: string[] }>();
            rows.forEach((r, i) => {
              const subject = subjectOf(r.person);
              distinct.add(subject);
              groups.add(r.owner, subject, `R-${i}`);
              const key = `${r.owner}\0${subject}`;
              const g = want.get(key) ?? { owner: r.owner, subject, ids: [] };
              g.ids.push(`R-${i}`);
              want.set(key, g);
            });
            expect(distinct.size).to.equal(new Set(rows.map((r) => r.person)).size);
            expect(groups.distinctSubjects()).to.equal(distinct.size);
            expect(groups.groups()).to.deep.equal(
              [...want.values()].filter((g) => g.ids.length > 1),
            );
          },
        ),
        { numRuns: 200 },
      );
    });
    it("refuse a subject that is not a 32-byte pseudonym", function () {
      expect(() => createDistinctSubjects().add("0x1234")).to.throw(RangeError);
      expect(() => createPersonGroups().add("1", `0x${"zz".repeat(32)}`, "R-1")).to.throw(
        RangeError,
      );
    });
  });

  describe("auditBatch", function () {
    const cases: [string, (lines: Line[], keys: Uint8Array[]) => void][] = [
      ["intact", () => undefined],
      [
        "an amount raised, a record dropped, one added, keys swapped, a salt copied, a line duplicated, a line broken",
        (lines, keys) => {
          lines[4]!.record = raised(lines[4]!, 1_000_000n);
          [keys[12], keys[13]] = [keys[13]!, keys[12]!];
          keys[15] = keys[14]!.slice();
          lines[20]!.salt = lines[21]!.salt;
          lines[30]!.record = { ...lines[30]!.record, province: "IR-04" };
          lines.splice(7, 1);
          keys.splice(7, 1);
          lines.push({
            ...lines[40]!,
            salt: "0x" + "ab".repeat(32),
            record: { ...lines[40]!.record, recordId: "X-900" },
          });
          keys.push(new Uint8Array(randomBytes(32)));
          lines.push({ ...lines[50]! });
          keys.push(keys[50]!.slice());
          lines.push({ ...lines[60]!, salt: "0x12" });
          keys.push(keys[60]!.slice());
          lines.forEach((l, i) => (l.index = i));
        },
      ],
      [
        "a person given a second key, a key shared by two people, keys.bin one key short",
        (lines, keys) => {
          keys[3] = keys[0]!.slice();
          keys[8] = new Uint8Array(randomBytes(32));
          keys.pop();
        },
      ],
    ];
    const v1Cases = cases.slice(0, 2);
    for (const [scheme, name, edit] of [
      ...cases.map(([n, e]) => ["shafaf-tree/2", n, e] as const),
      ...v1Cases.map(([n, e]) => ["shafaf-tree/1", n, e] as const),
    ]) {
      it(`writes the in-memory audit's report byte for byte, ${scheme}: ${name}`, async function () {
        const from = scheme === "shafaf-tree/1" ? originalV1 : original;
        const dir = await tamperedCopy(
          from,
          path.join(work, name.slice(0, 12).replace(/\W/g, "-") + randomBytes(3).toString("hex")),
          edit,
        );
        for (const referenceDir of [from, dir]) {
          const audited = { type: "batch-artifact" as const, dir };
          const streamed = await auditBatch({ batchId: 1, audited, referenceDir });
          const inMemory = await inMemoryAudit({ audited, referenceDir });
          expect(new TextDecoder().decode(streamed.json)).to.equal(
            new TextDecoder().decode(inMemory.json),
          );
          expect(streamed.reportHash).to.equal(inMemory.reportHash);
          if (name !== "intact" && (referenceDir === from || scheme === "shafaf-tree/1"))
            expect(streamed.report.mismatches.length).to.be.greaterThan(2);
        }
      });
    }
  });

  describe("memory", function () {
    const ROWS = 200_000;
    const HEAP_MIB = 128;

    /** Runs `code` (an ES module importing the audit) in a child with a small heap. */
    const child = (code: string, dir: string) =>
      spawnSync(
        process.execPath,
        [`--max-old-space-size=${HEAP_MIB}`, "--import", "tsx", "--input-type=module", "-e", code],
        { encoding: "utf8", env: { ...process.env, AUDIT_DIR: dir } },
      );

    for (const scheme of [2, 1] as const) {
      it(`audits ${ROWS.toLocaleString("en-US")} records of a shafaf-tree/${scheme} batch in a ${HEAP_MIB} MiB heap, in which the in-memory audit runs out of memory`, async function () {
        const csv = path.join(work, `large-${scheme}.csv`);
        await writeSyntheticPremiumCsv(csv, ROWS);
        const dir = (
          await pipelineBatch({ csv, dataDir: path.join(work, `large-${scheme}`), scheme })
        ).dir!;
        await rm(csv);
        const streamed = child(
          `import { auditBatch } from ${JSON.stringify(path.resolve("src/audit/audit-batch.ts"))};
           const r = await auditBatch({ batchId: 1, audited: { type: "batch-artifact", dir: process.env.AUDIT_DIR } });
           console.log(JSON.stringify({ verdict: r.report.verdict, count: r.report.audited.recordCount }));`,
          dir,
        );
        expect(streamed.status, streamed.stderr).to.equal(0);
        expect(JSON.parse(streamed.stdout.trim().split("\n").pop()!)).to.deep.equal({
          verdict: "match",
          count: ROWS,
        });
        // The same heap is too small for the batch held in memory: the limit is a real bound.
        const held = child(
          `import { readReference } from ${JSON.stringify(path.resolve("src/audit/read-reference.ts"))};
           import { readAuditedExport } from ${JSON.stringify(path.resolve("src/audit/read-audited-export.ts"))};
           const reference = await readReference(process.env.AUDIT_DIR);
           const exported = await readAuditedExport({ type: "batch-artifact", dir: process.env.AUDIT_DIR }, { kind: "premium", period: "1403-07", rates: undefined, reference });
           console.log(reference.tree.root, exported.records.length);`,
          dir,
        );
        expect(held.status).to.not.equal(0);
        expect(held.stderr).to.match(/heap out of memory|Allocation failed/);
        await rm(path.join(work, `large-${scheme}`), { recursive: true, force: true });
      });
    }
  });
});
