/**
 * Encrypted JSON keystores (Web3 Secret Storage v3, scrypt, as written by ethers v6 and geth) for
 * the accounts that anchor, attest and deploy. A password never comes from a command-line flag:
 * only from `SHAFAF_KEYSTORE_PASSWORD` or an interactive prompt that does not echo.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import {
  Wallet,
  computeAddress,
  decryptKeystoreJson,
  encryptKeystoreJson,
  getAddress,
  isAddress,
  isKeystoreJson,
  type HDNodeWallet,
} from "ethers";
import { InvalidInputError } from "../core/errors.ts";
import { vrfSecretKey } from "../core/vrf.ts";

export const KEYSTORE_PASSWORD_ENV = "SHAFAF_KEYSTORE_PASSWORD";

export interface NewKeystoreResult {
  address: string;
  /** The encrypted JSON keystore text. */
  json: string;
}

/**
 * Makes a new random account and encrypts it with `password`.
 *
 * @example
 * const { address, json } = await newKeystore({ password });
 */
export async function newKeystore(options: { password: string }): Promise<NewKeystoreResult> {
  if (options.password.length < 8) {
    throw new InvalidInputError("the keystore password is too short", {
      details: "use at least 8 characters",
      code: "chain.keystore.password",
    });
  }
  const wallet: HDNodeWallet = Wallet.createRandom();
  const json = await wallet.encrypt(options.password);
  return { address: wallet.address, json };
}

/** Writes `json` to `file` with mode 0600, refusing to overwrite an existing file. */
export async function writeKeystoreFile(file: string, json: string): Promise<void> {
  try {
    await writeFile(file, json + "\n", { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as { code?: string }).code === "EEXIST") {
      throw new InvalidInputError(`${file} already exists`, {
        details: "a keystore is never overwritten; choose another --out file",
        code: "chain.keystore.exists",
      });
    }
    throw error;
  }
}

/**
 * Decrypts the keystore in `file`. Errors name the file, never the password.
 *
 * @example
 * const wallet = await loadKeystore("anchorer.json", password);
 */
export async function loadKeystore(file: string, password: string): Promise<Wallet> {
  const text = await readKeystoreText(file);
  if (!isKeystoreJson(text)) {
    throw new InvalidInputError(`${file} is not an encrypted JSON keystore`, {
      details: "make one with `shafaf keys new --out FILE`",
      code: "chain.keystore.format",
    });
  }
  if (vrfMetadata(text) !== undefined) {
    // Its secret is an Ed25519 seed: it must never also sign Ethereum transactions.
    throw new InvalidInputError(`${file} is a VRF keystore, not an account`, {
      details: "use an account keystore made with `shafaf keys new`",
      code: "chain.keystore.kind",
    });
  }
  try {
    const wallet = await Wallet.fromEncryptedJson(text, password);
    return wallet instanceof Wallet ? wallet : new Wallet(wallet.privateKey);
  } catch (error) {
    throw new InvalidInputError(`cannot decrypt the keystore ${file}`, {
      details: `wrong password (from ${KEYSTORE_PASSWORD_ENV} or the prompt), or a damaged file`,
      code: "chain.keystore.decrypt",
      cause: error,
    });
  }
}

async function readKeystoreText(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new InvalidInputError(`cannot read the keystore ${file}`, {
      details:
        (error as { code?: string }).code === "ENOENT" ? "the file does not exist" : String(error),
      code: "chain.keystore.read",
    });
  }
}

/**
 * VRF keystores (`shafaf-vrf-keystore/1`, docs/spec/vrf-keystore-v1.md): the 32-byte seed of
 * the organization's person-key VRF, encrypted exactly like an account keystore (Web3 Secret
 * Storage v3 through ethers: scrypt, AES-128-CTR, keccak MAC), with no address and a `shafaf`
 * member naming the format, the suite and the public key.
 */
export const VRF_KEYSTORE_FORMAT = "shafaf-vrf-keystore/1";
export const VRF_KEYSTORE_SUITE = "ECVRF-EDWARDS25519-SHA512-TAI";
/** secp256k1's group order: ethers' decryption derives an address, so a seed must be below it. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

interface VrfMetadata {
  format: string;
  suite: string;
  publicKey: string;
}

function vrfMetadata(text: string): VrfMetadata | undefined {
  try {
    const meta = (JSON.parse(text) as { shafaf?: VrfMetadata }).shafaf;
    return meta?.format === VRF_KEYSTORE_FORMAT ? meta : undefined;
  } catch {
    return undefined;
  }
}

export interface NewVrfKeystoreResult {
  /** PK_string of the new VRF key, 32 bytes (public: record it on-chain and in manifests). */
  publicKey: Uint8Array;
  json: string;
}

/**
 * Makes a new VRF key and encrypts its seed with `password`.
 *
 * @example
 * const { publicKey, json } = await newVrfKeystore({ password });
 */
