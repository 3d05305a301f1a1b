import type { Router } from "express";
import type { ApiLog, IndexReader, LedgerReader, StoredReceipt } from "../app-deps.ts";
import { sendCacheable } from "../http-cache.ts";
import { ApiProblem } from "../problem.ts";
import { sameHex, type VerifyPolicy } from "../verify-policy.ts";
import { documentedRouter, type Validators } from "./documented.ts";

export interface ReceiptRoutesDeps {
  index: Pick<IndexReader, "getBatch">;
  ledger: Pick<LedgerReader, "getReceiptByCode">;
  policy: Pick<VerifyPolicy, "verifyAgainst">;
  parseCode: (text: string) => string | undefined;
  log: ApiLog;
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
  const receipt = await deps.ledger.getReceiptByCode(code);
  if (receipt === undefined) {
    throw new ApiProblem(
      "receipt-not-found",
      "no receipt has this code: check it against the printed receipt",
    );
  }
  return receipt;
}

/**
 * `GET /api/v1/receipts/{code}`: a stored receipt, handed out only after it verifies against
 * its batch's indexed root (never a proof that does not verify, STYLE habit 5).
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
    const result = await deps.policy.verifyAgainst(receipt, batch.root);
    if (result.status !== "verified" || !sameHex(receipt.root, batch.root)) {
      // The code is a bearer secret: not logged.
      deps.log.error("receipt-integrity", {
        batchId,
        failed: result.checks.filter((c) => !c.ok).map((c) => c.name),
      });
      throw integrityProblem();
    }
    sendCacheable(req, res, receipt, "private, max-age=3600");
  });
  return router;
}
