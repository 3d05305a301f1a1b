/**
 * "My insurance history", checked in the browser. From a person's key material (identifier, the
 * organization's VRF public key, pi):
 *
 * 1. pi is verified under the public key for the person's identifier (ECVRF), giving beta; the
 *    public key MUST be registered on the ledger (`getVrfKey(keccak256(pk))`, read over the RPC
 *    URL this site publishes), and each batch MUST name it (`getBatchV2(id).vrfKeyId`).
 * 2. The set of batches comes from the chain: ids 1…`batchCount()`, each read with `getBatchV2`
 *    (root, kind, period, supersession); `shafaf-tree/1` batches are skipped (they have no
 *    person proofs). Only current batches are shown; a batch that corrects another says so.
 * 3. For each, k_b = batchPersonKey(beta, {kind, period}) is computed here; the site answers
 *    with the range or absence proof and the records; the whole `shafaf-person-proof/1` is
 *    assembled here and verified with core's `verifyDocumentOffline` against the root read
 *    from the chain and the registered key.
 *
 * What is trusted: the RPC URL and contract this site names (as on the receipt page). The site's
 * API supplies only proofs, each checked before it is shown. Never throws for a month: a month
 * that cannot be checked says why.
 */
import { bytesToHex, hexToBytes } from "../core/hex.ts";
import { keccak256 } from "../core/keccak.ts";
import { batchPersonKey, personVrfInput } from "../core/person-key.ts";
import { PERSON_PROOF_FORMAT, type PersonProof } from "../core/person-proof.ts";
import { periodFromNumber } from "../core/period.ts";
import type { ReceiptRecord } from "../core/receipt.ts";
import type { RecordKind } from "../core/record.ts";
import { verifyDocumentOffline } from "../core/verify-document.ts";
import { vrfVerify } from "../core/vrf.ts";
import { getChainInfo } from "./api-client.ts";
import {
  readBatchCount,
  readChainBatchV2,
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

/** Runs `tasks` with at most `limit` at once, keeping their order. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

const KIND_OF = ["premium", "pension"] as const;

async function fetchMaterial(batchId: number, key: Uint8Array): Promise<Record<string, unknown>> {
  const res = await fetch("/api/v1/persons/proof", {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ batchId, key: bytesToHex(key) }),
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
  return (await res.json()) as Record<string, unknown>;
}

async function checkMonth(
  key: PersonKey,
  beta: Uint8Array,
  chain: { chainId: number; contract: string },
  batchId: number,
  batch: ChainBatchV2,
): Promise<HistoryMonth> {
  const kind = KIND_OF[batch.kind]!;
  const period = periodFromNumber(batch.period);
  const month: HistoryMonth = {
    kind,
    period,
    batchId,
    status: "unchecked",
    records: [],
    ...(batch.supersedes === 0n ? {} : { corrects: Number(batch.supersedes) }),
  };
  try {
    const context = { kind, period };
    const kb = batchPersonKey(beta, context);
    const m = await fetchMaterial(batchId, kb);
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

/**
 * Checks every current `shafaf-tree/2` batch of the ledger for this person.
 *
 * @example
 * const h = await checkHistory(key); if (h.ok) for (const m of h.months) show(m);
 */
export async function checkHistory(
  key: PersonKey,
  onProgress?: (done: number, total: number) => void,
): Promise<HistoryOutcome> {
  let alpha: Uint8Array;
  try {
    alpha = personVrfInput(key.personId);
  } catch {
    return { ok: false, why: "vrf-invalid", detail: "the identifier is not valid" };
  }
  const vrf = vrfVerify(hexToBytes(key.vrfPublicKey), hexToBytes(key.proof), alpha);
  if (!vrf.valid) return { ok: false, why: "vrf-invalid", detail: vrf.reason };
  const beta = vrf.beta;
  try {
    const info = await getChainInfo();
    const rpcUrl = info.rpcUrl;
    const contract = info.contract;
    if (rpcUrl === undefined || contract === undefined)
      return { ok: false, why: "no-chain", detail: "this site publishes no JSON-RPC URL" };
    const keyId = bytesToHex(keccak256(hexToBytes(key.vrfPublicKey)));
    const registered = await readVrfPublicKey(rpcUrl, contract, keyId);
    if (registered?.toLowerCase() !== key.vrfPublicKey.toLowerCase())
      return { ok: false, why: "vrf-unregistered", detail: keyId };
    const chainId = await readChainId(rpcUrl);
    const count = Number(await readBatchCount(rpcUrl, contract));
    const ids = Array.from({ length: count }, (_, i) => i + 1);
    const batches = await pool(
      ids.map((id) => () => readChainBatchV2(rpcUrl, contract, BigInt(id))),
      6,
    );
    const current = ids
      .map((id, i) => ({ id, batch: batches[i] }))
      .filter(
        (x): x is { id: number; batch: ChainBatchV2 } =>
          x.batch !== undefined &&
          x.batch.supersededBy === 0n &&
          x.batch.vrfKeyId.toLowerCase() === keyId.toLowerCase(),
      );
    let done = 0;
    const months = await pool(
      current.map(({ id, batch }) => async () => {
        const m = await checkMonth(key, beta, { chainId, contract }, id, batch);
        onProgress?.(++done, current.length);
        return m;
      }),
      4,
    );
    months.sort((a, b) => a.kind.localeCompare(b.kind) || a.period.localeCompare(b.period));
    return { ok: true, months, batchCount: count };
  } catch (error) {
    return {
      ok: false,
      why: "chain-read",
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}
