/**
 * The key step of a `shafaf-tree/2` batch: each record's person key k_b = H(beta, kind+period),
 * beta = VRF(sk, person identifier) read from the private person-key cache or computed on the
 * worker threads (enrolment). The VRF seed stays in this module and its workers.
 */
import { bytesToHex } from "../core/hex.ts";
import { batchPersonKey } from "../core/person-key.ts";
import type { RecordKind } from "../core/record.ts";
import { VRF_OUTPUT_LENGTH } from "../core/vrf.ts";
import { keccak256 } from "../core/keccak.ts";
import {
  openPersonKeyCache,
  personKeyCacheKey,
  type PersonKeyCache,
} from "../store/person-key-cache.ts";
import type { DataKey } from "../store/private-store.ts";
import { enrolPersons } from "./enrol-persons.ts";
import { createPersonKeyWorkers, type PersonKeyWorkers } from "./person-key-workers.ts";

export interface PersonKeying {
  /** keccak256 of the VRF public key: the on-chain id the batch names. */
  readonly vrfKeyId: string;
  readonly vrfPublicKey: Uint8Array;
  /**
   * k_b of each record: `personIdOf(i)` for i in 0…n−1, bound to the batch's kind and period.
   * Each distinct person is looked up (or enrolled) once.
   *
   * @throws {InvalidInputError} `core.person-key.identifier` / `core.person-key.kind` for an identifier that is not a person-id-v1 (never named).
   */
  batchKeys(
    n: number,
    personIdOf: (i: number) => string,
    context: { kind: RecordKind; period: string },
  ): Promise<{ keys: Uint8Array; persons: number; cached: number; computed: number }>;
  close(): Promise<void>;
}

/**
 * Opens the organization's person keying: the VRF key's seed (from its keystore), its private
 * cache directory (created 0700 when missing) and worker threads.
 *
 * @throws {InvalidInputError} `store.person-key-cache.key` when the cache belongs to another VRF key; `core.vrf.seed` for a bad seed.
 * @example
 * const keying = await openPersonKeying({ seed, cacheDir: path.join(dataDir, "person-keys") });
 * try { const { keys } = await keying.batchKeys(n, (i) => ids[i], { kind, period }); } finally { await keying.close(); }
 */
export async function openPersonKeying(options: {
  seed: Uint8Array;
  cacheDir: string;
  threads?: number;
  /** Seals the cache's values with the data key (encryption at rest). */
  dataKey?: DataKey | undefined;
}): Promise<PersonKeying> {
  const workers: PersonKeyWorkers = await createPersonKeyWorkers({
    seed: options.seed,
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
  let cache: PersonKeyCache;
  try {
    cache = await openPersonKeyCache(options.cacheDir, {
      cacheKey: personKeyCacheKey(options.seed),
      vrfPublicKey: workers.publicKey,
      dataKey: options.dataKey,
    });
  } catch (error) {
    await workers.close();
    throw error;
  }
  const publicKey = workers.publicKey;
  return {
    vrfKeyId: bytesToHex(keccak256(publicKey)),
    vrfPublicKey: publicKey,
    async batchKeys(n, personIdOf, context) {
      const slot = new Map<string, number>();
      const people: string[] = [];
      const slotOf = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        const id = personIdOf(i);
        let s = slot.get(id);
        if (s === undefined) {
          s = people.length;
          slot.set(id, s);
          people.push(id);
        }
        slotOf[i] = s;
      }
      const { betas, cached, computed } = await enrolPersons(people, { cache, workers });
      const perPerson = new Uint8Array(people.length * 32);
      for (let s = 0; s < people.length; s++)
        perPerson.set(
          batchPersonKey(
            betas.subarray(s * VRF_OUTPUT_LENGTH, (s + 1) * VRF_OUTPUT_LENGTH),
            context,
          ),
          s * 32,
        );
      const keys = new Uint8Array(n * 32);
      for (let i = 0; i < n; i++)
        keys.set(perPerson.subarray(slotOf[i]! * 32, slotOf[i]! * 32 + 32), i * 32);
      return { keys, persons: people.length, cached, computed };
    },
    async close() {
      await workers.close();
      await cache.close();
    },
  };
}
