/**
 * `--data-key FILE` of the commands that read or write personal data in a data directory
 * (anchor, serve, person prove, receipts export, audit, data encrypt): the data-encryption
 * keystore (`shafaf keys new-data`) opened once per process, its password from
 * SHAFAF_KEYSTORE_PASSWORD or a no-echo prompt, as the other keystores.
 */
import { loadDataKeystore } from "../chain/data-keystore.ts";
import { readKeystorePassword } from "../chain/keystore.ts";
import { dataKeyOf, type DataKey } from "../store/private-store.ts";

/** The usage line every such command prints for the option. */
export const DATA_KEY_USAGE = `  --data-key FILE    the data-encryption keystore (shafaf keys new-data): personal data in the
                     data directory is sealed with it (password: SHAFAF_KEYSTORE_PASSWORD or a prompt)`;

/**
 * The data key of `file`, or undefined when no file is given.
 *
 * @throws {InvalidInputError} the keystore's errors (missing file, wrong password, damaged file).
 * @example
 * const dataKey = await openDataKeyOption(values["data-key"]);
 * const store = await openLedgerStore(dataDir, { dataKey });
 */
export async function openDataKeyOption(file: string | undefined): Promise<DataKey | undefined> {
  if (file === undefined) return undefined;
  const password = await readKeystorePassword(
    { env: process.env, stdin: process.stdin, stderr: process.stderr },
    { prompt: `Password of the data keystore ${file}: ` },
  );
  const { key } = await loadDataKeystore(file, password);
  return dataKeyOf(key);
}
