/**
 * Signed notes (c2sp.org/signed-note@v1.0.0), their verifier keys, and the two Ed25519
 * signature types Shafaf uses: plain note signatures (type 0x01, the log's key) and timestamped
 * checkpoint cosignatures (type 0x04, c2sp.org/tlog-cosignature `cosignature/v1`, a witness's key).
 *
 * Parsing follows golang.org/x/mod/sumdb/note (`Open`, `Sign`) rule for rule: the text is
 * everything up to the last blank line, signatures from unknown keys are kept but not trusted,
 * a known key whose signature fails rejects the whole note, repeated signatures by one key count
 * once, and at most 100 signature lines are read. Ed25519 is RFC 8032 strict (not ZIP-215), as
 * Go's crypto/ed25519 and OpenSSL verify it. Base64 must be canonical (see base64.ts).
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { InvalidInputError } from "./errors.ts";

/** Signature type byte of Ed25519 note signatures (signed-note). */
export const SIG_TYPE_ED25519 = 0x01;
/** Signature type byte of timestamped Ed25519 cosignatures (tlog-cosignature, cosignature/v1). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;
/** Go's sumdb/note reads at most this many signature lines (the spec asks for at least 16). */
export const MAX_NOTE_SIGNATURES = 100;

const SIG_PREFIX = "\u2014 ";
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const utf8 = new TextEncoder();

/** A bad note, verifier key or signer key. `code` is stable: `core.note.<reason>`. */
export class NoteFormatError extends InvalidInputError {
  override name = "NoteFormatError";
  constructor(shortMessage: string, code: string, details?: string) {
    super(shortMessage, {
      code: `core.note.${code}`,
      ...(details === undefined ? {} : { details }),
    });
  }
}

/** One signature line: `— <name> base64(keyId ‖ signature)`. */
export interface NoteSignature {
  name: string;
  /** The big-endian uint32 of the first four decoded bytes. */
  keyId: number;
  /** The base64 text exactly as it appeared (key ID and signature). */
  base64: string;
}

/** A public key that can check note signatures of one name and key ID. */
export interface NoteVerifier {
  name: string;
  keyId: number;
  type: number;
  publicKey: Uint8Array;
  /** True when `signature` (the bytes after the key ID) signs `text` under this key. Never throws. */
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** A private key that signs note text under one name and key ID. */
export interface NoteSigner {
  name: string;
  keyId: number;
  /** The signature bytes that follow the key ID on the signature line. */
  sign(text: Uint8Array): Uint8Array;
}

/** A parsed verifier key (`<name>+<hex key ID>+base64(type ‖ public key)`). */
export interface VerifierKey {
  name: string;
  keyId: number;
  type: number;
  publicKey: Uint8Array;
}

/** True when `name` can be a key name: non-empty, no Unicode space, no `+`. */
export function isValidKeyName(name: string): boolean {
  return (
    name !== "" && !UNICODE_SPACE.test(name) && !name.includes("+") && !LONE_SURROGATE.test(name)
  );
}

/**
 * The key ID of a key: the first four bytes, big-endian, of SHA-256(name ‖ 0x0A ‖ type ‖ key).
 *
 * @example
 * noteKeyId("example.com/foo", SIG_TYPE_ED25519, publicKey).toString(16); // "530d903a"
 */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): number {
  const nameBytes = utf8.encode(name);
  const input = new Uint8Array(nameBytes.length + 2 + publicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input[nameBytes.length + 1] = type;
  input.set(publicKey, nameBytes.length + 2);
  const h = sha256(input);
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/** Eight lowercase hex digits of a key ID. */
export function keyIdHex(keyId: number): string {
  return keyId.toString(16).padStart(8, "0");
}

/**
 * The verifier key text of an Ed25519 public key under `type` (0x01 note key, 0x04 cosigner).
 *
 * @example
 * formatVerifierKey("example.com/log", SIG_TYPE_ED25519, publicKey); // "example.com/log+1a2b3c4d+A…"
 */
export function formatVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) {
    throw new NoteFormatError(
      "invalid key name",
      "key-name",
      "a key name is non-empty and has no spaces and no '+'",
    );
  }
  const material = new Uint8Array(1 + publicKey.length);
  material[0] = type;
  material.set(publicKey, 1);
  return `${name}+${keyIdHex(noteKeyId(name, type, publicKey))}+${encodeBase64(material)}`;
}

