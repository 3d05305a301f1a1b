import { bytesToHex, isHexBytes, type Hex } from "./hex.ts";
import { LEAF_ENCODING, fieldsHash, leafHash, recordIdHash, type LeafValues } from "./leaf.ts";
import { processProof } from "./merkle-tree.ts";
import { periodToNumber } from "./period.ts";
import { RECEIPT_FORMAT, recordFromJson } from "./receipt.ts";
import { parseReceiptCode } from "./receipt-code.ts";
import { recordAmount } from "./record-amount.ts";
import { KIND_NUMBER } from "./record.ts";

/** One check: `pass`, `fail` (with `expected` and `computed`), or `inconclusive` (what is missing). */
export interface Check {
  name: string;
  ok: boolean;
  outcome: "pass" | "fail" | "inconclusive";
  expected?: string;
  computed?: string;
  detail: string;
}

export interface VerifyReceiptResult {
  status: "verified" | "failed" | "inconclusive";
  checks: Check[];
}

/** A batch as read from the chain by a trusted client (`getBatch` + `attestationCounts`). */
export interface OnChainBatch {
  /** The chain and contract the batch was read from. */
  chainId: number;
  contract: string;
  batchId: number;
  root: string;
  /** 0 while current. */
  supersededBy: number;
  confirmations: number;
  disputes: number;
  /** On-chain kind number and period YYYYMM, when the reader has them. */
  kind?: number;
  period?: number;
}

/**
 * What the verifier trusts: a root obtained out of band (offline), or a reader of the chain.
 * `readBatch` resolves `undefined` for an unknown batch id and rejects when the chain cannot be read.
 */
export type ReceiptTrust =
  | { root: string; chainId?: number; contract?: string }
  | { readBatch(batchId: number): Promise<OnChainBatch | undefined> };

const UINT = /^(0|[1-9][0-9]{0,77})$/;
const LIMITS: readonly bigint[] = [0n, 1n << 8n, 1n << 32n, 1n << 256n];

/**
 * Verifies a receipt against a trusted root or the chain. Never throws: hostile or malformed
 * input yields `failed` with the check that broke. Computes first (leaf, root from proof), then
 * compares, so every failure carries `expected` and `computed`.
 *
 * - `verified`: every check passed.
 * - `failed`: some check failed (the receipt is wrong, forged, or for another chain or batch).
 * - `inconclusive`: nothing failed, but something could not be established (the chain could not
 *   be read, or the batch has been superseded by a correction).
 *
 * @example
 * const r = await verifyReceipt(JSON.parse(text), { root: "0x…" });
 * if (r.status !== "verified") console.log(r.checks.filter((c) => !c.ok));
 */
