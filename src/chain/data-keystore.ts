/**
 * The organization's data-encryption key (personal data at rest, `src/store/private-store.ts`)
 * in an encrypted keystore, `shafaf-data-key/1` (docs/spec/data-keystore-v1.md): the same
 * sealing as the note keystores — scrypt (N = 2^17, r = 8, p = 1) of the password and
 * AES-256-GCM, the format and key id authenticated as associated data. The password comes from
 * SHAFAF_KEYSTORE_PASSWORD or a no-echo prompt, never a flag; files are mode 0600 and never
 * overwritten (`writeKeystoreFile`).
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dataKeyId } from "../core/data-key-id.ts";
import { InvalidInputError } from "../core/errors.ts";
import { KEYSTORE_PASSWORD_ENV } from "./keystore.ts";
import { openWithPassword, sealWithPassword, type PasswordSealed } from "./password-seal.ts";

export const DATA_KEYSTORE_FORMAT = "shafaf-data-key/1";

interface DataKeystoreJson {
  format: typeof DATA_KEYSTORE_FORMAT;
  keyId: string;
  crypto: PasswordSealed;
}

const aad = (keyId: string): Buffer => Buffer.from(`${DATA_KEYSTORE_FORMAT}\n${keyId}\n`, "utf8");

/**
 * Makes a new random 32-byte data key and encrypts it with `password`. Returns the key id
 * (public) and the keystore JSON text. `key` is for tests and the demo's fixed key only.
 *
 * @example
 * const { keyId, json } = await newDataKeystore({ password });
 */
export async function newDataKeystore(options: {
  password: string;
  key?: Uint8Array;
}): Promise<{ keyId: string; json: string }> {
  if (options.password.length < 8)
    throw new InvalidInputError("the keystore password is too short", {
      details: "use at least 8 characters",
      code: "chain.keystore.password",
    });
  const key = options.key ?? randomBytes(32);
  if (key.length !== 32) throw new RangeError("a data key is 32 bytes");
  const keyId = dataKeyId(key);
  const json: DataKeystoreJson = {
    format: DATA_KEYSTORE_FORMAT,
    keyId,
    crypto: await sealWithPassword(key, options.password, aad(keyId)),
  };
  return { keyId, json: JSON.stringify(json, null, 2) };
}

async function readDataKeystoreJson(file: string): Promise<DataKeystoreJson> {
  const bad = (details: string, code: string, cause?: unknown): InvalidInputError =>
    new InvalidInputError(`cannot use the data keystore ${file}`, {
      details,
      code: `chain.data-keystore.${code}`,
      ...(cause === undefined ? {} : { cause }),
    });
  let parsed: DataKeystoreJson;
  try {
    parsed = JSON.parse(await readFile(file, "utf8")) as DataKeystoreJson;
  } catch (error) {
    throw bad(
      (error as { code?: string }).code === "ENOENT"
        ? "the file does not exist; make one with `shafaf keys new-data --out FILE`"
        : "not JSON",
      "read",
      error,
    );
  }
  if (
    parsed?.format !== DATA_KEYSTORE_FORMAT ||
    typeof parsed.keyId !== "string" ||
    !/^[0-9a-f]{16}$/.test(parsed.keyId) ||
    parsed.crypto?.kdf !== "scrypt" ||
    parsed.crypto.cipher !== "aes-256-gcm"
  )
    throw bad(
      `not a ${DATA_KEYSTORE_FORMAT} keystore; make one with \`shafaf keys new-data --out FILE\``,
      "format",
    );
  return parsed;
}

/**
 * The key id a data keystore records, without the password (public; unauthenticated until the
 * keystore is opened).
 *
 * @example
 * await readDataKeystoreKeyId("data-key.json") // "3f1c…"
 */
export async function readDataKeystoreKeyId(file: string): Promise<string> {
  return (await readDataKeystoreJson(file)).keyId;
}

/**
 * Decrypts the data keystore in `file`. Errors name the file, never the password.
 *
 * @throws {InvalidInputError} `chain.data-keystore.read` / `.format` / `.decrypt` / `.mismatch`.
 * @example
 * const { key, keyId } = await loadDataKeystore("data-key.json", password);
 */
export async function loadDataKeystore(
  file: string,
  password: string,
): Promise<{ key: Uint8Array; keyId: string }> {
  const parsed = await readDataKeystoreJson(file);
  const c = parsed.crypto;
  let key: Uint8Array;
  try {
    key = await openWithPassword(c, password, aad(parsed.keyId));
  } catch (error) {
    throw new InvalidInputError(`cannot use the data keystore ${file}`, {
      details: `wrong password (from ${KEYSTORE_PASSWORD_ENV} or the prompt), or a damaged file`,
      code: "chain.data-keystore.decrypt",
      cause: error,
    });
  }
  if (key.length !== 32 || dataKeyId(key) !== parsed.keyId)
    throw new InvalidInputError(`cannot use the data keystore ${file}`, {
      details: "the decrypted key does not match the file's key id",
      code: "chain.data-keystore.mismatch",
    });
  return { key, keyId: parsed.keyId };
}
