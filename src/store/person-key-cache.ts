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
 * - Opened with a data key (encryption at rest), each beta is sealed: value = nonce (12) ‖
 *   AES-256-GCM(k, beta) (64) ‖ tag (16), k = HKDF-SHA256(data key, "", "shafaf-person-key-cache/1"),
 *   the entry's key as associated data (a value moved to another entry does not open). The meta
 *   record then names the data key, and the cache refuses to open without it. Plain values
 *   (64 bytes, written before) stay readable and are sealed by `shafaf data encrypt`.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import { makePrivate } from "./private-files.ts";
import { sha512 } from "@noble/hashes/sha2.js";
import { Level } from "level";
import { InvalidInputError, ShafafError } from "../core/errors.ts";
import { VRF_OUTPUT_LENGTH } from "../core/vrf.ts";
import { PrivateFileError, type DataKey } from "./private-store.ts";

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
  /** Seals the values at rest; required once the cache was opened with one. */
  dataKey?: DataKey | undefined;
}

const SEALED_VALUE = 12 + VRF_OUTPUT_LENGTH + 16;

/**
 * The cache's folder is held by another process (LevelDB's lock: one process at a time), code
 * `store.person-key-cache.busy`. Names the folder, never a person.
 */
export class PersonKeyCacheBusyError extends ShafafError {
  override name = "PersonKeyCacheBusyError";
  constructor(dir: string, cause?: unknown) {
    super(`the person-key cache ${dir} is in use by another shafaf process`, {
      code: "store.person-key-cache.busy",
      details:
        "one process at a time holds it (`shafaf anchor`, or a `shafaf serve` with --vrf-key and a signer, on this data directory): stop the other process and run this again, or give this one another --data-dir",
      cause,
    });
  }
}