export async function newVrfKeystore(options: { password: string }): Promise<NewVrfKeystoreResult> {
  if (options.password.length < 8) {
    throw new InvalidInputError("the keystore password is too short", {
      details: "use at least 8 characters",
      code: "chain.keystore.password",
    });
  }
  // ethers derives an address on decryption: the seed must be a secp256k1 scalar, 1 ≤ seed < n
  // (a fresh draw fails this with probability ≈ 2⁻¹²⁸).
  let seed = randomBytes(32);
  const inRange = (b: Buffer): boolean => {
    const v = BigInt("0x" + b.toString("hex"));
    return v !== 0n && v < SECP256K1_N;
  };
  while (!inRange(seed)) seed = randomBytes(32);
  const privateKey = "0x" + seed.toString("hex");
  const encrypted = JSON.parse(
    await encryptKeystoreJson(
      { address: computeAddress(privateKey), privateKey },
      options.password,
    ),
  ) as Record<string, unknown>;
  seed.fill(0);
  const { publicKey } = vrfSecretKey(new Uint8Array(Buffer.from(privateKey.slice(2), "hex")));
  delete encrypted.address;
  const meta: VrfMetadata = {
    format: VRF_KEYSTORE_FORMAT,
    suite: VRF_KEYSTORE_SUITE,
    publicKey: Buffer.from(publicKey).toString("hex"),
  };
  return { publicKey, json: JSON.stringify({ ...encrypted, shafaf: meta }) };
}

/**
 * The public key a VRF keystore records, read without the password (unauthenticated: use
 * `loadVrfKeystore` to check it against the seed).
 */
export async function readVrfKeystorePublicKey(file: string): Promise<Uint8Array> {
  const meta = vrfMetadata(await readKeystoreText(file));
  if (meta === undefined || !/^[0-9a-f]{64}$/.test(meta.publicKey)) {
    throw new InvalidInputError(`${file} is not a VRF keystore`, {
      details: "make one with `shafaf keys new-vrf --out FILE`",
      code: "chain.keystore.format",
    });
  }
  return new Uint8Array(Buffer.from(meta.publicKey, "hex"));
}

/**
 * Decrypts a VRF keystore: the seed, and the public key derived from it (checked against the
 * one the file records). Errors name the file, never the password.
 */
export async function loadVrfKeystore(
  file: string,
  password: string,
): Promise<{ seed: Uint8Array; publicKey: Uint8Array }> {
  const recorded = await readVrfKeystorePublicKey(file);
  let privateKey: string;
  try {
    ({ privateKey } = await decryptKeystoreJson(await readKeystoreText(file), password));
  } catch (error) {
    throw new InvalidInputError(`cannot decrypt the keystore ${file}`, {
      details: `wrong password (from ${KEYSTORE_PASSWORD_ENV} or the prompt), or a damaged file`,
      code: "chain.keystore.decrypt",
      cause: error,
    });
  }
  const seed = new Uint8Array(Buffer.from(privateKey.slice(2), "hex"));
  const { publicKey } = vrfSecretKey(seed);
  if (Buffer.compare(Buffer.from(publicKey), Buffer.from(recorded)) !== 0) {
    throw new InvalidInputError(`${file} records another public key than its seed's`, {
      details: "the file was edited; restore it from its backup",
      code: "chain.keystore.vrf-public-key",
    });
  }
  return { seed, publicKey };
}

/** What `readKeystorePassword` needs from its process: injected so that tests can drive it. */
export interface PasswordSource {
  env: Readonly<Record<string, string | undefined>>;
  stdin: NodeJS.ReadStream;
  stderr: NodeJS.WriteStream;
}

/**
 * The keystore password: `SHAFAF_KEYSTORE_PASSWORD` when set, else a prompt on the terminal with
 * no echo (twice when `confirm`). Without either it fails with how to provide one.
 */
export async function readKeystorePassword(
  source: PasswordSource,
  options: { prompt?: string; confirm?: boolean } = {},
): Promise<string> {
  const fromEnv = source.env[KEYSTORE_PASSWORD_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!source.stdin.isTTY) {
    throw new InvalidInputError("no keystore password", {
      details: `set ${KEYSTORE_PASSWORD_ENV} or run in a terminal to be asked for it (never pass it as a flag)`,
      code: "chain.keystore.no-password",
    });
  }
  const first = await promptHidden(source, options.prompt ?? "Keystore password: ");
  if (options.confirm === true) {
    const second = await promptHidden(source, "Repeat the password: ");
    if (first !== second) {
      throw new InvalidInputError("the two passwords differ", { code: "chain.keystore.mismatch" });
    }
  }
  return first;
}

function promptHidden(source: PasswordSource, prompt: string): Promise<string> {
  const { stdin, stderr } = source;
  return new Promise((resolve, reject) => {
    stderr.write(prompt);
    let text = "";
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding("utf8");
    const done = (error?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      stderr.write("\n");
      if (error === undefined) resolve(text);
      else reject(error);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003")
          return done(new InvalidInputError("cancelled", { code: "chain.keystore.cancelled" }));
        if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on("data", onData);
  });
}

/**
 * The address of the account in the keystore `file`, read from its `address` field without the
 * password (the field is public: it is what `shafaf keys new` printed).
 *
 * @example
 * await readKeystoreAddress("anchorer.json") // "0x5A0b…9c4c"
 */
export async function readKeystoreAddress(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InvalidInputError(`cannot read the keystore ${file}`, {
      details:
        (error as { code?: string }).code === "ENOENT"
          ? "the file does not exist; make one with `shafaf keys new --out FILE`"
          : String(error),
      code: "chain.keystore.read",
    });
  }
  const address = isKeystoreJson(text)
    ? (JSON.parse(text) as { address?: unknown }).address
    : undefined;
  if (
    typeof address !== "string" ||
    !isAddress(address.startsWith("0x") ? address : `0x${address}`)
  ) {
    throw new InvalidInputError(`${file} is not an encrypted JSON keystore with an address`, {
      details: "make one with `shafaf keys new --out FILE`",
      code: "chain.keystore.format",
    });
  }
  return getAddress(address.startsWith("0x") ? address : `0x${address}`);
}
