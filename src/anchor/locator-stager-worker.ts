/**
 * The thread of `createLocatorStager` (locator-stager.ts): digests each chunk of receipt codes
 * and subjects it is sent (line order), and at `finish` writes both locator tables, sealed when
 * it holds a data key, durably under the temporary names it was given. Answers every message
 * `{ id }` with `{ id }` or `{ id, error }`; never reads or writes anything else.
 */
import { open } from "node:fs/promises";
import path from "node:path";
import { parentPort, workerData } from "node:worker_threads";
import { createLocatorDigests, type LocatorKind } from "../store/locator-table.ts";
import { locatorTableBytes } from "../store/batch-locators.ts";
import type { DataKey } from "../store/private-store.ts";

interface Setup {
  dir: string;
  jobId: string;
  dataKey: DataKey | undefined;
  names: Record<LocatorKind, string>;
}

type Task =
  | { id: number; type: "chunk"; codes: string[]; subjects: string[] }
  | { id: number; type: "finish" };

const port = parentPort;
if (port === null) throw new Error("locator-stager-worker.ts runs only as a worker thread");
const setup = workerData as Setup;
const digests = {
  "receipt-code": createLocatorDigests("receipt-code"),
  subject: createLocatorDigests("subject"),
};

async function finish(): Promise<void> {
  for (const kind of ["receipt-code", "subject"] as const) {
    const bytes = locatorTableBytes(kind, digests[kind].bytes(), setup.jobId, setup.dataKey);
    const fh = await open(path.join(setup.dir, setup.names[kind]), "wx", 0o600);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }
}

port.on("message", (task: Task) => {
  void (async () => {
    try {
      if (task.type === "chunk") {
        for (let i = 0; i < task.codes.length; i++) {
          digests["receipt-code"].add(task.codes[i]!);
          digests.subject.add(task.subjects[i]!);
        }
      } else await finish();
      port.postMessage({ id: task.id });
    } catch (error) {
      port.postMessage({ id: task.id, error: String(error) });
    }
  })();
});
