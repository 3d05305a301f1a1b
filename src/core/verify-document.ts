/**
 * One verifier for everything a person or an inspector may hold (docs/spec/receipt-v2.md,
 * docs/spec/person-proof-v1.md): `shafaf-receipt/1` (delegated to verifyReceipt, unchanged),
 * `shafaf-receipt/2` and `shafaf-person-proof/1`, dispatched by `format`. Pure and browser-safe.
 */
import { bytesToHex, hexToBytes, isHexBytes } from "./hex.ts";
import { batchPersonKey, personVrfInput } from "./person-key.ts";
import { parsePersonId } from "./person-id.ts";
import { RECEIPT_FORMAT, recordFromJson } from "./receipt.ts";
import { parseReceiptCode } from "./receipt-code.ts";
import type { LedgerRecord } from "./record.ts";
import { sumTreeRecordFields } from "./sum-tree-record.ts";
import { SUM_TREE_SCHEME } from "./sum-tree-proof.ts";
import { isTreeSchemeId, type TreeSchemeId } from "./tree-scheme.ts";
import { verifyReceipt, type Check, type OnChainBatch } from "./verify-receipt.ts";
import { verifySumTreeProof, type VerifySumTreeProofResult } from "./verify-sum-tree-proof.ts";
import { vrfVerify } from "./vrf.ts";

/** The formats {@link verifyDocument} knows; anything else is refused at `format`. */
export const DOCUMENT_FORMATS = [
  "shafaf-receipt/1",
  "shafaf-receipt/2",
  "shafaf-person-proof/1",
] as const;
export type DocumentFormat = (typeof DOCUMENT_FORMATS)[number];

/**
 * A batch as a trusted chain reader sees it. The v2 fields are what the on-chain side records
 * with a v2 anchor: the batch's tree scheme and the VRF public key its person keys were made
 * with (32 bytes, hex). A reader that does not know them leaves them out; a v2 document then
 * comes out `inconclusive` on the VRF key, never `verified`.
 */
export interface OnChainBatchV2 extends OnChainBatch {
  scheme?: TreeSchemeId;
  vrfPublicKey?: string;
}

/** What is trusted offline: a root (and the VRF public key, for person proofs). */
export interface OfflineTrust {
  root: string;
  vrfPublicKey?: string;
  chainId?: number;
  contract?: string;
}

/**
 * What the verifier trusts: offline values, or a reader of the chain. `readBatch` resolves
 * `undefined` for an unknown batch and rejects when the chain cannot be read (→ inconclusive).
 */
export type DocumentTrust =
  OfflineTrust | { readBatch(batchId: number): Promise<OnChainBatchV2 | undefined> };

export interface VerifyDocumentResult {
  status: "verified" | "failed" | "inconclusive";
  /** The document's format when it names a known one. */
  format?: DocumentFormat;
  checks: Check[];
  /** Person proofs: what was established (only when verified). */
  person?: { type: "range" | "absence"; records: number; lanes: string[] };
}

/**
 * Builds the offline trust of the CLI's `--root ROOT [--vrf-key HEX] [--chain-id N] [--contract A]`.
 *
 * @example
 * offlineTrust({ root: "0x…", vrfKey: "d75a…" })
 */
export function offlineTrust(o: {
  root: string;
  vrfKey?: string | undefined;
  chainId?: number | undefined;
  contract?: string | undefined;
}): OfflineTrust {
  return {
    root: o.root,
    ...(o.vrfKey !== undefined ? { vrfPublicKey: o.vrfKey } : {}),
    ...(o.chainId !== undefined ? { chainId: o.chainId } : {}),
    ...(o.contract !== undefined ? { contract: o.contract } : {}),
  };
}

/**
 * Verifies a receipt (v1 or v2) or a person proof against a trusted root or the chain. Never
 * throws; computes before it compares; every failed check carries `expected` and `computed`.
 * `verified`: every check passed; `failed`: some check failed; `inconclusive`: nothing failed
 * but something could not be established (the chain could not be read, a superseded batch, no
 * trusted VRF key for a person proof).
 *
 * @example
 * const r = await verifyDocument(JSON.parse(text), { root: "0x…", vrfPublicKey: "0x…" });
 */
