import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { ShafafError } from "../../src/core/errors.ts";
import {
  VRF_PROOF_LENGTH,
  vrfEncodeToCurve,
  vrfHash,
  vrfProofToHash,
  vrfProve,
  isValidVrfPublicKey,
  vrfSecretKey,
  vrfVerify,
} from "../../src/core/vrf.ts";

interface RfcVector {
  example: number;
  sk: string;
  pk: string;
  alpha: string;
  x: string;
  h: string;
  pi: string;
  beta: string;
}
interface VrfVectors {
  suite: string;
  valid: RfcVector[];
  invalid: { name: string; pk: string; alpha: string; pi: string; reason: string }[];
}

const vectors = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../vectors/vrf-rfc9381.json"), "utf8"),
) as VrfVectors;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const Q = 2n ** 252n + 27742317777372353535851937790883648493n;
const le = (h: string): bigint => BigInt("0x" + (h.match(/../g) ?? []).reverse().join(""));

describe("vrf (ECVRF-EDWARDS25519-SHA512-TAI, RFC 9381)", () => {
  it("has the three vectors of Appendix B.3 and the corruptions", () => {
    expect(vectors.suite).to.equal("ECVRF-EDWARDS25519-SHA512-TAI");
    expect(vectors.valid.map((v) => v.example)).to.deep.equal([16, 17, 18]);
    expect(vectors.invalid.length).to.be.greaterThan(10);
  });

  for (const v of vectors.valid) {
    describe(`RFC 9381 Example ${v.example}`, () => {
      const key = vrfSecretKey(bytes(v.sk));
      const alpha = bytes(v.alpha);

      it("derives PK and the secret scalar x from SK (RFC 8032 §5.1.5)", () => {
        expect(hex(key.publicKey)).to.equal(v.pk);
        expect(key.scalar).to.equal(le(v.x) % Q);
      });

      it("encodes alpha to the RFC's H (try-and-increment)", () => {
        expect(hex(vrfEncodeToCurve(key.publicKey, alpha).toBytes())).to.equal(v.h);
      });

      it("proves pi byte for byte", () => {
        expect(hex(vrfProve(key, alpha))).to.equal(v.pi);
      });

      it("hashes pi to beta, and vrfHash gives the same beta without a proof", () => {
        expect(hex(vrfProofToHash(bytes(v.pi)))).to.equal(v.beta);
        expect(hex(vrfHash(key, alpha))).to.equal(v.beta);
      });

      it("verifies pi and returns beta", () => {
        const r = vrfVerify(bytes(v.pk), bytes(v.pi), alpha);
        expect(r.valid).to.equal(true);
        if (r.valid) expect(hex(r.beta)).to.equal(v.beta);
      });
    });
  }

  describe("vrfVerify refuses every corrupted vector", () => {
    for (const c of vectors.invalid) {
      it(`${c.name} → ${c.reason}`, () => {
        expect(vrfVerify(bytes(c.pk), bytes(c.pi), bytes(c.alpha))).to.deep.equal({
          valid: false,
          reason: c.reason,
        });
      });
    }

    it("a repeated check (answered from the kept verdicts) gives the same verdict, for valid and corrupted vectors alike, and its beta is the caller's own copy", () => {
      for (let round = 0; round < 2; round++) {
        for (const c of vectors.invalid)
          expect(vrfVerify(bytes(c.pk), bytes(c.pi), bytes(c.alpha)), c.name).to.deep.equal({
            valid: false,
            reason: c.reason,
          });
        for (const v of vectors.valid) {
          const r = vrfVerify(bytes(v.pk), bytes(v.pi), bytes(v.alpha));
          expect(r.valid).to.equal(true);
          if (!r.valid) continue;
          expect(hex(r.beta)).to.equal(v.beta);
          r.beta.fill(0); // must not reach the next answer
        }
      }
      // One bit of pi flipped after a valid check is still refused (the key is the whole input).
      const v = vectors.valid[0]!;
      const pi = bytes(v.pi);
      pi[40]! ^= 1;
      expect(vrfVerify(bytes(v.pk), pi, bytes(v.alpha)).valid).to.equal(false);
    });

    it("isValidVrfPublicKey agrees with vrfVerify's public-key check", () => {
      for (const v of vectors.valid) expect(isValidVrfPublicKey(bytes(v.pk)), v.pk).to.equal(true);
      for (const c of vectors.invalid.filter((x) => x.reason === "public-key")) {
        expect(isValidVrfPublicKey(bytes(c.pk)), c.name).to.equal(false);
      }
      expect(isValidVrfPublicKey(new Uint8Array(31))).to.equal(false);
    });

    it("the pre-RFC draft proof has the RFC's beta (a beta-only test would pass it)", () => {
      const draft = vectors.invalid.find((c) => c.name.startsWith("pre-RFC draft"))!;
      expect(hex(vrfProofToHash(bytes(draft.pi)))).to.equal(vectors.valid[0]!.beta);
    });
  });

  it("vrfVerify never throws, whatever it is given", () => {
    const anything = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 90 }),
      fc.anything(),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(anything, anything, anything, (pk, pi, alpha) => {
        expect(vrfVerify(pk, pi, alpha).valid).to.equal(false);
      }),
      { numRuns: 300 },
    );
  });

  it("every proof verifies, and fails for another alpha or one flipped bit (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ minLength: 1, maxLength: 40 }),
        fc.nat({ max: VRF_PROOF_LENGTH * 8 - 1 }),
        (seed, alpha, other, bit) => {
          const key = vrfSecretKey(seed);
          const pi = vrfProve(key, alpha);
          const r = vrfVerify(key.publicKey, pi, alpha);
          expect(r.valid).to.equal(true);
          if (r.valid) expect(hex(r.beta)).to.equal(hex(vrfHash(key, alpha)));
          const otherAlpha = Uint8Array.from([...alpha, ...other]);
          expect(vrfVerify(key.publicKey, pi, otherAlpha).valid).to.equal(false);
          const flipped = Uint8Array.from(pi);
          flipped[bit >> 3]! ^= 1 << (bit & 7);
          expect(vrfVerify(key.publicKey, flipped, alpha).valid).to.equal(false);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("refuses a seed that is not 32 bytes, and a proof that does not decode", () => {
    expect(() => vrfSecretKey(new Uint8Array(31)))
      .to.throw(ShafafError)
      .with.property("code", "core.vrf.seed");
    expect(() => vrfProofToHash(new Uint8Array(79)))
      .to.throw(ShafafError)
      .with.property("code", "core.vrf.proof");
  });
});
