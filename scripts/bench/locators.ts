/**
 * `npm run bench -- locators`: the cost of finding a receipt code through the locator tables
 * (docs/spec/locators-v1.md) as `shafaf serve` does — one block read per published batch, newest
 * first — for 1, 24 and 120 batches of `BENCH_LOCATOR_RECORDS` records each (default 20,000),
 * plain and sealed with a data key; a code of the oldest batch (every table read) and an unknown
 * code (the same). CPU time per lookup, in this process.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { createLocatorIndex, locatorRole } from "../../src/store/batch-locators.ts";
import { encodeLocatorTable } from "../../src/store/locator-table.ts";
import { dataKeyOf, sealBytes } from "../../src/store/private-store.ts";

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
      for (const sealed of [false, true]) {
        const folder = path.join(dir, sealed ? "sealed" : "plain", jobId);
        await mkdir(folder, { recursive: true });
        await writeFile(
          path.join(folder, "receipts.loc"),
          sealed
            ? sealBytes(table, key, locatorRole(jobId, "receipt-code"), { chunkBytes: 4096 })
            : table,
        );
      }
      batches.push({ batchId: b, jobId, recordCount: RECORDS });
    }
    console.log(
      `tables: 120 × ${RECORDS.toLocaleString("en-US")} codes, encoded in ${(encodeMs / 120).toFixed(1)} ms each (${((encodeMs / 120 / RECORDS) * 1000).toFixed(2)} µs per code)`,
    );
    console.log(
      "| batches | tables | CPU µs per lookup (code of the oldest batch) | unknown code |",
    );
    console.log("|---|---|---|---|");
    for (const sealed of [false, true]) {
      for (const count of [1, 24, 120]) {
        const index = createLocatorIndex({
          batchesDir: path.join(dir, sealed ? "sealed" : "plain"),
          ...(sealed ? { dataKey: key } : {}),
          allowPlain: !sealed,
        });
        const set = batches.slice(0, count);
        const oldest = firstCodes[0]!;
        const unknown = newReceiptCode((n) => new Uint8Array(randomBytes(n)));
        if (index.locate(oldest, set)?.batch.batchId !== 1) throw new Error("not found");
        const per = (code: string): number => {
          const n = Math.max(200, Math.round(20_000 / count));
          const c = process.cpuUsage();
          for (let i = 0; i < n; i++) index.locate(code, set);
          const u = process.cpuUsage(c);
          return (u.user + u.system) / n;
        };
        console.log(
          `| ${count} | ${sealed ? "sealed" : "plain"} | ${per(oldest).toFixed(1)} | ${per(unknown).toFixed(1)} |`,
        );
        index.close();
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
await main();