export async function verifyDocument(
  doc: unknown,
  trust: DocumentTrust,
): Promise<VerifyDocumentResult> {
  const format = formatOf(doc);
  if (format === RECEIPT_FORMAT) {
    const r = await verifyReceipt(doc, trust);
    return { status: r.status, format, checks: r.checks };
  }
  if (!("readBatch" in trust)) return verifyDocumentOffline(doc, trust);
  const inner = verifyInner(doc);
  if (inner.batchId === undefined) return finish(inner);
  let batch: OnChainBatchV2 | undefined;
  try {
    batch = await trust.readBatch(inner.batchId);
  } catch {
    inner.inconclusive(
      "chain-read",
      `batch ${inner.batchId} could not be read from the chain; try again later`,
    );
    return finish(inner);
  }
  try {
    compareChain(inner, batch);
  } catch {
    inner.inconclusive("chain-read", "the chain reader returned a malformed batch");
  }
  return finish(inner);
}

/**
 * The offline half of {@link verifyDocument} for v2 documents (synchronous: builders and the
 * browser call it). A `shafaf-receipt/1` is refused here (its verifier is async: use verifyDocument).
 */
export function verifyDocumentOffline(doc: unknown, trust: OfflineTrust): VerifyDocumentResult {
  if (formatOf(doc) === RECEIPT_FORMAT) {
    const inner = newInner();
    inner.fail("format", "a shafaf-receipt/1 is verified by verifyDocument (asynchronous)");
    return finish(inner);
  }
  const inner = verifyInner(doc);
  if (inner.batchId === undefined) return finish(inner);
  try {
    compareOffline(inner, trust);
  } catch {
    inner.inconclusive("internal", "the trust could not be read");
  }
  return finish(inner);
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function formatOf(doc: unknown): unknown {
  try {
    return isObj(doc) ? doc.format : undefined;
  } catch {
    return undefined;
  }
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** The checks so far, and what the trust comparison needs. */
interface Inner {
  checks: Check[];
  format?: DocumentFormat;
  batchId?: number;
  chainId?: number;
  contract?: string;
  /** The batch root the tree proof leads to (verified against the proof itself). */
  root?: string;
  vrfPublicKey?: string;
  kindPeriod?: { kind: number; period: number };
  person?: VerifyDocumentResult["person"];
  pass(name: string, detail: string): void;
  fail(name: string, detail: string, expected?: string, computed?: string): void;
  inconclusive(name: string, detail: string): void;
}

function newInner(): Inner {
  const checks: Check[] = [];
  return {
    checks,
    pass: (name, detail) => checks.push({ name, ok: true, outcome: "pass", detail }),
    fail: (name, detail, expected, computed) =>
      checks.push({
        name,
        ok: false,
        outcome: "fail",
        detail,
        ...(expected === undefined ? {} : { expected: clip(expected) }),
        ...(computed === undefined ? {} : { computed: clip(computed) }),
      }),
    inconclusive: (name, detail) =>
      checks.push({ name, ok: false, outcome: "inconclusive", detail }),
  };
}

function finish(inner: Inner): VerifyDocumentResult {
  const status = inner.checks.some((c) => c.outcome === "fail")
    ? "failed"
    : inner.checks.some((c) => c.outcome === "inconclusive")
      ? "inconclusive"
      : "verified";
  return {
    status,
    ...(inner.format !== undefined ? { format: inner.format } : {}),
    checks: inner.checks,
    ...(status === "verified" && inner.person !== undefined ? { person: inner.person } : {}),
  };
}

const RECEIPT_V2_KEYS = [
  "format",
  "code",
  "chainId",
  "contract",
  "batchId",
  "record",
  "salt",
  "proof",
];
const PERSON_PROOF_KEYS = [
  "format",
  "chainId",
  "contract",
  "batchId",
  "personId",
  "vrf",
  "context",
  "records",
  "proof",
];
/**
 * Optional members: `log`, the log bundle (docs/spec/log-bundle-v1.md), checked by
 * verifyDocumentWithPolicy and ignored here (it adds evidence; it takes none away).
 */
const OPTIONAL_KEYS = ["log"];
const MAX_RECORDS = 1 << 16;

/** Checks the shape common to v2 documents; returns a message naming the first bad field. */
function readHeader(o: Record<string, unknown>, keys: readonly string[]): string | undefined {
  const extra = Object.keys(o).find((k) => !keys.includes(k) && !OPTIONAL_KEYS.includes(k));
  if (extra !== undefined) return `unknown field ${JSON.stringify(extra).slice(0, 40)}`;
  const missing = keys.find((k) => !(k in o));
  if (missing !== undefined) return `missing field ${missing}`;
  if (typeof o.chainId !== "number" || !Number.isSafeInteger(o.chainId) || o.chainId <= 0)
    return "chainId must be a positive integer";
  if (!isHexBytes(o.contract, 20)) return "contract must be a 20-byte 0x address";
  if (typeof o.batchId !== "number" || !Number.isSafeInteger(o.batchId) || o.batchId < 0)
    return "batchId must be a non-negative integer";
  if (!isObj(o.proof)) return "proof must be an object";
  return undefined;
}

/** Everything that needs no trust: format, openings, VRF, k_b, the tree proof against its own root. */
function verifyInner(doc: unknown): Inner {
  const inner = newInner();
  try {
    const format = formatOf(doc);
    if (format !== "shafaf-receipt/2" && format !== "shafaf-person-proof/1") {
      inner.fail(
        "format",
        "not a document this verifier knows (a newer Shafaf may know it)",
        DOCUMENT_FORMATS.join(" | "),
        String(format),
      );
      return inner;
    }
    inner.format = format;
    const o = doc as Record<string, unknown>;
    const bad = readHeader(o, format === "shafaf-receipt/2" ? RECEIPT_V2_KEYS : PERSON_PROOF_KEYS);
    if (bad !== undefined) {
      inner.fail("format", bad);
      return inner;
    }
    const proof = o.proof as Record<string, unknown>;
    if (proof.scheme !== SUM_TREE_SCHEME) {
      inner.fail(
        "scheme",
        "the proof's tree scheme is not one this format uses",
        SUM_TREE_SCHEME,
        String(proof.scheme),
      );
      return inner;
    }
    if (format === "shafaf-receipt/2") verifyReceiptV2Inner(inner, o);
    else verifyPersonProofInner(inner, o);
    inner.batchId = o.batchId as number;
    inner.chainId = o.chainId as number;
    inner.contract = (o.contract as string).toLowerCase();
    return inner;
  } catch (e) {
    inner.fail(
      "format",
      `the document could not be read: ${e instanceof Error ? e.name : "error"}`,
    );
    return inner;
  }
}

/** Runs the tree verifier against the proof's own root; trust is compared later. */
function treeChecks(inner: Inner, proof: unknown, batchId: number): VerifySumTreeProofResult {
  const claimed = isObj(proof) && isObj(proof.root) ? proof.root.hash : undefined;
  const self = isHexBytes(claimed, 32) ? claimed : `0x${"00".repeat(32)}`;
  const r = verifySumTreeProof(proof, { root: self });
  for (const c of r.checks)
    if (c.name !== "trusted-root") inner.checks.push({ ...c, name: `tree.${c.name}` });
  if (r.status === "verified" && r.proven !== undefined) {
    inner.root = self.toLowerCase();
    if (r.proven.batchId === batchId) inner.pass("batch", `the proof is for batch ${batchId}`);
    else
      inner.fail(
        "batch",
        "the tree proof is for another batch than the document names",
        String(batchId),
        String(r.proven.batchId),
      );
  }
  return r;
}

/** Compares one record opening with one proven leaf: commitment, amounts, kind, province. */
function compareOpening(
  inner: Inner,
  what: string,
  record: LedgerRecord,
  salt: string,
  leaf: { province: string; lanes: bigint[]; commitment: string },
  kind: string,
): void {
  let fields: ReturnType<typeof sumTreeRecordFields> | undefined;
  try {
    fields = sumTreeRecordFields(record, hexToBytes(salt));
  } catch {
    fields = undefined;
  }
  if (fields === undefined) {
    inner.fail("commitment", `${what}: the record's amounts cannot be committed (2^64 or more)`);
    return;
  }
  const computed = bytesToHex(fields.commitment);
  if (computed === leaf.commitment.toLowerCase())
    inner.pass("commitment", `${what}: the record and salt open the leaf's commitment`);
  else
    inner.fail(
      "commitment",
      `${what}: the record and salt do not open the leaf's commitment`,
      leaf.commitment.toLowerCase(),
      computed,
    );
  const amounts = fields.amounts.join(",");
  const lanes = leaf.lanes.slice(2).join(",");
  if (amounts === lanes)
    inner.pass("amounts", `${what}: the leaf's lanes are the record's amounts`);
  else
    inner.fail("amounts", `${what}: the leaf's lanes are not the record's amounts`, lanes, amounts);
  if (record.kind !== kind)
    inner.fail("kind", `${what}: the record's kind is not the batch's`, kind, record.kind);
  if (record.province !== leaf.province)
    inner.fail(
      "record-province",
      `${what}: the record's province is not its leaf's province subtree`,
      leaf.province,
      record.province,
    );
}

function verifyReceiptV2Inner(inner: Inner, o: Record<string, unknown>): void {
  if (typeof o.code !== "string" || !parseReceiptCode(o.code).ok)
    inner.fail(
      "code",
      "the receipt code is invalid",
      "a code with a valid check symbol",
      String(o.code),
    );
  else inner.pass("code", "the receipt code's check symbol is valid");
  const record = recordFromJson(o.record);
  if (record === undefined)
    inner.fail("record", "the record opening is missing fields or has malformed ones");
  if (!isHexBytes(o.salt, 32)) inner.fail("format", "salt must be a 32-byte 0x hex string");
  const proof = o.proof as Record<string, unknown>;
  if (proof.type !== "inclusion")
    inner.fail(
      "format",
      "a receipt's proof is an inclusion proof",
      "inclusion",
      String(proof.type),
    );
  if (inner.checks.some((c) => c.outcome === "fail")) return;
  inner.pass("format", "a shafaf-receipt/2 with an inclusion proof");
  const r = treeChecks(inner, proof, o.batchId as number);
  const leaf = r.proven?.leaves[0];
  if (leaf === undefined) return;
  compareOpening(inner, "the record", record!, o.salt as string, leaf, r.proven!.kind);
  const kp = periodOf(record!);
  if (kp !== undefined) inner.kindPeriod = kp;
}

function periodOf(record: LedgerRecord): { kind: number; period: number } | undefined {
  const m = /^([0-9]{4})-([0-9]{2})$/.exec(record.period);
  if (m === null) return undefined;
  return { kind: record.kind === "premium" ? 0 : 1, period: Number(m[1]! + m[2]!) };
}

function verifyPersonProofInner(inner: Inner, o: Record<string, unknown>): void {
  // ── shape ──
  const personId = o.personId;
  const vrf = o.vrf;
  const ctx = o.context;
  let shape: string | undefined;
  if (typeof personId !== "string" || parsePersonId(personId) === undefined)
    shape = "personId must be a canonical person-id-v1 string";
  else if (
    !isObj(vrf) ||
    Object.keys(vrf).length !== 2 ||
    !isHexBytes(vrf.publicKey, 32) ||
    !isHexBytes(vrf.proof, 80)
  )
    shape = "vrf must be { publicKey: 32-byte hex, proof: 80-byte hex }";
  else if (
    !isObj(ctx) ||
    !(
      (Object.keys(ctx).length === 2 &&
        (ctx.kind === "premium" || ctx.kind === "pension") &&
        typeof ctx.period === "string" &&
        /^[0-9]{4}-(0[1-9]|1[0-2])$/.test(ctx.period)) ||
      (Object.keys(ctx).length === 1 &&
        typeof ctx.batchId === "number" &&
        Number.isSafeInteger(ctx.batchId) &&
        ctx.batchId >= 0)
    )
  )
    shape = 'context must be { kind, period: "YYYY-MM" } or { batchId }';
  else if (!Array.isArray(o.records) || o.records.length > MAX_RECORDS)
    shape = `records must be an array of at most ${MAX_RECORDS}`;
  const openings: { record: LedgerRecord; salt: string }[] = [];
  if (shape === undefined)
    for (const [i, x] of (o.records as unknown[]).entries()) {
      const record = isObj(x) && Object.keys(x).length === 2 ? recordFromJson(x.record) : undefined;
      if (record === undefined || !isHexBytes((x as Record<string, unknown>).salt, 32)) {
        shape = `records[${i}] must be { record, salt } with a complete record and a 32-byte salt`;
        break;
      }
      openings.push({ record, salt: (x as Record<string, string>).salt! });
    }
  const proof = o.proof as Record<string, unknown>;
  if (shape === undefined && proof.type !== "range" && proof.type !== "absence")
    shape = "a person proof's tree proof is a range or an absence proof";
  if (shape !== undefined) {
    inner.fail("format", shape);
    return;
  }
  inner.pass("format", "a shafaf-person-proof/1");
  const id = personId as string;
  const v = vrf as { publicKey: string; proof: string };
  const context = ctx as { kind: "premium" | "pension"; period: string } | { batchId: number };

  // ── compute: alpha → beta → k_b ──
  const publicKey = hexToBytes(v.publicKey);
  const vr = vrfVerify(publicKey, hexToBytes(v.proof), personVrfInput(id));
  if (!vr.valid) {
    inner.fail(
      "vrf",
      `the VRF proof is not a proof of this person's identifier under the named key (${vr.reason})`,
      "a valid ECVRF proof",
      vr.reason,
    );
    return;
  }
  inner.pass("vrf", "the VRF proof ties the identifier to beta under the named key");
  inner.vrfPublicKey = v.publicKey.toLowerCase();
  const kb = bytesToHex(batchPersonKey(vr.beta, context));
  const claimedKey = typeof proof.key === "string" ? proof.key.toLowerCase() : String(proof.key);
  if (kb === claimedKey) inner.pass("person-key", "the tree proof is about this person's k_b");
  else
    inner.fail(
      "person-key",
      "the tree proof is about another key than this person's k_b",
      kb,
      claimedKey,
    );

  // ── the tree proof, then the openings against its leaves ──
  const r = treeChecks(inner, proof, o.batchId as number);
  if (r.proven === undefined) return;
  const proven = r.proven;
  if ("batchId" in context) {
    if (context.batchId !== o.batchId)
      inner.fail(
        "context",
        "k_b is bound to another batch",
        String(o.batchId),
        String(context.batchId),
      );
    else inner.pass("context", `k_b is bound to batch ${context.batchId}`);
  } else if (context.kind !== proven.kind)
    inner.fail(
      "context",
      "k_b is bound to another kind than the batch's",
      proven.kind,
      context.kind,
    );
  else {
    inner.pass("context", `k_b is bound to ${context.kind} ${context.period}`);
    inner.kindPeriod = {
      kind: context.kind === "premium" ? 0 : 1,
      period: Number(context.period.replace("-", "")),
    };
  }
  if (openings.length !== proven.leaves.length) {
    inner.fail(
      "records",
      "every leaf of the person's key is opened by one record, in leaf order",
      String(proven.leaves.length),
      String(openings.length),
    );
    return;
  }
  inner.pass("records", `${openings.length} record(s) for ${openings.length} leaf(s)`);
  for (const [i, { record, salt }] of openings.entries()) {
    const what = `records[${i}]`;
    compareOpening(inner, what, record, salt, proven.leaves[i]!, proven.kind);
    if (record.nationalId !== id)
      inner.fail(
        "record-person",
        `${what}: the record is about another person`,
        "this person",
        "another",
      );
    if (!("batchId" in context) && record.period !== context.period)
      inner.fail(
        "context",
        `${what}: the record's period is not the context's`,
        context.period,
        record.period,
      );
  }
  inner.person = {
    type: proven.type === "absence" ? "absence" : "range",
    records: openings.length,
    lanes: proven.lanes.map((x) => x.toString()),
  };
}

function compareRoot(inner: Inner, trusted: string, where: string): void {
  const t = trusted.toLowerCase();
  if (inner.root === undefined) return;
  if (t === inner.root) inner.pass("anchored-root", `the proof's root is ${where}`);
  else inner.fail("anchored-root", `the proof's root differs from ${where}`, t, inner.root);
}

function compareVrfKey(inner: Inner, trusted: string | undefined, where: string): void {
  if (inner.format !== "shafaf-person-proof/1" || inner.vrfPublicKey === undefined) return;
  if (trusted === undefined) {
    inner.inconclusive(
      "vrf-key",
      `no trusted VRF public key (${where}): the proof names a key that was not checked`,
    );
    return;
  }
  const t = trusted.toLowerCase().replace(/^(0x)?/, "0x");
  if (t === inner.vrfPublicKey) inner.pass("vrf-key", `the VRF key is ${where}`);
  else inner.fail("vrf-key", `the proof's VRF key is not ${where}`, t, inner.vrfPublicKey);
}

function compareOffline(inner: Inner, trust: OfflineTrust): void {
  if (!isHexBytes(trust.root, 32))
    inner.inconclusive("anchored-root", "the trusted root is not a 32-byte hex word");
  else compareRoot(inner, trust.root, "the trusted root");
  compareVrfKey(inner, trust.vrfPublicKey, "the trusted key");
  if (trust.chainId !== undefined && trust.chainId !== inner.chainId)
    inner.fail(
      "chain",
      "the document names another chain",
      String(trust.chainId),
      String(inner.chainId),
    );
  if (trust.contract !== undefined && trust.contract.toLowerCase() !== inner.contract)
    inner.fail(
      "contract",
      "the document names another ledger contract",
      trust.contract.toLowerCase(),
      String(inner.contract),
    );
}

function compareChain(inner: Inner, batch: OnChainBatchV2 | undefined): void {
  if (batch === undefined || batch === null) {
    inner.fail(
      "batch-exists",
      `the chain has no batch ${inner.batchId}`,
      `batch ${inner.batchId}`,
      "none",
    );
    return;
  }
  if (
    typeof batch.root !== "string" ||
    typeof batch.chainId !== "number" ||
    typeof batch.contract !== "string"
  ) {
    inner.inconclusive("chain-read", "the chain reader returned a malformed batch");
    return;
  }
  if (batch.chainId === inner.chainId) inner.pass("chain", `chain id ${batch.chainId}`);
  else
    inner.fail(
      "chain",
      "the document names another chain than the one read",
      String(batch.chainId),
      String(inner.chainId),
    );
  if (batch.contract.toLowerCase() === inner.contract)
    inner.pass("contract", "the ledger contract matches");
  else
    inner.fail(
      "contract",
      "the document names another ledger contract than the one read",
      batch.contract.toLowerCase(),
      String(inner.contract),
    );
  if (batch.scheme !== undefined) {
    if (!isTreeSchemeId(batch.scheme) || batch.scheme !== SUM_TREE_SCHEME)
      inner.fail(
        "anchored-scheme",
        `batch ${inner.batchId} is anchored with another tree scheme`,
        String(batch.scheme),
        SUM_TREE_SCHEME,
      );
    else inner.pass("anchored-scheme", `batch ${inner.batchId} is a ${SUM_TREE_SCHEME} batch`);
  }
  compareRoot(inner, batch.root, `batch ${inner.batchId}'s anchored root`);
  compareVrfKey(inner, batch.vrfPublicKey, `batch ${inner.batchId}'s registered key`);
  if (batch.kind !== undefined && batch.period !== undefined && inner.kindPeriod !== undefined) {
    const want = `${batch.kind}/${batch.period}`;
    const got = `${inner.kindPeriod.kind}/${inner.kindPeriod.period}`;
    if (want === got) inner.pass("batch-kind-period", "kind and period match the batch");
    else inner.fail("batch-kind-period", "the kind or period differs from the batch's", want, got);
  }
  if (typeof batch.supersededBy === "number" && batch.supersededBy !== 0)
    inner.inconclusive(
      "current",
      `batch ${inner.batchId} was superseded by batch ${batch.supersededBy}: ask for the corrected document`,
    );
  else inner.pass("current", `batch ${inner.batchId} is current (not superseded)`);
}
