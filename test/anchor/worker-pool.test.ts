import { expect } from "chai";
import { Worker } from "node:worker_threads";
import { createWorkerPool } from "../../src/anchor/worker-pool.ts";

/** Doubles `n` after `delay` ms; replies `{ id, error }` for a negative `n`; crashes on `crash`. */
const SOURCE = `
const { parentPort } = require("node:worker_threads");
parentPort.on("message", (t) => {
  if (t.crash) throw new Error("boom");
  setTimeout(() => parentPort.postMessage(t.n < 0 ? { id: t.id, error: "negative" } : { id: t.id, value: t.n * 2 }), t.delay);
});
`;

interface Reply {
  id: number;
  value?: number;
  error?: string;
}

async function pool(threads: number) {
  return createWorkerPool<number>({
    name: "test worker",
    workers: Array.from({ length: threads }, () => new Worker(SOURCE, { eval: true })),
    settle: (message) => {
      const r = message as Reply;
      return r.value !== undefined
        ? { id: r.id, result: r.value }
        : { id: r.id, error: new RangeError(r.error) };
    },
  });
}

describe("createWorkerPool", function () {
  it("runs more tasks than workers, each reply going to its own task", async function () {
    const p = await pool(2);
    try {
      expect(p.threads).to.equal(2);
      const delays = [30, 5, 20, 1, 10, 0, 15];
      const results = await Promise.all(delays.map((delay, n) => p.run({ n, delay })));
      expect(results).to.deep.equal(delays.map((_, n) => n * 2));
    } finally {
      await p.close();
    }
  });

  it("rejects only the task whose reply is an error, and keeps the worker", async function () {
    const p = await pool(1);
    try {
      const [bad, good] = await Promise.allSettled([
        p.run({ n: -1, delay: 0 }),
        p.run({ n: 4, delay: 0 }),
      ]);
      expect(bad.status).to.equal("rejected");
      expect((bad as PromiseRejectedResult).reason).to.be.instanceOf(RangeError);
      expect(good).to.deep.equal({ status: "fulfilled", value: 8 });
    } finally {
      await p.close();
    }
  });

  it("after a worker dies, rejects its pending task and every later one", async function () {
    const p = await pool(1);
    try {
      const err = await p.run({ crash: true }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(Error);
      expect((err as Error).message).to.equal("boom");
      const later = await p.run({ n: 1, delay: 0 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(later).to.equal(err);
    } finally {
      await p.close();
      await p.close(); // idempotent
    }
  });
});