export async function verifyReceipt(
  receipt: unknown,
  trust: ReceiptTrust,
): Promise<VerifyReceiptResult> {
  const checks: Check[] = [];
  const pass = (name: string, detail: string, extra: Partial<Check> = {}) =>
    checks.push({ name, ok: true, outcome: "pass", detail, ...extra });
  const fail = (name: string, detail: string, expected?: string, computed?: string) =>
    checks.push({
      name,
      ok: false,
      outcome: "fail",
      detail,
      ...(expected === undefined ? {} : { expected: clip(expected) }),
      ...(computed === undefined ? {} : { computed: clip(computed) }),
    });
  const inconclusive = (name: string, detail: string) =>
    checks.push({ name, ok: false, outcome: "inconclusive", detail });
  const result = (): VerifyReceiptResult => ({
    status: checks.some((c) => c.outcome === "fail")
      ? "failed"
      : checks.some((c) => c.outcome === "inconclusive")
        ? "inconclusive"
        : "verified",
    checks,
  });

  try {
    // ── shape ──
    let shape: ReceiptShape | string;
    try {
      shape = readShape(receipt);
    } catch {
      shape = "the receipt could not be read (hostile or broken object)";
    }
    if (typeof shape === "string") {
      fail("format", shape, RECEIPT_FORMAT);
      return result();
    }
    pass("format", `a ${RECEIPT_FORMAT} receipt`);
    const r = shape;

    const encoding = JSON.stringify(r.leafEncoding);
    if (encoding !== JSON.stringify(LEAF_ENCODING)) {
      fail(
        "leaf-encoding",
        "the leaf encoding is not Shafaf's version 1",
        JSON.stringify(LEAF_ENCODING),
        encoding,
      );
    } else pass("leaf-encoding", "Shafaf leaf encoding version 1");

    const code = parseReceiptCode(r.code);
    if (!code.ok)
      fail(
        "code",
        `the receipt code is invalid (${code.problem})`,
        "a code with a valid check symbol",
        r.code,
      );
    else pass("code", "the receipt code's check symbol is valid");

    // ── opening: the record against the leaf values ──
    const values = r.values;
    let record: ReturnType<typeof recordFromJson>;
    try {
      record = recordFromJson(r.record);
    } catch {
      record = undefined;
    }
    if (record === undefined) {
      fail("record", "the record opening is missing fields or has malformed ones");
    } else {
      pass("record", `a ${record.kind} record opening`);
      const compare = (name: string, what: string, expected: string, computed: string) => {
        if (expected.toLowerCase() === computed.toLowerCase())
          pass(name, `${what} matches the leaf`);
        else fail(name, `${what} does not match the leaf`, expected, computed);
      };
      compare("record-id", "the record id's hash", values[0], recordIdHash(record.recordId));
      compare("kind", "the kind", values[1], String(KIND_NUMBER[record.kind]));
      let period = "";
      try {
        period = String(periodToNumber(record.period));
      } catch {
        period = "(not a period)";
      }
      compare("period", "the period", values[2], period);
      compare("amount", "the amount", values[3], recordAmount(record).toString());
      let fields = "";
      try {
        fields = fieldsHash(record, values[6] as Hex);
      } catch {
        fields = "(not computable)";
      }
      compare("fields", "the hash of the other fields", values[4], fields);
    }

    // ── compute: leaf and root ──
    const tuple: LeafValues = [
      values[0] as Hex,
      BigInt(values[1]),
      BigInt(values[2]),
      BigInt(values[3]),
      values[4] as Hex,
      values[5] as Hex,
      values[6] as Hex,
    ];
    const leaf = bytesToHex(leafHash(tuple));
    const computedRoot = processProof(leaf, r.proof);
    pass("leaf", "leaf hash computed from the values", { computed: leaf });
    if (computedRoot === r.root.toLowerCase())
      pass("proof", "the proof leads from the leaf to the receipt's root", {
        computed: computedRoot,
      });
    else
      fail(
        "proof",
        "the proof does not lead from the leaf to the receipt's root",
        r.root.toLowerCase(),
        computedRoot,
      );

    // ── compare with what is trusted ──
    if ("root" in trust) {
      const trusted = typeof trust.root === "string" ? trust.root.toLowerCase() : "";
      if (!isHexBytes(trusted, 32))
        inconclusive("anchored-root", "the trusted root is not a 32-byte hex word");
      else if (trusted === computedRoot)
        pass("anchored-root", "the computed root equals the trusted root", {
          expected: trusted,
          computed: computedRoot,
        });
      else
        fail(
          "anchored-root",
          "the computed root differs from the trusted root",
          trusted,
          computedRoot,
        );
      if (trust.chainId !== undefined) {
        if (trust.chainId === r.chainId) pass("chain", `chain id ${r.chainId}`);
        else
          fail(
            "chain",
            "the receipt names another chain",
            String(trust.chainId),
            String(r.chainId),
          );
      }
      if (trust.contract !== undefined) {
        if (trust.contract.toLowerCase() === r.contract.toLowerCase())
          pass("contract", "the ledger contract matches");
        else
          fail(
            "contract",
            "the receipt names another ledger contract",
            trust.contract.toLowerCase(),
            r.contract.toLowerCase(),
          );
      }
      return result();
    }

    let batch: OnChainBatch | undefined;
    try {
      batch = await trust.readBatch(r.batchId);
    } catch {
      inconclusive(
        "chain-read",
        `batch ${r.batchId} could not be read from the chain; try again later`,
      );
      return result();
    }
    if (batch === undefined || batch === null) {
      fail("batch-exists", `the chain has no batch ${r.batchId}`, `batch ${r.batchId}`, "none");
      return result();
    }
    if (
      typeof batch !== "object" ||
      typeof batch.root !== "string" ||
      typeof batch.chainId !== "number" ||
      typeof batch.contract !== "string"
    ) {
      inconclusive("chain-read", "the chain reader returned a malformed batch");
      return result();
    }
    if (batch.chainId === r.chainId) pass("chain", `chain id ${r.chainId}`);
    else
      fail(
        "chain",
        "the receipt names another chain than the one read",
        String(batch.chainId),
        String(r.chainId),
      );
    if (batch.contract.toLowerCase() === r.contract.toLowerCase())
      pass("contract", "the ledger contract matches");
    else
      fail(
        "contract",
        "the receipt names another ledger contract than the one read",
        batch.contract.toLowerCase(),
        r.contract.toLowerCase(),
      );
    const onChainRoot = batch.root.toLowerCase();
    if (onChainRoot === computedRoot)
      pass("anchored-root", `the computed root is batch ${r.batchId}'s anchored root`, {
        expected: onChainRoot,
        computed: computedRoot,
      });
    else
      fail(
        "anchored-root",
        `the computed root differs from batch ${r.batchId}'s anchored root`,
        onChainRoot,
        computedRoot,
      );
    if (batch.kind !== undefined && batch.period !== undefined) {
      const expected = `${batch.kind}/${batch.period}`;
      const got = `${values[1]}/${values[2]}`;
      if (expected === got) pass("batch-kind-period", "kind and period match the batch");
      else
        fail(
          "batch-kind-period",
          "the record's kind or period differs from the batch's",
          expected,
          got,
        );
    }
    if (typeof batch.supersededBy === "number" && batch.supersededBy !== 0) {
      inconclusive(
        "current",
        `batch ${r.batchId} was superseded by batch ${batch.supersededBy}: this record was anchored, but a correction exists — ask for the corrected receipt`,
      );
    } else pass("current", `batch ${r.batchId} is current (not superseded)`);
    const conf = Number(batch.confirmations) || 0;
    const disp = Number(batch.disputes) || 0;
    pass(
      "attestations",
      `${conf} auditor confirmation(s), ${disp} dispute(s)${disp > 0 ? " — an auditor disputes this batch" : ""}`,
    );
    return result();
  } catch (e) {
    // Input was read defensively above, so a throw here is the environment (e.g. a page policy
    // refusing WebAssembly), not evidence against the receipt: never report it as a failure.
    inconclusive(
      "internal",
      `verification could not run here: ${e instanceof Error ? e.name : "error"}`,
    );
    return result();
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

interface ReceiptShape {
  code: string;
  chainId: number;
  contract: string;
  batchId: number;
  root: string;
  leafEncoding: unknown[];
  values: [string, string, string, string, string, string, string];
  proof: string[];
  record: unknown;
}

/** The receipt's fields with their JSON types checked, or a message naming the first bad field. */
function readShape(x: unknown): ReceiptShape | string {
  if (typeof x !== "object" || x === null || Array.isArray(x))
    return "the receipt is not a JSON object";
  const o = x as Record<string, unknown>;
  if (o.format !== RECEIPT_FORMAT) return `format must be "${RECEIPT_FORMAT}"`;
  if (typeof o.code !== "string") return "code must be a string";
  if (typeof o.chainId !== "number" || !Number.isSafeInteger(o.chainId) || o.chainId <= 0)
    return "chainId must be a positive integer";
  if (!isHexBytes(o.contract, 20)) return "contract must be a 20-byte 0x address";
  if (typeof o.batchId !== "number" || !Number.isSafeInteger(o.batchId) || o.batchId <= 0)
    return "batchId must be a positive integer";
  if (!isHexBytes(o.root, 32)) return "root must be a 32-byte 0x hex word";
  if (
    !Array.isArray(o.leafEncoding) ||
    o.leafEncoding.length > 16 ||
    !o.leafEncoding.every((t) => typeof t === "string" && t.length <= 32)
  )
    return "leafEncoding must be an array of ABI types";
  const v = o.values;
  if (!Array.isArray(v) || v.length !== 7) return "values must be an array of 7 leaf values";
  for (const i of [0, 4, 5, 6])
    if (!isHexBytes(v[i], 32)) return `values[${i}] must be a 32-byte 0x hex word`;
  for (const i of [1, 2, 3]) {
    const s: unknown = v[i];
    if (typeof s !== "string" || !UINT.test(s) || BigInt(s) >= LIMITS[i]!) {
      return `values[${i}] must be a decimal string of a uint${[0, 8, 32, 256][i]}`;
    }
  }
  if (!Array.isArray(o.proof) || o.proof.length > 256)
    return "proof must be an array of at most 256 elements";
  for (let i = 0; i < o.proof.length; i++)
    if (!isHexBytes(o.proof[i], 32)) return `proof[${i}] must be a 32-byte 0x hex word`;
  const a = o.anchor;
  if (
    typeof a !== "object" ||
    a === null ||
    !isHexBytes((a as Record<string, unknown>).txHash, 32)
  ) {
    return "anchor.txHash must be a 32-byte 0x hex word";
  }
  const bn = (a as Record<string, unknown>).blockNumber;
  if (typeof bn !== "number" || !Number.isSafeInteger(bn) || bn < 0)
    return "anchor.blockNumber must be a non-negative integer";
  return {
    code: o.code,
    chainId: o.chainId,
    contract: o.contract,
    batchId: o.batchId,
    root: o.root,
    leafEncoding: o.leafEncoding as unknown[],
    values: v as ReceiptShape["values"],
    proof: o.proof as string[],
    record: o.record,
  };
}
