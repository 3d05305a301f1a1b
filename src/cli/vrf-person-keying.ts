/**
 * `--vrf-key FILE` of `shafaf anchor` and `shafaf serve`: the person-key VRF keystore opened
 * (password from SHAFAF_KEYSTORE_PASSWORD or a prompt) and checked to be registered on the ledger
 * before anything is read or sent. The commands that anchor also start its person keying over
 * the data directory's private cache (`<data-dir>/person-keys`); a read-only `shafaf serve`
 * needs only the key itself (to answer POST /api/v1/persons/key).
 */
import path from "node:path";
import { openPersonKeying, type PersonKeying } from "../anchor/person-keying.ts";
import { loadVrfKeystore, readKeystorePassword } from "../chain/keystore.ts";
import { vrfKeyIdOf } from "../chain/register-vrf-key.ts";
import { InvalidInputError } from "../core/errors.ts";
import type { DataKey } from "../store/private-store.ts";

/** What the registration check needs: the anchor chain, or a read-only ledger client. */
export interface VrfKeyRegistry {
  isVrfKeyRegistered(keyId: string): Promise<boolean>;
}

/**
 * The keystore's seed, once the ledger (when given) has registered its public key.
 *
 * @throws {InvalidInputError} `anchor.vrf-key.unregistered` when the ledger has not registered the key; the keystore's errors (wrong password, damaged file).
 * @example
 * const seed = await loadRegisteredVrfSeed({ file: "person-keys.json", registry });
 */
export async function loadRegisteredVrfSeed(options: {
  file: string;
  /** The ledger to check the key against (a dry run has none). */
  registry?: VrfKeyRegistry | undefined;
}): Promise<Uint8Array> {
  const password = await readKeystorePassword({
    env: process.env,
    stdin: process.stdin,
    stderr: process.stderr,
  });
  const { seed, publicKey } = await loadVrfKeystore(options.file, password);
  if (
    options.registry !== undefined &&
    !(await options.registry.isVrfKeyRegistered(vrfKeyIdOf(publicKey)))
  )
    throw new InvalidInputError(`the VRF key of ${options.file} is not registered on this ledger`, {
      details: `register it first: shafaf keys register-vrf ${options.file} --rpc URL --contract LEDGER --keystore ADMIN (an account with VRF_KEY_ROLE); nothing was read or sent`,
      code: "anchor.vrf-key.unregistered",
    });
  return seed;
}

/**
 * @throws {InvalidInputError} `anchor.vrf-key.unregistered` when the ledger has not registered the key; the keystore's errors (wrong password, damaged file).
 * @example
 * const { keying } = await openVrfPersonKeying({ file: "person-keys.json", dataDir, chain });
 */
export async function openVrfPersonKeying(options: {
  file: string;
  dataDir: string;
  /** The ledger to check the key against (a dry run has none). */
  chain?: VrfKeyRegistry | undefined;
  /** Seals the private cache's values at rest (encryption at rest). */
  dataKey?: DataKey | undefined;
}): Promise<{ keying: PersonKeying; seed: Uint8Array }> {
  const seed = await loadRegisteredVrfSeed({ file: options.file, registry: options.chain });
  const keying = await openPersonKeying({
    seed,
    cacheDir: path.join(options.dataDir, "person-keys"),
    dataKey: options.dataKey,
  });
  return { keying, seed };
}
