import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { keccakModule } from "../core/keccak.ts";
import { encodeLeafInto, LEAF_ENCODED_LENGTH, type LeafValues } from "../core/leaf.ts";
import { createWorkerPool } from "./worker-pool.ts";

/**
 * Leaf hashing spread over worker threads (node only; `src/core` stays browser-safe and
 * single-threaded). Each worker runs its own instance of core's keccak WebAssembly module; the
 * main thread encodes leaves into shared memory while the workers hash earlier chunks.
 *
 * Measured by `npm run bench -- tree` (README, "The core"): it pays only when the cores are
 * otherwise idle; the result is byte-identical to core's `leafHashes` either way.
 */
export interface HashWorkers {
  readonly threads: number;
  /** Same bytes as core's `leafHashes(values)`: n × 32, input order. */
  leafHashes(values: readonly LeafValues[]): Promise<Uint8Array>;
  /** Same bytes as core's `doubleKeccak256Many(messages, len)`. */
  doubleKeccak256Many(messages: Uint8Array, len: number): Promise<Uint8Array>;
  /** Terminates the workers. Idempotent. */
  close(): Promise<void>;
}

export interface CreateHashWorkersOptions {
  /** Worker threads (default: available parallelism, at least 1). */
  threads?: number;
  /** Leaves per task (default 16,384). */
  chunk?: number;
}

/** Runs in each worker (CommonJS eval): hashes a range of a shared input into a shared output. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const e = new WebAssembly.Instance(workerData.module, {}).exports;
const base = (e.heapBase() + 31) & ~31;
parentPort.on("message", (t) => {
  const inBytes = t.len * t.count;
  const need = base + inBytes + 32 * t.count;
  const have = e.memory.buffer.byteLength;
  if (need > have) e.memory.grow(Math.ceil((need - have) / 65536));
  const mem = new Uint8Array(e.memory.buffer);
  mem.set(new Uint8Array(t.input, t.inOffset, inBytes), base);
  e.leafHashMany(base, t.len, t.count, base + inBytes);
  new Uint8Array(t.output, t.outOffset, 32 * t.count).set(mem.subarray(base + inBytes, base + inBytes + 32 * t.count));
  parentPort.postMessage(t.id);
});
`;

interface Task {
  id: number;
  input: SharedArrayBuffer;
  inOffset: number;
  len: number;
  count: number;
  output: SharedArrayBuffer;
  outOffset: number;
}

/**
 * Starts the workers.
 *
 * @example
 * const workers = await createHashWorkers({ threads: 2 });
 * try { const hashes = await workers.leafHashes(values); } finally { await workers.close(); }
 */
export async function createHashWorkers(
  options: CreateHashWorkersOptions = {},
): Promise<HashWorkers> {
  const threads = Math.max(1, options.threads ?? availableParallelism());
  const chunk = Math.max(1, options.chunk ?? 16_384);
  const module = keccakModule();
  const pool = await createWorkerPool<void>({
    name: "hash worker",
    workers: Array.from(
      { length: threads },
      () => new Worker(WORKER_SOURCE, { eval: true, workerData: { module } }),
    ),
    settle: (id) => ({ id: id as number, result: undefined }),
  });
  const run = (task: Omit<Task, "id">): Promise<void> => pool.run(task);

  async function hashEncoded(
    count: number,
    len: number,
    fill: (input: Uint8Array, from: number, to: number) => void,
  ): Promise<Uint8Array> {
    const output = new SharedArrayBuffer(count * 32);
    // Two input buffers per worker: the main thread fills one while a worker reads the other.
    const slots = Array.from({ length: threads * 2 }, () => new SharedArrayBuffer(chunk * len));
    const busy: (Promise<void> | undefined)[] = slots.map(() => undefined);
    const all: Promise<void>[] = [];
    let s = 0;
    for (let from = 0; from < count; from += chunk) {
      const to = Math.min(count, from + chunk);
      await busy[s];
      fill(new Uint8Array(slots[s]!), from, to);
      const p = run({
        input: slots[s]!,
        inOffset: 0,
        len,
        count: to - from,
        output,
        outOffset: from * 32,
      });
      p.catch(() => undefined); // observed by Promise.all below; avoids an unhandled rejection meanwhile
      busy[s] = p;
      all.push(p);
      s = (s + 1) % slots.length;
    }
    await Promise.all(all);
    return new Uint8Array(output);
  }

  return {
    threads,
    leafHashes(values) {
      return hashEncoded(values.length, LEAF_ENCODED_LENGTH, (input, from, to) => {
        for (let i = from; i < to; i++)
          encodeLeafInto(values[i]!, input, (i - from) * LEAF_ENCODED_LENGTH);
      });
    },
    doubleKeccak256Many(messages, len) {
      if (len <= 0 || messages.length % len !== 0) {
        return Promise.reject(
          new RangeError(`input length ${messages.length} is not a multiple of ${len}`),
        );
      }
      return hashEncoded(messages.length / len, len, (input, from, to) =>
        input.set(messages.subarray(from * len, to * len)),
      );
    },
    close: () => pool.close(),
  };
}
