/**
 * One worker of `createPersonKeyWorkers`: holds one fast VRF hasher and answers
 * `{ id, data, offsets }` (alphas packed end to end) with `{ id, betas }` (n × 64 bytes).
 */
import { parentPort, workerData } from "node:worker_threads";
import { VRF_OUTPUT_LENGTH } from "../core/vrf.ts";
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
    const betas = new Uint8Array(n * VRF_OUTPUT_LENGTH);
    for (let i = 0; i < n; i++) {
      const alpha = task.data.subarray(task.offsets[i], task.offsets[i + 1]);
      betas.set(vrf.hash(alpha), i * VRF_OUTPUT_LENGTH);
    }
    port.postMessage({ id: task.id, betas, fallbacks: vrf.fallbacks }, [betas.buffer]);
  } catch (error) {
    port.postMessage({ id: task.id, error: String(error) });
  }
});
