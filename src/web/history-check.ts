/**
 * "My insurance history", checked in the browser, one Jalali year at a time. From a person's key
 * material (identifier, the organization's VRF public key, pi):
 *
 * 1. `openHistory`: pi is verified under the public key for the person's identifier (ECVRF),
 *    giving beta; the public key MUST be registered on the ledger (`getVrfKey(keccak256(pk))`,
 *    read over the RPC URL this site publishes). The ledger's years run from the period of batch
 *    1 to the latest year holding batches: that of the latest batch (`batchCount()`), or a later
 *    one found by asking the logs of each year up to the year the latest batch was anchored in
 *    (the latest batch may correct an earlier month).
 * 2. `checkHistoryYear`: the year's batches are found on the chain itself — one `eth_getLogs`
 *    of `BatchAnchoredV2`, whose period is an indexed topic, for the year's twelve periods — and
 *    read in one JSON-RPC batch request of `getBatchV2` calls (root, kind, period, VRF key,
 *    supersession, time). A batch whose period is not the log's is refused. `shafaf-tree/1`
 *    batches have no person proofs and are skipped; only current batches are shown, and each
 *    MUST name the registered key; a batch that corrects another says so.
 * 3. For each, k_b = batchPersonKey(beta, {kind, period}) is computed here; the site answers
 *    the year's k_b in one request (`persons/proofs`) with each range or absence proof and the
 *    records; the whole `shafaf-person-proof/1` is
 *    assembled here and verified with core's `verifyDocumentOffline` against the root read
 *    from the chain and the registered key.
 *
 * What is trusted: the RPC URL and contract this site names (as on the receipt page): the node
 * is believed about which batches exist (the logs) and what they hold. The site's API supplies
 * only proofs, each checked before it is shown. A batch whose period lies before that of batch
 * 1 (arrears of an earlier year filed later) is outside the years listed. Never throws for a
 * month: a month that cannot be checked says why.
 */
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import { keccak256 } from "../core/keccak.ts";
import { batchPersonKey, personVrfInput } from "../core/person-key.ts";
import { jalaliDateOf } from "../core/jalali.ts";
import { vrfVerify } from "../core/vrf.ts";
import { getChainInfo } from "./api-client.ts";
import {
  readBatchCount,
  readBatchIdsOfPeriods,
  readChainBatch,
  readChainBatchesV2,
  readChainId,
  readVrfPublicKey,
  type ChainBatchV2,
} from "./chain-batch.ts";
import { verifyYear, type VerifiedIn } from "./history-pool.ts";
import { contextOf, type HistoryMonth, type PersonKey, type YearJob } from "./history-verify.ts";

export type { HistoryMonth, MonthStatus, PersonKey } from "./history-verify.ts";
export type { VerifiedIn } from "./history-pool.ts";

export type HistoryOutcome =
  | { ok: true; months: HistoryMonth[]; batchCount: number }
  | {
      ok: false;
      why: "no-chain" | "vrf-invalid" | "vrf-unregistered" | "chain-read";
      detail: string;
    };

/** At most this many years' proofs are being fetched and verified at once, over every year. */
const REQUESTS_AT_ONCE = 3;
let running = 0;
const waiting: (() => void)[] = [];

/** Runs `task` when fewer than REQUESTS_AT_ONCE others run (shared by all years, in call order). */
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= REQUESTS_AT_ONCE) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** The person's verified key and the ledger's years: what opening a year needs. */
export interface HistoryLedger {
  key: PersonKey;
  beta: Uint8Array;
  rpcUrl: string;
  contract: string;
  chainId: number;
  /** keccak256 of the registered VRF public key, 0x-hex. */
  keyId: string;
  /** `batchCount()` when opened: "as of batch N". */
  batchCount: number;
  /** Jalali years holding batches, latest first (empty on an empty ledger). */
  years: number[];
  /** A year's batch ids already read from the logs while opening (not asked again). */
  batchIdsByYear: Map<number, bigint[]>;
}

export type OpenHistoryOutcome =
  | { ok: true; ledger: HistoryLedger }
  | {
      ok: false;
      why: "no-chain" | "vrf-invalid" | "vrf-unregistered" | "chain-read";
      detail: string;
    };

export type YearOutcome =
  { ok: true; months: HistoryMonth[]; verifiedIn: VerifiedIn } | { ok: false; detail: string };

/** The twelve Jalali YYYYMM periods of `year`. */
const periodsOfYear = (year: number) => Array.from({ length: 12 }, (_, i) => year * 100 + i + 1);

/** The year of a canonical Jalali date `YYYY-MM-DD`. */
const yearOf = (date: string) => Number(date.slice(0, 4));

const detailOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Verifies the person's key against the ledger and reads which years it holds.
 *
 * @example
 * const o = await openHistory(key); if (o.ok) await checkHistoryYear(o.ledger, o.ledger.years[0]!);
 */
