/**
 * The anchor pipeline's pure pieces: canonical manifest bytes (golden), job and idempotency
 * keys, progress output, the validation report, receipt file names, the pseudonym key file,
 * keystores and signer specs, and contract error decoding.
 */
import { expect } from "chai";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { keccak256 } from "ethers";
import { computeIdempotencyKey } from "../../src/core/idempotency-key.ts";
import { buildManifest, canonicalJson } from "../../src/core/manifest.ts";
import { computeJobId } from "../../src/anchor/job-id.ts";
import { createProgressLog } from "../../src/anchor/progress.ts";
import { formatIssueTable, validationReport } from "../../src/anchor/validation-report.ts";
import { loadPseudonymKey, PSEUDONYM_KEY_ENV } from "../../src/anchor/pseudonym-key.ts";
import { decodeLedgerError, ledgerAnchorInterface } from "../../src/anchor/anchor-chain.ts";
import { receiptFileName } from "../../src/cli/commands/receipts.ts";
import {
  loadKeystore,
  newKeystore,
  readKeystorePassword,
  writeKeystoreFile,
} from "../../src/chain/keystore.ts";
import { DEV_CHAIN_ID, devWallet, parseDevSignerSpec } from "../../src/chain/signer.ts";
import { LEAF_ENCODING } from "../../src/core/leaf.ts";
import type { ValidationIssue } from "../../src/anchor/run-anchor-job.ts";
import { ROOT } from "./helpers.ts";

const GOLDEN = path.join(ROOT, "test/golden/anchor");

function goldenManifest() {
  return buildManifest({
    kind: "pension",
    period: "1403-07",
    recordCount: 3,
    total: 123_456_789_012_345_678_901n,
    byProvince: new Map([
      ["IR-23", { count: 2, total: 100n }],
      ["IR-10", { count: 1, total: 123_456_789_012_345_678_801n }],
    ]),
    byCategory: new Map([["retirement", { count: 3, total: 123_456_789_012_345_678_901n }]]),
    sources: [
      {
        name: "pensions.csv",
        sha256: "ab".repeat(32),
        format: "csv",
        encoding: "utf-8",
        records: 3,
      },
    ],
    rulesVersion: "sso-rates/1",
    leafEncoding: LEAF_ENCODING,
    supersedes: 4,
    reason: "late-payment",
  });
}

