import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "chai";
import fc from "fast-check";
import { InvariantError } from "../../src/core/errors.ts";
import { buildPersonProof } from "../../src/core/person-proof.ts";
import { buildReceiptV2 } from "../../src/core/receipt-v2.ts";
import {
  offlineTrust,
  verifyDocument,
  verifyDocumentOffline,
  type DocumentTrust,
  type OnChainBatchV2,
} from "../../src/core/verify-document.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { sumTreeRecordFields } from "../../src/core/sum-tree-record.ts";
import { bytesToHex } from "../../src/core/hex.ts";
import {
  documentFixture,
  personProofOf,
  type DocumentFixture,
} from "../../scripts/vectors/documents-v2.ts";

interface Vectors {
  root: string;
  vrfPublicKey: string;
  chainId: number;
  contract: string;
  batchId: number;
  cases: {
    name: string;
    document: unknown;
    trust: DocumentTrust;
    valid: boolean;
    status: string;
    failedChecks: string[];
  }[];
}
const load = <T>(name: string): T =>
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../vectors", name), "utf8")) as T;
const receipts2 = load<Vectors>("receipt-v2.json");
const persons = load<Vectors>("person-proof-1.json");
const receipts1 = load<{
  cases: {
    name: string;
    receipt: unknown;
    trust: DocumentTrust;
    expect: { status: string; failedChecks: string[] };
  }[];
}>("receipts-1.json");
const schema = (name: string): object =>
  JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, "../../schemas", name), "utf8"),
  ) as object;

