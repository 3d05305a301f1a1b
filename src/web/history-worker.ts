/**
 * The Web Worker of "My insurance history" (bundled as `history-worker.js` beside `app.js`):
 * fetches and verifies one year's proofs off the page's thread (`verifyYearJob`), so that a
 * phone's other cores do the checking while the page stays responsive.
 *
 * Messages in: `{ id, job }` (a `YearJob`). Out: `{ ready: true }` once started, then for each
 * job `{ id, progress: [done, total] }` about once a frame, and `{ id, months }` (each verified
 * document as `documentJson`, a string) (every month checked or saying why not). Started by
 * `history-pool.ts`, which falls back to the page's own thread if a worker cannot start.
 */
import { verifyYearJob, type YearJob } from "./history-verify.ts";

/** This worker's global scope, typed by what is used (the DOM lib has no worker scope types). */
const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<{ id: number; job: YearJob }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (event) => {
  const { id, job } = event.data;
  void verifyYearJob(job, (done, total) => scope.postMessage({ id, progress: [done, total] })).then(
    (months) =>
      // Each verified document crosses as one string (cloned at once, not as thousands of small
      // objects on the page's thread); the page parses one only for a certificate.
      scope.postMessage({
        id,
        months: months.map(({ document, ...month }) =>
          document === undefined ? month : { ...month, documentJson: JSON.stringify(document) },
        ),
      }),
  );
};

scope.postMessage({ ready: true });
