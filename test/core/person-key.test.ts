import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { InvalidInputError } from "../../src/core/errors.ts";
import {
  batchPersonKey,
  personVrfInput,
  type BatchContext,
  type PersonIdentifierKind,
} from "../../src/core/person-key.ts";
import { vrfProve, vrfSecretKey, vrfVerify } from "../../src/core/vrf.ts";

interface PersonKeyVectors {
  vrfSeed: string;
  vrfPublicKey: string;
  cases: {
    kind: PersonIdentifierKind;
    personId: string;
    alpha: string;
    pi: string;
    beta: string;
    batchKeys: { context: BatchContext; kb: string }[];
  }[];
  invalid: { personId: string; code: string; rule?: string }[];
}

const vectors = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../vectors/person-key-1.json"), "utf8"),
) as PersonKeyVectors;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

/** docs/spec/person-key-v1.md written again with node:crypto and Buffer, independently of core. */
function specBatchKey(beta: Uint8Array, context: BatchContext): string {
  const ctx = Buffer.alloc(10);
  if ("batchId" in context) {
    ctx[0] = 2;
    ctx.writeBigUInt64BE(BigInt(context.batchId), 1);
  } else {
    ctx[0] = 1;
    ctx[1] = context.kind === "premium" ? 0 : 1;
    ctx.writeUInt32BE(Number(context.period.replace("-", "")), 2);
  }
  return createHash("sha256")
    .update(Buffer.from("shafaf/person-batch/v1\0", "ascii"))
    .update(beta)
    .update(ctx)
    .digest("hex");
}

describe("person-key (shafaf-person-key/1)", () => {
  const key = vrfSecretKey(bytes(vectors.vrfSeed));

  it("uses the vectors' VRF key", () => {
    expect(hex(key.publicKey)).to.equal(vectors.vrfPublicKey);
  });

  describe("personVrfInput", () => {
    for (const c of vectors.cases) {
      it(`${c.kind} ${c.personId}: alpha, pi and beta as frozen`, () => {
        const alpha = personVrfInput(c.personId);
        expect(hex(alpha)).to.equal(c.alpha);
        expect(hex(vrfProve(key, alpha))).to.equal(c.pi);
        const r = vrfVerify(key.publicKey, bytes(c.pi), alpha);
        expect(r.valid && hex(r.beta)).to.equal(c.beta);
      });
    }

    it("is the spec's bytes: domain, 0x00, kind byte, the identifier's body in ASCII", () => {
      const latin1 = (id: string) => Buffer.from(personVrfInput(id)).toString("latin1");
      expect(latin1(" ۰۰۱۲۳۴۵۶۷۹ ")).to.equal("shafaf/person/v1\u0000\u00010012345679");
      expect(latin1("foreign:۱۲۳۴۵۶۷۸۹۰۱۲")).to.equal("shafaf/person/v1\u0000\u0002123456789012");
      expect(latin1("insured:0012345678:TUR")).to.equal(
        "shafaf/person/v1\u0000\u00030012345678:TUR",
      );
    });

    it("gives the three kinds of one digit string three different alphas", () => {
      const a = [
        personVrfInput("0012345679"),
        personVrfInput("foreign:001234567900"),
        personVrfInput("insured:0012345679:AFG"),
      ].map(hex);
      expect(new Set(a).size).to.equal(3);
    });

    for (const c of vectors.invalid) {
      it(`refuses ${JSON.stringify(c.personId)} (${c.rule ?? c.code}) without naming it`, () => {
        let error: unknown;
        try {
          personVrfInput(c.personId);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(InvalidInputError);
        const e = error as InvalidInputError;
        expect(e.code).to.equal(c.code);
        if (c.rule !== undefined) expect(e.rule).to.equal(c.rule);
        expect(e.message + (e.details ?? "")).not.to.contain(c.personId.replace(/^[a-z]+:/, ""));
      });
    }
  });

  describe("batchPersonKey", () => {
    for (const c of vectors.cases) {
      it(`${c.personId}: every frozen k_b, and the spec rewritten independently agrees`, () => {
        for (const { context, kb } of c.batchKeys) {
          expect(hex(batchPersonKey(bytes(c.beta), context))).to.equal(kb);
          expect(specBatchKey(bytes(c.beta), context)).to.equal(kb);
        }
      });
    }

    it("gives unrelated keys to one person in two batches (property: all distinct)", () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 64, maxLength: 64 }),
          fc.uniqueArray(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 2, maxLength: 5 }),
          (beta, ids) => {
            const keys = ids.map((batchId) => hex(batchPersonKey(beta, { batchId })));
            keys.push(hex(batchPersonKey(beta, { kind: "premium", period: "1403-07" })));
            keys.push(hex(batchPersonKey(beta, { kind: "pension", period: "1403-07" })));
            expect(new Set(keys).size).to.equal(keys.length);
          },
        ),
        { numRuns: 100 },
      );
    });

    it("refuses a beta that is not 64 bytes and a context that is not canonical", () => {
      const beta = new Uint8Array(64);
      expect(() => batchPersonKey(new Uint8Array(32), { batchId: 1 }))
        .to.throw(InvalidInputError)
        .with.property("code", "core.person-key.beta");
      for (const bad of [
        { kind: "premium", period: "1403-7" },
        { kind: "premium", period: "1403-13" },
        { kind: "refund", period: "1403-07" },
        { batchId: -1 },
        { batchId: 2n ** 64n },
      ]) {
        expect(() => batchPersonKey(beta, bad as BatchContext))
          .to.throw(InvalidInputError)
          .with.property("code", "core.person-key.context");
      }
    });
  });
});
