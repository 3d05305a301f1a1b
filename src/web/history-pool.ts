/**
 * Where a year of "My insurance history" is verified: in a small pool of Web Workers
 * (`history-worker.js`, one per core up to MAX_WORKERS, started on first use), or on the page's
 * own thread when no worker can start (no `Worker`, the script refused by a policy or missing,
 * a worker that fails): then every year, the one in flight included, is verified on the page,
 * and the person sees the same result, only later.
 */
import type { PersonProof } from "../core/person-proof.ts";
import { verifyYearJob, type HistoryMonth, type YearJob } from "./history-verify.ts";

/** Where a year was verified (shown as the year's `data-verified-in`, for tests and curious readers). */
export type VerifiedIn = "worker" | "page";

/** More workers than this gain nothing: at most three years' proofs are fetched at once. */
const MAX_WORKERS = 3;

interface Pending {
  resolve: (months: HistoryMonth[]) => void;
  reject: (error: Error) => void;
  onProgress?: ((done: number, total: number) => void) | undefined;
  slot: Slot;
}

interface Slot {
  worker: Worker;
  jobs: number;
  /** The worker said it started (its first message). */
  ready: boolean;
}

/**
 * A worker that has not said it started by then is taken as unable to (a browser may refuse a
 * worker by policy without an error event); its year is then verified on the page.
 */
const READY_MS = 5_000;

let slots: Slot[] | undefined;
/** Set once a worker could not start or failed: from then on the page verifies. */
let unavailable = typeof Worker === "undefined";
let nextId = 1;
const pending = new Map<number, Pending>();

/** Terminates every worker and hands their years back to the page's thread. */
function giveUp(): void {
  unavailable = true;
  for (const slot of slots ?? []) slot.worker.terminate();
  slots = undefined;
  for (const p of pending.values()) p.reject(new Error("the history worker is unavailable"));
  pending.clear();
}

/** A month from the worker: its verified document, sent as JSON, parsed when first read. */
function withDocument(month: HistoryMonth & { documentJson?: string }): HistoryMonth {
  const { documentJson, ...rest } = month;
  if (documentJson === undefined) return rest;
  let parsed: PersonProof | undefined;
  return Object.defineProperty(rest, "document", {
    enumerable: true,
    get: () => (parsed ??= JSON.parse(documentJson) as PersonProof),
  });
}

function startSlot(): Slot {
  // Bundled beside app.js (scripts/build-web: a second entry point); same origin, so the
  // site's Content-Security-Policy (`script-src 'self'`, which workers fall back to) allows it.
  const worker = new Worker(new URL("history-worker.js", import.meta.url), {
    name: "shafaf-history",
  });
  const slot: Slot = { worker, jobs: 0, ready: false };
  worker.onmessage = (
    event: MessageEvent<
      { ready: true } | { id: number; progress?: [number, number]; months?: HistoryMonth[] }
    >,
  ) => {
    if ("ready" in event.data) {
      slot.ready = true;
      return;
    }
    const { id, progress, months } = event.data;
    const p = pending.get(id);
    if (p === undefined) return;
    if (progress !== undefined) p.onProgress?.(progress[0], progress[1]);
    if (months !== undefined) {
      pending.delete(id);
      slot.jobs--;
      p.resolve(months.map(withDocument));
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    giveUp();
  };
  worker.onmessageerror = giveUp;
  return slot;
}

/** The pool, started on first use; undefined when workers are unavailable here. */
function pool(): Slot[] | undefined {
  if (unavailable) return undefined;
  if (slots === undefined) {
    const cores = typeof navigator === "undefined" ? 1 : navigator.hardwareConcurrency || 1;
    try {
      // A policy that refuses the worker is reported here (Chromium fires no error event then).
      if (typeof document !== "undefined")
        document.addEventListener("securitypolicyviolation", (event) => {
          if (event.blockedURI.includes("history-worker")) giveUp();
        });
      const started = Array.from({ length: Math.max(1, Math.min(MAX_WORKERS, cores)) }, startSlot);
      slots = started;
      setTimeout(() => {
        if (slots === started && started.some((slot) => !slot.ready)) giveUp();
      }, READY_MS);
    } catch {
      giveUp();
      return undefined;
    }
  }
  return slots;
}

/** Lets the page draw between months (a macrotask without setTimeout's clamping). */
function yieldToPage(): Promise<void> {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(undefined);
  });
}

/**
 * Fetches and verifies a year's proofs in a worker, or on the page when none can run. Never
 * throws: a month that cannot be checked says why.
 *
 * @example
 * const { months, verifiedIn } = await verifyYear(job, (done, total) => show(done, total));
 */
export async function verifyYear(
  job: YearJob,
  onProgress?: (done: number, total: number) => void,
): Promise<{ months: HistoryMonth[]; verifiedIn: VerifiedIn }> {
  const slots = pool();
  if (slots !== undefined) {
    const slot = slots.reduce((a, b) => (b.jobs < a.jobs ? b : a));
    const id = nextId++;
    try {
      const months = await new Promise<HistoryMonth[]>((resolve, reject) => {
        pending.set(id, { resolve, reject, onProgress, slot });
        slot.jobs++;
        try {
          slot.worker.postMessage({ id, job });
        } catch (error) {
          pending.delete(id);
          slot.jobs--;
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      return { months, verifiedIn: "worker" };
    } catch {
      // The worker could not start, failed, or could not be handed the year: verified here.
    }
  }
  return { months: await verifyYearJob(job, onProgress, yieldToPage), verifiedIn: "page" };
}