describe("verifyDocument", () => {
  for (const [file, v] of [
    ["receipt-v2.json", receipts2],
    ["person-proof-1.json", persons],
  ] as const) {
    describe(`the vectors of ${file}`, () => {
      for (const c of v.cases) {
        it(`${c.name}: ${c.status}${c.failedChecks.length > 0 ? ` at ${c.failedChecks.join(", ")}` : ""}`, async () => {
          const r = await verifyDocument(c.document, c.trust);
          expect(r.status).to.equal(c.status);
          expect(r.status === "verified").to.equal(c.valid);
          expect(r.checks.filter((x) => x.outcome !== "pass").map((x) => x.name)).to.deep.equal(
            c.failedChecks,
          );
          for (const x of r.checks.filter((y) => y.outcome === "fail" && y.expected !== undefined))
            expect(x.computed, x.name).to.be.a("string");
        });
      }
    });
  }

  it("has a valid and a corrupted case for every corruption the issue lists", () => {
    const names = persons.cases.map((c) => c.name);
    for (const n of [
      "valid-range",
      "valid-absence",
      "flipped-path",
      "lane-changed",
      "wrong-vrf-proof",
      "wrong-vrf-key-trusted",
      "wrong-identifier",
      "out-of-order-neighbours",
      "missing-own-record",
      "wrong-batch",
    ])
      expect(names).to.include(n);
  });

  describe("the golden shafaf-receipt/1 vectors, unchanged", () => {
    for (const c of receipts1.cases) {
      it(`${c.name}: ${c.expect.status}`, async () => {
        const r = await verifyDocument(c.receipt, c.trust);
        expect(r.status).to.equal(c.expect.status);
        expect(r.checks.filter((x) => x.outcome === "fail").map((x) => x.name)).to.deep.equal(
          c.expect.failedChecks,
        );
        expect(r.format).to.equal("shafaf-receipt/1");
      });
    }
  });

  describe("against a chain reader", () => {
    const doc = persons.cases.find((c) => c.name === "valid-range")!.document;
    const receipt = receipts2.cases.find((c) => c.name === "valid-0")!.document;
    const batch = (over: Partial<OnChainBatchV2> = {}): OnChainBatchV2 => ({
      chainId: persons.chainId,
      contract: persons.contract,
      batchId: persons.batchId,
      root: persons.root,
      supersededBy: 0,
      confirmations: 1,
      disputes: 0,
      kind: 0,
      period: 140307,
      scheme: "shafaf-tree/2",
      vrfPublicKey: persons.vrfPublicKey,
      ...over,
    });
    const reader = (b: OnChainBatchV2 | undefined | Error) => ({
      readBatch: (id: number) => {
        expect(id).to.equal(persons.batchId);
        return b instanceof Error ? Promise.reject(b) : Promise.resolve(b);
      },
    });
    const failed = (r: { checks: { outcome: string; name: string }[] }) =>
      r.checks.filter((c) => c.outcome !== "pass").map((c) => c.name);

    it("verifies a person proof and a v2 receipt with root, scheme and VRF key from the chain", async () => {
      const r = await verifyDocument(doc, reader(batch()));
      expect(r.status, JSON.stringify(failed(r))).to.equal("verified");
      expect(r.person).to.deep.include({ type: "range", records: 3 });
      expect((await verifyDocument(receipt, reader(batch()))).status).to.equal("verified");
    });

    it("is inconclusive without a registered VRF key, on a superseded batch, when the chain cannot be read", async () => {
      const { vrfPublicKey: _, ...noKey } = batch();
      let r = await verifyDocument(doc, reader(noKey));
      expect([r.status, failed(r)]).to.deep.equal(["inconclusive", ["vrf-key"]]);
      r = await verifyDocument(doc, reader(batch({ supersededBy: 9 })));
      expect([r.status, failed(r)]).to.deep.equal(["inconclusive", ["current"]]);
      r = await verifyDocument(doc, reader(new Error("rpc down")));
      expect([r.status, failed(r)]).to.deep.equal(["inconclusive", ["chain-read"]]);
    });

    it("fails on another root, scheme, key, period, chain or an unknown batch", async () => {
      const cases: [Partial<OnChainBatchV2> | undefined, string[]][] = [
        [{ root: `0x${"11".repeat(32)}` }, ["anchored-root"]],
        [{ scheme: "shafaf-tree/1" }, ["anchored-scheme"]],
        [{ vrfPublicKey: `0x${"22".repeat(32)}` }, ["vrf-key"]],
        [{ period: 140308 }, ["batch-kind-period"]],
        [{ chainId: 1 }, ["chain"]],
        [undefined, ["batch-exists"]],
      ];
      for (const [over, names] of cases) {
        const r = await verifyDocument(doc, reader(over === undefined ? undefined : batch(over)));
        expect([r.status, failed(r)]).to.deep.equal(["failed", names]);
      }
    });
  });

  it("never throws and never verifies on arbitrary JSON values (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (x) => {
        const r = await verifyDocument(x, {
          root: persons.root,
          vrfPublicKey: persons.vrfPublicKey,
        });
        expect(r.status).to.equal("failed");
      }),
      { numRuns: 300 },
    );
  });

  it("never throws and never verifies when one character of a valid person proof changes (property)", () => {
    const text = JSON.stringify(persons.cases.find((c) => c.name === "valid-range")!.document);
    const trust = {
      root: persons.root,
      vrfPublicKey: persons.vrfPublicKey,
      chainId: persons.chainId,
      contract: persons.contract,
    };
    fc.assert(
      fc.property(
        fc.nat({ max: text.length - 1 }),
        fc.constantFrom(...'0123456789abcdef"{}:,[]x-'),
        (at, ch) => {
          const changed = text.slice(0, at) + ch + text.slice(at + 1);
          if (changed === text) return;
          let doc: unknown;
          try {
            doc = JSON.parse(changed);
          } catch {
            return;
          }
          const r = verifyDocumentOffline(doc, trust);
          // A change inside a hex string's case is the only harmless one.
          if (r.status === "verified") expect(changed.toLowerCase()).to.equal(text.toLowerCase());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("survives hostile objects (throwing getters) as failed, not as an exception", async () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error("boom");
        },
      },
    );
    expect((await verifyDocument(hostile, { root: persons.root })).status).to.equal("failed");
    expect(
      verifyDocumentOffline(
        { format: "shafaf-person-proof/1", proof: hostile },
        { root: persons.root },
      ).status,
    ).to.equal("failed");
  });

  it("leaves shafaf-receipt/1 to the asynchronous entry, and refuses it in the offline one", () => {
    const v1 = receipts1.cases[0]!;
    const r = verifyDocumentOffline(v1.receipt, v1.trust as { root: string });
    expect([r.status, r.checks.map((c) => c.name)]).to.deep.equal(["failed", ["format"]]);
  });

  it("builds the offline trust of --root and --vrf-key", () => {
    expect(offlineTrust({ root: "0xab", vrfKey: undefined })).to.deep.equal({ root: "0xab" });
    expect(offlineTrust({ root: "0xab", vrfKey: "0xcd", chainId: 5 })).to.deep.equal({
      root: "0xab",
      vrfPublicKey: "0xcd",
      chainId: 5,
    });
  });
});

