/**
 * The receipt check behind "Check my receipt": core's `verifyDocument` (receipts v1 and v2,
 * person proofs), trusting the chain itself, and `verifyDocumentWithPolicy` when the receipt
 * carries a log bundle (docs/spec/log-bundle-v1.md).
 *
 * - With a log bundle and the trust policy this site publishes (`/trust-policy.txt`), the receipt
 *   is verified with no chain at all: its batch's entry is in the ledger log, whose checkpoint is
 *   signed by the policy's log key and cosigned by a quorum of its witnesses.
 * - With the JSON-RPC URL this site publishes (`GET /api/v1/chain` → `rpcUrl`), the batch (root,
 *   supersession, kind, period) and the auditors' counts are read straight from the ledger
 *   contract this site names as official; the chain id is the RPC's own `eth_chainId`. So a
 *   receipt for another chain or contract fails by name. Both, when both are available.
 * - With neither, the root comes from this site's index, and the result is at best inconclusive.
 *
 * Never throws.
 */
import { parseTrustPolicy, type TrustPolicy } from "../core/tlog-policy.ts";
import { verifyDocument, type VerifyDocumentResult } from "../core/verify-document.ts";
import {
  combineVerifications,
  verifyDocumentWithPolicy,
  type LogWitness,
  type VerifyDocumentWithPolicyResult,
} from "../core/verify-document-with-policy.ts";
import type { Check, OnChainBatch, ReceiptTrust } from "../core/verify-receipt.ts";
import { getBatch, getChainInfo, getTrustPolicy, type ChainInfo } from "./api-client.ts";
import {
  readAttestationCounts,
  readChainBatch,
  readChainId,
  ChainReadError,
} from "./chain-batch.ts";
import { formatInteger } from "./format.ts";
import { lang, t } from "./i18n.ts";
import { MESSAGES, type MessageKey } from "./messages.ts";

/** One check as shown: `ok` null means "could not check" (inconclusive). */
export interface ShownCheck {
  name: string;
  ok: boolean | null;
  /** The check as a plain question, in the current language. */
  text: string;
  /** Core's technical detail (English), shown for checks that did not pass. */
  detail: string;
  expected?: string;
  computed?: string;
  /** True when `detail` is already in the page's language (otherwise it is core's English). */
  translated?: boolean;
}

export interface ReceiptOutcome {
  status: "verified" | "failed" | "inconclusive";
  checks: ShownCheck[];
  batchId?: number;
  /** The receipt's opening (the viewer's own record), for display in this browser only. */
  record?: Record<string, unknown>;
  /** Auditors' verdicts on the batch as read from the chain. */
  auditors?: { confirmations: number; disputes: number };
  /** The batch that corrects the receipt's batch, as read from the chain (absent when current). */
  supersededBy?: number;
  /** When verified by the log bundle: the witnesses that cosigned, the quorum, the checkpoint's time. */
  witnessed?: LogWitness;
  /** True when the chain was read (an RPC URL is published); false when only the log bundle was. */
  chainRead?: boolean;
}

/** The plain-words question for a check name of core's `verifyReceipt`. */
export function checkText(name: string): string {
  const key = `check_${name}`;
  return key in MESSAGES.en ? t(key as MessageKey) : t("check_other", { name });
}

function shown(check: Check): ShownCheck {
  const out: ShownCheck = {
    name: check.name,
    ok: check.outcome === "pass" ? true : check.outcome === "fail" ? false : null,
    text: checkText(check.name),
    detail: check.detail,
  };
  if (check.expected !== undefined) out.expected = check.expected;
  if (check.computed !== undefined) out.computed = check.computed;
  return out;
}

function field(receipt: unknown, key: string): unknown {
  return typeof receipt === "object" && receipt !== null && !Array.isArray(receipt)
    ? (receipt as Record<string, unknown>)[key]
    : undefined;
}

