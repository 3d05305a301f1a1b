/**
 * `--vrf-key FILE` of the commands that anchor (`shafaf anchor`, `shafaf serve` for uploads): the
 * person-key VRF keystore opened (password from SHAFAF_KEYSTORE_PASSWORD or a prompt), checked to
 * be registered on the ledger before anything is read or sent, and its person keying started
 * over the data directory's private cache (`<data-dir>/person-keys`).
 */
import path from "node:path";
import type { AnchorChain } from "../anchor/anchor-chain.ts";
import { openPersonKeying, type PersonKeying } from "../anchor/person-keying.ts";
import { loadVrfKeystore, readKeystorePassword } from "../chain/keystore.ts";
import { vrfKeyIdOf } from "../chain/register-vrf-key.ts";
import { InvalidInputError } from "../core/errors.ts";
import type { DataKey } from "../store/private-store.ts";

/**
 * @throws {InvalidInputError} `anchor.vrf-key.unregistered` when the ledger has not registered the key; the keystore's errors (wrong password, damaged file).
 * @example
 * const { keying } = await openVrfPersonKeying({ file: "person-keys.json", dataDir, chain });
 */
export async function openVrfPersonKeying(options: {
  file: string;
  dataDir: string;
  /** The ledger to check the key against (a dry run has none). */
  chain?: AnchorChain | undefined;
  /** Seals the private cache's values at rest (encryption at rest). */
  dataKey?: DataKey | undefined;
}): Promise<{ keying: PersonKeying; seed: Uint8Array }> {
  const password = await readKeystorePassword({
    env: process.env,
    stdin: process.stdin,
    stderr: process.stderr,
  });
  const { seed, publicKey } = await loadVrfKeystore(options.file, password);
  if (
    options.chain !== undefined &&
    !(await options.chain.isVrfKeyRegistered(vrfKeyIdOf(publicKey)))
  )
    throw new InvalidInputError(`the VRF key of ${options.file} is not registered on this ledger`, {
      details: `register it first: shafaf keys register-vrf ${options.file} --rpc URL --contract LEDGER --keystore ADMIN (an account with VRF_KEY_ROLE); nothing was read or sent`,
      code: "anchor.vrf-key.unregistered",
    });
  const keying = await openPersonKeying({
    seed,
    cacheDir: path.join(options.dataDir, "person-keys"),
    dataKey: options.dataKey,
  });
  return { keying, seed };
}
