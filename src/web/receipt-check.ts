/**
 * The receipt check behind "Check my receipt": core's `verifyReceipt`, trusting the chain itself.
 * The batch (root, supersession, kind, period) and the auditors' counts are read straight from
 * the ledger contract over the JSON-RPC URL this site publishes (`GET /api/v1/chain` → `rpcUrl`),
 * from the contract this site names as official; the chain id is the RPC's own `eth_chainId`. So
 * a receipt for another chain or contract fails by name, and this site's API is trusted for
 * nothing but the addresses. Without a published RPC URL the root comes from this site's index,
 * and the result can be at best inconclusive. Never throws.
 */
import {
  verifyReceipt,
  type Check,
  type OnChainBatch,
  type ReceiptTrust,
} from "../core/verify-receipt.ts";
import { getBatch, getChainInfo, type ChainInfo } from "./api-client.ts";
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
  let info: ChainInfo | undefined;
  try {
    info = await getChainInfo();
  } catch {
    info = undefined;
  }
  let trust: ReceiptTrust;
  const seen: { batch?: OnChainBatch } = {};
  if (info?.rpcUrl !== undefined) {
    trust = chainReader(info.rpcUrl, info.contract, seen);
  } else {
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

  const result = await verifyReceipt(receipt, trust);
  for (const check of result.checks) {
    // "internal" means the verifier itself stopped: no evidence against the receipt.
    checks.push(check.name === "internal" ? { ...shown(check), ok: null } : shown(check));
  }

  const failed = checks.some((c) => c.ok === false);
  const open = result.status === "inconclusive" || checks.some((c) => c.ok === null);
  const outcome: ReceiptOutcome = {
    status: failed ? "failed" : open ? "inconclusive" : "verified",
    checks,
  };
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
