import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "chai";
import fc from "fast-check";
import { readFileSync } from "node:fs";
import path from "node:path";
import { bytesToHex } from "../../src/core/hex.ts";
import { LEAF_ENCODING, leafHashes, leafValues, type LeafValues } from "../../src/core/leaf.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import {
  buildReceipt,
  recordFromJson,
  recordToJson,
  type Receipt,
} from "../../src/core/receipt.ts";
import {
  newReceiptCode,
  parseReceiptCode,
  RECEIPT_CODE_ALPHABET,
} from "../../src/core/receipt-code.ts";
import type { LedgerRecord } from "../../src/core/record.ts";
import { validateRecord } from "../../src/core/validate-record.ts";
import { verifyReceipt, type OnChainBatch } from "../../src/core/verify-receipt.ts";

const schema = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../../schemas/receipt-1.schema.json"), "utf8"),
) as object;
const CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const key = new Uint8Array(32).fill(1);
let counter = 0;
const rand = (n: number) =>
  Uint8Array.from({ length: n }, () => (counter = (counter * 1103515245 + 12345) >>> 0) >>> 24);

function fixture(n = 7) {
  const records: LedgerRecord[] = [];
  for (let i = 0; i < n; i++) {
    const gross = 100_000_000 + i;
    const r = validateRecord("pension", {
      record_id: `P-${i}`,
      period: "1403-07",
      national_id: ["0012345679", "1234567891", "2740583311"][i % 3],
      pension_file: `PF${i}`,
      category: "retirement",
      province: "IR-23",
      gross: String(gross),
      deductions: "1000",
      net: String(gross - 1000),
      due_on: "1403-07-25",
      paid_on: "1403-07-26",
    });
    if (!r.ok) throw new Error("fixture");
    records.push(r.record);
  }
  const values: LeafValues[] = records.map((r) =>
    leafValues(r, { salt: bytesToHex(rand(32)), subject: subjectPseudonym(key, r.nationalId) }),
  );
  const tree = buildMerkleTree(leafHashes(values));
  const receipt = buildReceipt({
    chainId: 31337,
    contract: CONTRACT,
    batchId: 3,
    tree,
    index: 4,
    record: records[4]!,
    values: values[4]!,
    anchor: { txHash: bytesToHex(rand(32)), blockNumber: 12 },
    code: newReceiptCode(rand),
  });
  return { records, values, tree, receipt };
}

const batch = (over: Partial<OnChainBatch> = {}): OnChainBatch => ({
  chainId: 31337,
  contract: CONTRACT.toLowerCase(),
  batchId: 3,
  root: fixture().tree.root,
  supersededBy: 0,
  confirmations: 1,
  disputes: 0,
  kind: 1,
  period: 140307,
  ...over,
});