/** Opens the cache's LevelDB, naming a folder held by another process. */
async function openCacheDb(dir: string): Promise<Level<Uint8Array, Uint8Array>> {
  const db = new Level<Uint8Array, Uint8Array>(dir, {
    keyEncoding: "view",
    valueEncoding: "view",
  });
  try {
    await db.open();
  } catch (error) {
    const cause = (error as { cause?: { message?: string; code?: string } }).cause;
    if (/lock/i.test(cause?.message ?? "") || cause?.code === "LEVEL_LOCKED")
      throw new PersonKeyCacheBusyError(dir, error);
    throw error;
  }
  return db;
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
 * @throws {PersonKeyCacheBusyError} `store.person-key-cache.busy` when another process holds it.
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
  const db = await openCacheDb(dir);
  const vrfPublicKey = Buffer.from(options.vrfPublicKey).toString("hex");
  const dataKey = options.dataKey;
  const existing = await db.get(META_KEY);
  const meta = (
    existing === undefined ? undefined : JSON.parse(new TextDecoder().decode(existing))
  ) as { format?: string; vrfPublicKey?: string; dataKeyId?: string } | undefined;
  const refuse = async (error: Error): Promise<never> => {
    await db.close();
    throw error;
  };
  if (meta !== undefined && (meta.format !== FORMAT || meta.vrfPublicKey !== vrfPublicKey))
    await refuse(
      new InvalidInputError(`the person-key cache ${dir} belongs to another VRF key`, {
        details: "open it with the VRF key it was made with, or use a new directory for a new key",
        code: "store.person-key-cache.key",
      }),
    );
  if (meta?.dataKeyId !== undefined && dataKey === undefined)
    await refuse(
      new PrivateFileError(
        `${dir}: the person-key cache is sealed with data key ${meta.dataKeyId}, and no data key was given`,
        {
          details: "give --data-key FILE (the keystore made by `shafaf keys new-data`)",
          code: "store.private.no-key",
        },
      ),
    );
  if (meta?.dataKeyId !== undefined && meta.dataKeyId !== dataKey!.id)
    await refuse(
      new PrivateFileError(
        `${dir}: the person-key cache is sealed with data key ${meta.dataKeyId}, not with the given key ${dataKey!.id}`,
        {
          details: "give the keystore of the data key it was sealed with",
          code: "store.private.wrong-key",
        },
      ),
    );
  if (meta === undefined || (dataKey !== undefined && meta.dataKeyId === undefined))
    await db.put(
      META_KEY,
      new TextEncoder().encode(
        JSON.stringify({
          format: FORMAT,
          vrfPublicKey,
          ...(dataKey === undefined ? {} : { dataKeyId: dataKey.id }),
        }),
      ),
    );
  const sealKey = dataKey === undefined ? undefined : cacheSealKey(dataKey);
  const seal = (key: Uint8Array, beta: Uint8Array): Uint8Array =>
    sealKey === undefined ? beta : sealValue(sealKey, key, beta);
  const open = (key: Uint8Array, value: Uint8Array): Uint8Array => {
    if (value.length === VRF_OUTPUT_LENGTH) return new Uint8Array(value); // plain, written before
    if (sealKey === undefined || value.length !== SEALED_VALUE)
      throw new PrivateFileError(`${dir}: a sealed person-key cache entry cannot be opened`, {
        details: "give --data-key FILE, or restore the cache from its backup",
        code: sealKey === undefined ? "store.private.no-key" : "store.private.format",
      });
    try {
      const d = createDecipheriv("aes-256-gcm", sealKey, value.subarray(0, 12));
      d.setAAD(key);
      d.setAuthTag(value.subarray(12 + VRF_OUTPUT_LENGTH));
      return new Uint8Array(
        Buffer.concat([d.update(value.subarray(12, 12 + VRF_OUTPUT_LENGTH)), d.final()]),
      );
    } catch (error) {
      throw new PrivateFileError(`${dir}: a person-key cache entry does not authenticate`, {
        details: "its bytes were altered or moved; restore the cache from its backup",
        code: "store.private.tampered",
        cause: error,
      });
    }
  };
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
      const keys = alphas.map(entryKey);
      const values = await db.getMany(keys);
      return values.map((v, i) => (v === undefined ? undefined : open(keys[i]!, v)));
    },
    async putMany(entries) {
      const ops = entries.map(({ alpha, beta }) => {
        if (beta.length !== VRF_OUTPUT_LENGTH) {
          throw new InvalidInputError("a cached beta is 64 bytes", {
            code: "store.person-key-cache.beta",
          });
        }
        const key = entryKey(alpha);
        return { type: "put" as const, key, value: seal(key, beta) };
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

/**
 * Seals the plain values of the cache in `dir` with `dataKey` (`shafaf data encrypt`) and names
 * the key in its meta record. Needs only the data key: entry keys are not recomputed. Returns
 * how many values were sealed.
 *
 * @throws {PrivateFileError} `store.private.wrong-key` when the cache is sealed with another key.
 * @example
 * const sealed = await sealPersonKeyCache(".shafaf/person-keys", dataKey);
 */
export async function sealPersonKeyCache(dir: string, dataKey: DataKey): Promise<number> {
  const db = await openCacheDb(dir);
  try {
    const existing = await db.get(META_KEY);
    if (existing === undefined) return 0;
    const meta = JSON.parse(new TextDecoder().decode(existing)) as { dataKeyId?: string };
    if (meta.dataKeyId !== undefined && meta.dataKeyId !== dataKey.id)
      throw new PrivateFileError(
        `${dir}: the person-key cache is sealed with data key ${meta.dataKeyId}, not with the given key ${dataKey.id}`,
        {
          details: "give the keystore of the data key it was sealed with",
          code: "store.private.wrong-key",
        },
      );
    // The meta first: from now on the cache refuses to open without the key.
    await db.put(
      META_KEY,
      new TextEncoder().encode(JSON.stringify({ ...meta, dataKeyId: dataKey.id })),
    );
    const k = cacheSealKey(dataKey);
    let sealed = 0;
    let ops: { type: "put"; key: Uint8Array; value: Uint8Array }[] = [];
    for await (const [key, value] of db.iterator({
      gte: Uint8Array.from([ENTRY_PREFIX]),
      lt: Uint8Array.from([ENTRY_PREFIX + 1]),
    })) {
      if (value.length !== VRF_OUTPUT_LENGTH) continue;
      ops.push({ type: "put", key: new Uint8Array(key), value: sealValue(k, key, value) });
      if (ops.length >= 4096) {
        await db.batch(ops);
        sealed += ops.length;
        ops = [];
      }
    }
    if (ops.length > 0) await db.batch(ops, { sync: true });
    sealed += ops.length;
    // LevelDB keeps overwritten values in its log and tables until they are compacted: compact
    // now, so that no plain beta stays on disk.
    await (db as unknown as CompactRange).compactRange(
      Uint8Array.from([0]),
      Uint8Array.from([ENTRY_PREFIX + 1]),
    );
    return sealed;
  } finally {
    await db.close();
    await restrictModes(dir);
  }
}

/** classic-level's `compactRange`, which `level`'s types do not declare. */
interface CompactRange {
  compactRange(start: Uint8Array, end: Uint8Array): Promise<void>;
}

function cacheSealKey(dataKey: DataKey): Buffer {
  return Buffer.from(hkdfSync("sha256", dataKey.bytes, new Uint8Array(0), FORMAT, 32));
}

function sealValue(sealKey: Buffer, key: Uint8Array, beta: Uint8Array): Uint8Array {
  const iv = randomBytes(12);
  const c = createCipheriv("aes-256-gcm", sealKey, iv);
  c.setAAD(key);
  return Buffer.concat([iv, c.update(beta), c.final(), c.getAuthTag()]);
}
