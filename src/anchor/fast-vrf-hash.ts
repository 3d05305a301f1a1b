/**
 * beta = ECVRF-EDWARDS25519-SHA512-TAI(seed, alpha) for enrolment, with the secret scalar only
 * ever inside OpenSSL's constant-time X25519 (node only; the portal verifies with core's
 * `vrfVerify`). Same bytes as core's `vrfHash` / `vrfProofToHash(vrfProve(…))`; no proof.
 *
 * Why it is right (docs/DESIGN.md, "Person keys (VRF)"):
 * - RFC 8032 clamps the secret scalar x exactly as X25519 clamps its key (clear bits 0–2 and 255,
 *   set bit 254), so the X25519 private key is the lower half of SHA-512(seed), unchanged.
 * - H (try-and-increment, times the cofactor) and H + B are in the prime-order subgroup, where
 *   X25519(x, u(P)) = u(x·P) (Montgomery u = (1 + y)/(1 − y) of the Edwards point).
 * - u(Gamma) and u(Gamma + Y) (Y = x·B, the public key) give Gamma's Montgomery v without a
 *   square root: with λ = (v_Y − v_Γ)/(u_Y − u_Γ) and u(Γ + Y) = λ² − A − u_Γ − u_Y,
 *   v_Γ = (v_Y² + v_Γ² − (u(Γ+Y) + A + u_Γ + u_Y)(u_Y − u_Γ)²) / (2·v_Y), where
 *   v² = u³ + A·u² + u. The result is checked against the curve equation.
 * Only public values (alpha, H, Y) and the person's own output Gamma meet variable-time
 * BigInt arithmetic; x and the nonce never do (there is no nonce: no proof is made).
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, numberToBytesLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import {
  VRF_OUTPUT_LENGTH,
  vrfEncodeToCurve,
  vrfEncodedCofactorGammaToHash,
  vrfHash,
  vrfSecretKey,
  type EdPoint,
} from "../core/vrf.ts";

const Point = ed25519.Point;
const Fp = Point.Fp;
/** Curve25519's Montgomery A (v² = u³ + A·u² + u). */
const A = 486662n;
/** A square root of −(A + 2); the Edwards ↔ Montgomery map uses it both ways, so either root works. */
const C = Fp.sqrt(Fp.neg(A + 2n));

/** PKCS#8 DER prefix of a raw X25519 private key (RFC 8410). */
const X25519_PKCS8_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

/** The Montgomery image of the public key Y, precomputed once per key. */
export interface MontgomeryKey {
  u: bigint;
  /** v_Y². */
  v2: bigint;
  /** 1 / (2·v_Y). */
  inv2v: bigint;
}

/** Montgomery (u, v) of an Edwards point of the prime-order subgroup (not the identity). */
export function montgomeryKey(y: EdPoint): MontgomeryKey {
  const { x, y: ey } = y.toAffine();
  const u = Fp.div(Fp.add(1n, ey), Fp.sub(1n, ey));
  const v = Fp.div(Fp.mul(C, u), x);
  return { u, v2: Fp.sqr(v), inv2v: Fp.inv(Fp.add(v, v)) };
}

/**
 * Gamma (as an Edwards point) from g = u(Gamma) and w = u(Gamma + Y), or undefined in the
 * cases the formula does not cover: Gamma = ±Y (H = ±B, probability 2/q per person), an
 * input that is not consistent with the curve, or v = 0 / u = −1 (not in the subgroup).
 */
export function recoverGamma(g: bigint, w: bigint, y: MontgomeryKey): EdPoint | undefined {
  if (g === y.u) return undefined;
  const g2 = Fp.sqr(g);
  const vg2 = Fp.add(Fp.add(Fp.mul(g2, g), Fp.mul(A, g2)), g);
  const d = Fp.sub(y.u, g);
  const l2 = Fp.add(Fp.add(Fp.add(w, A), g), y.u);
  const v = Fp.mul(Fp.sub(Fp.add(y.v2, vg2), Fp.mul(l2, Fp.sqr(d))), y.inv2v);
  if (v === 0n || Fp.sqr(v) !== vg2) return undefined;
  const g1 = Fp.add(g, 1n);
  if (g1 === 0n) return undefined;
  // Edwards (x, y) = (C·g/v, (g − 1)/(g + 1)) in projective form, then extended (XZ, YZ, Z², XY).
  const X = Fp.mul(Fp.mul(C, g), g1);
  const Y = Fp.mul(Fp.sub(g, 1n), v);
  const Z = Fp.mul(v, g1);
  return new Point(Fp.mul(X, Z), Fp.mul(Y, Z), Fp.sqr(Z), Fp.mul(X, Y));
}