describe("anchor units", function () {
  let dir: string;
  beforeEach(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-anchor-unit-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  describe("canonicalJson", function () {
    it("sorts keys at every level and writes no whitespace", function () {
      expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: "x" }], c: null } })).to.equal(
        '{"a":{"c":null,"d":[3,{"y":"x","z":1}]},"b":1}',
      );
    });
    it("refuses bigint and non-finite numbers (amounts must be decimal strings)", function () {
      expect(() => canonicalJson({ a: 1n })).to.throw(TypeError);
      expect(() => canonicalJson({ a: Number.NaN })).to.throw(TypeError);
    });
  });

  describe("buildManifest (shafaf-manifest/1)", function () {
    it("produces the frozen golden bytes and hash", async function () {
      const { bytes, hash, manifest } = goldenManifest();
      const golden = await readFile(path.join(GOLDEN, "manifest-pension.json"));
      expect(Buffer.from(bytes).toString("utf8")).to.equal(golden.toString("utf8"));
      expect(hash).to.equal(keccak256(golden));
      expect(manifest.total).to.equal("123456789012345678901");
      expect(Object.keys(manifest.byProvince)).to.deep.equal(["IR-10", "IR-23"]);
    });
    it("has no byCategory for premiums", function () {
      const { manifest } = buildManifest({ ...goldenInputs(), kind: "premium" });
      expect(manifest).to.not.have.property("byCategory");
    });
  });

  describe("computeIdempotencyKey", function () {
    it("is keccak256(abi.encode(tag, manifestHash, root, supersedes)) — frozen vector", async function () {
      const key = computeIdempotencyKey("0x" + "11".repeat(32), "0x" + "22".repeat(32), 7);
      const golden = JSON.parse(
        await readFile(path.join(GOLDEN, "idempotency-key.json"), "utf8"),
      ) as { key: string };
      expect(key).to.equal(golden.key);
      expect(
        computeIdempotencyKey("0x" + "11".repeat(32), "0x" + "22".repeat(32), null),
      ).to.not.equal(key);
    });
  });

  describe("computeJobId", function () {
    it("depends on the bytes, order and options of the inputs, not on their paths", async function () {
      const a = path.join(dir, "a.csv");
      const b = path.join(dir, "b.csv");
      await writeFile(a, "x\n1\n");
      await writeFile(b, "y\n2\n");
      const base = {
        kind: "premium",
        period: "1403-07",
        supersedes: null,
        reason: null,
        options: {},
      };
      const id = await computeJobId({ ...base, inputs: [a, b] });
      expect(id).to.match(/^[0-9a-f]{64}$/);
      expect(await computeJobId({ ...base, inputs: [a, b] })).to.equal(id);
      expect(await computeJobId({ ...base, inputs: [b, a] })).to.not.equal(id);
      expect(await computeJobId({ ...base, inputs: [a, b], period: "1403-08" })).to.not.equal(id);
      expect(
        await computeJobId({ ...base, inputs: [a, b], options: { encoding: "cp1256" } }),
      ).to.not.equal(id);
      const moved = path.join(dir, "moved.csv");
      await writeFile(moved, "x\n1\n");
      expect(await computeJobId({ ...base, inputs: [moved, b] })).to.equal(id);
      await writeFile(a, "x\n2\n");
      expect(await computeJobId({ ...base, inputs: [a, b] })).to.not.equal(id);
    });
    it("says which input is missing", async function () {
      let error: unknown;
      try {
        await computeJobId({
          kind: "premium",
          period: "1403-07",
          supersedes: null,
          reason: null,
          options: {},
          inputs: ["/nope/x.csv"],
        });
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(/input \/nope\/x\.csv does not exist/);
    });
  });

  describe("createProgressLog", function () {
    const capture = () => {
      const out: string[] = [];
      return { out, stream: { write: (t: string) => out.push(t) } };
    };
    it("draws a bar with rate and ETA on a terminal", function () {
      let now = 0;
      const c = capture();
      const log = createProgressLog({ stream: c.stream, tty: true, quiet: false, now: () => now });
      log.progress("receipts", 0, 1000);
      now = 1000;
      log.progress("receipts", 250, 1000);
      log.end();
      const text = c.out.join("");
      expect(text).to.match(/writing receipts +█{6}░{18} +25% 250\/1,000 · 250\/s · ETA 0:03/);
      expect(text.endsWith("\n")).to.equal(true);
    });
    it("writes plain lines, at most one per interval, when not a terminal", function () {
      let now = 0;
      const c = capture();
      const log = createProgressLog({
        stream: c.stream,
        tty: false,
        quiet: false,
        now: () => now,
        plainIntervalMs: 5000,
      });
      log.progress("read", 10);
      now = 1000;
      log.progress("read", 20);
      now = 6000;
      log.progress("read", 30);
      log.info("done");
      expect(c.out).to.deep.equal([
        "reading & validating: 30 · 5/s\n",
        "reading & validating: 30 · 5/s\n",
        "done\n",
      ]);
      expect(c.out.join("")).to.not.include("\u001b");
    });
    it("writes nothing when quiet (--json)", function () {
      const c = capture();
      const log = createProgressLog({ stream: c.stream, tty: true, quiet: true });
      log.progress("hash", 5, 10);
      log.info("x");
      log.end();
      expect(c.out).to.deep.equal([]);
    });
  });

  describe("validation report", function () {
    const issues: ValidationIssue[] = Array.from({ length: 3 }, (_, i) => ({
      file: "in.csv",
      line: i + 2,
      field: "national_id",
      rule: "national-id.checksum",
      value: "*******679",
      message: "national_id fails its check digit",
      hint: "retype it from the ID card",
    }));
    it("formats a table with where, field, rule, value and the fix", function () {
      const table = formatIssueTable(issues, 2);
      const lines = table.split("\n");
      expect(lines[0]).to.match(/^where +field +rule +value +problem — how to fix$/);
      expect(lines[2]).to.match(
        /^in\.csv:2 +national_id +national-id\.checksum +\*{7}679 +national_id fails its check digit — retype it/,
      );
      expect(lines.at(-1)).to.equal("… and 1 more (write them all with --report FILE.json)");
    });
    it("is versioned JSON with every issue", function () {
      const report = validationReport({
        status: "invalid",
        jobId: "j",
        kind: "premium",
        period: "1403-07",
        rowsRead: 3,
        validRows: 0,
        issues,
        elapsedMs: 1,
      });
      expect(report.format).to.equal("shafaf-validation-report/1");
      expect(report.issues).to.have.length(3);
    });
  });

  describe("receiptFileName", function () {
    it("keeps safe ids and escapes the rest reversibly", function () {
      expect(receiptFileName("P-1.a_b")).to.equal("P-1.a_b.json");
      expect(receiptFileName("a/b:c")).to.equal("a%2Fb%3Ac.json");
      expect(receiptFileName("..")).to.equal("%2E%2E.json");
      expect(receiptFileName("a/b")).to.not.equal(receiptFileName("a_b"));
      expect(decodeURIComponent(receiptFileName("a/b:c").slice(0, -5))).to.equal("a/b:c");
    });
  });

  describe("loadPseudonymKey", function () {
    it("creates 32 random bytes with mode 0600 once, then reads the same key", async function () {
      expect(await loadPseudonymKey(dir, {}, { create: false })).to.equal(undefined);
      const key = await loadPseudonymKey(dir, {}, { create: true });
      const file = path.join(dir, "secrets", "pseudonym.key");
      expect(key).to.have.length(32);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect((await stat(path.dirname(file))).mode & 0o777).to.equal(0o700);
      expect(Buffer.from((await loadPseudonymKey(dir, {}, { create: true }))!)).to.deep.equal(
        Buffer.from(key!),
      );
    });
    it("honours the environment override and refuses a key of the wrong size", async function () {
      const file = path.join(dir, "other.key");
      await writeFile(file, Buffer.alloc(31));
      let error: unknown;
      try {
        await loadPseudonymKey(dir, { [PSEUDONYM_KEY_ENV]: file }, { create: true });
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(/is 31 bytes, not 32/);
    });
  });

  describe("keystores and signers", function () {
    it("round-trips an encrypted keystore and never overwrites one", async function () {
      this.timeout(60_000);
      const { address, json } = await newKeystore({ password: "a long password" });
      const file = path.join(dir, "k.json");
      await writeKeystoreFile(file, json);
      expect((await stat(file)).mode & 0o777).to.equal(0o600);
      expect((await loadKeystore(file, "a long password")).address).to.equal(address);
      let error: unknown;
      try {
        await writeKeystoreFile(file, json);
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(/already exists/);
      await writeFile(path.join(dir, "not.json"), "{}");
      error = undefined;
      try {
        await loadKeystore(path.join(dir, "not.json"), "x");
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(/is not an encrypted JSON keystore/);
    });
    it("refuses short passwords, and a missing password without a terminal", async function () {
      let error: unknown;
      try {
        await newKeystore({ password: "short" });
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(/too short/);
      error = undefined;
      try {
        await readKeystorePassword({
          env: {},
          stdin: { isTTY: false } as never,
          stderr: process.stderr,
        });
      } catch (e) {
        error = e;
      }
      expect((error as Error).message).to.match(/no keystore password/);
      expect(
        await readKeystorePassword({
          env: { SHAFAF_KEYSTORE_PASSWORD: "pw" },
          stdin: { isTTY: false } as never,
          stderr: process.stderr,
        }),
      ).to.equal("pw");
    });
    it("parses dev:<n> and derives Hardhat's well-known accounts", function () {
      expect(parseDevSignerSpec("dev:0")).to.equal(0);
      expect(parseDevSignerSpec("dev:19")).to.equal(19);
      for (const bad of ["dev:20", "dev:-1", "dev:", "0", "dev:1x"])
        expect(() => parseDevSignerSpec(bad), bad).to.throw(/invalid --signer/);
      expect(devWallet(0).address).to.equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
      expect(DEV_CHAIN_ID).to.equal(31337);
    });
  });

  describe("decodeLedgerError", function () {
    it("finds and decodes custom errors nested in provider errors", function () {
      const data = ledgerAnchorInterface.encodeErrorResult("LedgerDuplicateIdempotencyKey", [
        "0x" + "aa".repeat(32),
        3n,
      ]);
      const nested = { code: "CALL_EXCEPTION", info: { error: { data } } };
      expect(decodeLedgerError(nested)).to.deep.equal({
        name: "LedgerDuplicateIdempotencyKey",
        args: ["0x" + "aa".repeat(32), 3n],
      });
      expect(decodeLedgerError(new Error("boom"))).to.equal(undefined);
      expect(decodeLedgerError({ data: "0xdeadbeef" })).to.equal(undefined);
    });
  });
});

function goldenInputs() {
  return {
    kind: "pension" as const,
    period: "1403-07",
    recordCount: 1,
    total: 1n,
    byProvince: new Map([["IR-23", { count: 1, total: 1n }]]),
    sources: [],
    rulesVersion: "r",
    leafEncoding: LEAF_ENCODING,
    supersedes: null,
    reason: null,
  };
}
