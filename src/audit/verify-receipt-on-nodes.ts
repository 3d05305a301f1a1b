/**
 * A receipt verified against the chain as read from EVERY given node: core's `verifyReceipt`
 * does the computing and comparing; this module only supplies the trusted batch, and refuses to
 * trust it unless all nodes answer and agree. Trust assumption, named: at least one of the given
 * nodes is honest, so a batch on which they all agree is the chain's.
 */
import type { OnChainBatchV2 } from "../core/verify-document.ts";
import { ShafafError } from "../core/errors.ts";
import { createLedgerClient, ContractRevertError } from "../chain/ledger-client.ts";
import { redactUrl } from "../chain/errors.ts";
import { createRpc } from "../chain/rpc.ts";
import {
  verifyReceipt,
  type Check,
  type ReceiptTrust,
  type VerifyReceiptResult,
} from "../core/verify-receipt.ts";

export interface VerifyReceiptOnNodesParams {
  /** The receipt as parsed JSON (any shape: malformed receipts fail, they never throw). */
  receipt: unknown;
  /** JSON-RPC endpoints; each is read on its own (no fail-over between them). */
  rpcUrls: readonly string[];
  /** The official ledger contract; default: the one the receipt names. */
  contract?: string | undefined;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number | undefined;
  /** Retries per node for retryable failures (default 1). */
  retries?: number | undefined;
  /**
   * The core verifier to run against the nodes' batch (default `verifyReceipt`); `verifyDocument`
   * for v2 receipts and person proofs.
   */
  verify?: ((document: unknown, trust: ReceiptTrust) => Promise<VerifyReceiptResult>) | undefined;
}

/** What one node answered. `batch` is undefined when the node says the batch does not exist. */
export interface NodeAnswer {
  endpoint: string;
  ok: boolean;
  batch?: OnChainBatchV2 | undefined;
  error?: string;
}

export interface VerifyReceiptOnNodesResult extends VerifyReceiptResult {
  /** Person proofs: what was established (only when verified). */
  person?: { type: "range" | "absence"; records: number; lanes: string[] };
  nodes: NodeAnswer[];
}

/** The fields of a batch the nodes must agree on, in a fixed order. */
function fingerprint(b: OnChainBatchV2 | undefined): string {
  if (b === undefined) return "none";
  return [
    b.chainId,
    b.contract.toLowerCase(),
    b.batchId,
    b.root.toLowerCase(),
    b.kind,
    b.period,
    b.supersededBy,
    b.confirmations,
    b.disputes,
    ...(b.scheme !== undefined ? [b.scheme, b.vrfPublicKey ?? "no VRF key"] : []),
  ].join("|");
}

/** Reads `batchId` from one node: chain id, getBatch, attestationCounts. */
async function readFromNode(
  url: string,
  contract: string,
  batchId: number,
  options: { timeoutMs: number; retries: number },
): Promise<NodeAnswer> {
  const endpoint = redactUrl(url);
  try {
    const rpc = createRpc({ url, timeoutMs: options.timeoutMs, retries: options.retries });
    const ledger = createLedgerClient({ rpc, address: contract });
    const chainId = Number(BigInt(await rpc.request<string>("eth_chainId")));
    let read;
    try {
      read = await ledger.readBatch(batchId);
    } catch (error) {
      if (error instanceof ContractRevertError && error.errorName === "LedgerUnknownBatch")
        return { endpoint, ok: true, batch: undefined };
      throw error;
    }
    const batch = read.batch;
    let v2: { scheme: "shafaf-tree/2"; vrfPublicKey?: string } | undefined;
    if (read.scheme === "shafaf-tree/2") {
      // The VRF key the batch's person keys derive from, as the ledger registered it.
      const keyId = read.batch.vrfKeyId;
      const key = (await ledger.vrfKeys()).find((k) => k.keyId === keyId);
      v2 = {
        scheme: "shafaf-tree/2",
        ...(key !== undefined ? { vrfPublicKey: key.publicKey.toLowerCase() } : {}),
      };
    }
    const counts = await ledger.attestationCounts(batchId);
    return {
      endpoint,
      ok: true,
      batch: {
        chainId,
        contract: ledger.address,
        batchId,
        root: batch.root,
        supersededBy: batch.supersededBy,
        confirmations: counts.confirmations,
        disputes: counts.disputes,
        kind: batch.kind,
        period: batch.period,
        ...v2,
      },
    };
  } catch (error) {
    const e = error as { shortMessage?: string; message?: string };
    return { endpoint, ok: false, error: e.shortMessage ?? e.message ?? String(error) };
  }
}

