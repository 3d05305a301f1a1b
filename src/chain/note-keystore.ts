/**
 * Encrypted keystores for Ed25519 signed-note keys: the log's checkpoint key and each witness's
 * cosigning key. The same password rules as the account keystores (keystore.ts: from
 * SHAFAF_KEYSTORE_PASSWORD or a no-echo prompt, never a flag; files mode 0600, never
 * overwritten); the 32-byte seed is sealed with scrypt (N = 2^17, r = 8, p = 1, as ethers'
 * account keystores) and AES-256-GCM, the key name and role authenticated as associated data.
 * The format (`shafaf-note-key/1`) is in docs/spec/note-keystore-v1.md.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { InvalidInputError } from "../core/errors.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  isValidKeyName,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  type NoteSigner,
} from "../core/signed-note.ts";
import { KEYSTORE_PASSWORD_ENV } from "./keystore.ts";
import { openWithPassword, sealWithPassword, type PasswordSealed } from "./password-seal.ts";

export const NOTE_KEYSTORE_FORMAT = "shafaf-note-key/1";

/** `log`: signs checkpoints (type 0x01). `witness`: cosigns them (cosignature/v1, type 0x04). */
export type NoteKeyRole = "log" | "witness";

interface NoteKeystoreJson {
  format: typeof NOTE_KEYSTORE_FORMAT;
  role: NoteKeyRole;
  name: string;
  vkey: string;
  crypto: PasswordSealed;
}

/** A decrypted note key. */
export interface NoteKey {
  role: NoteKeyRole;
  name: string;
  /** The verifier key others configure: type 0x01 for a log, 0x04 for a witness. */
  vkey: string;
  /** The signer for its role (a cosigner's clock can be injected). */
  signer(now?: () => number): NoteSigner;
}

function vkeyOf(role: NoteKeyRole, name: string, seed: Uint8Array): string {
  return formatVerifierKey(
    name,
    role === "log" ? SIG_TYPE_ED25519 : SIG_TYPE_COSIGNATURE_V1,
    ed25519PublicKey(seed),
  );
}

function aad(role: NoteKeyRole, name: string): Buffer {
  return Buffer.from(`${NOTE_KEYSTORE_FORMAT}\n${role}\n${name}\n`, "utf8");
}

/**
 * Makes a new Ed25519 note key for `name` and encrypts it with `password`. Returns the verifier
 * key (public) and the keystore JSON text.
 *
 * @example
 * const { vkey, json } = await newNoteKeystore({ name: "sso.example/log", role: "log", password });
 */
export async function newNoteKeystore(options: {
  name: string;
  role: NoteKeyRole;
  password: string;
  seed?: Uint8Array;
}): Promise<{ vkey: string; json: string }> {
  if (!isValidKeyName(options.name)) {
    throw new InvalidInputError("invalid key name", {
      details: "a key name is non-empty, without spaces or '+', e.g. sso.example/log",
      code: "chain.note-keystore.name",
    });
  }
  if (options.password.length < 8) {
    throw new InvalidInputError("the keystore password is too short", {
      details: "use at least 8 characters",
      code: "chain.keystore.password",
    });
  }
  const seed = options.seed ?? randomBytes(32);
  const vkey = vkeyOf(options.role, options.name, seed);
  const json: NoteKeystoreJson = {
    format: NOTE_KEYSTORE_FORMAT,
    role: options.role,
    name: options.name,
    vkey,
    crypto: await sealWithPassword(seed, options.password, aad(options.role, options.name)),
  };
  return { vkey, json: JSON.stringify(json, null, 2) };
}

/**
 * Decrypts the note keystore in `file`, checking it has `role` when given. Errors name the file,
 * never the password.
 *
 * @example
 * const key = await loadNoteKeystore("witness-key.json", password, "witness");
 */
export async function loadNoteKeystore(
  file: string,
  password: string,
  role?: NoteKeyRole,
): Promise<NoteKey> {
  const bad = (details: string, code: string, cause?: unknown) =>
    new InvalidInputError(`cannot use the note keystore ${file}`, {
      details,
      code: `chain.note-keystore.${code}`,
      ...(cause === undefined ? {} : { cause }),
    });
  let parsed: NoteKeystoreJson;
  try {
    parsed = JSON.parse(await readFile(file, "utf8")) as NoteKeystoreJson;
  } catch (error) {
    throw bad(
      (error as { code?: string }).code === "ENOENT" ? "the file does not exist" : "not JSON",
      "read",
      error,
    );
  }
  if (
    parsed?.format !== NOTE_KEYSTORE_FORMAT ||
    (parsed.role !== "log" && parsed.role !== "witness") ||
    typeof parsed.name !== "string" ||
    parsed.crypto?.kdf !== "scrypt"
  ) {
    throw bad(
      `not a ${NOTE_KEYSTORE_FORMAT} keystore; make one with \`shafaf keys new-note --name NAME --out FILE\``,
      "format",
    );
  }
  if (role !== undefined && parsed.role !== role) {
    throw bad(
      `it holds a ${parsed.role} key; this command needs a ${role} key (\`shafaf keys new-note --${role === "witness" ? "witness" : "log"}\`)`,
      "role",
    );
  }
  const c = parsed.crypto;
  let seed: Uint8Array;
  try {
    seed = await openWithPassword(c, password, aad(parsed.role, parsed.name));
  } catch (error) {
    throw bad(
      `wrong password (from ${KEYSTORE_PASSWORD_ENV} or the prompt), or a damaged file`,
      "decrypt",
      error,
    );
  }
  const vkey = vkeyOf(parsed.role, parsed.name, seed);
  if (seed.length !== 32 || vkey !== parsed.vkey)
    throw bad("the decrypted key does not match the file's verifier key", "mismatch");
  const name = parsed.name;
  const keyRole = parsed.role;
  return {
    role: keyRole,
    name,
    vkey,
    signer: (now) =>
      keyRole === "log" ? ed25519NoteSigner(name, seed) : cosignatureV1Signer(name, seed, now),
  };
}
