import type { Router } from "express";
import type { LogBundle } from "../../core/log-bundle.ts";
import type { ApiLog, IndexReader, LedgerReader, StoredReceipt } from "../app-deps.ts";
import { sendCacheable } from "../http-cache.ts";
import { ApiProblem } from "../problem.ts";
import { receiptProvenRoot } from "../../store/receipt-assembler.ts";
import { receiptRoot, sameHex, type VerifyPolicy } from "../verify-policy.ts";
import { documentedRouter, type Validators } from "./documented.ts";

/**
 * Batch N's log bundle (docs/spec/log-bundle-v1.md) and the batch root its log entry names, or
 * why there is none yet; injected by src/cli when the server keeps a witnessed ledger log.
 */
export type LogBundleOfBatch = (
  batchId: number,
) => Promise<
  { ok: true; bundle: LogBundle; root: string } | { ok: false; reason: string; detail: string }
>;

export interface ReceiptRoutesDeps {
  index: Pick<IndexReader, "getBatch">;
  ledger: Pick<LedgerReader, "getReceiptByCode">;
  policy: Pick<VerifyPolicy, "verifyAgainst" | "trustFor">;
  parseCode: (text: string) => string | undefined;
  log: ApiLog;
  /** When present, a receipt leaves with its batch's log bundle whenever the log has one. */
  logBundle?: LogBundleOfBatch;
}

/** The batch id of a stored receipt (`shafaf-receipt/1` member `batchId`), if well formed. */
export function receiptBatchId(receipt: StoredReceipt): number | undefined {
  const id = receipt.batchId;
  return typeof id === "number" && Number.isSafeInteger(id) && id > 0 ? id : undefined;
}

function integrityProblem(): ApiProblem {
  return new ApiProblem(
    "receipt-integrity",
    "this receipt could not be verified against the anchored root; the operators have been alerted",
  );
}

/** The stored receipt under a code as typed, or 404 `receipt-not-found`. */
async function receiptOr404(deps: ReceiptRoutesDeps, typed: string): Promise<StoredReceipt> {
  const code = deps.parseCode(typed);
  if (code === undefined) {
    throw new ApiProblem(
      "receipt-not-found",
      "this is not a receipt code: check it against the printed receipt",
      {
        extensions: {
          hint: "a code is 27 letters and digits, usually printed in groups of four; spaces, dashes and Persian digits are fine",
        },
      },
    );
  }
  // The store does not run the verifier on the receipt it assembles: the route checks it, once,
  // against the batch's chain-indexed root (the check that matters: the store's own root is the
  // anchor job's record of it, the index's is the chain's). A receipt assembled from verified
  // tile windows is proven against the store's root by construction; any other is verified here
  // in full.
  let receipt: StoredReceipt | undefined;
  try {
    receipt = await deps.ledger.getReceiptByCode(code, { verify: false });
  } catch (error) {
    // The tiles or the record do not lead to the anchored root: the same alarm as a failed proof.
    if ((error as { code?: unknown }).code !== "store.receipt.unverified") throw error;
    deps.log.error("receipt-integrity", { batchId: null, failed: ["store"] });
    throw integrityProblem();
  }
  if (receipt === undefined) {
    throw new ApiProblem(
      "receipt-not-found",
      "no receipt has this code: check it against the printed receipt",
    );
  }
  return receipt;
}

/**
 * The receipt checked against the chain-indexed `root`, chain and contract: a receipt the store
 * proved by construction against a root (receiptProvenRoot) needs that root to be `root` and its
 * chain and contract to be the index's; any other runs core's verifier in full.
 */
async function checkAgainst(
  deps: ReceiptRoutesDeps,
  receipt: StoredReceipt,
  root: string,
): Promise<{ status: string; checks: { name: string; ok: boolean }[] }> {
  const proven = receiptProvenRoot(receipt);
  if (proven === undefined) return deps.policy.verifyAgainst(receipt, root);
  const trust = await deps.policy.trustFor(root);
  const r = receipt as { chainId?: unknown; contract?: unknown };
  const checks = [
    { name: "root", ok: sameHex(proven, root) },
    { name: "chain", ok: trust.chainId === undefined || trust.chainId === r.chainId },
    { name: "contract", ok: trust.contract === undefined || sameHex(trust.contract, r.contract) },
  ];
  return { status: checks.every((c) => c.ok) ? "verified" : "failed", checks };
}

/**
 * The receipt with its batch's log bundle when the log has one whose entry names the receipt's
 * root; otherwise the receipt as stored (a receipt is never withheld for want of a bundle).
 */
async function withLogBundle(
  deps: ReceiptRoutesDeps,
  receipt: StoredReceipt,
  batchId: number,
): Promise<StoredReceipt> {
  if (deps.logBundle === undefined) return receipt;
  try {
    const found = await deps.logBundle(batchId);
    if (!found.ok) {
      if (found.reason === "below-quorum")
        deps.log.warn("log-bundle-withheld", { batchId, detail: found.detail });
      return receipt;
    }
    const root = receiptRoot(receipt);
    if (typeof root !== "string" || !sameHex(found.root, root)) {
      deps.log.error("log-bundle-mismatch", {
        batchId,
        hint: "the witnessed log names another root for this batch than the receipt: compare the log with the chain (shafaf log verify)",
      });
      return receipt;
    }
    return { ...receipt, log: found.bundle };
  } catch (error) {
    const e = error as { shortMessage?: string; message?: string; code?: string };
    deps.log.error("log-bundle", { batchId, message: e.shortMessage ?? e.message, code: e.code });
    return receipt;
  }
}

/**
 * `GET /api/v1/receipts/{code}`: a stored receipt, handed out only after it verifies against
 * its batch's indexed root (never a proof that does not verify, STYLE habit 5); with its log
 * bundle when the server keeps a witnessed log (the bundle's own proof is checked by its source).
 */
export function receiptRoutes(validators: Validators, deps: ReceiptRoutesDeps): Router {
  const { router, route, validate } = documentedRouter(validators);
  route("get", "/api/v1/receipts/{code}", async (req, res) => {
    const { params } = validate("GET", "/api/v1/receipts/{code}")(req);
    const receipt = await receiptOr404(deps, params.code as string);
    const batchId = receiptBatchId(receipt);
    if (batchId === undefined) {
      deps.log.error("receipt-integrity", { batchId: null, failed: ["batchId"] });
      throw integrityProblem();
    }
    const batch = await deps.index.getBatch(batchId);
    if (batch === undefined) {
      throw new ApiProblem(
        "batch-not-indexed",
        `batch ${batchId} is not indexed yet; retry shortly`,
        {
          headers: { "Retry-After": "5" },
        },
      );
    }
    const result = await checkAgainst(deps, receipt, batch.root);
    if (result.status !== "verified" || !sameHex(receiptRoot(receipt), batch.root)) {
      // The code is a bearer secret: not logged.
      deps.log.error("receipt-integrity", {
        batchId,
        failed: result.checks.filter((c) => !c.ok).map((c) => c.name),
      });
      throw integrityProblem();
    }
    const body = await withLogBundle(deps, receipt, batchId);
    // A receipt still waiting for its log bundle is cached briefly, so that it comes back with it.
    const waiting = deps.logBundle !== undefined && body === receipt;
    sendCacheable(req, res, body, `private, max-age=${waiting ? 60 : 3600}`);
  });
  return router;
}
