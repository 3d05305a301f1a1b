/**
 * The organization's private cache of person VRF outputs: alpha → beta (64 bytes), in LevelDB.
 * A person's beta is computed once (enrolment) and read back every month after.
 *
 * - Keys are HMAC-SHA256(cacheKey, alpha), never the identifier: the files alone do not say
 *   whose beta is whose. `cacheKey` is derived from the VRF seed (`personKeyCacheKey`), so a
 *   new VRF key starts a new cache and the cache is useless without the key.
 * - The cache is bound to one VRF public key (a `meta` record): opening it with another key
 *   fails instead of mixing outputs of two keys.
 * - The directory is mode 0700 and its files 0600 (set on open and on close; LevelDB creates
 *   files with the process umask meanwhile, inside the 0700 directory).
 */
import { createHmac } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { makePrivate } from "./private-files.ts";
import { sha512 } from "@noble/hashes/sha2.js";
import { Level } from "level";
import { InvalidInputError } from "../core/errors.ts";
import { VRF_OUTPUT_LENGTH } from "../core/vrf.ts";

export interface PersonKeyCache {
  /** beta for each alpha, or undefined when it is not cached; input order. */
  getMany(alphas: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /** Stores betas (64 bytes each) in one atomic batch. */
  putMany(entries: readonly { alpha: Uint8Array; beta: Uint8Array }[]): Promise<void>;
  close(): Promise<void>;
}

export interface OpenPersonKeyCacheOptions {
  /** 32 secret bytes keying the HMAC of the identifiers (see `personKeyCacheKey`). */
  cacheKey: Uint8Array;
  /** The VRF public key whose outputs this cache holds. */
  vrfPublicKey: Uint8Array;
}

const META_KEY = Uint8Array.from([0x00]);
const ENTRY_PREFIX = 0x01;
const FORMAT = "shafaf-person-key-cache/1";

/** The HMAC key of the cache, derived from the VRF seed: SHA-512("shafaf/person-key-cache/v1" ‖ 0x00 ‖ seed)[0..32]. */
export function personKeyCacheKey(seed: Uint8Array): Uint8Array {
  const label = new TextEncoder().encode("shafaf/person-key-cache/v1\u0000");
  const input = new Uint8Array(label.length + seed.length);
  input.set(label, 0);
  input.set(seed, label.length);
  return sha512(input).slice(0, 32);
}

/**
 * Opens (creating when missing) the cache in `dir`.
 *
 * @throws {InvalidInputError} `store.person-key-cache.key` when the cache belongs to another VRF key.
 * @example
 * const cache = await openPersonKeyCache(".shafaf/person-keys", { cacheKey, vrfPublicKey });
 */
export async function openPersonKeyCache(
  dir: string,
  options: OpenPersonKeyCacheOptions,
): Promise<PersonKeyCache> {
  if (options.cacheKey.length !== 32) {
    throw new InvalidInputError("the person-key cache key must be 32 bytes", {
      code: "store.person-key-cache.cache-key",
    });
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await restrictModes(dir);
  const db = new Level<Uint8Array, Uint8Array>(dir, {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  await db.open();
  const meta = JSON.stringify({
    format: FORMAT,
    vrfPublicKey: Buffer.from(options.vrfPublicKey).toString("hex"),
  });
  const existing = await db.get(META_KEY);
  if (existing === undefined) {
    await db.put(META_KEY, new TextEncoder().encode(meta));
  } else if (new TextDecoder().decode(existing) !== meta) {
    await db.close();
    throw new InvalidInputError(`the person-key cache ${dir} belongs to another VRF key`, {
      details: "open it with the VRF key it was made with, or use a new directory for a new key",
      code: "store.person-key-cache.key",
    });
  }
  const hmacKey = Buffer.from(options.cacheKey);
  const entryKey = (alpha: Uint8Array): Uint8Array => {
    const k = new Uint8Array(33);
    k[0] = ENTRY_PREFIX;
    k.set(createHmac("sha256", hmacKey).update(alpha).digest(), 1);
    return k;
  };
  return {
    async getMany(alphas) {
      if (alphas.length === 0) return [];
      const values = await db.getMany(alphas.map(entryKey));
      return values.map((v) => (v === undefined ? undefined : new Uint8Array(v)));
    },
    async putMany(entries) {
      const ops = entries.map(({ alpha, beta }) => {
        if (beta.length !== VRF_OUTPUT_LENGTH) {
          throw new InvalidInputError("a cached beta is 64 bytes", {
            code: "store.person-key-cache.beta",
          });
        }
        return { type: "put" as const, key: entryKey(alpha), value: beta };
      });
      if (ops.length > 0) await db.batch(ops);
    },
    async close() {
      if (db.status === "open") await db.close();
      await restrictModes(dir);
    },
  };
}

/** Owner-only modes, the store's one rule for private folders (private-files.ts). */
const restrictModes = makePrivate;
