/**
 * The batch's locator tables made on a second thread while its records are read: the artifact
 * writer (its `lines` observer) hands each line's receipt code and subject to a worker (locator-stager-worker.ts) a
 * chunk at a time, the worker digests them as the main thread goes on reading, and writes both
 * tables — the same bytes `writeBatchLocators` writes from the artifact — into the artifact's
 * temporary folder under temporary names; once the batch is anchored they are renamed into place
 * (`writeBatchLocators(…, staged)`). Node only.
 *
 * Memory: at most two chunks of strings in flight (the caller waits for the older one), and the
 * worker's 32 bytes of digests per record. A worker that fails (an error in it, or it exits)
 * rejects the next `add`, `finish` with a {@link LocatorStagerError}; the artifact writer then
 * aborts, and nothing staged survives (the temporary folder is removed).
 */
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { ShafafError } from "../core/errors.ts";
import { createWorkerPool, type WorkerPool } from "./worker-pool.ts";
import type { ArtifactLineObserver } from "../store/batch-artifact.ts";
import type { StagedLocators } from "../store/batch-locators.ts";
import { LOCATOR_FILES } from "../store/locator-table.ts";
import type { DataKey } from "../store/private-store.ts";

/** Lines sent to the worker at a time. */
export const LOCATOR_STAGER_CHUNK = 1 << 16;

/** The locator worker failed: nothing was staged, the job stops (run it again). */
export class LocatorStagerError extends ShafafError {
  override name = "LocatorStagerError";
  constructor(problem: string, options: { cause?: unknown } = {}) {
    super(`the locator tables' worker thread failed: ${problem}`, {
      ...options,
      code: "store.locators.worker",
      details: "nothing was anchored and nothing partial was kept; run the same command again",
    });
  }
}

/** The artifact writer's line observer (batch-artifact.ts) that stages the locator tables. */
export type LocatorStager = ArtifactLineObserver;

/**
 * @example
 * const stager = await createLocatorStager({ dir: writer.dir, jobId, dataKey });
 * for (const line of lines) await stager.add(line.code, line.subject);
 * const staged = await stager.finish(); // { "receipt-code": ".receipts.loc.staged-….tmp", … }
 */
export async function createLocatorStager(p: {
  dir: string;
  jobId: string;
  dataKey: DataKey | undefined;
  chunk?: number;
}): Promise<LocatorStager> {
  const chunk = Math.max(1, p.chunk ?? LOCATOR_STAGER_CHUNK);
  const tag = randomBytes(6).toString("hex");
  // Named as writeBatchLocators' leftovers (`.<table>.….tmp`): a killed run's are removed.
  const names: StagedLocators = {
    "receipt-code": `.${LOCATOR_FILES["receipt-code"]}.staged-${tag}.tmp`,
    subject: `.${LOCATOR_FILES.subject}.staged-${tag}.tmp`,
  };
  let pool: WorkerPool<void>;
  let worker: Worker;
  try {
    worker = new Worker(new URL("./locator-stager-worker.ts", import.meta.url), {
      workerData: { dir: p.dir, jobId: p.jobId, dataKey: p.dataKey, names },
    });
    pool = await createWorkerPool<void>({
      name: "the locator tables' worker",
      workers: [worker],
      settle: (reply) => {
        const r = reply as { id: number; error?: string };
        return r.error === undefined
          ? { id: r.id, result: undefined }
          : { id: r.id, error: new LocatorStagerError(r.error) };
      },
    });
  } catch (error) {
    throw new LocatorStagerError(String(error), { cause: error });
  }
  const wrap = (error: unknown): LocatorStagerError =>
    error instanceof LocatorStagerError
      ? error
      : new LocatorStagerError(String(error), { cause: error });
  let codes: string[] = [];
  let subjects: string[] = [];
  const inFlight: Promise<void>[] = [];
  let finishing: Promise<void> | undefined;
  let closed = false;
  // Idle, the worker does not hold the process open (a stager nobody finished or aborted);
  // while a task is pending it does (else the process could end while awaiting its reply).
  worker.unref();
  let pending = 0;
  const send = (message: object): Promise<void> => {
    if (pending++ === 0) worker.ref();
    const done = pool
      .run(message)
      .catch((error: unknown) => {
        throw wrap(error);
      })
      .finally(() => {
        if (--pending === 0) worker.unref();
      });
    done.catch(() => undefined); // observed when awaited; no unhandled rejection meanwhile
    return done;
  };
  const post = (): void => {
    if (codes.length === 0) return;
    inFlight.push(send({ type: "chunk", codes, subjects }));
    codes = [];
    subjects = [];
  };
  const end = (): void => {
    if (finishing !== undefined) return;
    post();
    finishing = send({ type: "finish" });
  };
  return {
    add(code, subject) {
      codes.push(code);
      subjects.push(subject);
      if (codes.length < chunk) return undefined;
      post();
      return inFlight.length > 2 ? inFlight.shift() : undefined;
    },
    end,
    async finish() {
      end();
      try {
        await Promise.all(inFlight);
        await finishing;
      } finally {
        closed = true;
        await pool.close();
      }
      return names;
    },
    async abort() {
      if (!closed) {
        closed = true;
        await pool.close();
      }
      for (const name of Object.values(names)) await rm(path.join(p.dir, name), { force: true });
    },
  };
}