/**
 * Parses a verifier key of type 0x01 or 0x04 with a 32-byte Ed25519 key, checking that its key
 * ID is the one its name and key imply (as Go's `note.NewVerifier` does).
 *
 * @example
 * parseVerifierKey("PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (second < 0)
    throw new NoteFormatError(
      "malformed verifier key",
      "vkey",
      "expected <name>+<key id>+<base64 key>",
    );
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  const material = decodeBase64(vkey.slice(second + 1));
  if (
    !isValidKeyName(name) ||
    !/^[0-9a-fA-F]{8}$/.test(idHex) ||
    material === undefined ||
    material.length === 0
  ) {
    throw new NoteFormatError(
      "malformed verifier key",
      "vkey",
      "expected <name>+<8 hex digits>+<base64 of type byte and key>",
    );
  }
  const keyId = Number.parseInt(idHex, 16);
  const type = material[0]!;
  const publicKey = material.slice(1);
  if (keyId !== noteKeyId(name, type, publicKey)) {
    throw new NoteFormatError(
      "verifier key ID does not match its name and key",
      "vkey-id",
      `key ${name}+${idHex}`,
    );
  }
  if (type !== SIG_TYPE_ED25519 && type !== SIG_TYPE_COSIGNATURE_V1) {
    throw new NoteFormatError(
      `unsupported signature type 0x${type.toString(16).padStart(2, "0")}`,
      "vkey-type",
      "Shafaf uses Ed25519 (0x01) and cosignature/v1 (0x04)",
    );
  }
  if (publicKey.length !== 32) {
    throw new NoteFormatError(
      "an Ed25519 verifier key has 32 key bytes",
      "vkey",
      `key ${name}+${idHex} has ${publicKey.length}`,
    );
  }
  return { name, keyId, type, publicKey };
}

function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** A verifier of Ed25519 note signatures (type 0x01) by `name`'s 32-byte `publicKey`. */
export function ed25519NoteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const key = Uint8Array.from(publicKey);
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_ED25519, key),
    type: SIG_TYPE_ED25519,
    publicKey: key,
    verify: (text, signature) => ed25519Verify(key, text, signature),
  };
}

/** The message a cosignature/v1 signs: `cosignature/v1\ntime <t>\n` followed by the note text. */
export function cosignatureV1Message(text: Uint8Array, timestamp: number): Uint8Array {
  const head = utf8.encode(`cosignature/v1\ntime ${timestamp}\n`);
  const out = new Uint8Array(head.length + text.length);
  out.set(head, 0);
  out.set(text, head.length);
  return out;
}

function readTimestamp(bytes: Uint8Array): number | undefined {
  if (bytes.length < 8) return undefined;
  let t = 0n;
  for (let i = 0; i < 8; i++) t = (t << 8n) | BigInt(bytes[i]!);
  // The spec caps timestamps at 2^63 − 1; Shafaf also needs them exact as a JS number.
  return t <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(t) : undefined;
}

/** A verifier of cosignature/v1 signatures (type 0x04, `u64 timestamp ‖ Ed25519`) by `name`'s key. */
export function cosignatureV1Verifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const key = Uint8Array.from(publicKey);
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_COSIGNATURE_V1, key),
    type: SIG_TYPE_COSIGNATURE_V1,
    publicKey: key,
    verify(text, signature) {
      if (signature.length !== 72) return false;
      const timestamp = readTimestamp(signature);
      if (timestamp === undefined) return false;
      return ed25519Verify(key, cosignatureV1Message(text, timestamp), signature.subarray(8));
    },
  };
}

/**
 * The verifier for a verifier key. With `role: "cosigner"` a type 0x01 key is taken as the
 * cosigner's Ed25519 key and verifies cosignature/v1 under the 0x04 key ID (as
 * transparency-dev/formats `NewVerifierForCosignatureV1` does).
 */
