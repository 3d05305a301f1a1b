/**
 * The thread of `createThreadedRecordsFile` (records-file-thread.ts): owns the artifact's
 * `records.jsonl` writer (`createRecordsFile`: sealed — each chunk compressed and encrypted —
 * with the data key it was given, plain without; and the plaintext's sha256). Handles its
 * messages one at a time, in order: `write` (bytes transferred), `close` (answers the sha256 and
 * length), `abort`. Answers every message `{ id, … }` or `{ id, error }`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { createRecordsFile } from "../store/batch-artifact.ts";
import type { DataKey } from "../store/private-store.ts";

type Task =
  | { id: number; type: "write"; bytes: Uint8Array }
  | { id: number; type: "close" }
  | { id: number; type: "abort" };

const port = parentPort;
if (port === null) throw new Error("records-file-worker.ts runs only as a worker thread");
const setup = workerData as { file: string; role: string; key: DataKey | undefined };
const opened = createRecordsFile(setup.file, setup.role, setup.key);
opened.catch(() => undefined); // reported by the first task that awaits it
let queue: Promise<void> = Promise.resolve();

async function run(task: Task): Promise<object> {
  const file = await opened;
  if (task.type === "write") {
    await file.write(task.bytes);
    return {};
  }
  if (task.type === "close") return await file.close();
  await file.abort();
  return {};
}

port.on("message", (task: Task) => {
  queue = queue.then(async () => {
    try {
      port.postMessage({ id: task.id, ...(await run(task)) });
    } catch (error) {
      port.postMessage({ id: task.id, error: String(error) });
    }
  });
});
