import type {
  BatchView,
  ChainBatchReader,
  IndexReader,
  LedgerReader,
  StoredReceipt,
  VerifyCheck,
  VerifyReceiptFn,
  VerifyResult,
  VerifyTrust,
} from "./app-deps.ts";

/**
 * A receipt that passed the `POST /api/v1/verify` request schema: a `shafaf-receipt/1` (its
 * `root` at the top) or a `shafaf-receipt/2` (its root in `proof.root.hash`).
 */
export type VerifyRequestReceipt = StoredReceipt & {
  batchId: number;
  root?: string;
  proof?: { root?: { hash?: string } };
};

/** The root a receipt claims, whatever its version ("" when it names none). */
export function receiptRoot(receipt: VerifyRequestReceipt | StoredReceipt): string {
  const r = receipt as VerifyRequestReceipt;
  const root = typeof r.root === "string" ? r.root : r.proof?.root?.hash;
  return typeof root === "string" ? root : "";
}

/** What makes a receipt's leaf unique: v1 its leaf values, v2 its record and salt. */
function leafIdentity(receipt: StoredReceipt): string {
  const r = receipt as Record<string, unknown>;
  return JSON.stringify(
    r.format === "shafaf-receipt/2" ? [r.record, r.salt] : r.values,
  ).toLowerCase();
}

/** What `POST /api/v1/verify` answers (the body, before serialisation). */
export interface VerifyDecision {
  status: VerifyResult["status"];
  /** Present when the batch is known (indexed or on chain): false once it was corrected. */
  current?: boolean;
  checks: VerifyCheck[];
}

export interface VerifyPolicyDeps {
  index: Pick<IndexReader, "getBatch" | "getChainInfo">;
  ledger: Pick<LedgerReader, "getReceiptByCode">;
  verify: VerifyReceiptFn;
  /** A live contract reader; without it there is no `root-on-chain` check. */
  chain?: ChainBatchReader | undefined;
  /** Receipt code as typed → the code the ledger store is keyed by, or undefined. */
  parseCode: (text: string) => string | undefined;
}

export interface VerifyPolicy {
  /** The trust for core's verifier: the root, with the index's chain and contract once known. */
  trustFor(root: string): Promise<VerifyTrust>;
  /** Core's verifier, normalised, never throwing (a throw is a failed receipt). */
  verifyAgainst(receipt: unknown, root: string): Promise<VerifyResult>;
  /** Does the code printed in the receipt fetch this very record from this server? */
  codeBinding(receipt: VerifyRequestReceipt): Promise<VerifyCheck>;
  /** The whole decision of `POST /api/v1/verify` for a schema-valid receipt. */
  decide(receipt: VerifyRequestReceipt): Promise<VerifyDecision>;
}

/** Case-insensitive equality of two hex strings; false when either is not a string. */
export function sameHex(a: unknown, b: unknown): boolean {
  return typeof a === "string" && typeof b === "string" && a.toLowerCase() === b.toLowerCase();
}

/** One check from core, reduced to the documented fields (anything else is dropped). */
export function toCheck(c: unknown): VerifyCheck {
  const x = (c ?? {}) as Record<string, unknown>;
  const check: VerifyCheck = {
    name: typeof x.name === "string" ? x.name : "unnamed",
    ok: x.ok === true,
    detail: typeof x.detail === "string" ? x.detail : "",
  };
  if (x.expected !== undefined)
    check.expected = typeof x.expected === "string" ? x.expected : JSON.stringify(x.expected);
  if (x.computed !== undefined)
    check.computed = typeof x.computed === "string" ? x.computed : JSON.stringify(x.computed);
  if (x.outcome === "pass" || x.outcome === "fail" || x.outcome === "inconclusive") {
    check.outcome = x.outcome;
  }
  return check;
}

/** Core's verifier, never throwing: a throw means the receipt is not verified. */
export async function safeVerify(
  verify: VerifyReceiptFn,
  receipt: unknown,
  trust: VerifyTrust,
): Promise<VerifyResult> {
  try {
    const r = await verify(receipt, trust);
    return { status: r.status, checks: (r.checks ?? []).map(toCheck) };
  } catch {
    // verifyReceipt MUST NOT throw; if it does, the receipt is not verified.
    return {
      status: "failed",
      checks: [{ name: "verifier", ok: false, detail: "the verifier rejected the receipt" }],
    };
  }
}

/**
 * The code is not part of the leaf: a receipt with its code replaced still proves its record.
 * "verified" vouches for the code only when the receipt this server stores under that code is
 * the same record (batch, root and leaf values; the salt makes leaf values unique).
 */
async function codeBinding(
  deps: VerifyPolicyDeps,
  receipt: VerifyRequestReceipt,
): Promise<VerifyCheck> {
  const code = typeof receipt.code === "string" ? deps.parseCode(receipt.code) : undefined;
  const stored = code === undefined ? undefined : await deps.ledger.getReceiptByCode(code);
  if (stored === undefined) {
    return {
      name: "code-bound",
      ok: false,
      outcome: "inconclusive",
      detail: "this server holds no receipt under this code: the record is proven, the code is not",
    };
  }
  const same =
    stored.batchId === receipt.batchId &&
    sameHex(receiptRoot(stored), receiptRoot(receipt)) &&
    leafIdentity(stored) === leafIdentity(receipt);
  return same
    ? {
        name: "code-bound",
        ok: true,
        outcome: "pass",
        detail: "the code fetches this very record from this server",
      }
    : {
        name: "code-bound",
        ok: false,
        outcome: "fail",
        detail: "the code belongs to another record: this receipt's code was replaced",
      };
}