export function noteVerifier(
  vkey: string | VerifierKey,
  role: "signer" | "cosigner" = "signer",
): NoteVerifier {
  const k = typeof vkey === "string" ? parseVerifierKey(vkey) : vkey;
  if (k.type === SIG_TYPE_COSIGNATURE_V1 || role === "cosigner")
    return cosignatureV1Verifier(k.name, k.publicKey);
  return ed25519NoteVerifier(k.name, k.publicKey);
}

/** The 32-byte Ed25519 public key of a 32-byte seed. */
export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(seed);
}

/** A signer of Ed25519 note signatures (type 0x01) with a 32-byte seed. */
export function ed25519NoteSigner(name: string, seed: Uint8Array): NoteSigner {
  const key = Uint8Array.from(seed);
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_ED25519, ed25519.getPublicKey(key)),
    sign: (text) => ed25519.sign(text, key),
  };
}

/**
 * A cosigner (type 0x04): each signature is `u64 timestamp ‖ Ed25519(cosignature/v1 message)`,
 * the timestamp from `now()` in POSIX seconds (must be positive: the witness protocol forbids 0).
 */
export function cosignatureV1Signer(
  name: string,
  seed: Uint8Array,
  now: () => number = () => Math.floor(Date.now() / 1000),
): NoteSigner {
  const key = Uint8Array.from(seed);
  return {
    name,
    keyId: noteKeyId(name, SIG_TYPE_COSIGNATURE_V1, ed25519.getPublicKey(key)),
    sign(text) {
      const t = now();
      if (!Number.isSafeInteger(t) || t <= 0)
        throw new NoteFormatError("a cosignature timestamp is a positive integer", "timestamp");
      const out = new Uint8Array(72);
      let v = BigInt(t);
      for (let i = 7; i >= 0; i--) {
        out[i] = Number(v & 0xffn);
        v >>= 8n;
      }
      out.set(ed25519.sign(cosignatureV1Message(text, t), key), 8);
      return out;
    },
  };
}

/**
 * Parses Go's private signer key text `PRIVATE+KEY+<name>+<id>+base64(0x01 ‖ seed)` (as
 * `note.GenerateKey` writes it): used to check vectors from the Go tests.
 */
export function parseGoSignerKey(skey: string): { name: string; keyId: number; seed: Uint8Array } {
  if (!skey.startsWith("PRIVATE+KEY+")) throw new NoteFormatError("malformed signer key", "skey");
  const rest = skey.slice("PRIVATE+KEY+".length);
  const a = rest.indexOf("+");
  const b = a < 0 ? -1 : rest.indexOf("+", a + 1);
  const parts = b < 0 ? [] : [rest.slice(0, a), rest.slice(a + 1, b), rest.slice(b + 1)];
  const material = parts.length === 3 ? decodeBase64(parts[2]!) : undefined;
  if (
    parts.length !== 3 ||
    !isValidKeyName(parts[0]!) ||
    !/^[0-9a-fA-F]{8}$/.test(parts[1]!) ||
    material?.length !== 33 ||
    material[0] !== SIG_TYPE_ED25519
  ) {
    throw new NoteFormatError("malformed signer key", "skey");
  }
  const seed = material.slice(1);
  const keyId = Number.parseInt(parts[1]!, 16);
  if (keyId !== noteKeyId(parts[0]!, SIG_TYPE_ED25519, ed25519.getPublicKey(seed))) {
    throw new NoteFormatError("signer key ID does not match its name and key", "skey-id");
  }
  return { name: parts[0]!, keyId, seed };
}

/** A note split into its text and signature lines, nothing verified yet. */
export interface ParsedNote {
  /** The note text, ending in a newline, without the blank separator line. */
  text: string;
  signatures: NoteSignature[];
}

function toText(note: string | Uint8Array): string {
  if (typeof note === "string") {
    if (LONE_SURROGATE.test(note))
      throw new NoteFormatError("malformed note", "malformed", "not valid UTF-8");
    return note;
  }
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(note);
  } catch {
    throw new NoteFormatError("malformed note", "malformed", "not valid UTF-8");
  }
}

