/**
 * The CPU half of checking a year of "My insurance history": fetching the site's proofs for the
 * year's batches (`POST /api/v1/persons/proofs`, the person's k_b computed by the page) and
 * verifying each against the root read from the chain. No DOM and no chain access: it runs in a
 * Web Worker (`history-worker.ts`, started by `history-pool.ts`) or, when no worker can start,
 * on the page's own thread. Everything the checks trust (the batches' roots, kinds, periods, the
 * registered VRF key) is handed in by the page, which read it from the chain.
 */
import { bytesToHex } from "../core/hex.ts";
import { PERSON_PROOF_FORMAT, type PersonProof } from "../core/person-proof.ts";
import { periodFromNumber } from "../core/period.ts";
import type { ReceiptRecord } from "../core/receipt.ts";
import type { RecordKind } from "../core/record.ts";
import { verifyDocumentOffline } from "../core/verify-document.ts";
import type { ChainBatchV2 } from "./chain-batch.ts";

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

/**
 * One year to check: the person's key, the chain, and each current batch as read from the chain
 * with the person's k_b for it. Structured-cloneable (it crosses to a worker as is).
 */
export interface YearJob {
  key: PersonKey;
  chainId: number;
  contract: string;
  batches: { id: number; batch: ChainBatchV2; kb: Uint8Array }[];
}

const KIND_OF = ["premium", "pension"] as const;

/** The kind and month a batch of the chain is about. */
export const contextOf = (batch: ChainBatchV2) => ({
  kind: KIND_OF[batch.kind]!,
  period: periodFromNumber(batch.period),
});

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

/** How long verification runs before `pause` is awaited (the page draws about once a frame). */
const FRAME_MS = 16;

/**
 * Fetches and verifies every batch of `job`; the months, premiums first then pensions, by month.
 * `onProgress(done, total)` about once a frame; `pause`, if given, is awaited then (the page's
 * thread lets the page draw; a worker needs none). Never throws: a month that cannot be checked
 * says why.
 *
 * @example
 * const months = await verifyYearJob(job, (done, total) => show(done, total));
 */
export async function verifyYearJob(
  job: YearJob,
  onProgress?: (done: number, total: number) => void,
  pause?: () => Promise<void>,
): Promise<HistoryMonth[]> {
  const answers = await fetchMaterials(job.batches.map((b) => ({ batchId: b.id, key: b.kb })));
  const chain = { chainId: job.chainId, contract: job.contract };
  const months: HistoryMonth[] = [];
  let slice = performance.now();
  for (const [i, { id, batch }] of job.batches.entries()) {
    months.push(checkMonth(job.key, chain, id, batch, answers[i]!));
    if (performance.now() - slice > FRAME_MS) {
      onProgress?.(i + 1, job.batches.length);
      await pause?.();
      slice = performance.now();
    }
  }
  months.sort((a, b) => a.kind.localeCompare(b.kind) || a.period.localeCompare(b.period));
  return months;
}