/**
 * Verifies a receipt against the batch read from every node in `rpcUrls`. Never throws for bad
 * receipts or unreachable nodes:
 * - a node that cannot be read, or nodes that disagree on the batch, make the result
 *   `inconclusive` (check `nodes-agree`), never `verified`;
 * - otherwise core's verdict stands (`verified`, `failed` naming the check, or `inconclusive`
 *   for a superseded batch).
 *
 * @example
 * const r = await verifyReceiptOnNodes({ receipt, rpcUrls: ["http://a:8545", "http://b:8545"] });
 * process.exitCode = { verified: 0, failed: 1, inconclusive: 2 }[r.status];
 */
export async function verifyReceiptOnNodes(
  params: VerifyReceiptOnNodesParams,
): Promise<VerifyReceiptOnNodesResult> {
  const nodes: NodeAnswer[] = [];
  let agreement: Check | undefined;
  const timeoutMs = params.timeoutMs ?? 10_000;
  const retries = params.retries ?? 1;
  const named = (params.receipt as { contract?: unknown } | null)?.contract;
  const contract = params.contract ?? (typeof named === "string" ? named : undefined);

  const verify = params.verify ?? verifyReceipt;
  const result = await verify(params.receipt, {
    async readBatch(batchId) {
      if (contract === undefined || params.rpcUrls.length === 0)
        throw new ShafafError("no contract or node to read", { code: "audit.nodes.none" });
      const answers = await Promise.all(
        params.rpcUrls.map((url) => readFromNode(url, contract, batchId, { timeoutMs, retries })),
      );
      nodes.push(...answers);
      const down = answers.filter((a) => !a.ok);
      if (down.length > 0) {
        agreement = {
          name: "nodes-agree",
          ok: false,
          outcome: "inconclusive",
          detail: `${down.length} of ${answers.length} node(s) could not be read (${down
            .map((a) => `${a.endpoint}: ${a.error ?? "error"}`)
            .join("; ")}); every given node must answer`,
        };
        throw new ShafafError("a node could not be read", {
          code: "audit.nodes.unreadable",
          retryable: true,
        });
      }
      const prints = answers.map((a) => fingerprint(a.batch));
      if (new Set(prints).size > 1) {
        agreement = {
          name: "nodes-agree",
          ok: false,
          outcome: "inconclusive",
          expected: `${answers[0]!.endpoint}: ${prints[0]!}`,
          computed: answers
            .slice(1)
            .map((a, i) => `${a.endpoint}: ${prints[i + 1]!}`)
            .join("; "),
          detail: `the ${answers.length} nodes disagree on batch ${batchId} (chainId|contract|batchId|root|kind|period|supersededBy|confirmations|disputes); a node is lying or behind — try again, or ask other nodes`,
        };
        throw new ShafafError("the nodes disagree", {
          code: "audit.nodes.disagree",
          retryable: true,
        });
      }
      agreement = {
        name: "nodes-agree",
        ok: true,
        outcome: "pass",
        detail: `${answers.length} node(s) agree on batch ${batchId}`,
      };
      return answers[0]!.batch;
    },
  });
  const checks = agreement === undefined ? result.checks : [...result.checks, agreement];
  if (contract !== undefined && params.contract === undefined && nodes.length > 0) {
    checks.push({
      name: "contract-source",
      ok: true,
      outcome: "pass",
      detail:
        "the ledger contract was taken from the receipt; pass --contract with the official address to pin it",
    });
  }
  const status = checks.some((c) => c.outcome === "fail")
    ? "failed"
    : checks.some((c) => c.outcome === "inconclusive")
      ? "inconclusive"
      : "verified";
  // What the document's verifier established besides the checks (a person proof's kind and
  // record count) stands only when the nodes' answer leaves the document verified.
  const person = (result as { person?: VerifyReceiptOnNodesResult["person"] }).person;
  return {
    status,
    checks,
    nodes,
    ...(status === "verified" && person !== undefined ? { person } : {}),
  };
}
