/**
 * Encrypted JSON keystores (Web3 Secret Storage v3, scrypt, as written by ethers v6 and geth) for
 * the accounts that anchor, attest and deploy. A password never comes from a command-line flag:
 * only from `SHAFAF_KEYSTORE_PASSWORD` or an interactive prompt that does not echo.
 */
import { readFile, writeFile } from "node:fs/promises";
import { Wallet, getAddress, isAddress, isKeystoreJson, type HDNodeWallet } from "ethers";
import { InvalidInputError } from "../core/errors.ts";

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
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new InvalidInputError(`cannot read the keystore ${file}`, {
      details:
        (error as { code?: string }).code === "ENOENT" ? "the file does not exist" : String(error),
      code: "chain.keystore.read",
    });
  }
  if (!isKeystoreJson(text)) {
    throw new InvalidInputError(`${file} is not an encrypted JSON keystore`, {
      details: "make one with `shafaf keys new --out FILE`",
      code: "chain.keystore.format",
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
