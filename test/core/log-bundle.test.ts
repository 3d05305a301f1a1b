/**
 * Offline verification by a log bundle (docs/spec/log-bundle-v1.md): every committed vector of
 * test/vectors/log-bundle-1.json gives its recorded verdict and failed checks; v1 receipts issued
 * before bundles existed keep their verdicts; the schemas accept the member and type it; hostile
 * bundles never make the verifier throw, and any changed byte of a valid bundle is caught.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { expect } from "chai";
import fc from "fast-check";
import { buildLogBundle, readLogBundle } from "../../src/core/log-bundle.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import {
  combineVerifications,
  verifyDocumentWithPolicy,
} from "../../src/core/verify-document-with-policy.ts";
import { verifyDocument, type DocumentTrust } from "../../src/core/verify-document.ts";

interface BundleVectors {
  policy: string;
  checkpoint: string;
  cases: {
    name: string;
    description: string;
    document: Record<string, unknown>;
    vrfPublicKey?: string;
    expect: {
      status: string;
      failedChecks: string[];
      cosigners?: string[];
      checkpointTime?: number;
    };
  }[];
}
const load = <T>(name: string): T =>
  JSON.parse(readFileSync(path.resolve(import.meta.dirname, "../vectors", name), "utf8")) as T;
const vectors = load<BundleVectors>("log-bundle-1.json");
const policy = parseTrustPolicy(vectors.policy);
const byName = (name: string) => vectors.cases.find((c) => c.name === name)!;
const schema = (name: string): object =>
  JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, "../../schemas", name), "utf8"),
  ) as object;

describe("verifyDocumentWithPolicy", () => {
  describe("test/vectors/log-bundle-1.json", () => {
    for (const c of vectors.cases) {
      it(`${c.name}: ${c.expect.status}${c.expect.failedChecks.length > 0 ? ` at ${c.expect.failedChecks.join(", ")}` : ""}`, async () => {
        const r = await verifyDocumentWithPolicy(c.document, {
          policy,
          ...(c.vrfPublicKey === undefined ? {} : { vrfPublicKey: c.vrfPublicKey }),
        });
        expect(r.status).to.equal(c.expect.status);
        expect(r.checks.filter((x) => x.outcome === "fail").map((x) => x.name)).to.deep.equal(
          c.expect.failedChecks,
        );
        expect(r.log?.cosigners.map((x) => x.name)).to.deep.equal(c.expect.cosigners);
        expect(r.log?.checkpointTime).to.equal(c.expect.checkpointTime);
      });
    }
  });

  it("covers every corruption the spec names, each failing at its own check", () => {
    const want: Record<string, string> = {
      "entry-other-batch": "log-batch",
      "entry-root-not-logged": "anchored-root",
      "entry-scheme-differs": "log-scheme",
      "proof-other-index": "log-index",
      "unknown-log-key": "log-signature",
      "quorum-not-met": "log-quorum",
      "tampered-cosignature": "log-cosignature",
      "stale-checkpoint": "log-size",
      "proof-hash-flipped": "log-inclusion",
      "entry-not-canonical": "log-entry",
      "unknown-bundle-format": "log-bundle",
    };
    for (const [name, check] of Object.entries(want))
      expect(byName(name).expect.failedChecks, name).to.include(check);
  });

  it("returns the cosigners with their timestamps and the policy's k of n when verified", async () => {
    const r = await verifyDocumentWithPolicy(byName("v1-quorum-exactly").document, { policy });
    expect(r.status).to.equal("verified");
    expect(r.log).to.deep.include({
      origin: "sso.example/ledger-log",
      size: 11,
      index: 0,
      quorum: { name: "institutions", required: 3, of: 4 },
      checkpointTime: 1_767_225_610,
    });
    expect(r.log!.cosigners).to.deep.equal([
      { name: "auditors", timestamp: 1_767_225_610 },
      { name: "audit-court", timestamp: 1_767_225_611 },
      { name: "employers", timestamp: 1_767_225_612 },
    ]);
  });

  it("is inconclusive, not verified, for a person proof without a trusted VRF key", async () => {
    const c = byName("person-proof-valid");
    const r = await verifyDocumentWithPolicy(c.document, { policy });
    expect(r.status).to.equal("inconclusive");
    expect(r.checks.filter((x) => x.outcome === "inconclusive").map((x) => x.name)).to.deep.equal([
      "vrf-key",
    ]);
    expect(r.log).to.equal(undefined);
  });

  it("never throws on hostile documents and bundles", async () => {
    const base = byName("v2-valid").document;
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), async (doc, log) => {
        for (const d of [
          doc,
          { ...base, log },
          { ...base, log: { ...(base.log as object), proof: log } },
        ]) {
          const r = await verifyDocumentWithPolicy(d, { policy });
          expect(r.status).to.not.equal("verified");
        }
      }),
      { numRuns: 200 },
    );
  });

  it("catches any changed character of a valid bundle's entry or proof", async () => {
    const base = byName("v1-valid").document;
    const bundle = base.log as { entry: string; proof: string };
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("entry" as const, "proof" as const),
        fc.nat(),
        fc.integer({ min: 1, max: 0x7e }),
        async (member, at, code) => {
          const text = bundle[member];
          const i = at % text.length;
          fc.pre(text.charCodeAt(i) !== code);
          const changed = text.slice(0, i) + String.fromCharCode(code) + text.slice(i + 1);
          // The entry is hashed whole: any change fails. In the proof, only a change to a signature
          // line the quorum does not need (its key name now unknown, so ignored) may still verify.
          const r = await verifyDocumentWithPolicy(
            { ...base, log: { ...bundle, [member]: changed } },
            { policy },
          );
          if (r.status === "verified") {
            expect(member).to.equal("proof");
            expect(i).to.be.greaterThan(bundle.proof.indexOf("\n\n— "));
            expect(r.log!.cosigners).to.have.length(3);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("combineVerifications", () => {
  it("keeps the worse status and does not repeat passed checks", async () => {
    const c = byName("v1-valid");
    const offline = await verifyDocumentWithPolicy(c.document, { policy });
    const trust: DocumentTrust = {
      readBatch: () => Promise.reject(new Error("no chain")),
    };
    const onChain = await verifyDocument(c.document, trust);
    const both = combineVerifications(offline, onChain);
    expect(both.status).to.equal("inconclusive");
    expect(both.log).to.equal(undefined);
    expect(both.checks.filter((x) => x.name === "format")).to.have.length(1);
    expect(both.checks.at(-1)?.name).to.equal("chain-read");
  });
});

describe("receipts issued before log bundles (shafaf-receipt/1)", () => {
  const receipts1 = load<{
    cases: {
      name: string;
      receipt: Record<string, unknown>;
      trust: DocumentTrust;
      expect: { status: string; failedChecks: string[] };
    }[];
  }>("receipts-1.json");

  it("keep every recorded verdict, and the same verdict with a bundle added", async () => {
    for (const c of receipts1.cases) {
      for (const doc of [c.receipt, { ...c.receipt, log: byName("v1-valid").document.log }]) {
        const r = await verifyDocument(doc, c.trust);
        expect(r.status, c.name).to.equal(c.expect.status);
        expect(
          r.checks.filter((x) => x.outcome === "fail").map((x) => x.name),
          c.name,
        ).to.deep.equal(c.expect.failedChecks);
      }
    }
  });
});

describe("the schemas type the log member", () => {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const compiled = {
    "shafaf-receipt/1": ajv.compile(schema("receipt-1.schema.json")),
    "shafaf-receipt/2": ajv.compile(schema("receipt-2.schema.json")),
    "shafaf-person-proof/1": ajv.compile(schema("person-proof-1.schema.json")),
  };
  const check = (doc: Record<string, unknown>) =>
    compiled[doc.format as keyof typeof compiled](doc);

  it("accept every valid vector with and without its bundle", () => {
    for (const c of vectors.cases.filter((x) => x.expect.status === "verified")) {
      expect(check(c.document), c.name).to.equal(true);
      const { log: _log, ...without } = c.document;
      expect(check(without), c.name).to.equal(true);
    }
  });

  it("refuse a bundle of another format, an extra member or a proof that is not a tlog-proof", () => {
    const doc = byName("v2-valid").document;
    const log = doc.log as Record<string, unknown>;
    expect(check(byName("unknown-bundle-format").document)).to.equal(false);
    expect(check({ ...doc, log: { ...log, checkpoint: "x" } })).to.equal(false);
    expect(check({ ...doc, log: { ...log, proof: "index 0\n" } })).to.equal(false);
  });
});

describe("buildLogBundle and readLogBundle", () => {
  it("round-trip an entry and refuse non-ASCII entries", () => {
    const entry = new TextEncoder().encode('{"a":1}');
    const b = buildLogBundle(entry, "c2sp.org/tlog-proof@v1\nindex 0\n\nx");
    expect(readLogBundle(b)).to.deep.equal(b);
    expect(() => buildLogBundle(new Uint8Array([0xc3, 0xa9]), "")).to.throw(/printable ASCII/);
    expect(readLogBundle({ ...b, entry: "é" })).to.match(/printable ASCII/);
    expect(readLogBundle([])).to.match(/must be an object/);
  });
});
