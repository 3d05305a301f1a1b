import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { VRF_OUTPUT_LENGTH, vrfSecretKey } from "../core/vrf.ts";
import { InvariantError } from "../core/errors.ts";
import { createWorkerPool } from "./worker-pool.ts";

/**
 * VRF outputs (beta) for many inputs, spread over worker threads, each running the X25519 fast
 * path of `fast-vrf-hash.ts` (node only). Same bytes as core's `vrfHash`, in input order.
 * The seed is copied into each worker; nothing else about the key leaves this module.
 */
export interface PersonKeyWorkers {
  readonly threads: number;
  /** PK_string of the VRF key, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** beta of each alpha: n × 64 bytes, input order. */
  hashMany(alphas: readonly Uint8Array[]): Promise<Uint8Array>;
  /** Terminates the workers. Idempotent. */
  close(): Promise<void>;
}

export interface CreatePersonKeyWorkersOptions {
  /** The VRF seed (32 bytes). */
  seed: Uint8Array;
  /** Worker threads (default: available parallelism, at least 1). */
  threads?: number;
  /** Inputs per task (default 512). */
  chunk?: number;
}

interface Reply {
  id: number;
  betas?: Uint8Array;
  error?: string;
}

/**
 * Starts the workers.
 *
 * @example
 * const workers = await createPersonKeyWorkers({ seed, threads: 2 });
 * try { const betas = await workers.hashMany(alphas); } finally { await workers.close(); }
 */
export async function createPersonKeyWorkers(
  options: CreatePersonKeyWorkersOptions,
): Promise<PersonKeyWorkers> {
  const { publicKey } = vrfSecretKey(options.seed); // checks the seed before any thread starts
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const chunk = Math.max(1, options.chunk ?? 512);
  const pool = await createWorkerPool<Uint8Array>({
    name: "a person-key worker",
    workers: Array.from(
      { length: threads },
      () =>
        new Worker(new URL("./person-key-worker.ts", import.meta.url), {
          workerData: { seed: Uint8Array.from(options.seed) },
        }),
    ),
    settle: (message) => {
      const reply = message as Reply;
      return reply.betas !== undefined
        ? { id: reply.id, result: reply.betas }
        : {
            id: reply.id,
            error: new InvariantError("a person-key worker failed", {
              details: reply.error ?? "no reply",
              code: "anchor.person-key.worker",
            }),
          };
    },
  });
  const run = (alphas: readonly Uint8Array[]): Promise<Uint8Array> => {
    const offsets = new Uint32Array(alphas.length + 1);
    let total = 0;
    alphas.forEach((a, i) => {
      offsets[i] = total;
      total += a.length;
    });
    offsets[alphas.length] = total;
    const data = new Uint8Array(total);
    alphas.forEach((a, i) => data.set(a, offsets[i]));
    return pool.run({ data, offsets }, [data.buffer, offsets.buffer]);
  };

  return {
    threads,
    publicKey,
    async hashMany(alphas) {
      const out = new Uint8Array(alphas.length * VRF_OUTPUT_LENGTH);
      const parts: Promise<void>[] = [];
      for (let from = 0; from < alphas.length; from += chunk) {
        const to = Math.min(alphas.length, from + chunk);
        const p = run(alphas.slice(from, to)).then((betas) =>
          out.set(betas, from * VRF_OUTPUT_LENGTH),
        );
        p.catch(() => undefined); // observed by Promise.all below
        parts.push(p);
      }
      await Promise.all(parts);
      return out;
    },
    close: () => pool.close(),
  };
}