/** Parses one signature line's content after `— `; undefined when malformed. */
function parseSignatureLine(line: string): NoteSignature | undefined {
  if (!line.startsWith(SIG_PREFIX)) return undefined;
  const rest = line.slice(SIG_PREFIX.length);
  const space = rest.indexOf(" ");
  const name = space < 0 ? rest : rest.slice(0, space);
  const b64 = space < 0 ? "" : rest.slice(space + 1);
  const raw = b64 === "" ? undefined : decodeBase64(b64);
  if (raw === undefined || raw.length < 5 || !isValidKeyName(name)) return undefined;
  const keyId = ((raw[0]! << 24) | (raw[1]! << 16) | (raw[2]! << 8) | raw[3]!) >>> 0;
  return { name, keyId, base64: b64 };
}

/**
 * Splits a signed note into text and signatures, applying the format rules (UTF-8, no control
 * characters but newline, a blank line before one or more well-formed signature lines, each
 * ending in a newline; at most {@link MAX_NOTE_SIGNATURES}). Throws {@link NoteFormatError}.
 *
 * @example
 * const { text, signatures } = parseNote(checkpointNote);
 */
export function parseNote(note: string | Uint8Array): ParsedNote {
  const msg = toText(note);
  const malformed = (why: string) => new NoteFormatError("malformed note", "malformed", why);
  if (CONTROL.test(msg)) throw malformed("a note has no control characters other than newline");
  const split = msg.lastIndexOf("\n\n");
  if (split < 0) throw malformed("no blank line before the signatures");
  const text = msg.slice(0, split + 1);
  let sigs = msg.slice(split + 2);
  if (sigs === "" || !sigs.endsWith("\n"))
    throw malformed("the signature lines must end in a newline");
  const signatures: NoteSignature[] = [];
  while (sigs !== "") {
    const nl = sigs.indexOf("\n");
    const sig = parseSignatureLine(sigs.slice(0, nl));
    if (sig === undefined)
      throw malformed(`signature line ${signatures.length + 1} is not "— <name> <base64>"`);
    signatures.push(sig);
    if (signatures.length > MAX_NOTE_SIGNATURES)
      throw malformed(`more than ${MAX_NOTE_SIGNATURES} signatures`);
    sigs = sigs.slice(nl + 1);
  }
  return { text, signatures };
}

/** Why a note did not open. */
export type NoteFailure =
  | { code: "malformed"; message: string }
  | { code: "ambiguous-key"; message: string; name: string; keyId: number }
  | { code: "invalid-signature"; message: string; name: string; keyId: number }
  | { code: "unverified"; message: string };

/** The outcome of {@link openNote}: never an exception. */
export type OpenNoteResult =
  | { ok: true; text: string; verified: NoteSignature[]; unverified: NoteSignature[] }
  | { ok: false; failure: NoteFailure; text?: string; unverified?: NoteSignature[] };

/**
 * Verifies a signed note against known keys, with Go's `note.Open` semantics: signatures by
 * unknown keys (name and ID not both matching) are collected in `unverified`, repeated identical
 * ones once; a known key's signature is verified (its repeats are dropped) and one that fails
 * rejects the note (`invalid-signature`); two known verifiers with one name and ID are
 * `ambiguous-key`; a note without a verified signature is `unverified`. Never throws.
 *
 * @example
 * const r = openNote(note, [noteVerifier(logVkey)]);
 * if (r.ok) console.log(r.text);
 */