/** Status only ever worsens: verified → inconclusive → failed. */
function worse(a: VerifyResult["status"], b: VerifyResult["status"]): VerifyResult["status"] {
  if (a === "failed" || b === "failed") return "failed";
  return a === "inconclusive" || b === "inconclusive" ? "inconclusive" : "verified";
}

type OnChain = { root: string; supersededBy: number } | undefined;

/** The live contract read: the batch, undefined when unknown, "error" when the chain did not answer. */
async function readOnChain(deps: VerifyPolicyDeps, batchId: number): Promise<OnChain | "error"> {
  if (deps.chain === undefined) return undefined;
  try {
    return await deps.chain.readBatch(batchId);
  } catch {
    return "error";
  }
}

function rootIndexedCheck(indexed: BatchView, receipt: VerifyRequestReceipt): VerifyCheck {
  const ok = sameHex(indexed.root, receiptRoot(receipt));
  return {
    name: "root-indexed",
    ok,
    expected: indexed.root,
    computed: receiptRoot(receipt),
    detail: ok
      ? `batch ${indexed.batchId}'s indexed root matches`
      : "the receipt's root is not the indexed root of its batch",
  };
}

function rootOnChainCheck(onChain: OnChain | "error", receipt: VerifyRequestReceipt): VerifyCheck {
  if (onChain === "error") {
    return {
      name: "root-on-chain",
      ok: false,
      detail: "the chain did not answer; the on-chain root was not read",
    };
  }
  if (onChain === undefined) {
    return {
      name: "root-on-chain",
      ok: false,
      detail: `the contract has no batch ${receipt.batchId}`,
    };
  }
  const ok = sameHex(onChain.root, receiptRoot(receipt));
  return {
    name: "root-on-chain",
    ok,
    expected: onChain.root,
    computed: receiptRoot(receipt),
    detail: ok
      ? "the contract's root for the batch matches (live eth_call)"
      : "the contract's root for the batch differs",
  };
}

function attestationsCheck(indexed: BatchView): VerifyCheck {
  const confirmed = indexed.attestations.filter((a) => a.verdict === "confirmed").length;
  const disputed = indexed.attestations.length - confirmed;
  return {
    name: "attestations",
    ok: disputed === 0,
    detail: `${confirmed} auditor(s) confirm the batch, ${disputed} dispute it`,
  };
}

/**
 * The verification policy of `POST /api/v1/verify`, without HTTP: which root is trusted (the
 * index's, else the contract's), core's proof checks against it, the code binding, the indexed
 * and on-chain roots, supersession and attestations. The status only worsens: a `fail` check or
 * a mismatching root is `failed`, missing evidence (no batch, chain silent, code unknown) is
 * `inconclusive`.
 *
 * @example
 * const policy = createVerifyPolicy({ index, ledger, verify: verifyReceipt, parseCode });
 * const { status, checks } = await policy.decide(receipt);
 */
export function createVerifyPolicy(deps: VerifyPolicyDeps): VerifyPolicy {
  /** The chain and contract of the index (fixed for a store's life), read once. */
  let binding: { chainId: number; contract: string } | undefined;
  const trustFor = async (root: string): Promise<VerifyTrust> => {
    if (binding === undefined) {
      const info = await deps.index.getChainInfo();
      if (info !== undefined) binding = { chainId: info.chainId, contract: info.contract };
    }
    return binding === undefined ? { root } : { root, ...binding };
  };
  const verifyAgainst = async (receipt: unknown, root: string) =>
    safeVerify(deps.verify, receipt, await trustFor(root));

  const decide = async (receipt: VerifyRequestReceipt): Promise<VerifyDecision> => {
    const checks: VerifyCheck[] = [];
    let status: VerifyResult["status"] = "verified";
    const indexed = await deps.index.getBatch(receipt.batchId);
    const onChain = await readOnChain(deps, receipt.batchId);
    const known = onChain === "error" ? undefined : onChain;
    const trustedRoot = indexed?.root ?? known?.root;
    if (trustedRoot === undefined) {
      status = worse(status, "inconclusive");
      checks.push({
        name: "batch",
        ok: false,
        detail: `batch ${receipt.batchId} is neither indexed nor readable on chain`,
      });
    } else {
      const core = await verifyAgainst(receipt, trustedRoot);
      checks.push(...core.checks);
      status = worse(status, core.status);
      const bound = await codeBinding(deps, receipt);
      if (bound.outcome === "fail") status = worse(status, "failed");
      if (bound.outcome === "inconclusive") status = worse(status, "inconclusive");
      checks.push(bound);
    }
    if (indexed !== undefined) {
      const check = rootIndexedCheck(indexed, receipt);
      if (!check.ok) status = worse(status, "failed");
      checks.push(check);
    }
    if (deps.chain !== undefined) {
      const check = rootOnChainCheck(onChain, receipt);
      if (!check.ok) status = worse(status, onChain === "error" ? "inconclusive" : "failed");
      checks.push(check);
    }
    const supersededBy =
      known !== undefined && known.supersededBy !== 0
        ? known.supersededBy
        : (indexed?.supersededBy ?? null);
    let current: boolean | undefined;
    if (indexed !== undefined || known !== undefined) {
      current = supersededBy === null;
      checks.push({
        name: "superseded",
        ok: current,
        detail: current
          ? "the batch is current (not corrected)"
          : `the batch was corrected by batch ${supersededBy}`,
      });
    }
    if (indexed !== undefined) checks.push(attestationsCheck(indexed));
    return { status, ...(current === undefined ? {} : { current }), checks };
  };

  return {
    trustFor,
    verifyAgainst,
    codeBinding: (receipt) => codeBinding(deps, receipt),
    decide,
  };
}
