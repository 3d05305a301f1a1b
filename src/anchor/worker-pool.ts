import type { TransferListItem, Worker } from "node:worker_threads";

/**
 * A fixed set of worker threads that take one task at a time each: a task goes to an idle
 * worker, or waits for the first to finish. Node only. The pool owns the task ids: it posts
 * `{ ...message, id }` and matches a worker's reply to its task by the id `settle` reads from it.
 * After a worker's `error` event every pending task is rejected with it and every later `run`
 * throws it (a pool with a dead worker is not used again).
 */
export interface WorkerPool<Result> {
  readonly threads: number;
  /** Posts `{ ...message, id }` to the next free worker (transferring `transfer`); resolves with its reply. */
  run(message: object, transfer?: readonly TransferListItem[]): Promise<Result>;
  /** Terminates the workers. Idempotent. */
  close(): Promise<void>;
}

export interface CreateWorkerPoolOptions<Result> {
  /** The workers, already constructed; the pool waits until each is online. */
  workers: readonly Worker[];
  /** Reads a worker's reply: the task id, and the result or the error to reject the task with. */
  settle(reply: unknown): { id: number; result: Result } | { id: number; error: unknown };
  /** Names the workers in the error thrown after a failure that is not an `Error`. */
  name: string;
}

/**
 * @example
 * const pool = await createWorkerPool<number>({ workers, name: "hash worker", settle: (id) => ({ id: id as number, result: 0 }) });
 * try { await pool.run({ input, count }); } finally { await pool.close(); }
 */
export async function createWorkerPool<Result>(
  options: CreateWorkerPoolOptions<Result>,
): Promise<WorkerPool<Result>> {
  const workers = [...options.workers];
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once("online", () => resolve());
          w.once("error", reject);
        }),
    ),
  );
  const idle: Worker[] = [...workers];
  const waiting: ((w: Worker) => void)[] = [];
  const pending = new Map<number, { resolve: (r: Result) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let failure: unknown;
  for (const w of workers) {
    w.on("message", (reply: unknown) => {
      const settled = options.settle(reply);
      const p = pending.get(settled.id);
      pending.delete(settled.id);
      if ("result" in settled) p?.resolve(settled.result);
      else p?.reject(settled.error);
      const next = waiting.shift();
      if (next !== undefined) next(w);
      else idle.push(w);
    });
    w.on("error", (e) => {
      failure = e;
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    });
  }
  const acquire = (): Promise<Worker> => {
    const w = idle.pop();
    return w !== undefined ? Promise.resolve(w) : new Promise((resolve) => waiting.push(resolve));
  };
  return {
    threads: workers.length,
    async run(message, transfer = []) {
      if (failure !== undefined)
        throw failure instanceof Error ? failure : new Error(`${options.name} failed`);
      const w = await acquire();
      const id = nextId++;
      const done = new Promise<Result>((resolve, reject) => pending.set(id, { resolve, reject }));
      w.postMessage({ ...message, id }, transfer);
      return done;
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
