/**
 * Recorded index-store views in the docs/DESIGN.md shapes ("Index store views"), for serving the
 * portal through the real API (`createApp`) without running the indexer: twelve months of premium
 * and pension batches over all 31 provinces, with one correction (superseded + its replacement),
 * one disputed batch, confirmed batches, late pension payments, and provincial cells under 10
 * people. Deterministic: no randomness, no clock.
 */
import type {
  BatchView,
  ChainInfo,
  IndexReader,
  LedgerReader,
  ListBatchesQuery,
  PeriodStat,
  ProvinceStat,
  StoredReceipt,
} from "../../src/api/app-deps.ts";

const PROVINCES = Array.from({ length: 31 }, (_, i) => `IR-${String(i).padStart(2, "0")}`);
const AUDITOR = "0x70997970c51812dc3a010c7d01b50e0d17dc79c8";
const ANCHORER = "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266";
/** 1403-01-01 00:00 Tehran, as unix seconds (2024-03-20T20:30:00Z). */
const YEAR_START = 1_710_966_600;

function hex32(seed: number, tag: number): string {
  let x = (seed * 2654435761 + tag * 40503) >>> 0;
  let out = "0x";
  for (let i = 0; i < 8; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out += x.toString(16).padStart(8, "0");
  }
  return out;
}

/** People per province: Tehran large, a few tiny provinces so that suppression shows. */
function peopleIn(province: number, kind: "premium" | "pension", month: number): number {
  if (province === 16 || province === 29) return 3 + (month % 4); // under 10: suppressed
  const base = province === 23 ? 420 : 40 + ((province * 37) % 90);
  return kind === "premium" ? base + month * 2 : Math.round(base / 3) + month;
}

export interface PortalFixture {
  batches: BatchView[];
  stats: { periods: PeriodStat[]; provinces: ProvinceStat[] };
  chainInfo: ChainInfo;
}

