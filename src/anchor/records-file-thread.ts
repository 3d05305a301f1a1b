/**
 * The artifact's `records.jsonl` written on a second thread: the main thread encodes the lines
 * and hands each flushed buffer over (transferred, not copied) to a worker
 * (records-file-worker.ts) that hashes it (sha256, for artifact.json), and — with a data key —
 * compresses and seals it chunk by chunk, and writes it; the main thread goes on reading rows
 * meanwhile. The file's bytes are those of `createRecordsFile` on the main thread (it is the same
 * writer, in the worker). Node only.
 *
 * Memory: at most two buffers in flight (the caller waits for the older one). A failing worker
 * rejects the next `write`, or `close`, with a {@link RecordsFileThreadError}; the artifact writer
 * then aborts (its temporary folder is removed: nothing half-written is kept).
 */
import { Worker } from "node:worker_threads";
import { ShafafError } from "../core/errors.ts";
import type { ArtifactRecordsFile } from "../store/batch-artifact.ts";
import type { DataKey } from "../store/private-store.ts";
import { createWorkerPool, type WorkerPool } from "./worker-pool.ts";

/** The records file's worker thread failed: the job stops, nothing partial is kept. */
export class RecordsFileThreadError extends ShafafError {
  override name = "RecordsFileThreadError";
  constructor(problem: string, options: { cause?: unknown } = {}) {
    super(`the artifact's records writer thread failed: ${problem}`, {
      ...options,
      code: "anchor.artifact.worker",
      details: "nothing was anchored and nothing partial was kept; run the same command again",
    });
  }
}

interface Reply {
  id: number;
  error?: string;
  bytes?: number;
  sha256?: string;
}

/**
 * Starts the worker, which opens `file` (a temporary name until `close`) for `role`.
 *
 * @example
 * const w = await createBatchArtifactWriter(dir, jobId, { dataKey, recordsFile: createThreadedRecordsFile });
 */
export async function createThreadedRecordsFile(
  file: string,
  role: string,
  key: DataKey | undefined,
): Promise<ArtifactRecordsFile> {
  const wrap = (error: unknown): RecordsFileThreadError =>
    error instanceof RecordsFileThreadError
      ? error
      : new RecordsFileThreadError(String(error), { cause: error });
  let pool: WorkerPool<Reply>;
  let worker: Worker;
  try {
    worker = new Worker(new URL("./records-file-worker.ts", import.meta.url), {
      workerData: { file, role, key },
    });
    pool = await createWorkerPool<Reply>({
      name: "the records writer thread",
      workers: [worker],
      settle: (reply) => {
        const r = reply as Reply;
        return r.error === undefined
          ? { id: r.id, result: r }
          : { id: r.id, error: new RecordsFileThreadError(r.error) };
      },
    });
  } catch (error) {
    throw wrap(error);
  }
  // Idle, the worker does not hold the process open (a writer nobody closed or aborted); while
  // a task is pending it does (else the process could end while awaiting its reply).
  worker.unref();
  let pending = 0;
  const send = (message: object, transfer: ArrayBuffer[] = []): Promise<Reply> => {
    if (pending++ === 0) worker.ref();
    const done = pool
      .run(message, transfer)
      .catch((error: unknown) => {
        throw wrap(error);
      })
      .finally(() => {
        if (--pending === 0) worker.unref();
      });
    done.catch(() => undefined); // observed when awaited; no unhandled rejection meanwhile
    return done;
  };
  const inFlight: Promise<Reply>[] = [];
  let closed = false;
  const stop = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await pool.close();
  };
  return {
    async write(bytes) {
      // The caller hands over the buffer (a fresh one per flush): transfer it when it is whole.
      // (Never a buffer of node's small-Buffer pool: transferring it would detach the pool.)
      const own =
        bytes.buffer instanceof ArrayBuffer && bytes.buffer.byteLength > Buffer.poolSize
          ? bytes
          : Uint8Array.from(bytes);
      inFlight.push(send({ type: "write", bytes: own }, [own.buffer as ArrayBuffer]));
      if (inFlight.length > 2) await inFlight.shift();
    },
    async close() {
      try {
        await Promise.all(inFlight);
        const reply = await send({ type: "close" });
        return { sha256: reply.sha256!, bytes: reply.bytes! };
      } finally {
        await stop();
      }
    },
    async abort() {
      if (closed) return;
      await Promise.allSettled(inFlight);
      await send({ type: "abort" }).catch(() => undefined);
      await stop();
    },
  };
}
