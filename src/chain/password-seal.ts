/**
 * The one way Shafaf's own keystores seal a secret under a password: scrypt (N = 2^17, r = 8,
 * p = 1, as ethers' account keystores; the password NFKC-normalized) derives a 32-byte key, and
 * AES-256-GCM encrypts the secret with the keystore's associated data (its format and what it
 * names), so a secret cannot be moved into another keystore's envelope. The JSON member this
 * gives is the `crypto` object of `shafaf-note-key/1` (docs/spec/note-keystore-v1.md) and
 * `shafaf-data-key/1` (docs/spec/data-keystore-v1.md).
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from "node:crypto";
import { promisify } from "node:util";

const scrypt = promisify(scryptCb) as (
  password: string,
  salt: Buffer,
  keylen: number,
  options: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

/** The KDF cost of new keystores. */
export const KEYSTORE_SCRYPT = { N: 1 << 17, r: 8, p: 1 } as const;
const MAXMEM = 256 * 1024 * 1024;

/** The `crypto` member of a password-sealed keystore (hex strings). */
export interface PasswordSealed {
  kdf: "scrypt";
  N: number;
  r: number;
  p: number;
  salt: string;
  cipher: "aes-256-gcm";
  iv: string;
  ciphertext: string;
  tag: string;
}

/**
 * Seals `secret` under `password` with `aad` authenticated (fresh salt and IV).
 *
 * @example
 * const crypto = await sealWithPassword(seed, password, Buffer.from("shafaf-note-key/1\n…"));
 */
export async function sealWithPassword(
  secret: Uint8Array,
  password: string,
  aad: Uint8Array,
): Promise<PasswordSealed> {
  const salt = randomBytes(32);
  const iv = randomBytes(12);
  const key = await scrypt(password.normalize("NFKC"), salt, 32, {
    ...KEYSTORE_SCRYPT,
    maxmem: MAXMEM,
  });
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
  return {
    kdf: "scrypt",
    ...KEYSTORE_SCRYPT,
    salt: salt.toString("hex"),
    cipher: "aes-256-gcm",
    iv: iv.toString("hex"),
    ciphertext: ciphertext.toString("hex"),
    tag: cipher.getAuthTag().toString("hex"),
  };
}

/**
 * Opens what {@link sealWithPassword} sealed, with the file's own KDF parameters.
 *
 * @throws the cipher's error on a wrong password, another `aad` or altered bytes (callers name
 * the file and say "wrong password or a damaged file"; never the password).
 * @example
 * const seed = await openWithPassword(json.crypto, password, aad);
 */
export async function openWithPassword(
  sealed: PasswordSealed,
  password: string,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const key = await scrypt(password.normalize("NFKC"), Buffer.from(sealed.salt, "hex"), 32, {
    N: sealed.N,
    r: sealed.r,
    p: sealed.p,
    maxmem: MAXMEM,
  });
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.iv, "hex"));
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(sealed.tag, "hex"));
  return new Uint8Array(
    Buffer.concat([decipher.update(Buffer.from(sealed.ciphertext, "hex")), decipher.final()]),
  );
}