export function buildPortalFixture(
  chain: { chainId: number; contract: string } = {
    chainId: 31337,
    contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  },
): PortalFixture {
  const batches: BatchView[] = [];
  const periods: PeriodStat[] = [];
  const provinces: ProvinceStat[] = [];
  let id = 0;
  let block = 10;
  for (let month = 1; month <= 12; month++) {
    const period = `1403-${String(month).padStart(2, "0")}`;
    for (const kind of ["premium", "pension"] as const) {
      id += 1;
      block += 3;
      const byProvince: Record<string, { count: number; total: string }> = {};
      let count = 0;
      let total = 0n;
      PROVINCES.forEach((code, p) => {
        const people = peopleIn(p, kind, month);
        const each =
          kind === "premium"
            ? 31_500_000n + BigInt(p) * 150_000n
            : 98_000_000n + BigInt(p) * 400_000n;
        const sum = each * BigInt(people);
        byProvince[code] = { count: people, total: sum.toString() };
        count += people;
        total += sum;
        provinces.push({ period, kind, province: code, count: people, total: sum.toString() });
      });
      const late = kind === "pension" ? (month % 3 === 0 ? 40 + month : 5) : undefined;
      const status: BatchView["status"] =
        month === 5 && kind === "pension" ? "disputed" : month <= 9 ? "attested" : "anchored";
      const batch: BatchView = {
        batchId: id,
        kind,
        period,
        root: hex32(id, 1),
        recordCount: count,
        total: total.toString(),
        manifestHash: hex32(id, 2),
        idempotencyKey: hex32(id, 3),
        headAfter: hex32(id, 4),
        anchorer: ANCHORER,
        anchoredAt: YEAR_START + month * 30 * 86_400 + id * 60,
        txHash: hex32(id, 5),
        blockNumber: block,
        blockHash: hex32(id, 6),
        supersedes: null,
        supersededBy: null,
        status,
        attestations:
          status === "anchored"
            ? []
            : [
                {
                  auditor: AUDITOR,
                  verdict: status === "disputed" ? "disputed" : "confirmed",
                  reportHash: hex32(id, 7),
                  txHash: hex32(id, 8),
                  blockNumber: block + 1,
                },
              ],
        manifest: {
          status: id === 3 ? "missing" : "verified",
          byProvince,
          ...(kind === "pension"
            ? {
                byCategory: {
                  retirement: {
                    count: Math.round(count * 0.7),
                    total: ((total * 7n) / 10n).toString(),
                  },
                  disability: { count: Math.round(count * 0.1), total: (total / 10n).toString() },
                  survivors: {
                    count: count - Math.round(count * 0.7) - Math.round(count * 0.1),
                    total: (total - (total * 7n) / 10n - total / 10n).toString(),
                  },
                },
                onTime: count - (late ?? 0),
                late: late ?? 0,
              }
            : {}),
        },
      };
      if (id === 3) delete batch.manifest.byProvince;
      batches.push(batch);
      periods.push({
        period,
        kind,
        batches: 1,
        recordCount: count,
        total: total.toString(),
        people: count,
        ...(kind === "pension" ? { onTime: count - (late ?? 0), late: late ?? 0 } : {}),
        corrections: 0,
      });
    }
  }
  // A correction: premium batch of 1403-02 (id 3) is superseded by a new batch.
  const old = batches[2]!;
  id += 1;
  const fix: BatchView = {
    ...structuredClone(old),
    batchId: id,
    root: hex32(id, 1),
    manifestHash: hex32(id, 2),
    txHash: hex32(id, 5),
    blockNumber: block + 5,
    blockHash: hex32(id, 6),
    anchoredAt: old.anchoredAt + 20 * 86_400,
    supersedes: old.batchId,
    supersededBy: null,
    status: "attested",
    manifest: { ...structuredClone(batches[0]!.manifest), reason: "wage-correction" },
    // the correction is a shafaf-tree/2 batch: supersession across schemes
    scheme: "shafaf-tree/2",
    totals: [
      String(old.recordCount),
      String(old.recordCount - 3),
      (BigInt(old.total) * 10n).toString(),
      String(old.recordCount * 30),
      old.total,
      "0",
    ],
    vrfKeyId: hex32(id, 11),
  };
  old.supersededBy = id;
  old.status = "superseded";
  batches.push(fix);
  const feb = periods.find((p) => p.period === "1403-02" && p.kind === "premium")!;
  feb.corrections = 12;
  feb.batches = 1;

  const chainInfo: ChainInfo = {
    chainId: chain.chainId,
    contract: chain.contract,
    genesisHash: hex32(0, 9),
    deployBlock: 1,
    lastIndexedBlock: block + 6,
    lastIndexedHash: hex32(0, 10),
    headBlock: block + 6,
    confirmations: 0,
    batchCount: id,
    paused: false,
    headCheck: {
      status: "ok",
      onChain: hex32(id, 4),
      recomputed: hex32(id, 4),
      atBlock: block + 6,
    },
  };
  return { batches, stats: { periods, provinces }, chainInfo };
}

/** An IndexReader over a fixture (newest first, filters and numeric cursors as the real store). */
export function fixtureIndex(fixture: PortalFixture): IndexReader {
  return {
    getChainInfo: () => Promise.resolve(fixture.chainInfo),
    listBatches(query: ListBatchesQuery) {
      const all = fixture.batches
        .filter((b) => query.kind === undefined || b.kind === query.kind)
        .filter((b) => query.status === undefined || b.status === query.status)
        .filter((b) => query.fromPeriod === undefined || b.period >= query.fromPeriod)
        .filter((b) => query.toPeriod === undefined || b.period <= query.toPeriod)
        .sort((a, b) => b.batchId - a.batchId);
      const start =
        query.cursor === undefined ? 0 : all.findIndex((b) => b.batchId < Number(query.cursor));
      const items = start < 0 ? [] : all.slice(start, start + query.limit);
      const last = items[items.length - 1];
      const more = start >= 0 && start + query.limit < all.length;
      return Promise.resolve(
        more && last !== undefined ? { items, nextCursor: String(last.batchId) } : { items },
      );
    },
    getBatch: (batchId: number) =>
      Promise.resolve(fixture.batches.find((b) => b.batchId === batchId)),
    getStats: () => Promise.resolve(fixture.stats),
    listEvents: () => Promise.resolve({ items: [] }),
    listVrfKeys: () => Promise.resolve([]),
  };
}

/** A LedgerReader serving the given receipts by code. */
export function fixtureLedger(receipts: ReadonlyMap<string, StoredReceipt>): LedgerReader {
  return {
    getReceiptByCode: (code: string) => Promise.resolve(receipts.get(code)),
    listReceiptsBySubject: () => Promise.resolve([]),
  };
}
