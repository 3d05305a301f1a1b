/**
 * Records and batch artifacts for stage tests: fixed records, salts and subjects, written the way
 * the pipeline writes them (no network, no clock). Importing it touches nothing.
 */
import { createBatchAccumulator } from "../../src/core/batch-accumulator.ts";
import { bytesToHex, type Hex } from "../../src/core/hex.ts";
import { keccak256 } from "../../src/core/keccak.ts";
import { LEAF_ENCODING, leafHashes, leafValues } from "../../src/core/leaf.ts";
import { buildManifest } from "../../src/core/manifest.ts";
import { buildMerkleTree } from "../../src/core/merkle-tree.ts";
import { premiumShares } from "../../src/core/rates.ts";
import { recordToJson } from "../../src/core/receipt.ts";
import type { LedgerRecord, PensionRecord, PremiumRecord } from "../../src/core/record.ts";
import { createBatchArtifactWriter } from "../../src/store/batch-artifact.ts";
import { nationalIdFor } from "../anchor/helpers.ts";

export const hex32 = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;

export function premium(i: number, over: Partial<PremiumRecord> = {}): PremiumRecord {
  const wageBase = 100_000_000n + BigInt(i) * 1_000_000n;
  const s = premiumShares(wageBase, 1403, { unemployment: true, hazardous: false });
  return {
    kind: "premium",
    recordId: `S-${i}`,
    period: "1403-07",
    nationalId: nationalIdFor(i + 1),
    workshopCode: String(1_000_000_001 + (i % 2)),
    insuranceNo: String(10_000_000 + i),
    province: ["IR-23", "IR-10"][i % 2]!,
    days: 30,
    wageBase,
    workerShare: s.worker,
    employerShare: s.employer,
    unemploymentShare: s.unemployment,
    hazardShare: s.hazard,
    total: s.total,
    ...over,
  };
}

export function pension(i: number, over: Partial<PensionRecord> = {}): PensionRecord {
  return {
    kind: "pension",
    recordId: `P-${i}`,
    period: "1403-07",
    nationalId: nationalIdFor(500 + i),
    pensionFile: String(700_000 + i),
    category: (["retirement", "disability", "survivors"] as const)[i % 3]!,
    province: ["IR-23", "IR-10", "IR-07"][i % 3]!,
    gross: 150_000_000n + BigInt(i),
    deductions: 5_000_000n,
    net: 145_000_000n + BigInt(i),
    dueOn: "1403-07-05",
    paidOn: i % 4 === 0 ? "1403-07-09" : "1403-07-05",
    ...over,
  };
}

/** The salt and subject the fixture gives record `i`. */
export const opening = (i: number): { salt: Hex; subject: Hex } => ({
  salt: hex32(i + 1),
  subject: hex32(100 + i),
});

/**
 * Writes an artifact of `records` (opened by `opening`) under `batchesDir`; returns its folder.
 * `name` gives the job id; every record line carries `code` and a row of `file`.
 */
export async function writeArtifact(
  batchesDir: string,
  records: readonly LedgerRecord[],
  { name = "fixture", code = "FIXT", file = "fixture.csv", rulesVersion = "fixture" } = {},
): Promise<string> {
  const kind = records[0]!.kind;
  const tree = buildMerkleTree(leafHashes(records.map((r, i) => leafValues(r, opening(i)))));
  const acc = createBatchAccumulator();
  records.forEach((r, i) => acc.add(r, opening(i).subject));
  const f = acc.figures();
  const m = buildManifest({
    kind,
    period: "1403-07",
    recordCount: f.recordCount,
    total: f.total,
    byProvince: f.byProvince,
    ...(kind === "pension" ? { byCategory: f.byCategory, timeliness: f.timeliness } : {}),
    sources: [],
    rulesVersion,
    leafEncoding: LEAF_ENCODING,
    supersedes: null,
    reason: null,
    people: f.people,
  });
  const jobId = bytesToHex(keccak256(new TextEncoder().encode(name))).slice(2);
  const w = await createBatchArtifactWriter(batchesDir, jobId);
  for (const [i, r] of records.entries())
    await w.append({
      index: i,
      code,
      ...opening(i),
      source: { file, line: i + 2 },
      record: recordToJson(r),
    });
  const { dir } = await w.commit({
    manifestBytes: m.bytes,
    tree: tree.serialize(),
    descriptor: {
      kind,
      period: "1403-07",
      recordCount: f.recordCount,
      total: f.total.toString(),
      root: tree.root,
      manifestHash: m.hash,
      idempotencyKey: hex32(7),
      supersedes: null,
      reason: null,
      createdAt: "2026-01-01T00:00:00.000Z",
    },
  });
  return dir;
}
