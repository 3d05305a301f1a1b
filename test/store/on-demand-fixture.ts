/**
 * A batch anchored with receipts on demand, for tests: a real artifact (real premium records,
 * random salts, leaf hashes and tree) and its locators in a real ledger store. No I/O at import.
 */
import { randomBytes } from "node:crypto";
import { keccak256 } from "ethers";
import type { Hex } from "../../src/core/hex.ts";
import { leafHashes, leafValues } from "../../src/core/leaf.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../../src/core/pseudonym.ts";
import { recordToJson } from "../../src/core/receipt.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import type { PremiumRecord } from "../../src/core/record.ts";
import { createBatchArtifactWriter } from "../../src/store/batch-artifact.ts";
import type { BatchEntry, JobRecord, LedgerStore } from "../../src/store/ledger-store.ts";

const KEY = new Uint8Array(32).fill(3);
export const CONTRACT = "0x" + "cc".repeat(20);
export const hex = (n: number) => ("0x" + randomBytes(n).toString("hex")) as Hex;

export function nationalId(n: number): string {
  const body = String(100_000_000 + n * 7919).slice(-9);
  let s = 0;
  for (let i = 0; i < 9; i++) s += Number(body[i]) * (10 - i);
  const r = s % 11;
  return body + String(r < 2 ? r : 11 - r);
}

export interface Made {
  jobId: string;
  codes: string[];
  subjects: string[];
  root: string;
  entry: BatchEntry;
  job: JobRecord;
}

/**
 * A real artifact of `count` premium records (people repeat every 3 records). `codes`: the
 * receipt codes of its first records (another batch's, to repeat them); `supersedes`: the batch
 * it corrects.
 */
export async function makeBatch(
  store: LedgerStore,
  batchId: number,
  count: number,
  options: { codes?: readonly string[]; supersedes?: number } = {},
): Promise<Made> {
  const jobId = randomBytes(32).toString("hex");
  const records: PremiumRecord[] = [];
  const salts: Hex[] = [];
  const subjects: Hex[] = [];
  for (let i = 0; i < count; i++) {
    const total = 3_000_000n + BigInt(i) * 1000n;
    records.push({
      kind: "premium",
      recordId: `B${batchId}-R${i}`,
      period: "1403-07",
      nationalId: nationalId(i % 3),
      workshopCode: "1000000001",
      insuranceNo: String(10_000_000 + i),
      province: "IR-23",
      days: 30,
      wageBase: 10_000_000n,
      workerShare: 700_000n,
      employerShare: 2_000_000n,
      unemploymentShare: total - 2_700_000n,
      hazardShare: 0n,
      total,
    });
    salts.push(hex(32));
    subjects.push(subjectPseudonym(KEY, nationalId(i % 3)));
  }
  const values = records.map((r, i) => leafValues(r, { salt: salts[i]!, subject: subjects[i]! }));
  const tree = buildMerkleTree(leafHashes(values));
  const codes = records.map(
    (_, i) => options.codes?.[i] ?? newReceiptCode((n) => new Uint8Array(randomBytes(n))),
  );
  const w = await createBatchArtifactWriter(store.batchesDir, jobId);
  for (let i = 0; i < count; i++) {
    await w.append({
      index: i,
      code: codes[i]!,
      salt: salts[i]!,
      subject: subjects[i]!,
      source: { file: "فهرست.csv", line: i + 2 },
      record: recordToJson(records[i]!),
    });
  }
  const manifestBytes = new TextEncoder().encode(`{"format":"test","batch":${batchId}}`);
  const common = {
    kind: "premium" as const,
    period: "1403-07",
    recordCount: count,
    total: records.reduce((a, r) => a + r.total, 0n).toString(),
    root: tree.root,
    manifestHash: keccak256(manifestBytes),
    idempotencyKey: hex(32),
    supersedes: options.supersedes ?? null,
    reason: options.supersedes === undefined ? null : "correction",
  };
  await w.commit({
    manifestBytes,
    tree: tree.serialize(),
    descriptor: { ...common, createdAt: new Date().toISOString() },
  });
  const entry: BatchEntry = {
    format: "shafaf-batch-entry/1",
    batchId,
    jobId,
    chainId: 31337,
    contract: CONTRACT,
    ...common,
    supersededBy: null,
    txHash: hex(32),
    blockNumber: 7,
    blockHash: hex(32),
    anchoredAt: 1_700_000_000,
    receipts: "on-demand",
  };
  const job: JobRecord = {
    format: "shafaf-job/1",
    jobId,
    state: "complete",
    ...common,
    createdAt: new Date().toISOString(),
    batchId,
  };
  return { jobId, codes, subjects, root: tree.root, entry, job };
}

export async function anchor(store: LedgerStore, made: Made): Promise<void> {
  await store.writeReceiptLocators(
    made.entry,
    made.codes.map((code, index) => ({
      index,
      code,
      subject: made.subjects[index]!,
      recordId: `B${made.entry.batchId}-R${index}`,
    })),
  );
  await store.completeJob(made.job, made.entry);
}
