/**
 * The printed "history key" (`shafaf-history-key/1`, docs/spec/history-key-v1.md): a person's
 * identifier and VRF proof `pi` as grouped Crockford base32 text with a check character per
 * group (so a mistyped character is caught and its group named) and a checksum over the whole.
 * Pure and browser-safe. The text is a secret (whoever holds it can find the person's records):
 * errors name a group and a rule, never a character of the key.
 */
import { CROCKFORD_ALPHABET, crockfordValues } from "./crockford.ts";
import { sha256 } from "@noble/hashes/sha2.js";
import { InvalidInputError } from "./errors.ts";
import { FOREIGN_CODE_PREFIX, INSURED_FOREIGNER_PREFIX } from "./person-id.ts";
import { personVrfInput, PERSON_VRF_DOMAIN } from "./person-key.ts";
import { VRF_PROOF_LENGTH } from "./vrf.ts";

export const HISTORY_KEY_FORMAT = "shafaf-history-key/1";
export const HISTORY_KEY_VERSION = 0x01;
export const HISTORY_KEY_CHECKSUM_DOMAIN = "shafaf/history-key/v1";
/** Crockford's base32 alphabet: no I, L, O, U. */
export { CROCKFORD_ALPHABET } from "./crockford.ts";
/** Data characters per group; each group is followed by one check character. */
export const HISTORY_KEY_GROUP_DATA = 4;

const CHECKSUM_LENGTH = 4;
/** version ‖ pi ‖ kind ‖ body (10, 12, 13 or 14 bytes) ‖ checksum. */
const PAYLOAD_LENGTHS: readonly number[] = [10, 12, 13, 14].map(
  (n) => 1 + VRF_PROOF_LENGTH + 1 + n + CHECKSUM_LENGTH,
);
/** Where alpha's identifier part (kind byte, then body) starts (person-key-v1.md §2). */
const ALPHA_KIND_OFFSET = PERSON_VRF_DOMAIN.length + 1;

/** What a history key holds. */
export interface HistoryKey {
  /** The canonical person-id-v1 identifier. */
  personId: string;
  /** pi, 80 bytes. */
  proof: Uint8Array;
}

/** Why a text is not a history key; `group` (1-based) where the problem was found. */
export type HistoryKeyProblem =
  "empty" | "character" | "group" | "length" | "padding" | "checksum" | "version" | "identifier";

/**
 * A text that is not a valid history key. `problem` says what, `group` where (1-based group of
 * the printed key), never which character: the key is a secret.
 */
export class HistoryKeyError extends InvalidInputError {
  override name = "HistoryKeyError";
  readonly problem: HistoryKeyProblem;
  readonly group: number | undefined;
  constructor(problem: HistoryKeyProblem, details: string, group?: number) {
    super(
      group === undefined
        ? `not a valid history key (${problem})`
        : `not a valid history key (${problem} in group ${group})`,
      { details, code: `core.history-key.${problem}`, field: "historyKey", rule: problem },
    );
    this.problem = problem;
    this.group = group;
  }
}

const VALUE = new Map<string, number>([...CROCKFORD_ALPHABET].map((c, i) => [c, i]));
// Crockford's reading rules: O is 0, I and L are 1; Persian and Arabic digits are digits.
for (const [c, v] of [
  ["O", 0],
  ["I", 1],
  ["L", 1],
] as const)
  VALUE.set(c, v);
for (let d = 0; d < 10; d++) {
  VALUE.set(String.fromCharCode(0x06f0 + d), d);
  VALUE.set(String.fromCharCode(0x0660 + d), d);
}

/**
 * The check character value of group `group` (1-based) with data values `data`: Luhn mod 32
 * over the sequence (group mod 32, data…), factor 2 on the rightmost element.
 */
export function groupCheckValue(group: number, data: readonly number[]): number {
  const seq = [group % 32, ...data];
  let sum = 0;
  let factor = 2;
  for (let i = seq.length - 1; i >= 0; i--) {
    const addend = factor * seq[i]!;
    sum += Math.floor(addend / 32) + (addend % 32);
    factor = factor === 2 ? 1 : 2;
  }
  return (32 - (sum % 32)) % 32;
}

function checksum(body: Uint8Array): Uint8Array {
  const domain = new TextEncoder().encode(HISTORY_KEY_CHECKSUM_DOMAIN + "\u0000");
  const input = new Uint8Array(domain.length + body.length);
  input.set(domain, 0);
  input.set(body, domain.length);
  return sha256(input).subarray(0, CHECKSUM_LENGTH);
}

/** The binary payload: version ‖ pi ‖ identifier kind ‖ identifier body ‖ checksum. */
export function historyKeyPayload(key: HistoryKey): Uint8Array {
  if (!(key.proof instanceof Uint8Array) || key.proof.length !== VRF_PROOF_LENGTH)
    throw new InvalidInputError("a VRF proof is 80 bytes", {
      code: "core.history-key.proof",
      field: "proof",
    });
  const identifier = personVrfInput(key.personId).subarray(ALPHA_KIND_OFFSET);
  const body = new Uint8Array(1 + VRF_PROOF_LENGTH + identifier.length);
  body[0] = HISTORY_KEY_VERSION;
  body.set(key.proof, 1);
  body.set(identifier, 1 + VRF_PROOF_LENGTH);
  const out = new Uint8Array(body.length + CHECKSUM_LENGTH);
  out.set(body, 0);
  out.set(checksum(body), body.length);
  return out;
}