export function openNote(
  note: string | Uint8Array,
  verifiers: readonly NoteVerifier[],
): OpenNoteResult {
  let parsed: ParsedNote;
  try {
    parsed = parseNote(note);
  } catch (error) {
    return {
      ok: false,
      failure: {
        code: "malformed",
        message: (error as NoteFormatError).details ?? "malformed note",
      },
    };
  }
  const textBytes = utf8.encode(parsed.text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenKnown = new Set<string>();
  const seenUnknown = new Set<string>();
  for (const sig of parsed.signatures) {
    const matches = verifiers.filter((v) => v.name === sig.name && v.keyId === sig.keyId);
    const id = `${sig.name}+${keyIdHex(sig.keyId)}`;
    if (matches.length === 0) {
      const line = `${sig.name} ${sig.base64}`;
      if (!seenUnknown.has(line)) {
        seenUnknown.add(line);
        unverified.push(sig);
      }
      continue;
    }
    if (matches.length > 1) {
      return {
        ok: false,
        failure: {
          code: "ambiguous-key",
          message: `ambiguous key ${id}`,
          name: sig.name,
          keyId: sig.keyId,
        },
      };
    }
    if (seenKnown.has(id)) continue;
    seenKnown.add(id);
    const raw = decodeBase64(sig.base64)!;
    if (!matches[0]!.verify(textBytes, raw.subarray(4))) {
      return {
        ok: false,
        failure: {
          code: "invalid-signature",
          message: `invalid signature for key ${id}`,
          name: sig.name,
          keyId: sig.keyId,
        },
      };
    }
    verified.push(sig);
  }
  if (verified.length === 0) {
    return {
      ok: false,
      failure: { code: "unverified", message: "note has no verifiable signatures" },
      text: parsed.text,
      unverified,
    };
  }
  return { ok: true, text: parsed.text, verified, unverified };
}

/**
 * Signs `text` (which must end in a newline) with each signer and returns the signed note.
 * Existing signatures are kept before the new ones, except those of a signer's own name and key
 * ID, which are replaced (Go's `note.Sign`).
 *
 * @example
 * const note = signNote("example.com/log\n1\n…=\n", [logSigner]);
 */
export function signNote(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): string {
  if (!text.endsWith("\n") || CONTROL.test(text) || LONE_SURROGATE.test(text)) {
    throw new NoteFormatError(
      "malformed note",
      "malformed",
      "note text ends in a newline and has no control characters",
    );
  }
  const textBytes = utf8.encode(text);
  const have = new Set<string>();
  let fresh = "";
  for (const s of signers) {
    if (!isValidKeyName(s.name))
      throw new NoteFormatError(
        "invalid signer",
        "signer",
        "a key name is non-empty and has no spaces and no '+'",
      );
    have.add(`${s.name}+${s.keyId}`);
    const sig = s.sign(textBytes);
    const raw = new Uint8Array(4 + sig.length);
    new DataView(raw.buffer).setUint32(0, s.keyId);
    raw.set(sig, 4);
    fresh += `${SIG_PREFIX}${s.name} ${encodeBase64(raw)}\n`;
  }
  let kept = "";
  for (const sig of existing) {
    const raw = decodeBase64(sig.base64);
    if (
      !isValidKeyName(sig.name) ||
      raw === undefined ||
      raw.length < 5 ||
      new DataView(raw.buffer).getUint32(0) !== sig.keyId
    ) {
      throw new NoteFormatError(
        "malformed note",
        "malformed",
        "an existing signature does not match its key ID",
      );
    }
    if (have.has(`${sig.name}+${sig.keyId}`)) continue;
    kept += `${SIG_PREFIX}${sig.name} ${sig.base64}\n`;
  }
  return `${text}\n${kept}${fresh}`;
}

/** Formats signature lines (`— <name> <base64>\n` each), e.g. a witness's response body. */
export function formatSignatureLines(signatures: readonly NoteSignature[]): string {
  return signatures.map((s) => `${SIG_PREFIX}${s.name} ${s.base64}\n`).join("");
}

/**
 * The POSIX timestamp of a cosignature/v1 signature, or `undefined` when it is not one
 * (wrong length or not base64).
 *
 * @example
 * cosignatureTimestamp({ base64: "ZGhGuQAAAABm/qTP…" }); // 1727964367
 */
export function cosignatureTimestamp(sig: Pick<NoteSignature, "base64">): number | undefined {
  const raw = decodeBase64(sig.base64);
  if (raw?.length !== 4 + 8 + 64) return undefined;
  return readTimestamp(raw.subarray(4));
}
