/**
 * Index-store views for serving the portal through the real API (`createApp`), as the real
 * indexer writes them from a scripted ledger event log (test/indexer/scripted-history.ts),
 * snapshotted into an in-memory reader: twelve months of premium
 * and pension batches over all 31 provinces, with one correction (superseded + its replacement),
 * one disputed batch, confirmed batches, late pension payments, and provincial cells under 10
 * people. Deterministic: no randomness, no clock.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { openIndexStore } from "../../src/store/index-store.ts";
import { indexScripted, ledgerHistory } from "../indexer/scripted-history.ts";
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

export async function buildPortalFixture(
  chain: { chainId: number; contract: string } = {
    chainId: 31337,
    contract: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  },
): Promise<PortalFixture> {
  const history = await ledgerHistory(chain.contract);
  /** Anchoring block → its timestamp; other blocks follow the last one named, a second apart. */
  const times = new Map<number, number>([[0, YEAR_START]]);
  const timestamp = (n: number) => {
    let b = n;
    while (!times.has(b)) b--;
    return times.get(b)! + (n - b);
  };
  const attest = (blockNumber: number, id: number, verdict: "confirmed" | "disputed") =>
    history.emit(blockNumber, "BatchAttested", [
      id,
      AUDITOR,
      verdict === "confirmed" ? 1 : 2,
      0,
      hex32(id, 7),
    ]);
  let id = 0;
  let block = 10;
  let firstManifest: Record<string, unknown> = {};
  const feb = { block: 0, recordCount: 0, total: 0n };
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
      });
      const late = kind === "pension" ? (month % 3 === 0 ? 40 + month : 5) : 0;
      const manifest = {
        byProvince,
        people: count,
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
              onTime: count - late,
              late,
            }
          : {}),
      };
      if (id === 1) firstManifest = manifest;
      if (id === 3) Object.assign(feb, { block, recordCount: count, total });
      times.set(block, YEAR_START + month * 30 * 86_400 + id * 60);
      history.anchorAt(
        block,
        id,
        kind === "premium" ? 0 : 1,
        Number(period.replace("-", "")),
        count,
        total,
        0,
        id === 3 ? undefined : manifest, // batch 3's manifest is not held: "missing"
        { root: hex32(id, 1), anchorer: ANCHORER },
      );
      if (month === 5 && kind === "pension") attest(block + 1, id, "disputed");
      else if (month <= 9) attest(block + 1, id, "confirmed");
    }
  }
  // A correction: premium batch of 1403-02 (id 3) is superseded by a shafaf-tree/2 batch
  // (supersession across schemes), itself confirmed.
  id += 1;
  block += 5;
  times.set(block, timestamp(feb.block) + 20 * 86_400);
  history.anchorV2At(
    block,
    id,
    0,
    140302,
    [
      BigInt(feb.recordCount),
      BigInt(feb.recordCount - 3),
      feb.total * 10n,
      BigInt(feb.recordCount * 30),
      feb.total,
      0n,
    ],
    3,
    hex32(id, 11),
    { ...firstManifest, reason: "wage-correction" },
    { root: hex32(id, 1), anchorer: ANCHORER },
  );
  attest(block + 1, id, "confirmed");

  const dir = await mkdtemp(path.join(tmpdir(), "shafaf-portal-index-"));
  const store = await openIndexStore(dir);
  try {
    await indexScripted(history, store, {
      headBlock: block + 6,
      confirmations: 0,
      fromBlock: 1,
      timestamp,
    });
    const batches: BatchView[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.listBatches({
        limit: 1000,
        ...(cursor === undefined ? {} : { cursor }),
      });
      batches.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    const chainInfo = await store.getChainInfo();
    if (chainInfo?.headCheck.status !== "ok")
      throw new Error(`the portal fixture's event log fails the indexer's head check`);
    return {
      batches: batches.sort((x, y) => x.batchId - y.batchId),
      stats: await store.getStats(),
      chainInfo: { ...chainInfo, chainId: chain.chainId },
    };
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
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
