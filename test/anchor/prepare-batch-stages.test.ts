/**
 * The stages of one reading of an anchoring job (`src/anchor/prepare-batch.ts` and the modules it
 * drives): issues, record ids, keys, leaves, and the reading as a whole on real files.
 */
import { expect } from "chai";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  createIssueCollector,
  fromIngestIssue,
  ISSUES_PER_RULE,
  type ValidationIssue,
} from "../../src/anchor/issue-collector.ts";
import { createLeafCollector, HASH_CHUNK } from "../../src/anchor/leaf-collector.ts";
import { prepareBatch, refusal, type PrepareBatchParams } from "../../src/anchor/prepare-batch.ts";
import { createRecordIdCheck } from "../../src/anchor/record-id-check.ts";
import { createRecordKeys } from "../../src/anchor/record-keys.ts";
import { computeIdempotencyKey } from "../../src/core/idempotency-key.ts";
import { leafHashes, leafValues } from "../../src/core/leaf.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import { parseReceiptCode } from "../../src/core/receipt-code.ts";
import { openLedgerStore, type BatchEntry } from "../../src/store/ledger-store.ts";
import { hex32, premium } from "../audit/batch-fixture.ts";
import { PREMIUM_COLUMNS, premiumRows, toCsv } from "./helpers.ts";

const KEY = new Uint8Array(32).fill(7);
const issue = (over: Partial<ValidationIssue> = {}): ValidationIssue => ({
  file: "a.csv",
  line: 2,
  field: "total",
  rule: "premium.total",
  value: "[number, 9 chars]",
  message: "m",
  hint: "h",
  ...over,
});

