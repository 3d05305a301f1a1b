/**
 * `npm run bench -- locators`: the cost of finding a receipt code through the locator tables
 * (docs/spec/locators-v1.md) as `shafaf serve` does — one block read per published batch, newest
 * first — for 1, 24 and 120 batches of `BENCH_LOCATOR_RECORDS` records each (default 20,000),
 * plain and sealed with a data key; a code of the oldest batch (every table read) and an unknown
 * code (the same). CPU time per lookup, in this process. Then the same lookups once the writer
 * has merged the tables (docs/spec/locator-merge-v1.md, `updateLocatorMerges` publishing the
 * batches one at a time, as the anchor does), with the merge's own cost. Last, the writer's own
 * lookups (`openLedgerStore`: `shafaf receipts show`, `shafaf verify --data-dir`) in a ledger
 * store whose batches are completed and published one at a time: an unknown code and an unknown
 * subject.
 */
import { randomBytes } from "node:crypto";
import { link, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { createLocatorIndex, locatorRole } from "../../src/store/batch-locators.ts";
import { openLedgerStore, type BatchEntry, type JobRecord } from "../../src/store/ledger-store.ts";
import { updateLocatorMerges } from "../../src/store/locator-merges.ts";
import { encodeLocatorTable } from "../../src/store/locator-table.ts";
import { dataKeyOf, sealBytes } from "../../src/store/private-store.ts";
import {
  readPublishedBatches,
  type LocatorMerge,
  type PublishedBatch,
} from "../../src/store/published-batches.ts";

const RECORDS = Number(process.env.BENCH_LOCATOR_RECORDS ?? 20_000);

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-bench-locators-"));
  const key = dataKeyOf(new Uint8Array(randomBytes(32)));
  try {
    const batches: { batchId: number; jobId: string; recordCount: number }[] = [];
    const firstCodes: string[] = [];
    let encodeMs = 0;
    for (let b = 1; b <= 120; b++) {
      const codes = Array.from({ length: RECORDS }, () =>
        newReceiptCode((n) => new Uint8Array(randomBytes(n))),
      );
      firstCodes.push(codes[RECORDS >> 1]!);
      const t = performance.now();
      const table = encodeLocatorTable("receipt-code", codes);
      encodeMs += performance.now() - t;
      const jobId = randomBytes(32).toString("hex");
      // Subjects: one person per 4 records (the merge writes both tables of a range).
      const subjects = encodeLocatorTable(
        "subject",
        codes.map((_, i) => "0x" + String(i >> 2).padStart(64, "0")),
      );
      for (const sealed of [false, true]) {
        const folder = path.join(dir, sealed ? "sealed" : "plain", "batches", jobId);
        await mkdir(folder, { recursive: true });
        for (const [kind, bytes, file] of [
          ["receipt-code", table, "receipts.loc"],
          ["subject", subjects, "subjects.loc"],
        ] as const)
          await writeFile(
            path.join(folder, file),
            sealed
              ? sealBytes(bytes, key, locatorRole(jobId, kind), {
                  chunkBytes: 4096,
                  compress: false,
                })
              : bytes,
          );
      }
      batches.push({ batchId: b, jobId, recordCount: RECORDS });
    }
    console.log(
      `tables: 120 × ${RECORDS.toLocaleString("en-US")} codes, encoded in ${(encodeMs / 120).toFixed(1)} ms each (${((encodeMs / 120 / RECORDS) * 1000).toFixed(2)} µs per code)`,
    );
    // The ranges the writer has after publishing the first `count` batches one at a time.
    const facts: PublishedBatch[] = batches.map((b) => ({
      ...b,
      kind: "premium",
      period: "1403-07",
      root: "0x" + "0".repeat(64),
      manifestHash: "0x" + "0".repeat(64),
      total: "0",
      supersedes: null,
      supersededBy: null,
      txHash: "0x" + "0".repeat(64),
      blockNumber: b.batchId,
      blockHash: "0x" + "0".repeat(64),
      anchoredAt: b.batchId,
    }));
    const rangesAt = new Map<string, LocatorMerge[]>();
    for (const sealed of [false, true]) {
      let previous: { batches: PublishedBatch[]; merged: LocatorMerge[] } | undefined;
      let written = 0;
      const c = process.cpuUsage();
      const t = performance.now();
      for (let count = 1; count <= 120; count++) {
        const listed = facts.slice(0, count);
        const r = await updateLocatorMerges({
          dataDir: path.join(dir, sealed ? "sealed" : "plain"),
          dataKey: sealed ? key : undefined,
          listed,
          previous,
        });
        written += r.written.reduce((s, m) => s + m.last - m.first + 1, 0);
        previous = { batches: listed, merged: r.merged };
        if (count === 1 || count === 24 || count === 120)
          rangesAt.set(`${sealed}/${count}`, r.merged);
      }
      const u = process.cpuUsage(c);
      console.log(
        `merging, ${sealed ? "sealed" : "plain"}: 120 publishes, ${written} batch tables (×2 kinds) rewritten into ranges, ${((performance.now() - t) / 1000).toFixed(1)} s, CPU ${((u.user + u.system) / 1e6).toFixed(1)} s (${((u.user + u.system) / (written * RECORDS * 2)).toFixed(2)} µs per entry merged)`,
      );
    }
    console.log(
      "| batches | tables | ranges + unmerged | CPU µs per lookup (code of the oldest batch) | unknown code | a code of each batch in turn |",
    );
    console.log("|---|---|---|---|---|---|");
    for (const merged of [false, true])
      for (const sealed of [false, true]) {
        for (const count of [1, 24, 120]) {
          const index = createLocatorIndex({
            batchesDir: path.join(dir, sealed ? "sealed" : "plain", "batches"),
            ...(sealed ? { dataKey: key } : {}),
            allowPlain: !sealed,
          });
          const set = batches.slice(0, count);
          const ranges = merged ? rangesAt.get(`${sealed}/${count}`)! : [];
          const inRanges = ranges.reduce(
            (s, m) => s + set.filter((b) => b.batchId >= m.first && b.batchId <= m.last).length,
            0,
          );
          const shape = `${ranges.length} + ${count - inRanges}`;
          const oldest = firstCodes[0]!;
          const unknown = newReceiptCode((n) => new Uint8Array(randomBytes(n)));
          if (index.locate(oldest, set, ranges)?.batch.batchId !== 1) throw new Error("not found");
          // Codes of every batch of the set in turn: each lookup reads other blocks (and, sealed,
          // decrypts other chunks) than the one before.
          const spread = firstCodes.slice(0, count);
          const per = (codes: readonly string[]): number => {
            const n = Math.max(2000, Math.round(40_000 / count));
            for (let i = 0; i < 200; i++) index.locate(codes[i % codes.length]!, set, ranges);
            const c = process.cpuUsage();
            for (let i = 0; i < n; i++) index.locate(codes[i % codes.length]!, set, ranges);
            const u = process.cpuUsage(c);
            return (u.user + u.system) / n;
          };
          console.log(
            `| ${count} | ${sealed ? "sealed" : "plain"}${merged ? ", merged" : ""} | ${shape} | ${per([oldest]).toFixed(1)} | ${per([unknown]).toFixed(1)} | ${per(spread).toFixed(1)} |`,
          );
          index.close();
        }
      }
    console.log(
      "\n| batches | writer's tables | ranges + unmerged | CPU µs per lookup (unknown code) | unknown subject |",
    );
    console.log("|---|---|---|---|---|");
    for (const sealed of [false, true]) {
      const dataDir = path.join(dir, sealed ? "writer-sealed" : "writer-plain");
      const from = path.join(dir, sealed ? "sealed" : "plain", "batches");
      for (const b of batches) {
        await mkdir(path.join(dataDir, "batches", b.jobId), { recursive: true });
        for (const file of ["receipts.loc", "subjects.loc"])
          await link(path.join(from, b.jobId, file), path.join(dataDir, "batches", b.jobId, file));
      }
      const store = await openLedgerStore(dataDir, sealed ? { dataKey: key } : {});
      await store.bindChain({ chainId: 31337, contract: "0x" + "cc".repeat(20) });
      const unknown = newReceiptCode((n) => new Uint8Array(randomBytes(n)));
      const nobody = "0x" + "f".repeat(64);
      for (const f of facts) {
        const entry: BatchEntry = {
          ...f,
          format: "shafaf-batch-entry/1",
          chainId: 31337,
          contract: "0x" + "cc".repeat(20),
          idempotencyKey: "0x" + "0".repeat(64),
          reason: null,
          receipts: "on-demand",
          locators: "files",
        };
        const job: JobRecord = {
          format: "shafaf-job/1",
          jobId: f.jobId,
          state: "complete",
          kind: f.kind,
          period: f.period,
          root: f.root,
          manifestHash: f.manifestHash,
          idempotencyKey: entry.idempotencyKey,
          recordCount: f.recordCount,
          total: f.total,
          supersedes: null,
          reason: null,
          createdAt: new Date(0).toISOString(),
          batchId: f.batchId,
        };
        await store.completeJob(job, entry);
        await store.publish(); // as the anchor does after each batch
        const count = f.batchId;
        if (count !== 24 && count !== 120) continue;
        const list = (await readPublishedBatches(dataDir))!;
        const ranges = list.merged ?? [];
        const inRanges = ranges.reduce((s, m) => s + m.last - m.first + 1, 0);
        const per = async (lookup: () => Promise<unknown>): Promise<number> => {
          const n = Math.max(2000, Math.round(40_000 / count));
          for (let i = 0; i < 200; i++) await lookup();
          const c = process.cpuUsage();
          for (let i = 0; i < n; i++) await lookup();
          const u = process.cpuUsage(c);
          return (u.user + u.system) / n;
        };
        if ((await store.getReceiptByCode(unknown)) !== undefined) throw new Error("found");
        console.log(
          `| ${count} | ${sealed ? "sealed" : "plain"} | ${ranges.length} + ${count - inRanges} | ${(await per(() => store.getReceiptByCode(unknown))).toFixed(1)} | ${(await per(() => store.listReceiptsBySubject(nobody))).toFixed(1)} |`,
        );
      }
      await store.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
await main();
