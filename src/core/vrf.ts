/**
 * ECVRF-EDWARDS25519-SHA512-TAI (RFC 9381, suite 0x03): the verifiable random function behind
 * person keys (`docs/spec/person-key-v1.md`). Pure and browser-safe (no `node:` imports), built
 * on the audited `@noble/curves` edwards25519 arithmetic and `@noble/hashes` SHA-512.
 *
 * Choices the RFC leaves to the implementation, fixed here:
 * - `validate_key = TRUE` only (RFC 9381 §5.3 step 3): a public key of small order is refused.
 * - `string_to_point` is RFC 8032 §5.1.3 decoding: a y ≥ p, or x = 0 with the sign bit set, is
 *   INVALID (noble's `fromBytes(bytes, zip215 = false)`).
 * - The secret scalar x is used reduced mod q (every point it multiplies is in the prime-order
 *   subgroup, and s is computed mod q: the outputs are those of the unreduced clamped x).
 *
 * Side channels: x and the nonce k only meet noble's constant-time `multiply` for points; the
 * scalar `s = k + c·x mod q` uses JavaScript BigInt arithmetic (as noble's own Ed25519 signing
 * does), which the engine does not promise to run in constant time. Try-and-increment hashing
 * takes a time that depends on alpha (RFC 9381 §7.5): alpha is the person's identifier, which
 * the prover already knows; do not run `vrfProve` where an adversary can time it on identifiers
 * it does not know.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberLE, equalBytes, numberToBytesLE } from "@noble/curves/utils.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { InvalidInputError, InvariantError } from "./errors.ts";
import { bytesToHex } from "./hex.ts";

/** An edwards25519 point (noble's extended coordinates). */
export type EdPoint = InstanceType<typeof ed25519.Point>;

const Point = ed25519.Point;
/** q, the prime order of the edwards25519 subgroup. */
const Q = Point.Fn.ORDER;

export const VRF_SUITE = 0x03;
export const VRF_SEED_LENGTH = 32;
export const VRF_PUBLIC_KEY_LENGTH = 32;
/** ptLen + cLen + qLen = 32 + 16 + 32. */
export const VRF_PROOF_LENGTH = 80;
/** hLen of SHA-512. */
export const VRF_OUTPUT_LENGTH = 64;
const C_LEN = 16;

/** A VRF secret key expanded once (RFC 8032 §5.1.5): keep it in memory only. */
export interface VrfSecretKey {
  /** The 32-byte RFC 8032 seed (the `SK` of RFC 9381). */
  readonly seed: Uint8Array;
  /** PK_string = point_to_string(x·B), 32 bytes. */
  readonly publicKey: Uint8Array;
  /** The clamped secret scalar x, reduced mod q. */
  readonly scalar: bigint;
  /** The upper half of SHA-512(seed), the nonce key of RFC 9381 §5.4.2.2. */
  readonly prefix: Uint8Array;
}

/**
 * Expands a 32-byte seed into a VRF key (RFC 8032 §5.1.5: SHA-512, clamp the lower half).
 *
 * @throws {InvalidInputError} `core.vrf.seed` when `seed` is not 32 bytes.
 * @example
 * const key = vrfSecretKey(crypto.getRandomValues(new Uint8Array(32)));
 */
