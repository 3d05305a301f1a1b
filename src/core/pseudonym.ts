import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, type Hex } from "./hex.ts";
import { checkNationalId } from "./national-id.ts";
import { FOREIGN_CODE_PREFIX, INSURED_FOREIGNER_PREFIX, parsePersonId } from "./person-id.ts";

/** Domain separator of the subject pseudonym (version 1). */
export const SUBJECT_DOMAIN = "shafaf/subject/v1\u0000";

/**
 * The message a subject pseudonym is the HMAC of: `"shafaf/subject/v1\0" ‖ nationalId` (hashed as
 * UTF-8), after checking that `nationalId` is a canonical person identifier. Shared by
 * {@link subjectPseudonym} and the anchor's node:crypto HMAC (src/anchor/record-keys.ts), so the
 * two cannot drift. Throws RangeError on an identifier that is not canonical.
 */
export function subjectPseudonymMessage(nationalId: string): string {
  if (
    nationalId.startsWith(FOREIGN_CODE_PREFIX) ||
    nationalId.startsWith(INSURED_FOREIGNER_PREFIX)
  ) {
    // A foreign national's typed identifier (person-id-v1): its canonical string, prefix included.
    if (parsePersonId(nationalId) === undefined)
      throw new RangeError("not a valid foreign person identifier");
    return SUBJECT_DOMAIN + nationalId;
  }
  const id = checkNationalId(nationalId);
  if (!id.ok) throw new RangeError(`not a valid national ID (${id.problem})`);
  return SUBJECT_DOMAIN + id.nationalId;
}

/**
 * The keyed pseudonym of a person: HMAC-SHA256(key, "shafaf/subject/v1\0" ‖ nationalId) as a
 * bytes32 hex word (`nationalId` is the canonical person identifier: a national ID's digits, or
 * a foreign national's `foreign:…` / `insured:…` string of `person-id-v1`). Without the organization's key nobody can test a guessed national ID
 * against it (an unkeyed hash of ~10⁹ IDs is reversed in seconds). Same key and ID, same
 * pseudonym: lookups by person use it. The key MUST be at least 32 random bytes and secret.
 *
 * @example
 * subjectPseudonym(key, "0012345679") // "0x…" (64 hex digits)
 */
export function subjectPseudonym(key: Uint8Array, nationalId: string): Hex {
  if (key.length < 32) throw new RangeError("the pseudonym key must be at least 32 bytes");
  const message = subjectPseudonymMessage(nationalId);
  return bytesToHex(hmac(sha256, key, new TextEncoder().encode(message)));
}
