/**
 * What the chain says about an anchoring job: is its batch anchored (by the idempotency key, the
 * contract's own record), and where is the transaction it stored (mined, pending in the node, or
 * unknown to it). `shafaf jobs` shows it, `shafaf jobs abandon` decides with it, and a re-run of
 * `shafaf anchor` uses the same transaction status to decide whether a stored transaction signed
 * by another account must be signed again.
 *
 * The safety argument (a batch is never anchored twice) rests on the contract, not on this
 * module: `anchorBatch` refuses a second batch with the same idempotency key. Re-signing a job
 * keeps its artifact, hence its root, manifest hash and idempotency key: whichever of the old and
 * the new transaction is mined first anchors the batch, and the other reverts. Abandoning is
 * allowed only while the key is not on the chain and the node does not hold the transaction; the
 * raw bytes are then deleted, so Shafaf never sends them again.
 */
import { InvariantError } from "../core/errors.ts";
import { Transaction, getAddress } from "ethers";
import type { JobRecord } from "../store/ledger-store.ts";
import {
  ledgerAnchorInterface,
  readTransactionStatus,
  type RpcSend,
  type StoredTxStatus,
} from "./anchor-chain.ts";

export { readTransactionStatus, type RpcSend, type StoredTxStatus };

/** The signer and nonce of signed transaction bytes. */
export function decodeSignedTx(rawTx: string): { signer: string; nonce: number } {
  const tx = Transaction.from(rawTx);
  if (tx.from === null)
    throw new InvariantError("the stored transaction is not signed", {
      code: "anchor.job.unsigned-tx",
    });
  return { signer: getAddress(tx.from), nonce: tx.nonce };
}

export interface JobChainView {
  /** The batch the contract holds under the job's idempotency key; 0 when none. */
  anchoredBatchId: number;
  tx:
    | (StoredTxStatus & {
        hash: string;
        signer: string | null;
        nonce: number | null;
        /** The signer's next nonce on chain; above `nonce`, an unmined transaction can never be mined. */
        signerNextNonce: number | null;
        signerBalanceWei: string | null;
      })
    | null;
  /** What the job needs, one word: done, finish, wait, stuck, resume, abandoned. */
  condition: "done" | "finish" | "wait" | "stuck" | "resume" | "abandoned";
  /** Whether `shafaf jobs abandon` may abandon it now. */
  abandonable: boolean;
  /** What to do, in one or two sentences. */
  advice: string;
}

/**
 * Reads the chain's view of `job` on the ledger `contract`.
 *
 * @example
 * const view = await inspectJob({ job, send: (m, p) => provider.send(m, p), contract });
 * if (view.condition === "stuck") console.log(view.advice);
 */
export async function inspectJob(params: {
  job: JobRecord;
  send: RpcSend;
  contract: string;
  /** The anchor command line hint, e.g. "the same shafaf anchor command". */
  anchorCommand?: string;
}): Promise<JobChainView> {
  const { job, send } = params;
  const rerun = params.anchorCommand ?? "the same `shafaf anchor` command";
  const short = job.jobId.slice(0, 12);
  const data = ledgerAnchorInterface.encodeFunctionData("batchIdOfIdempotencyKey", [
    job.idempotencyKey,
  ]);
  const out = (await send("eth_call", [{ to: params.contract, data }, "latest"])) as string;
  const anchoredBatchId = Number(
    ledgerAnchorInterface.decodeFunctionResult("batchIdOfIdempotencyKey", out)[0] as bigint,
  );

  const hash = job.txHash ?? job.abandonedTx?.txHash;
  let tx: JobChainView["tx"] = null;
  if (hash !== undefined) {
    const decoded = job.rawTx === undefined ? undefined : decodeSignedTx(job.rawTx);
    const signer = job.signer ?? decoded?.signer ?? job.abandonedTx?.signer ?? null;
    const status = await readTransactionStatus(send, hash);
    let signerNextNonce: number | null = null;
    let signerBalanceWei: string | null = null;
    if (signer !== null) {
      signerNextNonce = Number(
        BigInt((await send("eth_getTransactionCount", [signer, "latest"])) as string),
      );
      signerBalanceWei = BigInt(
        (await send("eth_getBalance", [signer, "latest"])) as string,
      ).toString();
    }
    tx = {
      ...status,
      hash,
      signer,
      nonce: decoded?.nonce ?? null,
      signerNextNonce,
      signerBalanceWei,
    };
  }

  if (job.state === "complete") {
    return {
      anchoredBatchId,
      tx,
      condition: "done",
      abandonable: false,
      advice: `complete: batch ${job.batchId}`,
    };
  }
  if (anchoredBatchId !== 0) {
    return {
      anchoredBatchId,
      tx,
      condition: "finish",
      abandonable: false,
      advice: `the batch is anchored (batch ${anchoredBatchId}); run ${rerun} again to write its receipts — this job is not stuck and cannot be abandoned`,
    };
  }
  if (job.state === "abandoned") {
    return {
      anchoredBatchId,
      tx,
      condition: "abandoned",
      abandonable: false,
      advice: `abandoned${job.abandonedAt !== undefined ? ` at ${job.abandonedAt}` : ""}; running ${rerun} on the same inputs again starts it over with the current signer (same idempotency key)`,
    };
  }
  if (tx === null || job.state === "prepared") {
    return {
      anchoredBatchId,
      tx,
      condition: "resume",
      abandonable: true,
      advice: `nothing was sent yet; run ${rerun} again to anchor it, or \`shafaf jobs abandon ${short}\` to give up these inputs`,
    };
  }
  if (tx.status === "pending") {
    return {
      anchoredBatchId,
      tx,
      condition: "wait",
      abandonable: false,
      advice: `the transaction is in the node's pool, waiting to be mined; run ${rerun} again to wait for it (it cannot be abandoned while it may still be mined)`,
    };
  }
  if (tx.status === "mined") {
    return {
      anchoredBatchId,
      tx,
      condition: "resume",
      abandonable: true,
      advice: tx.succeeded
        ? `the transaction was mined but no batch has the job's key: run ${rerun} again to see why`
        : `the transaction reverted (block ${tx.blockNumber}); run ${rerun} again: it signs again and shows the contract's reason`,
    };
  }
  const dead = tx.nonce !== null && tx.signerNextNonce !== null && tx.signerNextNonce > tx.nonce;
  return {
    anchoredBatchId,
    tx,
    condition: "stuck",
    abandonable: true,
    advice: dead
      ? `the transaction's nonce was used by another transaction of ${tx.signer}, so it can never be mined; run ${rerun} again (it signs again) or \`shafaf jobs abandon ${short}\``
      : `the node does not know the transaction: it was refused when sent (often: the account ${tx.signer ?? "?"} had no ETH for gas) or dropped. ` +
        `Fund that account and run ${rerun} again, or run it with another funded signer (it signs again, same idempotency key), or give up these inputs: \`shafaf jobs abandon ${short}\``,
  };
}
