/**
 * The organization's pseudonym key: 32 random bytes in `<data-dir>/secrets/pseudonym.key`
 * (mode 0600, directory 0700), created on first use; `SHAFAF_PSEUDONYM_KEY_FILE` names another
 * file. Losing it makes existing subject pseudonyms unreproducible; leaking it lets anyone
 * confirm a guessed national ID against a pseudonym. With a data key (encryption at rest) the
 * file is a `shafaf-encrypted-file/1` (role `secrets/pseudonym.key`); a plain one (made before)
 * is still read, and `shafaf data encrypt` seals it.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, readFile } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import { isSealed, openBytes, sealBytes, type DataKey } from "../store/private-store.ts";
import { PSEUDONYM_KEY_ROLE } from "../store/seal-data-dir.ts";

export const PSEUDONYM_KEY_ENV = "SHAFAF_PSEUDONYM_KEY_FILE";
const KEY_BYTES = 32;

/** Where the key lives for `dataDir`, honouring the environment override. */
export function pseudonymKeyPath(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>>,
): string {
  const override = env[PSEUDONYM_KEY_ENV];
  return override !== undefined && override !== ""
    ? path.resolve(override)
    : path.join(dataDir, "secrets", "pseudonym.key");
}

/**
 * Reads the key, or creates it (exclusively, fsync'ed) when `create` and it does not exist.
 * Returns undefined when it does not exist and `create` is false.
 *
 * @example
 * const key = await loadPseudonymKey(".shafaf", process.env, { create: true });
 */
export async function loadPseudonymKey(
  dataDir: string,
  env: Readonly<Record<string, string | undefined>>,
  options: { create: boolean; dataKey?: DataKey | undefined },
): Promise<Uint8Array | undefined> {
  const file = pseudonymKeyPath(dataDir, env);
  try {
    const stored = new Uint8Array(await readFile(file));
    const bytes = isSealed(stored)
      ? openBytes(stored, options.dataKey, PSEUDONYM_KEY_ROLE, { file })
      : stored;
    if (bytes.length !== KEY_BYTES) {
      throw new InvalidInputError(
        `the pseudonym key ${file} is ${bytes.length} bytes, not ${KEY_BYTES}`,
        {
          details: "restore the organization's key file from its backup",
          code: "anchor.pseudonym-key.size",
        },
      );
    }
    return new Uint8Array(bytes);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
  if (!options.create) return undefined;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  let fh;
  try {
    fh = await open(file, "wx", 0o600);
  } catch (error) {
    // Another process created it between our read and open: use theirs.
    if ((error as { code?: string }).code === "EEXIST")
      return loadPseudonymKey(dataDir, env, options);
    throw error;
  }
  try {
    await fh.writeFile(
      options.dataKey === undefined ? key : sealBytes(key, options.dataKey, PSEUDONYM_KEY_ROLE),
    );
    await fh.sync();
  } finally {
    await fh.close();
  }
  return new Uint8Array(key);
}