export async function openHistory(key: PersonKey): Promise<OpenHistoryOutcome> {
  let alpha: Uint8Array;
  try {
    alpha = personVrfInput(key.personId);
  } catch {
    return { ok: false, why: "vrf-invalid", detail: "the identifier is not valid" };
  }
  const vrf = vrfVerify(hexToBytes(key.vrfPublicKey), hexToBytes(key.proof), alpha);
  if (!vrf.valid) return { ok: false, why: "vrf-invalid", detail: vrf.reason };
  try {
    const info = await getChainInfo();
    const rpcUrl = info.rpcUrl;
    const contract = info.contract;
    if (rpcUrl === undefined || contract === undefined)
      return { ok: false, why: "no-chain", detail: "this site publishes no JSON-RPC URL" };
    const keyId = bytesToHex(keccak256(hexToBytes(key.vrfPublicKey)));
    const [registered, chainId, count] = await Promise.all([
      readVrfPublicKey(rpcUrl, contract, keyId),
      readChainId(rpcUrl),
      readBatchCount(rpcUrl, contract).then(Number),
    ]);
    if (registered?.toLowerCase() !== key.vrfPublicKey.toLowerCase())
      return { ok: false, why: "vrf-unregistered", detail: keyId };
    const ends = count === 0 ? [] : count === 1 ? [1n] : [1n, BigInt(count)];
    const v2 = await readChainBatchesV2(rpcUrl, contract, ends);
    const endBatches = await Promise.all(
      ends.map(async (id, i) => v2[i] ?? (await readChainBatch(rpcUrl, contract, id))),
    );
    const periods = endBatches.map((b) => b.period);
    const first = Math.floor(Math.min(...periods) / 100);
    let last = Math.floor(Math.max(...periods) / 100);
    const batchIdsByYear = new Map<number, bigint[]>();
    // The latest batch may correct an earlier month: a later year may hold batches too. Up to the
    // Jalali year in which the latest batch was anchored, the latest year with batches is found
    // by asking each year's logs, newest first (usually none or one request).
    const latest = endBatches.at(-1);
    if (latest !== undefined) {
      const anchoredYear = yearOf(jalaliDateOf(new Date(Number(latest.anchoredAt) * 1000)));
      for (let y = anchoredYear; y > last; y--) {
        const ids = await readBatchIdsOfPeriods(rpcUrl, contract, periodsOfYear(y));
        if (ids.length > 0) {
          batchIdsByYear.set(y, ids);
          last = y;
        }
      }
    }
    const years =
      periods.length === 0 ? [] : Array.from({ length: last - first + 1 }, (_, i) => last - i);
    return {
      ok: true,
      ledger: {
        key,
        beta: vrf.beta,
        rpcUrl,
        contract,
        chainId,
        keyId,
        batchCount: count,
        years,
        batchIdsByYear,
      },
    };
  } catch (error) {
    return { ok: false, why: "chain-read", detail: detailOf(error) };
  }
}

/**
 * Checks every current `shafaf-tree/2` batch of Jalali `year` for the person: premiums first,
 * then pensions, by month.
 *
 * @example
 * const y = await checkHistoryYear(ledger, 1403); if (y.ok) for (const m of y.months) show(m);
 */
export async function checkHistoryYear(
  ledger: HistoryLedger,
  year: number,
  onProgress?: (done: number, total: number) => void,
): Promise<YearOutcome> {
  const { rpcUrl, contract, keyId } = ledger;
  try {
    const ids =
      ledger.batchIdsByYear.get(year) ??
      (await readBatchIdsOfPeriods(rpcUrl, contract, periodsOfYear(year)));
    const batches = await readChainBatchesV2(rpcUrl, contract, ids);
    const current: { id: number; batch: ChainBatchV2 }[] = [];
    batches.forEach((batch, i) => {
      if (batch === undefined) return;
      if (Math.floor(batch.period / 100) !== year)
        throw new Error(`batch ${ids[i]}'s period on the chain is not its log's`);
      if (batch.supersededBy === 0n && batch.vrfKeyId.toLowerCase() === keyId.toLowerCase())
        current.push({ id: Number(ids[i]), batch });
    });
    onProgress?.(0, current.length);
    // One request for the year's proofs (k_b computed here; the site never sees beta), fetched
    // and verified in a worker when one can run (history-pool.ts).
    const job: YearJob = {
      key: ledger.key,
      chainId: ledger.chainId,
      contract,
      batches: current.map(({ id, batch }) => ({
        id,
        batch,
        kb: batchPersonKey(ledger.beta, contextOf(batch)),
      })),
    };
    const { months, verifiedIn } = await limited(() => verifyYear(job, onProgress));
    return { ok: true, months, verifiedIn };
  } catch (error) {
    return { ok: false, detail: detailOf(error) };
  }
}

/**
 * Checks every current `shafaf-tree/2` batch of every year of the ledger for this person
 * (`openHistory`, then `checkHistoryYear` for each year).
 *
 * @example
 * const h = await checkHistory(key); if (h.ok) for (const m of h.months) show(m);
 */
export async function checkHistory(
  key: PersonKey,
  onProgress?: (done: number, total: number) => void,
): Promise<HistoryOutcome> {
  const opened = await openHistory(key);
  if (!opened.ok) return opened;
  const { ledger } = opened;
  const months: HistoryMonth[] = [];
  for (const year of [...ledger.years].reverse()) {
    const y = await checkHistoryYear(ledger, year, onProgress);
    if (!y.ok) return { ok: false, why: "chain-read", detail: y.detail };
    months.push(...y.months);
  }
  months.sort((a, b) => a.kind.localeCompare(b.kind) || a.period.localeCompare(b.period));
  return { ok: true, months, batchCount: ledger.batchCount };
}
