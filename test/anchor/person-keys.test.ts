import { readFileSync } from "node:fs";
import path from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { expect } from "chai";
import fc from "fast-check";
import { createFastVrfHash, montgomeryKey, recoverGamma } from "../../src/anchor/fast-vrf-hash.ts";
import { createPersonKeyWorkers } from "../../src/anchor/person-key-workers.ts";
import { ShafafError } from "../../src/core/errors.ts";
import { personVrfInput } from "../../src/core/person-key.ts";
import { vrfHash, vrfProofToHash, vrfProve, vrfSecretKey } from "../../src/core/vrf.ts";

const Point = ed25519.Point;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));
const rfc = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../vectors/vrf-rfc9381.json"), "utf8"),
) as { valid: { sk: string; alpha: string; beta: string }[] };
const u = (p: InstanceType<typeof Point>): bigint => {
  const { y } = p.toAffine();
  return Point.Fp.div(1n + y, Point.Fp.sub(1n, y));
};

describe("fast-vrf-hash (X25519 enrolment path)", () => {
  it("gives the RFC 9381 Appendix B.3 betas", () => {
    for (const v of rfc.valid) {
      expect(hex(createFastVrfHash(bytes(v.sk)).hash(bytes(v.alpha)))).to.equal(v.beta);
    }
  });

  it("equals the reference vrfHash on 2,000 random inputs under 20 random keys (property)", () => {
    let fallbacks = 0;
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.array(fc.uint8Array({ maxLength: 48 }), { minLength: 100, maxLength: 100 }),
        (seed, alphas) => {
          const fast = createFastVrfHash(seed);
          const key = vrfSecretKey(seed);
          const many = fast.hashMany(alphas); // batched inversions over the 100 inputs
          alphas.forEach((alpha, i) =>
            expect(hex(many.subarray(i * 64, i * 64 + 64))).to.equal(hex(vrfHash(key, alpha))),
          );
          expect(hex(fast.hash(alphas[0]!))).to.equal(hex(many.subarray(0, 64)));
          // …and the proving path's beta (RFC 9381 §5.2 on the proof) for the first input.
          expect(hex(vrfProofToHash(vrfProve(key, alphas[0]!)))).to.equal(
            hex(many.subarray(0, 64)),
          );
          fallbacks += fast.fallbacks;
        },
      ),
      { numRuns: 20 },
    );
    expect(fallbacks).to.equal(0);
  });

  it("equals the reference on national-ID inputs under one key", () => {
    const seed = bytes(rfc.valid[1]!.sk);
    const fast = createFastVrfHash(seed);
    const key = vrfSecretKey(seed);
    for (const id of ["0012345679", "1234567891", "2740583311"]) {
      const alpha = personVrfInput(id);
      expect(hex(fast.hash(alpha))).to.equal(hex(vrfHash(key, alpha)));
    }
  });

  describe("recoverGamma", () => {
    const y = Point.BASE.multiply(0x1234567n);
    const my = montgomeryKey(y);
    const gamma = Point.BASE.multiply(0xabcdefn);

    it("recovers Gamma from u(Gamma) and u(Gamma + Y), and −Gamma from u(−Gamma + Y)", () => {
      expect(recoverGamma(u(gamma), u(gamma.add(y)), my)!.equals(gamma)).to.equal(true);
      const neg = gamma.negate();
      expect(recoverGamma(u(gamma), u(neg.add(y)), my)!.equals(neg)).to.equal(true);
    });

    it("refuses Gamma = ±Y and an input inconsistent with the curve", () => {
      expect(recoverGamma(my.u, u(y.double()), my)).to.equal(undefined);
      expect(recoverGamma(u(gamma), u(gamma.add(y)) + 1n, my)).to.equal(undefined);
    });
  });
});

describe("person-key-workers", () => {
  const seed = bytes(rfc.valid[2]!.sk);
  const key = vrfSecretKey(seed);

  it("hashes many inputs over two threads, in input order, byte-identical to vrfHash", async () => {
    const workers = await createPersonKeyWorkers({ seed, threads: 2, chunk: 7 });
    try {
      expect(hex(workers.publicKey)).to.equal(hex(key.publicKey));
      const alphas = Array.from({ length: 40 }, (_, i) => new TextEncoder().encode(`p${i}`));
      const betas = await workers.hashMany(alphas);
      expect(betas.length).to.equal(40 * 64);
      alphas.forEach((a, i) =>
        expect(hex(betas.subarray(i * 64, i * 64 + 64))).to.equal(hex(vrfHash(key, a))),
      );
      expect((await workers.hashMany([])).length).to.equal(0);
    } finally {
      await workers.close();
    }
  });

  it("refuses a seed that is not 32 bytes before starting any thread", async () => {
    let error: unknown;
    try {
      await createPersonKeyWorkers({ seed: new Uint8Array(16) });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ShafafError).with.property("code", "core.vrf.seed");
  });
});