describe("receipt codes", function () {
  it("carry 26 random symbols (130 bits) and a check symbol, grouped by four", function () {
    const code = newReceiptCode(rand);
    expect(code).to.match(
      /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}-[0-9A-HJKMNP-TV-Z]{3}$/,
    );
    expect(RECEIPT_CODE_ALPHABET)
      .to.have.length(32)
      .and.not.match(/[ILOU]/);
    expect(() => newReceiptCode(new Uint8Array(16))).to.throw(RangeError);
  });
  it("parse case-insensitively, without separators, with O→0 and I/L→1 and Persian digits", function () {
    const code = newReceiptCode(rand);
    const plain = code.replace(/-/g, "");
    expect(parseReceiptCode(plain.toLowerCase())).to.deep.equal({ ok: true, code });
    expect(parseReceiptCode(` ${code.replace(/-/g, " ")} `)).to.deep.equal({ ok: true, code });
    const withO = plain.replace(/0/g, "o").replace(/1/g, "l");
    expect(parseReceiptCode(withO)).to.deep.equal({ ok: true, code });
    const persian = plain.replace(/[0-9]/g, (d) => String.fromCharCode(0x06f0 + Number(d)));
    expect(parseReceiptCode(persian)).to.deep.equal({ ok: true, code });
    expect(parseReceiptCode(plain.slice(1))).to.deep.equal({ ok: false, problem: "length" });
    expect(parseReceiptCode(`${plain.slice(0, -1)}U`)).to.deep.equal({
      ok: false,
      problem: "character",
    });
  });
  it("detect every single substitution and every transposition (property)", function () {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 17, maxLength: 17 }),
        fc.nat(26),
        fc.nat(26),
        fc.nat(31),
        (bytes, i, j, sym) => {
          const plain = newReceiptCode(bytes).replace(/-/g, "");
          const chars = [...plain];
          const sub = chars.slice();
          sub[i] = RECEIPT_CODE_ALPHABET[sym]!;
          if (sub[i] !== chars[i]) expect(parseReceiptCode(sub.join("")).ok).to.equal(false);
          const swap = chars.slice();
          [swap[i], swap[j]] = [swap[j]!, swap[i]!];
          if (swap[i] !== swap[j]) expect(parseReceiptCode(swap.join("")).ok).to.equal(false);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("buildReceipt", function () {
  it("produces a receipt that the JSON Schema accepts", function () {
    const { receipt } = fixture();
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    const validate = ajv.compile(schema);
    expect(validate(JSON.parse(JSON.stringify(receipt))), JSON.stringify(validate.errors)).to.equal(
      true,
    );
    expect(validate({ ...receipt, extra: 1 })).to.equal(false);
    expect(validate({ ...receipt, values: receipt.values.slice(0, 6) })).to.equal(false);
  });
  it("produces a receipt that @openzeppelin/merkle-tree's StandardMerkleTree.verify accepts", function () {
    const { receipt } = fixture();
    expect(
      StandardMerkleTree.verify(receipt.root, receipt.leafEncoding, receipt.values, receipt.proof),
    ).to.equal(true);
    expect(receipt.leafEncoding).to.deep.equal([...LEAF_ENCODING]);
    expect(receipt.contract).to.equal(CONTRACT.toLowerCase());
  });
  it("refuses to build a receipt whose values are not the tree's leaf", function () {
    const { tree, records, values } = fixture();
    expect(() =>
      buildReceipt({
        chainId: 1,
        contract: CONTRACT,
        batchId: 1,
        tree,
        index: 0,
        record: records[1]!,
        values: values[1]!,
        anchor: { txHash: `0x${"00".repeat(32)}`, blockNumber: 1 },
        code: newReceiptCode(rand),
      }),
    ).to.throw(/do not hash to the tree's leaf/);
  });
  it("round-trips records through their JSON opening", function () {
    const { records } = fixture();
    for (const r of records)
      expect(recordFromJson(JSON.parse(JSON.stringify(recordToJson(r))))).to.deep.equal(r);
    expect(recordFromJson({ kind: "pension" })).to.equal(undefined);
    expect(recordFromJson(null)).to.equal(undefined);
  });
});

describe("verifyReceipt", function () {
  it("verifies against a trusted root offline", async function () {
    const { receipt, tree } = fixture();
    const r = await verifyReceipt(receipt, { root: tree.root, chainId: 31337, contract: CONTRACT });
    expect(r.status).to.equal("verified");
    expect(r.checks.every((c) => c.ok)).to.equal(true);
    expect(r.checks.map((c) => c.name)).to.include.members([
      "format",
      "record-id",
      "fields",
      "proof",
      "anchored-root",
      "chain",
    ]);
  });
  it("fails with expected and computed values when the root differs", async function () {
    const { receipt } = fixture();
    const other = `0x${"11".repeat(32)}`;
    const r = await verifyReceipt(receipt, { root: other });
    expect(r.status).to.equal("failed");
    const c = r.checks.find((x) => x.name === "anchored-root")!;
    expect(c).to.include({ ok: false, outcome: "fail", expected: other, computed: receipt.root });
  });
  it("verifies against the chain: batch root, chain id, contract, kind and period", async function () {
    const { receipt, tree } = fixture();
    const reads: number[] = [];
    const r = await verifyReceipt(receipt, {
      readBatch: (id) => {
        reads.push(id);
        return Promise.resolve(batch({ root: tree.root }));
      },
    });
    expect(reads).to.deep.equal([3]);
    expect(r.status).to.equal("verified");
    expect(r.checks.find((c) => c.name === "attestations")!.detail).to.match(
      /1 auditor confirmation/,
    );
  });
  it("fails on another chain or contract, an unknown batch, or a kind/period mismatch", async function () {
    const { receipt, tree } = fixture();
    const run = async (b: OnChainBatch | undefined) =>
      verifyReceipt(receipt, { readBatch: () => Promise.resolve(b) });
    const failed = async (b: OnChainBatch | undefined) =>
      (await run(b)).checks.filter((c) => c.outcome === "fail").map((c) => c.name);
    expect(await failed(batch({ root: tree.root, chainId: 1 }))).to.deep.equal(["chain"]);
    expect(
      await failed(batch({ root: tree.root, contract: `0x${"22".repeat(20)}` })),
    ).to.deep.equal(["contract"]);
    expect(await failed(undefined)).to.deep.equal(["batch-exists"]);
    expect(await failed(batch({ root: tree.root, period: 140308 }))).to.deep.equal([
      "batch-kind-period",
    ]);
  });
  it("is inconclusive when the chain cannot be read or the batch was superseded", async function () {
    const { receipt, tree } = fixture();
    const down = await verifyReceipt(receipt, {
      readBatch: () => Promise.reject(new Error("ECONNREFUSED")),
    });
    expect(down.status).to.equal("inconclusive");
    expect(down.checks.find((c) => c.name === "chain-read")!.outcome).to.equal("inconclusive");
    const superseded = await verifyReceipt(receipt, {
      readBatch: () => Promise.resolve(batch({ root: tree.root, supersededBy: 9 })),
    });
    expect(superseded.status).to.equal("inconclusive");
    expect(superseded.checks.find((c) => c.name === "current")!.detail).to.match(
      /superseded by batch 9/,
    );
    const garbage = await verifyReceipt(receipt, {
      readBatch: () => Promise.resolve({ root: 5 } as unknown as OnChainBatch),
    });
    expect(garbage.status).to.equal("inconclusive");
  });
  it("names the opening check that fails when the record was edited", async function () {
    const { receipt, tree } = fixture();
    const edited = structuredClone(receipt) as Receipt & { record: Record<string, unknown> };
    edited.record.deductions = "999";
    const r = await verifyReceipt(edited, { root: tree.root });
    expect(r.checks.filter((c) => !c.ok).map((c) => c.name)).to.deep.equal(["fields"]);
    edited.record.nationalId = "0012345678";
    expect((await verifyReceipt(edited, { root: tree.root })).status).to.equal("failed");
  });
  it("never throws on hostile input (fuzz)", async function () {
    const { receipt, tree } = fixture();
    const hostile = [
      null,
      undefined,
      42,
      "receipt",
      [],
      {},
      { ...receipt, format: "shafaf-receipt/2" },
      { ...receipt, values: "nope" },
      { ...receipt, values: [...receipt.values.slice(0, 3), "1e5", ...receipt.values.slice(4)] },
      {
        ...receipt,
        values: [...receipt.values.slice(0, 3), "9".repeat(100), ...receipt.values.slice(4)],
      },
      { ...receipt, proof: new Array(10_000).fill(receipt.root) },
      { ...receipt, record: { kind: "premium" } },
      { ...receipt, record: { ...receipt.record, period: "1403-99" } },
      { ...receipt, record: { ...receipt.record, recordId: "x".repeat(1_000_000) } },
      { ...receipt, anchor: null },
      { ...receipt, chainId: 1.5 },
      new Proxy(
        {},
        {
          get: () => {
            throw new Error("hostile getter");
          },
        },
      ),
      Object.create(null) as object,
    ];
    for (const h of hostile) {
      const r = await verifyReceipt(h, { root: tree.root });
      expect(r.status).to.equal("failed");
    }
    const json = JSON.parse(JSON.stringify(receipt)) as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...Object.keys(json)),
        fc.anything({ withBigInt: true, withNullPrototype: true, withTypedArray: true }),
        async (field, value) => {
          const r = await verifyReceipt({ ...json, [field]: value }, { root: tree.root });
          expect(r.status).to.be.oneOf(["failed", "verified"]);
          expect(r.checks.length).to.be.greaterThan(0);
        },
      ),
      { numRuns: 300 },
    );
    const hostileRecord = new Proxy(
      {},
      {
        get: () => {
          throw new Error("hostile record");
        },
      },
    );
    const r = await verifyReceipt({ ...receipt, record: hostileRecord }, { root: tree.root });
    expect(r.status).to.equal("failed");
    expect(r.checks.find((c) => !c.ok)!.name).to.equal("record");
  });
  it("is inconclusive, never failed, when the verifier itself cannot run (a broken trust object)", async function () {
    const { receipt } = fixture();
    const r = await verifyReceipt(receipt, null as never);
    expect(r.status).to.equal("inconclusive");
    expect(r.checks.at(-1)).to.include({ name: "internal", outcome: "inconclusive" });
  });
});