/** Whether this page may compile WebAssembly (a CSP without 'wasm-unsafe-eval', or a hardened browser, refuses). */
function webAssemblyUsable(): boolean {
  try {
    new WebAssembly.Module(new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    return true;
  } catch {
    return false;
  }
}

/** Reads a batch as core's verifier wants it, from the chain at `rpcUrl`; `seen` keeps what was read. */
function chainReader(
  rpcUrl: string,
  contract: string,
  seen: { batch?: OnChainBatch },
): ReceiptTrust {
  return {
    async readBatch(batchId: number): Promise<OnChainBatch | undefined> {
      const chainId = await readChainId(rpcUrl);
      try {
        const batch = await readChainBatch(rpcUrl, contract, BigInt(batchId));
        const counts = await readAttestationCounts(rpcUrl, contract, BigInt(batchId));
        seen.batch = {
          chainId,
          contract,
          batchId,
          root: batch.root,
          supersededBy: Number(batch.supersededBy),
          confirmations: Number(counts.confirmations),
          disputes: Number(counts.disputes),
          kind: batch.kind,
          period: batch.period,
        };
        return seen.batch;
      } catch (error) {
        if (error instanceof ChainReadError && error.unknownBatch) return undefined;
        throw error;
      }
    },
  };
}

/** The trust policy this site publishes, parsed; undefined when there is none or it is unreadable. */
async function sitePolicy(): Promise<TrustPolicy | undefined> {
  try {
    const text = await getTrustPolicy();
    return text === undefined ? undefined : parseTrustPolicy(text, "/trust-policy.txt");
  } catch {
    return undefined;
  }
}

/**
 * @example
 * const outcome = await checkReceipt(JSON.parse(fileText));
 * outcome.status // "verified" | "failed" | "inconclusive"
 */
export async function checkReceipt(receipt: unknown): Promise<ReceiptOutcome> {
  const checks: ShownCheck[] = [];
  if (!webAssemblyUsable()) {
    // Core's keccak is WebAssembly. A browser (or a page policy) that refuses it cannot check
    // anything: say so, rather than report a genuine receipt as failed.
    checks.push({
      name: "browser",
      ok: null,
      text: checkText("browser"),
      detail: t("wasmBlocked"),
      translated: true,
    });
    return withReceiptFields({ status: "inconclusive", checks }, receipt);
  }
  const bundled = field(receipt, "log") !== undefined;
  const [info, policy] = await Promise.all([
    getChainInfo().catch((): ChainInfo | undefined => undefined),
    bundled ? sitePolicy() : Promise.resolve(undefined),
  ]);
  let offline: VerifyDocumentWithPolicyResult | undefined;
  if (bundled && policy === undefined)
    checks.push({
      name: "trust-policy",
      ok: null,
      text: checkText("trust-policy"),
      detail: t("trustPolicyMissing"),
      translated: true,
    });
  else if (policy !== undefined) offline = await verifyDocumentWithPolicy(receipt, { policy });
  let trust: ReceiptTrust | undefined;
  const seen: { batch?: OnChainBatch } = {};
  if (info?.rpcUrl !== undefined) {
    trust = chainReader(info.rpcUrl, info.contract, seen);
  } else if (offline === undefined) {
    // No chain to read: compare with this site's index, and say plainly that the chain was not read.
    checks.push({
      name: "chain-read",
      ok: null,
      text: checkText("chain-read"),
      detail: t("chainUnavailable"),
      translated: true,
    });
    const rawBatch = field(receipt, "batchId");
    let root = "";
    if (typeof rawBatch === "number" && Number.isSafeInteger(rawBatch) && rawBatch > 0) {
      try {
        root = (await getBatch(rawBatch)).root;
      } catch {
        root = "";
      }
    }
    trust =
      info === undefined ? { root } : { root, chainId: info.chainId, contract: info.contract };
  }

  const onChain: VerifyDocumentResult | undefined =
    trust === undefined ? undefined : await verifyDocument(receipt, trust);
  const result: VerifyDocumentWithPolicyResult =
    offline === undefined
      ? onChain!
      : onChain === undefined
        ? offline
        : combineVerifications(offline, onChain);
  for (const check of result.checks) {
    // "internal" means the verifier itself stopped: no evidence against the receipt.
    checks.push(check.name === "internal" ? { ...shown(check), ok: null } : shown(check));
  }

  const failed = checks.some((c) => c.ok === false);
  const open = result.status === "inconclusive" || checks.some((c) => c.ok === null);
  const outcome: ReceiptOutcome = {
    status: failed ? "failed" : open ? "inconclusive" : "verified",
    checks,
    chainRead: info?.rpcUrl !== undefined,
  };
  if (outcome.status === "verified" && result.log !== undefined) outcome.witnessed = result.log;
  if (seen.batch !== undefined) {
    outcome.auditors = { confirmations: seen.batch.confirmations, disputes: seen.batch.disputes };
    const correction = seen.batch.supersededBy;
    if (correction !== 0) {
      outcome.supersededBy = correction;
      // Core says it in English; the reader gets it in their language.
      for (const check of checks)
        if (check.name === "current" && check.ok !== true) {
          check.detail = t("supersededDetail", {
            batch: formatInteger(seen.batch.batchId, lang()),
            correction: formatInteger(correction, lang()),
          });
          check.translated = true;
        }
    }
  }
  return withReceiptFields(outcome, receipt);
}

/** Adds the receipt's batch id and opening (for display in this page only) to an outcome. */
function withReceiptFields(outcome: ReceiptOutcome, receipt: unknown): ReceiptOutcome {
  const batchId = field(receipt, "batchId");
  if (typeof batchId === "number" && Number.isSafeInteger(batchId) && batchId > 0)
    outcome.batchId = batchId;
  const record = field(receipt, "record");
  if (typeof record === "object" && record !== null && !Array.isArray(record)) {
    outcome.record = record as Record<string, unknown>;
  }
  return outcome;
}
