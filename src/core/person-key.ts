/**
 * Person keys, format `shafaf-person-key/1` (every byte in docs/spec/person-key-v1.md).
 *
 * - `personVrfInput(personId)`: alpha = "shafaf/person/v1" ‖ 0x00 ‖ kind byte ‖ identifier, from
 *   the canonical person-id-v1 string (national ID, `foreign:…`, `insured:…:…`).
 * - beta = ECVRF-EDWARDS25519-SHA512-TAI(organization's VRF key, alpha) (`vrf.ts`): 64 bytes,
 *   the person's secret. The organization computes it once and caches it privately; the person
 *   gets it, with a proof, only on request.
 * - `batchPersonKey(beta, context)`: k_b = SHA-256("shafaf/person-batch/v1" ‖ 0x00 ‖ beta ‖
 *   context), 32 bytes: the key a batch's leaves are sorted and found by. Different batch
 *   contexts give unrelated keys, so neighbours in one batch cannot be followed to another.
 * Pure and browser-safe: the portal recomputes k_b from a verified beta.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { normalizeDigits } from "./digits.ts";
import { InvalidInputError } from "./errors.ts";
import { checkNationalId } from "./national-id.ts";
import { periodToNumber } from "./period.ts";
import {
  FOREIGN_CODE_PREFIX,
  INSURED_FOREIGNER_PREFIX,
  checkForeignCode,
  parsePersonId,
} from "./person-id.ts";
import { KIND_NUMBER, type RecordKind } from "./record.ts";

export const PERSON_VRF_DOMAIN = "shafaf/person/v1";
export const PERSON_BATCH_DOMAIN = "shafaf/person-batch/v1";

/** Which register an identifier belongs to: the three forms of person-id-v1. */
export type PersonIdentifierKind = "national-id" | "foreign-code" | "insured-foreigner";

/** The kind byte of alpha. */
export const PERSON_KIND_BYTE: Readonly<Record<PersonIdentifierKind, number>> = {
  "national-id": 0x01,
  "foreign-code": 0x02,
  "insured-foreigner": 0x03,
};

const encoder = new TextEncoder();
const VRF_PREFIX = encoder.encode(PERSON_VRF_DOMAIN + "\u0000");
const BATCH_PREFIX = encoder.encode(PERSON_BATCH_DOMAIN + "\u0000");

/**
 * alpha for a person: the VRF input of a canonical person identifier (docs/spec/person-id-v1.md):
 * a national ID `dddddddddd` (kind 0x01, its 10 digits), `foreign:<12 digits>` (kind 0x02, the
 * 12 digits) or `insured:<8–10 digits>:<ISO alpha-3>` (kind 0x03, `<digits>:<ISO>` in ASCII).
 * Surrounding whitespace is ignored and Persian/Arabic digits count as ASCII ones; nothing else
 * is canonicalised, so one person has one alpha. Errors never contain the identifier.
 *
 * @throws {InvalidInputError} `core.person-key.identifier` for an identifier that is not valid
 * for its kind, `core.person-key.kind` for a prefix that names no kind.
 * @example
 * personVrfInput("0012345679") // 28 bytes
 * personVrfInput("insured:12345678:AFG") // 30 bytes
 */
export function personVrfInput(personId: string): Uint8Array {
  const { kind, body } = canonicalIdentifier(personId);
  const out = new Uint8Array(VRF_PREFIX.length + 1 + body.length);
  out.set(VRF_PREFIX, 0);
  out[VRF_PREFIX.length] = PERSON_KIND_BYTE[kind];
  for (let i = 0; i < body.length; i++) out[VRF_PREFIX.length + 1 + i] = body.charCodeAt(i);
  return out;
}

const invalid = (rule: string, details: string): InvalidInputError =>
  new InvalidInputError("not a valid person identifier", {
    details,
    code: "core.person-key.identifier",
    field: "personId",
    rule,
  });

