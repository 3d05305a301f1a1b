/**
 * An auditor's verdict on-chain: `attest(batchId, verdict, keccak256(report bytes))`, after
 * checking that the report is an audit of exactly this batch (id and root as anchored).
 */
import { Contract, Interface, keccak256, type HDNodeWallet, type Wallet } from "ethers";
import { InvalidInputError, ShafafError } from "../core/errors.ts";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import type { LedgerClient } from "../chain/ledger-client.ts";
import { AUDIT_REPORT_FORMAT } from "./audit-report.ts";

const attestInterface = new Interface(LEDGER_ABI);
const VERDICT_NUMBER = { confirmed: 1, disputed: 2 } as const;

export interface AttestBatchParams {
  /** The auditor's wallet, connected to the chain's provider. */
  wallet: Wallet | HDNodeWallet;
  ledger: LedgerClient;
  batchId: number;
  verdict: "confirmed" | "disputed";
  /** The report file's exact bytes (`shafaf-audit/1` JSON). */
  reportBytes: Uint8Array;
}

export interface AttestBatchResult {
  txHash: string;
  blockNumber: number;
  reportHash: string;
  auditor: string;
}

/** What {@link attestBatch} throws: a report that does not fit the batch (InvalidInputError, not retryable), or the chain refusing or failing (ShafafError; `retryable` says whether to try again). */
export type AttestBatchErrorType = InvalidInputError | ShafafError;

/**
 * Checks the report against the batch and attests. Refuses (InvalidInputError) a report of
 * another batch or root, a report that is not `shafaf-audit/1`, and `confirmed` on a report whose
 * own verdict is `mismatch`.
 *
 * @example
 * const r = await attestBatch({ wallet, ledger, batchId: 3, verdict: "confirmed", reportBytes });
 * console.log(r.txHash);
 */
export async function attestBatch(params: AttestBatchParams): Promise<AttestBatchResult> {
  let report: {
    format?: unknown;
    batchId?: unknown;
    anchored?: { root?: unknown; source?: unknown; contract?: unknown };
    verdict?: unknown;
  };
  try {
    report = JSON.parse(new TextDecoder().decode(params.reportBytes)) as typeof report;
  } catch {
    throw new InvalidInputError("the report is not JSON", {
      details: "give the JSON report written by `shafaf audit --report FILE.json`",
      code: "attest.report.json",
    });
  }
  if (report.format !== AUDIT_REPORT_FORMAT) {
    throw new InvalidInputError(
      `the report's format is ${JSON.stringify(report.format)}, not ${AUDIT_REPORT_FORMAT}`,
      {
        details:
          "give the JSON report written by `shafaf audit --report FILE.json` (not the HTML page)",
        code: "attest.report.format",
      },
    );
  }
  if (report.batchId !== params.batchId) {
    throw new InvalidInputError(
      `the report is about batch ${String(report.batchId)}, not batch ${params.batchId}`,
      {
        details: "attest the batch the report audits, or audit this batch first",
        code: "attest.report.batch",
      },
    );
  }
  if (report.anchored?.source !== "chain") {
    throw new InvalidInputError("the report was not compared with the chain", {
      details:
        "audit again with --rpc URL --contract ADDR, so that the report compares the export with what is anchored on-chain",
      code: "attest.report.source",
    });
  }
  if (
    typeof report.anchored.contract !== "string" ||
    report.anchored.contract.toLowerCase() !== params.ledger.address.toLowerCase()
  ) {
    throw new InvalidInputError(
      `the report audits the ledger at ${String(report.anchored.contract)}, not ${params.ledger.address}`,
      {
        details: "attest on the ledger the report was made against",
        code: "attest.report.contract",
      },
    );
  }
  const { batch } = await params.ledger.readBatch(params.batchId);
  const root = typeof report.anchored?.root === "string" ? report.anchored.root.toLowerCase() : "";
  if (root !== batch.root) {
    throw new InvalidInputError(
      `the report's root ${root || "(none)"} is not batch ${params.batchId}'s root ${batch.root}`,
      {
        details:
          "the report was made against another chain, contract or batch; audit again against this ledger",
        code: "attest.report.root",
      },
    );
  }
  if (params.verdict === "confirmed" && report.verdict !== "match") {
    throw new InvalidInputError(
      "the report found differences: it cannot support --verdict confirmed",
      {
        details:
          "attest with --verdict disputed, or audit again once the organization has explained the differences",
        code: "attest.report.verdict",
      },
    );
  }
  const reportHash = keccak256(params.reportBytes);
  const contract = new Contract(params.ledger.address, LEDGER_ABI, params.wallet);
  let tx;
  try {
    tx = await (
      contract.getFunction("attest") as (...a: unknown[]) => Promise<{
        hash: string;
        wait(): Promise<{ blockNumber: number; status: number | null } | null>;
      }>
    )(params.batchId, VERDICT_NUMBER[params.verdict], reportHash);
  } catch (error) {
    throw explainRevert(error);
  }
  const mined = await tx.wait();
  if (mined === null || mined.status !== 1)
    throw new ShafafError(`attest transaction ${tx.hash} failed`, { code: "attest.tx" });
  return {
    txHash: tx.hash,
    blockNumber: mined.blockNumber,
    reportHash,
    auditor: params.wallet.address,
  };
}

function explainRevert(error: unknown): Error {
  const data =
    (error as { data?: unknown }).data ??
    (error as { info?: { error?: { data?: unknown } } }).info?.error?.data;
  let name: string | undefined;
  let args: unknown[] = [];
  if (typeof data === "string" && data.startsWith("0x")) {
    try {
      const parsed = attestInterface.parseError(data);
      if (parsed !== null) {
        name = parsed.name;
        args = [...parsed.args];
      }
    } catch {
      // not one of ours
    }
  }
  if (name === "AccessControlUnauthorizedAccount")
    return new ShafafError(`${String(args[0])} is not an auditor of this ledger (AUDITOR_ROLE)`, {
      details:
        "ask governance to grant AUDITOR_ROLE to this account, or sign with an auditor's keystore",
      code: "attest.role",
    });
  if (name === "LedgerEnforcedPause")
    return new ShafafError("the ledger is paused: attesting is stopped", { code: "attest.paused" });
  if (name !== undefined)
    return new ShafafError(`attest reverted with ${name}(${args.map(String).join(", ")})`, {
      code: "attest.revert",
    });
  return error instanceof Error ? error : new Error(String(error));
}