describe("prepareBatch stages", function () {
  let tmp: string;
  beforeEach(async function () {
    tmp = await mkdtemp(path.join(tmpdir(), "shafaf-stages-"));
  });
  afterEach(async function () {
    await rm(tmp, { recursive: true, force: true });
  });

  const params = (
    inputs: string[],
    over: Partial<PrepareBatchParams> = {},
  ): PrepareBatchParams => ({
    jobId: "job",
    inputs,
    kind: "premium",
    period: "1403-07",
    supersedes: null,
    reason: null,
    pseudonymKey: KEY,
    log: { progress: () => undefined },
    strict: false,
    exclude: undefined,
    dryRun: true,
    ...over,
  });

  describe("createIssueCollector", function () {
    it("keeps ISSUES_PER_RULE errors per file and rule, then one summary counting the rest", function () {
      const c = createIssueCollector({ strict: false, excluded: () => false });
      for (let i = 0; i < ISSUES_PER_RULE + 5; i++) c.add(issue({ line: i + 2 }));
      c.add(issue({ file: "b.csv" }));
      c.finish();
      expect(c.issues).to.have.length(ISSUES_PER_RULE + 2);
      expect(c.issues.at(-1).message).to.equal(
        `5 more problems of this kind (${ISSUES_PER_RULE + 5} in all) are not listed`,
      );
    });

    it("sorts warnings and findings apart; --strict makes a finding an error", function () {
      const loose = createIssueCollector({ strict: false, excluded: () => false });
      const strict = createIssueCollector({ strict: true, excluded: () => false });
      for (const c of [loose, strict]) {
        c.add(issue({ severity: "warning" }));
        c.add(issue({ severity: "finding", rule: "sso.header-total" }));
      }
      expect(loose.warnings).to.have.length(1);
      expect(loose.findings.map((i) => i.rule)).to.deep.equal(["sso.header-total"]);
      expect(loose.issues).to.deep.equal([]);
      expect(strict.findings).to.deep.equal([]);
      expect(strict.issues).to.have.length(1);
      expect(strict.issues[0]).to.not.have.property("severity");
    });

    it("drops the issues of excluded lists, and takes a DBF record number as the line", function () {
      const c = createIssueCollector({ strict: false, excluded: (list) => list === "lists/w1" });
      c.add(issue({ list: "lists/w1" }));
      c.addIngest({
        source: { file: "DSKWOR00.DBF", record: 4, list: "lists/w2" },
        field: "DSW_MASH",
        rule: "sso.mash",
        value: "",
        message: "m",
        hint: "h",
      });
      expect(c.issues).to.have.length(1);
      expect(c.issues[0]).to.include({ line: 4, list: "lists/w2", file: "DSKWOR00.DBF" });
      expect(
        fromIngestIssue({
          source: { file: "x" },
          field: "",
          rule: "r",
          value: "",
          message: "",
          hint: "",
        }),
      ).to.not.have.property("line");
    });
  });

  describe("createRecordIdCheck", function () {
    it("refuses an id seen twice in the batch, naming the first row", async function () {
      const found: ValidationIssue[] = [];
      const ids = createRecordIdCheck({
        store: undefined,
        kind: "premium",
        period: "1403-07",
        supersedes: null,
        report: (i) => found.push(i),
      });
      expect(await ids.claim(premium(1), { file: "a.csv", line: 2 })).to.equal(true);
      expect(await ids.claim(premium(1), { file: "a.csv", line: 9 })).to.equal(false);
      await ids.flush();
      expect(found).to.have.length(1);
      expect(found[0]).to.include({ rule: "record-id.duplicate", line: 9 });
      expect(found[0]!.message).to.contain("first at a.csv:2");
    });

    it("finds every duplicate among 30,000 ids (growing, rehashing, non-ASCII ids) as a Map of them does", async function () {
      const found: ValidationIssue[] = [];
      const ids = createRecordIdCheck({
        store: undefined,
        kind: "premium",
        period: "1403-07",
        supersedes: null,
        report: (i) => found.push(i),
      });
      const first = new Map<string, string>();
      const want: string[] = [];
      let x = 12345;
      for (let row = 0; row < 30_000; row++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        // ids 0…19,999 drawn at random (a third repeat), some with Persian digits
        const n = x % 20_000;
        const recordId = n % 5 === 0 ? `ر-${n}` : `S-${n}`;
        const file = `list-${row % 3}.csv`;
        const claimed = await ids.claim(premium(row, { recordId }), { file, line: row + 2 });
        const seen = first.get(recordId);
        expect(claimed).to.equal(seen === undefined);
        if (seen === undefined) first.set(recordId, `${file}:${row + 2}`);
        else want.push(`first at ${seen}`);
      }
      expect(want.length).to.be.above(5_000);
      expect(found.map((i) => /first at [^)]+/.exec(i.message)![0])).to.deep.equal(want);
    });

    it("refuses an id already anchored in the store, unless in the batch being superseded", async function () {
      const store = await openLedgerStore(tmp);
      try {
        const batch: BatchEntry = {
          format: "shafaf-batch-entry/1",
          batchId: 3,
          jobId: "j",
          chainId: 31337,
          contract: "0x" + "11".repeat(20),
          kind: "premium",
          period: "1403-07",
          root: hex32(1),
          manifestHash: hex32(2),
          idempotencyKey: hex32(3),
          recordCount: 1,
          total: "1",
          supersedes: null,
          supersededBy: null,
          reason: null,
          txHash: hex32(4),
          blockNumber: 1,
          blockHash: hex32(5),
          anchoredAt: 1,
        };
        const r = premium(1);
        await store.writeReceipts(batch, [
          {
            index: 0,
            code: "C",
            subject: hex32(9),
            recordId: r.recordId,
            receipt: { format: "x" },
          },
        ]);
        for (const supersedes of [null, 3]) {
          const found: ValidationIssue[] = [];
          const ids = createRecordIdCheck({
            store,
            kind: "premium",
            period: "1403-07",
            supersedes,
            report: (i) => found.push(i),
          });
          await ids.claim(r, { file: "a.csv", line: 2 });
          await ids.claim(premium(2), { file: "a.csv", line: 3 });
          await ids.flush();
          if (supersedes === null) {
            expect(found.map((i) => [i.rule, i.line])).to.deep.equal([["record-id.anchored", 2]]);
            expect(found[0]!.hint).to.contain("--supersedes 3");
          } else expect(found).to.deep.equal([]);
        }
      } finally {
        await store.close();
      }
    });
  });

  describe("createRecordKeys and createLeafCollector", function () {
    it("draws a fresh salt each time, the organization's pseudonym, and valid receipt codes", function () {
      const keys = createRecordKeys(KEY);
      const a = keys.keyOf(premium(1));
      const b = keys.keyOf(premium(1));
      expect(a.salt).to.match(/^0x[0-9a-f]{64}$/);
      expect(a.salt).to.not.equal(b.salt);
      expect(a.subject).to.equal(subjectPseudonym(KEY, premium(1).nationalId));
      expect(a.subject).to.equal(b.subject);
      expect(parseReceiptCode(keys.receiptCode()).ok).to.equal(true);
    });

    it("builds the tree of every leaf, across hash chunks, in input order", function () {
      const n = HASH_CHUNK + 3;
      const values = Array.from({ length: n }, (_, i) =>
        leafValues(premium(i), { salt: hex32(i + 1), subject: hex32(i) }),
      );
      const hashed: number[] = [];
      const leaves = createLeafCollector((k) => hashed.push(k));
      for (const v of values) leaves.push(v);
      const tree = leaves.tree();
      expect(tree.root).to.equal(buildMerkleTree(leafHashes(values)).root);
      expect(hashed).to.deep.equal([HASH_CHUNK, n]);
    });
  });

  describe("prepareBatch", function () {
    it("reads, validates and builds a dry-run batch whose key is the manifest's and root's", async function () {
      const file = path.join(tmp, "a.csv");
      await writeFile(file, toCsv(PREMIUM_COLUMNS, premiumRows(25)));
      const prepared = await prepareBatch(params([file]));
      if (prepared.status !== "prepared") expect.fail(prepared.status);
      const s = prepared.summary;
      expect(s.recordCount).to.equal(25);
      expect(prepared.manifest.recordCount).to.equal(25);
      expect(prepared.manifest.total).to.equal(s.total.toString());
      expect(prepared.manifest.people).to.equal(25);
      expect(Object.keys(prepared.manifest.byProvince)).to.deep.equal(["IR-07", "IR-10", "IR-23"]);
      expect(s.idempotencyKey).to.equal(computeIdempotencyKey(s.manifestHash, s.root, null));
      expect(prepared.writer).to.equal(undefined);
    });

    it("asks for a second reading without a faulty file, which then builds from the rest", async function () {
      const good = path.join(tmp, "good.csv");
      const bad = path.join(tmp, "bad.csv");
      await writeFile(good, toCsv(PREMIUM_COLUMNS, premiumRows(4)));
      const rows = premiumRows(3, { prefix: "B" });
      rows[1]!.total = "1";
      await writeFile(bad, toCsv(PREMIUM_COLUMNS, rows));
      const first = await prepareBatch(params([good, bad]));
      if (first.status !== "quarantine") expect.fail(first.status);
      expect(first.quarantined.map((q) => [q.list, q.rows])).to.deep.equal([["bad.csv", 3]]);
      const second = await prepareBatch(params([good, bad], { exclude: first.exclude }));
      if (second.status !== "prepared") expect.fail(second.status);
      expect(second.summary.recordCount).to.equal(4);
      expect(second.manifest.quarantined).to.deep.equal(first.exclude.summary);
      const strict = await prepareBatch(params([good, bad], { strict: true }));
      expect(strict.status).to.equal("invalid");
    });

    it("refuses an empty batch; in per-list mode, with every list when all are faulty", function () {
      const p = params(["a.csv"]);
      const empty = refusal(p, [], { rowsRead: 0, validRows: 0, lists: new Map() });
      expect(empty?.status).to.equal("invalid");
      if (empty?.status === "invalid") expect(empty.issues[0]!.rule).to.equal("batch.empty");
      const lists = new Map([["a.csv", { rows: 2, workshops: new Set(["1000000001"]) }]]);
      const all = refusal(p, [issue()], { rowsRead: 2, validRows: 1, lists });
      if (all?.status !== "invalid") expect.fail(String(all?.status));
      expect(all.quarantined?.map((q) => q.list)).to.deep.equal(["a.csv"]);
      expect(refusal(p, [], { rowsRead: 2, validRows: 2, lists })).to.equal(undefined);
    });
  });
});
