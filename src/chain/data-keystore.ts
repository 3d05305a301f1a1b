/**
 * The organization's data-encryption key (personal data at rest, `src/store/private-store.ts`)
 * in an encrypted keystore, `shafaf-data-key/1` (docs/spec/data-keystore-v1.md): the same
 * sealing as the note keystores — scrypt (N = 2^17, r = 8, p = 1) of the password and
 * AES-256-GCM, the format and key id authenticated as associated data. The password comes from
 * SHAFAF_KEYSTORE_PASSWORD or a no-echo prompt, never a flag; files are mode 0600 and never
 * overwritten (`writeKeystoreFile`).
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from "node:crypto";
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { dataKeyId } from "../core/data-key-id.ts";
import { InvalidInputError } from "../core/errors.ts";
import { KEYSTORE_PASSWORD_ENV } from "./keystore.ts";

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

export const DATA_KEYSTORE_FORMAT = "shafaf-data-key/1";
const SCRYPT = { N: 1 << 17, r: 8, p: 1 };

interface DataKeystoreJson {
  format: typeof DATA_KEYSTORE_FORMAT;
  keyId: string;
  crypto: {
    kdf: "scrypt";
    N: number;
    r: number;
    p: number;
    salt: string;
    cipher: "aes-256-gcm";
    iv: string;
    ciphertext: string;
    tag: string;
  };
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
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const k = await scrypt(options.password.normalize("NFKC"), salt, 32, {
    ...SCRYPT,
    maxmem: 256 * 1024 * 1024,
  });
  const cipher = createCipheriv("aes-256-gcm", k, iv);
  cipher.setAAD(aad(keyId));
  const ciphertext = Buffer.concat([cipher.update(key), cipher.final()]);
  const json: DataKeystoreJson = {
    format: DATA_KEYSTORE_FORMAT,
    keyId,
    crypto: {
      kdf: "scrypt",
      ...SCRYPT,
      salt: salt.toString("hex"),
      cipher: "aes-256-gcm",
      iv: iv.toString("hex"),
      ciphertext: ciphertext.toString("hex"),
      tag: cipher.getAuthTag().toString("hex"),
    },
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
    const k = await scrypt(password.normalize("NFKC"), Buffer.from(c.salt, "hex"), 32, {
      N: c.N,
      r: c.r,
      p: c.p,
      maxmem: 256 * 1024 * 1024,
    });
    const d = createDecipheriv("aes-256-gcm", k, Buffer.from(c.iv, "hex"));
    d.setAAD(aad(parsed.keyId));
    d.setAuthTag(Buffer.from(c.tag, "hex"));
    key = new Uint8Array(Buffer.concat([d.update(Buffer.from(c.ciphertext, "hex")), d.final()]));
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