function canonicalIdentifier(personId: string): { kind: PersonIdentifierKind; body: string } {
  if (typeof personId !== "string")
    throw new InvalidInputError("a person identifier is a string", {
      details: "give the canonical person-id-v1 string",
      code: "core.person-key.kind",
      field: "personId",
    });
  const t = normalizeDigits(personId.trim());
  if (t.startsWith(FOREIGN_CODE_PREFIX)) {
    const r = checkForeignCode(t.slice(FOREIGN_CODE_PREFIX.length));
    if (r.ok && r.code === t.slice(FOREIGN_CODE_PREFIX.length))
      return { kind: "foreign-code", body: r.code };
    throw invalid(r.ok ? "foreign-code.format" : r.problem, "write foreign:<12 digits>");
  }
  if (t.startsWith(INSURED_FOREIGNER_PREFIX)) {
    const id = parsePersonId(t);
    if (id?.kind === "insured-foreigner")
      return { kind: "insured-foreigner", body: `${id.insuranceNo}:${id.nationality}` };
    throw invalid(
      "insured-foreigner.format",
      "write insured:<8–10 digit insurance number>:<ISO 3166-1 alpha-3, not IRN>",
    );
  }
  if (t.includes(":"))
    throw new InvalidInputError("unknown person identifier kind", {
      details: `a person identifier is a national ID, ${FOREIGN_CODE_PREFIX}… or ${INSURED_FOREIGNER_PREFIX}…`,
      code: "core.person-key.kind",
      field: "personId",
    });
  const r = checkNationalId(t);
  if (r.ok) return { kind: "national-id", body: r.nationalId };
  throw invalid(
    `national-id.${r.problem}`,
    "a national ID is 10 digits with a valid check digit (DOMAIN.md)",
  );
}

/** What a batch person key is bound to: the batch's kind and Jalali month, or its on-chain id. */
export type BatchContext = { kind: RecordKind; period: string } | { batchId: number | bigint };

/**
 * The 10-byte context encoding: 0x01 ‖ kind (0 premium, 1 pension) ‖ uint32 BE YYYYMM,
 * padded to 10 bytes with zeros; or 0x02 ‖ uint64 BE batchId ‖ 0x00.
 */
function encodeContext(context: BatchContext): Uint8Array {
  const out = new Uint8Array(10);
  const view = new DataView(out.buffer);
  if ("batchId" in context) {
    const id = BigInt(context.batchId);
    if (id < 0n || id >= 2n ** 64n) {
      throw new InvalidInputError("a batch id is an unsigned 64-bit integer", {
        code: "core.person-key.context",
        field: "batchId",
      });
    }
    out[0] = 0x02;
    view.setBigUint64(1, id);
    return out;
  }
  const kind = KIND_NUMBER[context.kind];
  if (kind === undefined) {
    throw new InvalidInputError("a batch context's kind is premium or pension", {
      code: "core.person-key.context",
      field: "kind",
    });
  }
  let period: number;
  try {
    period = periodToNumber(context.period);
  } catch (error) {
    throw new InvalidInputError("a batch context's period is a canonical Jalali month", {
      details: 'write it as "YYYY-MM", e.g. "1403-07"',
      code: "core.person-key.context",
      field: "period",
      cause: error,
    });
  }
  out[0] = 0x01;
  out[1] = kind;
  view.setUint32(2, period);
  return out;
}

/**
 * k_b, the person's key in one batch context: SHA-256(PERSON_BATCH_DOMAIN ‖ 0x00 ‖ beta ‖
 * context), 32 bytes.
 *
 * @throws {InvalidInputError} `core.person-key.beta` when beta is not 64 bytes, `core.person-key.context` for a bad context.
 * @example
 * const kb = batchPersonKey(beta, { kind: "premium", period: "1403-07" });
 */
export function batchPersonKey(beta: Uint8Array, context: BatchContext): Uint8Array {
  if (!(beta instanceof Uint8Array) || beta.length !== 64) {
    throw new InvalidInputError("beta is the 64-byte VRF output", {
      code: "core.person-key.beta",
      field: "beta",
    });
  }
  const ctx = encodeContext(context);
  const input = new Uint8Array(BATCH_PREFIX.length + 64 + ctx.length);
  input.set(BATCH_PREFIX, 0);
  input.set(beta, BATCH_PREFIX.length);
  input.set(ctx, BATCH_PREFIX.length + 64);
  return sha256(input);
}
