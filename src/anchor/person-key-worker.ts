/**
 * One worker of `createPersonKeyWorkers`: holds one fast VRF hasher and answers
 * `{ id, data, offsets }` (alphas packed end to end) with `{ id, betas }` (n × 64 bytes).
 */
import { parentPort, workerData } from "node:worker_threads";
import { createFastVrfHash } from "./fast-vrf-hash.ts";

interface Task {
  id: number;
  data: Uint8Array;
  offsets: Uint32Array;
}

const port = parentPort;
if (port === null) throw new Error("person-key-worker.ts runs only as a worker thread");
const vrf = createFastVrfHash((workerData as { seed: Uint8Array }).seed);
port.on("message", (task: Task) => {
  try {
    const n = task.offsets.length - 1;
    const alphas = Array.from({ length: n }, (_, i) =>
      task.data.subarray(task.offsets[i], task.offsets[i + 1]),
    );
    const betas = vrf.hashMany(alphas);
    port.postMessage({ id: task.id, betas, fallbacks: vrf.fallbacks }, [
      betas.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    port.postMessage({ id: task.id, error: String(error) });
  }
});