/**
 * The history key as printed: groups of five characters (four data, one check) joined by `-`,
 * upper case. The same text is the QR code's content.
 *
 * @example
 * formatHistoryKey({ personId: "0012345679", proof: pi }) // "D5BD7-…"
 */
export function formatHistoryKey(key: HistoryKey): string {
  const data = crockfordValues(historyKeyPayload(key));
  const groups: string[] = [];
  for (let i = 0, g = 1; i < data.length; i += HISTORY_KEY_GROUP_DATA, g++) {
    const chunk = data.slice(i, i + HISTORY_KEY_GROUP_DATA);
    groups.push([...chunk, groupCheckValue(g, chunk)].map((v) => CROCKFORD_ALPHABET[v]!).join(""));
  }
  return groups.join("-");
}

/**
 * Reads a typed, pasted or scanned history key. Spaces, hyphens and line breaks are ignored;
 * letters in either case; O reads as 0, I and L as 1; Persian and Arabic digits as digits.
 * Checks each group's check character (naming the first bad group), then the length, the
 * padding, the checksum, the version and the identifier.
 *
 * @throws {HistoryKeyError} `core.history-key.<problem>`.
 * @example
 * parseHistoryKey(printed).personId // "0012345679"
 */
export function parseHistoryKey(text: string): HistoryKey {
  if (typeof text !== "string") throw new HistoryKeyError("empty", "give the history key as text");
  const compact = text.replace(/[\s\-\u200c\u200f\u200e]+/g, "").toUpperCase();
  if (compact.length === 0) throw new HistoryKeyError("empty", "type or paste the history key");
  const values: number[] = [];
  const per = HISTORY_KEY_GROUP_DATA + 1;
  for (let i = 0; i < compact.length; i++) {
    const v = VALUE.get(compact[i]!);
    if (v === undefined)
      throw new HistoryKeyError(
        "character",
        `group ${Math.floor(i / per) + 1}, character ${(i % per) + 1} is not one of the key's letters or digits`,
        Math.floor(i / per) + 1,
      );
    values.push(v);
  }
  const data: number[] = [];
  const groups = Math.ceil(values.length / per);
  for (let g = 1; g <= groups; g++) {
    const chunk = values.slice((g - 1) * per, g * per);
    if (chunk.length < 2)
      throw new HistoryKeyError(
        "length",
        `the key ends in the middle of group ${g}: a character is missing`,
        g,
      );
    const dataPart = chunk.slice(0, -1);
    if (groupCheckValue(g, dataPart) !== chunk[chunk.length - 1])
      throw new HistoryKeyError(
        "group",
        `group ${g} does not match its check character: a character in it is mistyped, or one is missing or extra`,
        g,
      );
    data.push(...dataPart);
  }
  const byteLength = Math.floor((data.length * 5) / 8);
  if (Math.ceil((byteLength * 8) / 5) !== data.length || !PAYLOAD_LENGTHS.includes(byteLength))
    throw new HistoryKeyError(
      "length",
      `the key has ${groups} groups: a whole group is missing or extra`,
      groups,
    );
  const bytes = new Uint8Array(byteLength);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const v of data) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[n++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  if (acc !== 0)
    throw new HistoryKeyError("padding", "the last group's unused bits are not zero", groups);
  const body = bytes.subarray(0, byteLength - CHECKSUM_LENGTH);
  const sum = checksum(body);
  if (sum.some((b, i) => b !== bytes[byteLength - CHECKSUM_LENGTH + i]))
    throw new HistoryKeyError(
      "checksum",
      "every group is well formed but the key as a whole is not: groups are out of order, or one was copied from another key",
    );
  if (body[0] !== HISTORY_KEY_VERSION)
    throw new HistoryKeyError(
      "version",
      `history key version ${body[0]} is not known here (this portal reads version ${HISTORY_KEY_VERSION})`,
    );
  const proof = body.slice(1, 1 + VRF_PROOF_LENGTH);
  const kind = body[1 + VRF_PROOF_LENGTH];
  let identifier = "";
  for (const b of body.subarray(2 + VRF_PROOF_LENGTH)) identifier += String.fromCharCode(b);
  const personId =
    kind === 0x01
      ? identifier
      : kind === 0x02
        ? FOREIGN_CODE_PREFIX + identifier
        : kind === 0x03
          ? INSURED_FOREIGNER_PREFIX + identifier
          : undefined;
  let canonical = false;
  if (personId !== undefined && /^[\x21-\x7e]+$/.test(identifier)) {
    try {
      const alpha = personVrfInput(personId);
      const expected = body.subarray(1 + VRF_PROOF_LENGTH);
      canonical =
        alpha.length - ALPHA_KIND_OFFSET === expected.length &&
        expected.every((b, i) => b === alpha[ALPHA_KIND_OFFSET + i]);
    } catch {
      canonical = false;
    }
  }
  if (!canonical || personId === undefined)
    throw new HistoryKeyError(
      "identifier",
      "the identifier inside the key is not a valid national ID, foreign national code or insured foreigner",
    );
  return { personId, proof };
}