export interface FastVrfHash {
  /** PK_string, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** beta (64 bytes) for alpha. */
  hash(alpha: Uint8Array): Uint8Array;
  /** beta of each alpha, n × 64 bytes in input order (field inversions batched over the inputs). */
  hashMany(alphas: readonly Uint8Array[]): Uint8Array;
  /** How many hashes fell back to the reference path (negligible-probability cases). */
  readonly fallbacks: number;
}

/**
 * Prepares the fast path for one VRF key.
 *
 * @example
 * const vrf = createFastVrfHash(seed); const beta = vrf.hash(alpha);
 */
export function createFastVrfHash(seed: Uint8Array): FastVrfHash {
  const key = vrfSecretKey(seed);
  const head = sha512(seed).subarray(0, 32);
  const der = new Uint8Array(X25519_PKCS8_PREFIX.length + 32);
  der.set(X25519_PKCS8_PREFIX, 0);
  der.set(head, X25519_PKCS8_PREFIX.length);
  const privateKey = createPrivateKey({
    key: Buffer.from(der.buffer, der.byteOffset, der.length), // no copy: zeroed below
    format: "der",
    type: "pkcs8",
  });
  der.fill(0);
  head.fill(0);
  const y = montgomeryKey(Point.fromBytes(key.publicKey));
  const x25519 = (u: bigint): bigint =>
    bytesToNumberLE(diffieHellman({ privateKey, publicKey: x25519PublicKey(u) }));
  /** Gamma from H and S = H + B given their u; undefined when OpenSSL refuses (never for order-q inputs). */
  const gammaOf = (uh: bigint, us: bigint): EdPoint | undefined => {
    let g: bigint, w: bigint;
    try {
      g = x25519(uh);
      w = x25519(us);
    } catch {
      return undefined;
    }
    return recoverGamma(g, w, y);
  };
  let fallbacks = 0;

  function hashMany(alphas: readonly Uint8Array[]): Uint8Array {
    const n = alphas.length;
    const out = new Uint8Array(n * VRF_OUTPUT_LENGTH);
    // 1. H and S = H + B; u = (Z + Y)/(Z − Y) of both, all denominators inverted at once.
    const hs = alphas.map((alpha) => vrfEncodeToCurve(key.publicKey, alpha));
    const ss = hs.map((h) => h.add(Point.BASE));
    const dens: bigint[] = [];
    for (let i = 0; i < n; i++) dens.push(Fp.sub(hs[i]!.Z, hs[i]!.Y), Fp.sub(ss[i]!.Z, ss[i]!.Y));
    // A zero denominator (S is the identity: H = −B) has no inverse: invertBatch gives 0.
    const invs = Fp.invertBatch(dens);
    // 2. u(Gamma), u(Gamma + Y) from X25519; Gamma, then 8·Gamma in projective coordinates.
    const g8: (EdPoint | undefined)[] = new Array<EdPoint | undefined>(n);
    for (let i = 0; i < n; i++) {
      const h = hs[i]!;
      const s = ss[i]!;
      const invH = invs[2 * i];
      const invS = invs[2 * i + 1];
      const gamma =
        invH === undefined || invH === 0n || invS === undefined || invS === 0n
          ? undefined
          : gammaOf(Fp.mul(Fp.add(h.Z, h.Y), invH), Fp.mul(Fp.add(s.Z, s.Y), invS));
      g8[i] = gamma?.clearCofactor();
    }
    // 3. point_to_string(8·Gamma): affine with one inversion for all, then beta.
    const zInvs = Fp.invertBatch(g8.map((p) => (p === undefined ? 0n : p.Z)));
    for (let i = 0; i < n; i++) {
      const p = g8[i];
      const zInv = zInvs[i];
      let beta: Uint8Array;
      if (p === undefined || zInv === undefined || zInv === 0n) {
        fallbacks++;
        beta = vrfHash(key, alphas[i]!);
      } else {
        const encoded = numberToBytesLE(Fp.mul(p.Y, zInv), 32);
        if ((Fp.mul(p.X, zInv) & 1n) === 1n) encoded[31]! |= 0x80;
        beta = vrfEncodedCofactorGammaToHash(encoded);
      }
      out.set(beta, i * VRF_OUTPUT_LENGTH);
    }
    return out;
  }

  return {
    publicKey: key.publicKey,
    get fallbacks() {
      return fallbacks;
    },
    hash: (alpha) => hashMany([alpha]),
    hashMany,
  };
}

function x25519PublicKey(u: bigint): KeyObject {
  const x = Buffer.from(numberToBytesLE(u, 32)).toString("base64url");
  return createPublicKey({ key: { kty: "OKP", crv: "X25519", x }, format: "jwk" });
}