export function vrfSecretKey(seed: Uint8Array): VrfSecretKey {
  if (!(seed instanceof Uint8Array) || seed.length !== VRF_SEED_LENGTH) {
    throw new InvalidInputError("a VRF seed must be 32 bytes", {
      code: "core.vrf.seed",
      field: "seed",
    });
  }
  const { prefix, scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
  return { seed: Uint8Array.from(seed), publicKey: pointBytes, scalar, prefix };
}

/** RFC 8032 decoding (string_to_point); undefined for INVALID. */
function decodePoint(bytes: Uint8Array): EdPoint | undefined {
  try {
    return Point.fromBytes(bytes, false);
  } catch {
    return undefined;
  }
}

/**
 * ECVRF_encode_to_curve_try_and_increment (RFC 9381 §5.4.1.1) with encode_to_curve_salt =
 * PK_string: H, a point of the prime-order subgroup. Its running time depends on alpha.
 *
 * @throws {InvariantError} `core.vrf.encode-to-curve` if 256 counters fail (probability ≈ 2⁻²⁵⁶).
 */
export function vrfEncodeToCurve(publicKey: Uint8Array, alpha: Uint8Array): EdPoint {
  const input = new Uint8Array(2 + publicKey.length + alpha.length + 2);
  input[0] = VRF_SUITE;
  input[1] = 0x01;
  input.set(publicKey, 2);
  input.set(alpha, 2 + publicKey.length);
  const ctrAt = input.length - 2; // input[ctrAt + 1] stays 0x00, the back separator
  for (let ctr = 0; ctr < 256; ctr++) {
    input[ctrAt] = ctr;
    const p = decodePoint(sha512(input).subarray(0, 32));
    if (p === undefined) continue;
    const h = p.clearCofactor();
    if (!h.is0()) return h;
  }
  throw new InvariantError("ECVRF try-and-increment found no point in 256 attempts", {
    code: "core.vrf.encode-to-curve",
  });
}

/** ECVRF_challenge_generation (RFC 9381 §5.4.3): the first 16 bytes of the hash, as bytes. */
function challenge(points: readonly EdPoint[]): Uint8Array {
  const input = new Uint8Array(2 + 32 * points.length + 1);
  input[0] = VRF_SUITE;
  input[1] = 0x02;
  points.forEach((p, i) => input.set(p.toBytes(), 2 + 32 * i));
  return sha512(input).subarray(0, C_LEN);
}

/**
 * beta_string from Gamma (RFC 9381 §5.2 step 6): SHA-512(0x03 ‖ 0x03 ‖ point_to_string(8·Gamma)
 * ‖ 0x00). Exported for the enrolment fast path, which computes Gamma another way.
 */
export function vrfGammaToHash(gamma: EdPoint): Uint8Array {
  return vrfEncodedCofactorGammaToHash(gamma.clearCofactor().toBytes());
}

/** beta_string from point_to_string(8·Gamma), 32 bytes. */
export function vrfEncodedCofactorGammaToHash(encoded: Uint8Array): Uint8Array {
  const input = new Uint8Array(35);
  input[0] = VRF_SUITE;
  input[1] = 0x03;
  input.set(encoded, 2);
  return sha512(input);
}

/**
 * ECVRF_prove (RFC 9381 §5.1): the 80-byte proof pi = Gamma ‖ c ‖ s.
 *
 * @example
 * const pi = vrfProve(key, alpha); const beta = vrfProofToHash(pi);
 */
export function vrfProve(key: VrfSecretKey, alpha: Uint8Array): Uint8Array {
  const h = vrfEncodeToCurve(key.publicKey, alpha);
  const hString = h.toBytes();
  const gamma = h.multiply(key.scalar);
  const kString = sha512(concat(key.prefix, hString));
  const k = bytesToNumberLE(kString) % Q;
  const y = Point.fromBytes(key.publicKey);
  const cBytes = challenge([y, h, gamma, Point.BASE.multiply(k), h.multiply(k)]);
  const c = bytesToNumberLE(cBytes);
  const s = (k + c * key.scalar) % Q;
  const pi = new Uint8Array(VRF_PROOF_LENGTH);
  pi.set(gamma.toBytes(), 0);
  pi.set(cBytes, 32);
  pi.set(numberToBytesLE(s, 32), 48);
  return pi;
}

/**
 * beta = VRF(key, alpha) without a proof: Gamma = x·H through the same constant-time
 * multiplication as `vrfProve`. The reference the enrolment fast path is tested against.
 */
export function vrfHash(key: VrfSecretKey, alpha: Uint8Array): Uint8Array {
  return vrfGammaToHash(vrfEncodeToCurve(key.publicKey, alpha).multiply(key.scalar));
}

interface DecodedProof {
  gamma: EdPoint;
  c: bigint;
  s: bigint;
}

/** ECVRF_decode_proof (RFC 9381 §5.4.4); undefined for INVALID. */
function decodeProof(pi: Uint8Array): DecodedProof | undefined {
  if (!(pi instanceof Uint8Array) || pi.length !== VRF_PROOF_LENGTH) return undefined;
  const gamma = decodePoint(pi.subarray(0, 32));
  if (gamma === undefined) return undefined;
  const c = bytesToNumberLE(pi.subarray(32, 48));
  const s = bytesToNumberLE(pi.subarray(48, 80));
  if (s >= Q) return undefined;
  return { gamma, c, s };
}

/**
 * ECVRF_proof_to_hash (RFC 9381 §5.2). Run it only on a proof you made or one `vrfVerify`
 * accepted (it checks the proof's form, not that it is a proof for anything).
 *
 * @throws {InvalidInputError} `core.vrf.proof` when pi does not decode.
 */
export function vrfProofToHash(pi: Uint8Array): Uint8Array {
  const d = decodeProof(pi);
  if (d === undefined) {
    throw new InvalidInputError("not an ECVRF-EDWARDS25519-SHA512-TAI proof", {
      details: "a proof is 80 bytes: Gamma (a canonical point), c (16 bytes), s (< q)",
      code: "core.vrf.proof",
      field: "pi",
    });
  }
  return vrfGammaToHash(d.gamma);
}

/**
 * Whether `publicKey` passes RFC 9381's validate_key: 32 bytes, a canonical edwards25519 point
 * (RFC 8032 §5.1.3), not of small order. The check `vrfVerify` makes first.
 *
 * @example
 * isValidVrfPublicKey(key.publicKey) // true
 */
export function isValidVrfPublicKey(publicKey: Uint8Array): boolean {
  if (publicKey.length !== VRF_PUBLIC_KEY_LENGTH) return false;
  const y = decodePoint(publicKey);
  return y !== undefined && !y.isSmallOrder();
}

export type VrfInvalidReason = "public-key" | "proof" | "challenge";

export type VrfVerifyResult =
  { valid: true; beta: Uint8Array } | { valid: false; reason: VrfInvalidReason };

/**
 * ECVRF_verify (RFC 9381 §5.3) with validate_key = TRUE. Never throws: anything that is not a
 * valid proof of `alpha` under `publicKey` is `{ valid: false, reason }`.
 * `public-key`: not a canonical point, or of small order; `proof`: pi does not decode;
 * `challenge`: c' ≠ c (wrong alpha, key or proof).
 *
 * @example
 * const r = vrfVerify(publicKey, pi, alpha); if (r.valid) use(r.beta);
 */
export function vrfVerify(publicKey: unknown, pi: unknown, alpha: unknown): VrfVerifyResult {
  if (
    !(publicKey instanceof Uint8Array) ||
    !(pi instanceof Uint8Array) ||
    !(alpha instanceof Uint8Array)
  )
    return vrfVerifyOnce(publicKey, pi, alpha);
  const key = `${bytesToHex(publicKey)}:${bytesToHex(pi)}:${bytesToHex(alpha)}`;
  let r = verdicts.get(key);
  if (r === undefined) {
    r = vrfVerifyOnce(publicKey, pi, alpha);
    if (r.valid) r = { valid: true, beta: r.beta.slice() };
    verdicts.set(key, r);
    if (verdicts.size > VERDICTS_KEPT) verdicts.delete(verdicts.keys().next().value!);
  }
  return r.valid ? { valid: true, beta: r.beta.slice() } : r;
}

/**
 * The last verdicts of {@link vrfVerify}, keyed by its whole input (public key, pi, alpha):
 * verification is a pure function of them, so a repeated check (a person's history verifies
 * the same VRF proof once per month, 240 times for ten years — about 6 ms each in Node, four
 * times that on a slowed phone-class CPU) answers from here. Betas are copied in and out.
 */
const VERDICTS_KEPT = 64;
const verdicts = new Map<string, VrfVerifyResult>();

function vrfVerifyOnce(publicKey: unknown, pi: unknown, alpha: unknown): VrfVerifyResult {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== VRF_PUBLIC_KEY_LENGTH)
    return { valid: false, reason: "public-key" };
  const y = decodePoint(publicKey);
  if (y === undefined || y.isSmallOrder()) return { valid: false, reason: "public-key" };
  if (!(pi instanceof Uint8Array)) return { valid: false, reason: "proof" };
  const d = decodeProof(pi);
  if (d === undefined) return { valid: false, reason: "proof" };
  if (!(alpha instanceof Uint8Array)) return { valid: false, reason: "challenge" };
  try {
    const h = vrfEncodeToCurve(publicKey, alpha);
    // Public values only: variable-time multiplication is fine here.
    const u = Point.BASE.multiplyUnsafe(d.s).subtract(y.multiplyUnsafe(d.c));
    const v = h.multiplyUnsafe(d.s).subtract(d.gamma.multiplyUnsafe(d.c));
    const c2 = challenge([y, h, d.gamma, u, v]);
    if (!equalBytes(c2, pi.subarray(32, 48))) return { valid: false, reason: "challenge" };
    return { valid: true, beta: vrfGammaToHash(d.gamma) };
  } catch {
    return { valid: false, reason: "challenge" };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
