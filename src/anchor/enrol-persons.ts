import { personVrfInput } from "../core/person-key.ts";
import { VRF_OUTPUT_LENGTH } from "../core/vrf.ts";
import type { PersonKeyCache } from "../store/person-key-cache.ts";
import type { PersonKeyWorkers } from "./person-key-workers.ts";

export interface EnrolPersonsDeps {
  cache: PersonKeyCache;
  workers: PersonKeyWorkers;
  /** People per cache round trip (default 16,384). */
  batch?: number;
}

export interface EnrolPersonsResult {
  /** beta of each person, n × 64 bytes, input order. */
  betas: Uint8Array;
  /** How many came from the cache (warm) and how many were computed and stored (cold). */
  cached: number;
  computed: number;
}

/**
 * The VRF output (beta) of every person: read from the private cache, or computed on the
 * worker threads and stored (enrolment). People are taken `batch` at a time; a bad identifier
 * fails its batch before anything of it is computed (earlier batches stay cached: the cache only
 * ever holds correct betas). The result holds n × 64 bytes: at national scale, call it on chunks
 * of the register (e.g. 1 M people) rather than on all 45 M at once.
 *
 * @throws {InvalidInputError} `core.person-key.identifier` / `core.person-key.kind` for a bad identifier (never named in the message).
 * @example
 * const { betas } = await enrolPersons(people, { cache, workers });
 */
export async function enrolPersons(
  people: readonly string[],
  deps: EnrolPersonsDeps,
): Promise<EnrolPersonsResult> {
  const step = Math.max(1, deps.batch ?? 16_384);
  const betas = new Uint8Array(people.length * VRF_OUTPUT_LENGTH);
  let cached = 0;
  let computed = 0;
  // Three stages overlap: while the workers compute batch k, the main thread looks up batch
  // k + 1 in the cache and stores batch k − 1 (LevelDB works off the main thread); at national
  // scale this keeps the two cores on the VRF instead of waiting for the cache.
  const lookup = async (from: number) => {
    const part = people.slice(from, from + step).map((p) => personVrfInput(p));
    const hits = await deps.cache.getMany(part);
    return { from, part, hits };
  };
  const observed = <T>(p: Promise<T>): Promise<T> => {
    p.catch(() => undefined); // awaited below; never an unhandled rejection meanwhile
    return p;
  };
  let storing: Promise<void> = Promise.resolve();
  let next = people.length > 0 ? observed(lookup(0)) : undefined;
  try {
    while (next !== undefined) {
      const { from, part, hits } = await next;
      next = from + step < people.length ? observed(lookup(from + step)) : undefined;
      const missing: number[] = [];
      hits.forEach((beta, i) => {
        if (beta === undefined) missing.push(i);
        else betas.set(beta, (from + i) * VRF_OUTPUT_LENGTH);
      });
      cached += part.length - missing.length;
      if (missing.length === 0) continue;
      const fresh = await deps.workers.hashMany(missing.map((i) => part[i]!));
      const entries = missing.map((i, j) => {
        const beta = fresh.slice(j * VRF_OUTPUT_LENGTH, (j + 1) * VRF_OUTPUT_LENGTH);
        betas.set(beta, (from + i) * VRF_OUTPUT_LENGTH);
        return { alpha: part[i]!, beta };
      });
      await storing; // one write at a time, in order
      storing = observed(deps.cache.putMany(entries));
      computed += missing.length;
    }
  } finally {
    await storing; // what was computed is stored (or its failure surfaces) before returning
  }
  return { betas, cached, computed };
}
