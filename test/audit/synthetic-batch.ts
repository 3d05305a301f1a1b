/**
 * Large premium batches (`shafaf-tree/2`, or `shafaf-tree/1`) for the streaming audit's memory
 * test and its benchmark: synthetic CSV rows generated on the fly, read and written by the
 * anchor pipeline itself (`prepareBatch`, the artifact writer), with a stand-in for the person
 * keying: each person's key is keccak256 of its identifier, kind and period (no VRF, no cache —
 * cheaper than a warm cache, so a dry run measured with it is, if anything, fast). Importing it
 * touches nothing.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { randomBytes } from "node:crypto";
import { prepareBatch } from "../../src/anchor/prepare-batch.ts";
import type { PersonKeying } from "../../src/anchor/person-keying.ts";
import { bytesToHex } from "../../src/core/hex.ts";
import { keccak256, keccak256Many } from "../../src/core/keccak.ts";
import { premiumShares } from "../../src/core/rates.ts";
import { openLedgerStore } from "../../src/store/ledger-store.ts";

export const SYNTHETIC_PERIOD = "1403-07";
const PROVINCES = ["IR-23", "IR-10", "IR-07", "IR-04", "IR-15"];

function nationalId(n: number): string {
  const d = String(100_000_000 + (n % 800_000_000)).slice(-9);
  const s = [...d].reduce((acc, c, i) => acc + Number(c) * (10 - i), 0);
  const r = s % 11;
  return d + String(r < 2 ? r : 11 - r);
}

/** `rows` premium rows of period {@link SYNTHETIC_PERIOD} in five provinces, as CSV. */
export async function writeSyntheticPremiumCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write(
    "record_id,period,national_id,workshop_code,insurance_no,province,days,wage_base,worker_share,employer_share,unemployment_share,hazard_share,total,paid_on\n",
  );
  let chunk: string[] = [];
  for (let n = 0; n < rows; n++) {
    const wage = BigInt(100_000_000 + (n % 997) * 100_000);
    const s = premiumShares(wage, 1403, { unemployment: n % 3 !== 0, hazardous: n % 7 === 0 });
    chunk.push(
      `P-${n},${SYNTHETIC_PERIOD},${nationalId(n + 1)},${1_000_000_000 + (n % 20_000)},${10_000_000 + n},${PROVINCES[n % 5]},30,${wage},${s.worker},${s.employer},${s.unemployment},${s.hazard},${s.total},${SYNTHETIC_PERIOD}-20\n`,
    );
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join(""))) await once(out, "drain");
      chunk = [];
    }
  }
  out.end(chunk.join(""));
  await once(out, "finish");
}

/** The stand-in person keying: k_b = keccak256(identifier ‖ "|" ‖ kind ‖ "|" ‖ period), in bulk. */
export function syntheticPersonKeying(): PersonKeying {
  const publicKey = new Uint8Array(32).fill(7);
  return {
    vrfKeyId: bytesToHex(keccak256(publicKey)),
    vrfPublicKey: publicKey,
    batchKeys(n, personIdOf, context) {
      const messages = new Uint8Array(n * 64);
      const enc = new TextEncoder();
      for (let i = 0; i < n; i++)
        enc.encodeInto(
          `${personIdOf(i)}|${context.kind}|${context.period}`,
          messages.subarray(i * 64, i * 64 + 64),
        );
      return Promise.resolve({
        keys: keccak256Many(messages, 64),
        persons: n,
        cached: n,
        computed: 0,
      });
    },
    close: () => Promise.resolve(),
  };
}

/**
 * Reads `csv` through the anchor pipeline into a `shafaf-batch/2` (or `/1`) artifact under
 * `dataDir/batches/` (or, with `dryRun`, only validates, keys and hashes it: `shafaf anchor
 * --dry-run`). Returns the artifact's folder (undefined for a dry run) and the root.
 */
export async function pipelineBatch(p: {
  csv: string;
  dataDir?: string;
  dryRun?: boolean;
  /** 1: a `shafaf-tree/1` batch (`shafaf-batch/1` artifact, no person keys); default 2. */
  scheme?: 1 | 2;
  /** Default premium, {@link SYNTHETIC_PERIOD}. */
  kind?: "premium" | "pension";
  period?: string;
}): Promise<{
  dir: string | undefined;
  root: string;
  recordCount: number;
  /** v2: the `tiles.tmp-…` folder the pipeline staged in the artifact's folder (not renamed). */
  staged?: string;
}> {
  const v1 = p.scheme === 1;
  const store = p.dryRun ? undefined : await openLedgerStore(p.dataDir!);
  try {
    const jobId = randomBytes(16).toString("hex");
    const prepared = await prepareBatch({
      jobId,
      inputs: [p.csv],
      kind: p.kind ?? "premium",
      period: p.period ?? SYNTHETIC_PERIOD,
      supersedes: null,
      reason: null,
      store,
      dryRun: p.dryRun,
      pseudonymKey: new Uint8Array(32).fill(9),
      personKeying: v1 ? undefined : syntheticPersonKeying(),
      log: { progress: () => undefined },
      strict: false,
      exclude: undefined,
    });
    if (prepared.status !== "prepared") throw new Error(`synthetic batch ${prepared.status}`);
    const summary = prepared.summary;
    if (prepared.writer === undefined)
      return { dir: undefined, root: summary.root, recordCount: summary.recordCount };
    const { dir } = await prepared.writer.commit({
      manifestBytes: prepared.manifestBytes,
      ...(v1 ? { tree: prepared.treeBytes! } : { keys: prepared.keysBytes! }),
      descriptor: {
        ...(v1
          ? {}
          : {
              scheme: "shafaf-tree/2" as const,
              vrfKeyId: summary.v2!.vrfKeyId,
              lanes: summary.v2!.lanes.map(String),
            }),
        kind: summary.kind,
        period: summary.period,
        recordCount: summary.recordCount,
        total: summary.total.toString(),
        root: summary.root,
        manifestHash: summary.manifestHash,
        idempotencyKey: summary.idempotencyKey,
        supersedes: summary.supersedes,
        reason: summary.reason,
        createdAt: "2026-01-01T00:00:00.000Z",
      },
    });
    const built = prepared.sumColumns;
    return {
      dir,
      root: summary.root,
      recordCount: summary.recordCount,
      ...(built !== undefined && "staged" in built ? { staged: built.staged } : {}),
    };
  } finally {
    await store?.close();
  }
}
