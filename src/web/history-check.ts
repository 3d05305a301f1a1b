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
import { PERSON_PROOF_FORMAT, type PersonProof } from "../core/person-proof.ts";
import { jalaliDateOf } from "../core/jalali.ts";
import { periodFromNumber } from "../core/period.ts";
import type { ReceiptRecord } from "../core/receipt.ts";
import type { RecordKind } from "../core/record.ts";
import { verifyDocumentOffline } from "../core/verify-document.ts";
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

/** What the sign-in (or the demo login) hands the browser. */
export interface PersonKey {
  personId: string;
  vrfPublicKey: string;
  proof: string;
}

export type MonthStatus = "recorded" | "absent" | "unchecked";

export interface HistoryMonth {
  kind: RecordKind;
  period: string;
  batchId: number;
  /** The batch this one corrects (the month was corrected), if any. */
  corrects?: number;
  /** Unix seconds of the block that anchored the batch (a "not recorded" is as of then). */
  anchoredAt: number;
  status: MonthStatus;
  records: ReceiptRecord[];
  /** Why the month could not be checked (`unchecked`): failed check names or the error. */
  reason?: string;
  /** The verified `shafaf-person-proof/1`, for the certificate. */
  document?: PersonProof;
}

export type HistoryOutcome =
  | { ok: true; months: HistoryMonth[]; batchCount: number }
  | {
      ok: false;
      why: "no-chain" | "vrf-invalid" | "vrf-unregistered" | "chain-read";
      detail: string;
    };

/** At most this many years' proofs are being fetched at once, over every year being opened. */
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

const KIND_OF = ["premium", "pension"] as const;

/** At most this many batches go in one `persons/proofs` request (the API's limit). */
const PROOFS_PER_REQUEST = 64;

/**
 * The site's answer for each `{batchId, key}` (`POST /api/v1/persons/proofs`, in requests of
 * PROOFS_PER_REQUEST): the material, or an Error saying why there is none. Never throws.
 */
async function fetchMaterials(
  items: readonly { batchId: number; key: Uint8Array }[],
): Promise<(Record<string, unknown> | Error)[]> {
  const out: (Record<string, unknown> | Error)[] = [];
  for (let i = 0; i < items.length; i += PROOFS_PER_REQUEST) {
    const chunk = items.slice(i, i + PROOFS_PER_REQUEST);
    try {
      const res = await fetch("/api/v1/persons/proofs", {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({
          items: chunk.map((x) => ({ batchId: x.batchId, key: bytesToHex(x.key) })),
        }),
      });
      if (!res.ok) {
        let detail = `HTTP ${res.status}`;
        try {
          detail = ((await res.json()) as { detail?: string }).detail ?? detail;
        } catch {
          // the status says enough
        }
        throw new Error(detail);
      }
      const answers = ((await res.json()) as { items?: unknown }).items;
      if (!Array.isArray(answers) || answers.length !== chunk.length)
        throw new Error("the site answered another number of batches than asked");
      answers.forEach((a: unknown, j) => {
        const o = (typeof a === "object" && a !== null ? a : {}) as Record<string, unknown>;
        const problem = o.problem as { detail?: unknown } | undefined;
        if (o.batchId !== chunk[j]!.batchId)
          out.push(new Error("the site answered for another batch"));
        else if (problem !== undefined)
          out.push(new Error(typeof problem.detail === "string" ? problem.detail : "no proof"));
        else out.push(o);
      });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      for (const _ of chunk) out.push(e);
    }
  }
  return out;
}

/** How long verification runs before the page may draw again. */
const FRAME_MS = 16;

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

const contextOf = (batch: ChainBatchV2) => ({
  kind: KIND_OF[batch.kind]!,
  period: periodFromNumber(batch.period),
});

/** Verifies the site's answer `m` for one batch (fetched with the person's k_b of the batch). */
function checkMonth(
  key: PersonKey,
  chain: { chainId: number; contract: string },
  batchId: number,
  batch: ChainBatchV2,
  m: Record<string, unknown> | Error,
): HistoryMonth {
  const { kind, period } = contextOf(batch);
  const month: HistoryMonth = {
    kind,
    period,
    batchId,
    anchoredAt: Number(batch.anchoredAt),
    status: "unchecked",
    records: [],
    ...(batch.supersedes === 0n ? {} : { corrects: Number(batch.supersedes) }),
  };
  try {
    if (m instanceof Error) throw m;
    const context = { kind, period };
    // The context and the batch come from the chain, not from the answer.
    const doc = {
      format: PERSON_PROOF_FORMAT,
      chainId: chain.chainId,
      contract: chain.contract.toLowerCase(),
      batchId,
      personId: key.personId,
      vrf: { publicKey: key.vrfPublicKey, proof: key.proof },
      context,
      records: m.records,
      proof: m.proof,
      ...(m.log === undefined ? {} : { log: m.log }),
    } as unknown as PersonProof;
    const r = verifyDocumentOffline(doc, {
      root: batch.root,
      vrfPublicKey: key.vrfPublicKey,
      chainId: chain.chainId,
      contract: chain.contract,
    });
    if (r.status !== "verified") {
      month.reason = r.checks
        .filter((c) => c.outcome !== "pass")
        .map((c) => c.name)
        .join(", ");
      return month;
    }
    month.document = doc;
    month.records = doc.records.map((x) => x.record);
    month.status = doc.records.length > 0 ? "recorded" : "absent";
  } catch (error) {
    month.reason = error instanceof Error ? error.message : String(error);
  }
  return month;
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

export type YearOutcome = { ok: true; months: HistoryMonth[] } | { ok: false; detail: string };

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
    // One request for the year's proofs (k_b computed here; the site never sees beta).
    const answers = await limited(() =>
      fetchMaterials(
        current.map(({ id, batch }) => ({
          batchId: id,
          key: batchPersonKey(ledger.beta, contextOf(batch)),
        })),
      ),
    );
    const months: HistoryMonth[] = [];
    let slice = performance.now();
    for (const [i, { id, batch }] of current.entries()) {
      months.push(
        checkMonth(ledger.key, { chainId: ledger.chainId, contract }, id, batch, answers[i]!),
      );
      // The page draws (and shows the progress) about once a frame, not after every month.
      if (performance.now() - slice > FRAME_MS) {
        onProgress?.(i + 1, current.length);
        await yieldToPage();
        slice = performance.now();
      }
    }
    months.sort((a, b) => a.kind.localeCompare(b.kind) || a.period.localeCompare(b.period));
    return { ok: true, months };
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