describe("JSON Schemas of the v2 documents", () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const receipt = ajv.compile(schema("receipt-2.schema.json"));
  const person = ajv.compile(schema("person-proof-1.schema.json"));

  it("accept every valid vector and refuse unknown formats and fields", () => {
    for (const c of receipts2.cases.filter((x) => x.valid))
      expect(receipt(c.document), JSON.stringify(receipt.errors)).to.equal(true);
    for (const c of persons.cases.filter((x) => x.valid))
      expect(person(c.document), JSON.stringify(person.errors)).to.equal(true);
    for (const n of ["unknown-format", "unknown-key", "range-not-inclusion"])
      expect(receipt(receipts2.cases.find((c) => c.name === n)!.document), n).to.equal(false);
    for (const n of ["unknown-format", "unknown-key", "identifier-not-canonical"])
      expect(person(persons.cases.find((c) => c.name === n)!.document), n).to.equal(false);
  });
});

describe("buildReceiptV2 and buildPersonProof", () => {
  const f = documentFixture();

  it("return documents that verify, for every leaf and every person of the batch", () => {
    for (let i = 0; i < f.tree.size; i++) {
      const leaf = f.tree.leaf(i);
      const rec = f.records.find(
        (r) => buildCommitment(r) === Buffer.from(leaf.commitment).toString("hex"),
      )!;
      const doc = buildReceiptV2({
        chainId: 1,
        contract: persons.contract,
        batchId: 7,
        code: newReceiptCode(new Uint8Array(17).fill(i)),
        tree: f.tree,
        index: i,
        record: rec.record,
        salt: rec.salt,
      });
      expect(verifyDocumentOffline(doc, { root: f.tree.root }).status).to.equal("verified");
    }
    for (const id of new Set(f.records.map((r) => r.record.nationalId))) {
      const doc = personProofOf(f, id);
      expect(doc.records.length).to.equal(
        f.records.filter((r) => r.record.nationalId === id).length,
      );
    }
  });

  it("prove every person of random batches, and a proof never verifies against another batch (property)", () => {
    const ids = [
      "0012345679",
      "1234567891",
      "2740583311",
      "foreign:123456789012",
      "insured:12345678:AFG",
    ];
    const provinces = ["IR-01", "IR-07", "IR-23"];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 4 }), fc.nat({ max: 2 })), { minLength: 1, maxLength: 12 }),
        (rows) => {
          const batch = randomBatch(rows.map(([p, q]) => [ids[p]!, provinces[q]!]));
          const other = randomBatch([
            [ids[0]!, provinces[0]!],
            ...rows.map(([p, q]): [string, string] => [ids[p]!, provinces[q]!]),
          ]);
          for (const id of ids) {
            const doc = personProofOf(batch, id);
            const own = batch.records.filter((r) => r.record.nationalId === id).length;
            expect(doc.records.length).to.equal(own);
            expect(doc.proof.type).to.equal(own > 0 ? "range" : "absence");
            const trust = { root: other.tree.root, vrfPublicKey: bytesToHex(f.vrfKey.publicKey) };
            expect(verifyDocumentOffline(doc, trust).status).to.equal("failed");
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it("refuse a record that does not open the leaf, and a person whose records are not all given", () => {
    expect(() =>
      buildReceiptV2({
        chainId: 1,
        contract: persons.contract,
        batchId: 7,
        code: newReceiptCode(new Uint8Array(17)),
        tree: f.tree,
        index: 0,
        record: f.records[0]!.record,
        salt: new Uint8Array(32),
      }),
    )
      .to.throw(InvariantError)
      .with.property("code", "core.receipt-v2.unverified");
    expect(() =>
      buildPersonProof({
        chainId: 1,
        contract: persons.contract,
        batchId: 7,
        tree: f.tree,
        vrfKey: f.vrfKey,
        context: { kind: "premium", period: "1403-07" },
        personId: "0012345679",
        records: f.records.filter((_, i) => i !== 2),
      }),
    )
      .to.throw(InvariantError)
      .with.property("code", "core.person-proof.opening");
  });
});

function buildCommitment(r: {
  record: Parameters<typeof sumTreeRecordFields>[0];
  salt: Uint8Array;
}): string {
  return Buffer.from(sumTreeRecordFields(r.record, r.salt).commitment).toString("hex");
}

/** A batch of the given (person, province) rows with the vectors' VRF key and fresh salts. */
function randomBatch(rows: [string, string][]): DocumentFixture {
  return documentFixture(undefined, rows);
}
