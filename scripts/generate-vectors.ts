/**
 * `npm run vectors` writes the shared test vectors under test/vectors/ (records → leaves → roots,
 * proofs, and named corruptions every verifier must reject); `npm run vectors:check` regenerates
 * them in memory and exits 1 when the committed files differ (CI). Deterministic: salts and the
 * pseudonym key derive from fixed labels, never from a random source.
 *
 * Files (format `shafaf-vectors/1`, stable; consumers: test/core/vectors.test.ts, the contract's
 * Solidity/mocha tests against `verifyRecord` and `verifyRecords`):
 * - merkle-1.json   cases of records with values, leaf hashes, root, every proof, a multiproof,
 *                   and a flat `checks` list `{ name, case, root, leaf, proof, valid }`.
 * - receipts-1.json receipts with a trust and the expected `verifyReceipt` status and failed check.
 * - manifest-1.json  shafaf-manifest/1 and /2 with canonical text and hash (scripts/vectors/manifest.ts).
 * - tree-v2.json     shafaf-tree/2 trees and proofs, valid and corrupted (scripts/vectors/tree-v2.ts).
 * - receipt-v2.json, person-proof-1.json  shafaf-receipt/2 and shafaf-person-proof/1 documents,
 *                   valid and corrupted, with their verdicts (scripts/vectors/documents-v2.ts).
 * - record-offsets-1.json  records.idx of a batch artifact, valid and corrupted
 * - ledger-records-1.json  the private archive's records file, valid and corrupted
 *                   (scripts/vectors/ledger-records.ts).
 *                   (scripts/vectors/record-offsets.ts).
 * - batch-tiles-1.json  shafaf-batch-tiles/1 tiles of a batch, proofs rebuilt from them, and
 *                   public tile sets valid and corrupted (scripts/vectors/batch-tiles.ts).
 * - encrypted-file-1.json  shafaf-encrypted-file/1 files (personal data at rest), valid and
 *                   corrupted (scripts/vectors/encrypted-file.ts).
 * - encrypted-file-2.json  shafaf-encrypted-file/2 files (compressed chunks, a chunk table),
 *                   valid and corrupted (scripts/vectors/encrypted-file.ts).
 * - log-bundle-1.json  receipts v1 and v2 and a person proof with a log bundle, verified offline
 *                   against a trust policy, valid and corrupted (scripts/vectors/log-bundle.ts).
 * - mirror-1.json    a shafaf-mirror/1 site and corruptions as changes over it, with what
 *                   verifyMirror gives (scripts/vectors/mirror.ts).
 * - locators-1.json, published-batches-1.json  the reader handoff: a batch's locator tables and
 *                   the list of published batches, valid and corrupted (scripts/vectors/locators.ts).
 * - locator-merge-1.json, published-batches-2.json  merged locator tables and the list that names
 *                   them, valid and corrupted (scripts/vectors/locator-merge.ts).
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { abiEncode } from "../src/core/abi.ts";
import { bytesToHex, type Hex } from "../src/core/hex.ts";
import { keccak256 } from "../src/core/keccak.ts";
import { LEAF_ENCODING, leafHash, leafValues, type LeafValues } from "../src/core/leaf.ts";
import { buildMerkleTree, type MerkleTree } from "../src/core/merkle-tree.ts";
import { subjectPseudonym } from "../src/core/pseudonym.ts";
import { buildReceipt, recordToJson, valuesToJson, type Receipt } from "../src/core/receipt.ts";
import { newReceiptCode } from "../src/core/receipt-code.ts";
import type { LedgerRecord, RecordKind } from "../src/core/record.ts";
import { validateRecord } from "../src/core/validate-record.ts";
import { verifyReceipt } from "../src/core/verify-receipt.ts";
import { documentVectors } from "./vectors/documents-v2.ts";
import { recordOffsetsVectors } from "./vectors/record-offsets.ts";
import { ledgerRecordsVectors } from "./vectors/ledger-records.ts";
import { batchTilesVectors } from "./vectors/batch-tiles.ts";
import { encryptedFileV2Vectors, encryptedFileVectors } from "./vectors/encrypted-file.ts";
import { logBundleVectors } from "./vectors/log-bundle.ts";
import { logEntryVectors } from "./vectors/log-entry.ts";
import { treeV2Vectors } from "./vectors/tree-v2.ts";
import { manifestVectors } from "./vectors/manifest.ts";
import { mirrorVectors } from "./vectors/mirror.ts";
import { locatorVectors, publishedVectors } from "./vectors/locators.ts";
import { locatorMergeVectors, publishedV2Vectors } from "./vectors/locator-merge.ts";

const dir = path.resolve(import.meta.dirname, "../test/vectors");
const derive = (label: string, i = 0): Uint8Array =>
  keccak256(abiEncode(["string", "uint256"], [`shafaf/test-vectors/v1/${label}`, BigInt(i)]));
const PSEUDONYM_KEY = derive("pseudonym-key");
const CHAIN_ID = 31337;
const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

type Row = Record<string, string>;
function premiumRow(i: number, over: Partial<Row> = {}): Row {
  const ids = ["0012345679", "1234567891", "2740583311", "0013542419", "0084575948"];
  const wage = BigInt(71_661_840 + 1_000_000 * i);
  const share = (bp: bigint) => ((wage * bp + 5000n) / 10000n).toString();
  const unemployment = i % 3 === 0 ? "0" : share(300n);
  const hazard = i % 4 === 1 ? share(400n) : "0";
  const total = BigInt(share(700n)) + BigInt(share(2000n)) + BigInt(unemployment) + BigInt(hazard);
  return {
    record_id: `W0012345678-140307-${String(i + 1).padStart(4, "0")}`,
    period: "1403-07",
    national_id: ids[i % ids.length]!,
    workshop_code: "0012345678",
    insurance_no: String(10_000_000 + 7919 * i),
    province: ["IR-23", "IR-10", "IR-07", "IR-30"][i % 4]!,
    days: String(31 - (i % 5)),
    wage_base: wage.toString(),
    worker_share: share(700n),
    employer_share: share(2000n),
    unemployment_share: unemployment,
    hazard_share: hazard,
    total: total.toString(),
    ...(i % 2 === 0 ? { paid_on: "1403-08-02" } : {}),
    ...over,
  };
}
function pensionRow(i: number, over: Partial<Row> = {}): Row {
  const ids = ["2740583311", "0012345679", "1234567891", "0013542419"];
  const gross = 120_000_000n + 3_333_333n * BigInt(i);
  const deductions = 6_000_000n + 17n * BigInt(i);
  return {
    record_id: `P-140307-${String(i + 1).padStart(6, "0")}`,
    period: "1403-07",
    national_id: ids[i % ids.length]!,
    pension_file: `PF${900_000 + i}`,
    category: ["retirement", "disability", "survivors"][i % 3]!,
    province: ["IR-23", "IR-09", "IR-03", "IR-30"][i % 4]!,
    gross: gross.toString(),
    deductions: deductions.toString(),
    net: (gross - deductions).toString(),
    due_on: "1403-07-25",
    paid_on: "1403-07-27",
    ...over,
  };
}

function toRecord(kind: RecordKind, row: Row): LedgerRecord {
  const r = validateRecord(kind, row);
  if (!r.ok) throw new Error(`vector row is invalid: ${JSON.stringify(r.issues)}`);
  return r.record;
}

interface Built {
  name: string;
  records: LedgerRecord[];
  values: LeafValues[];
  salts: Hex[];
  subjects: Hex[];
  tree: MerkleTree;
}

let saltCounter = 0;
function buildCase(name: string, records: LedgerRecord[]): Built {
  const salts = records.map(() => bytesToHex(derive("salt", saltCounter++)));
  const subjects = records.map((r) => subjectPseudonym(PSEUDONYM_KEY, r.nationalId));
  const values = records.map((r, i) => leafValues(r, { salt: salts[i]!, subject: subjects[i]! }));
  const hashes = new Uint8Array(values.length * 32);
  values.forEach((v, i) => hashes.set(leafHash(v), i * 32));
  return { name, records, values, salts, subjects, tree: buildMerkleTree(hashes) };
}

function flipBit(hex: string, byte: number): Hex {
  const b = Number.parseInt(hex.slice(2 + 2 * byte, 4 + 2 * byte), 16) ^ 0x01;
  return `${hex.slice(0, 2 + 2 * byte)}${b.toString(16).padStart(2, "0")}${hex.slice(4 + 2 * byte)}` as Hex;
}

interface ProofCheck {
  name: string;
  case: string;
  root: Hex;
  leaf: Hex;
  proof: Hex[];
  valid: boolean;
}

function proofChecks(c: Built): ProofCheck[] {
  const t = c.tree;
  const out: ProofCheck[] = [];
  const add = (name: string, leaf: Hex, proof: Hex[], valid: boolean, root: Hex = t.root) =>
    out.push({ name: `${c.name}/${name}`, case: c.name, root, leaf, proof, valid });
  for (let i = 0; i < t.length; i++) add(`valid/leaf-${i}`, t.leafHash(i), t.getProof(i), true);
  const i = t.length - 1;
  const leaf = t.leafHash(i);
  const proof = t.getProof(i);
  proof.forEach((_, k) => {
    const bad = proof.slice();
    bad[k] = flipBit(bad[k]!, (k * 7) % 32);
    add(`bit-flip/proof-${k}`, leaf, bad, false);
  });
  add("wrong-leaf/bit-flip", flipBit(leaf, 31), proof, false);
  if (t.length > 1) add("wrong-leaf/other-leaf", t.leafHash(0), proof, false);
  add("wrong-root", leaf, proof, false, flipBit(t.root, 0));
  if (proof.length > 0) add("missing-element/last", leaf, proof.slice(0, -1), false);
  if (proof.length > 1) add("missing-element/first", leaf, proof.slice(1), false);
  add("extra-element/appended", leaf, [...proof, bytesToHex(derive("extra"))], false);
  add("extra-element/root-appended", leaf, [...proof, t.root], false);
  const v = c.values[i]!;
  const swapped: LeafValues = [
    v[0],
    v[1],
    v[3] < 1n << 32n ? v[3] : v[2],
    v[3] < 1n << 32n ? v[2] : v[3],
    v[4],
    v[5],
    v[6],
  ];
  const swappedHashes: LeafValues = [v[4], v[1], v[2], v[3], v[0], v[5], v[6]];
  add("values-swapped/recordIdHash-fieldsHash", bytesToHex(leafHash(swappedHashes)), proof, false);
  if (swapped[2] !== v[2])
    add("values-swapped/period-amount", bytesToHex(leafHash(swapped)), proof, false);
  return out;
}

function caseJson(c: Built) {
  const t = c.tree;
  const indices = [0, Math.floor(t.length / 2), t.length - 1].filter(
    (x, k, a) => a.indexOf(x) === k,
  );
  return {
    name: c.name,
    kind: c.records[0]!.kind,
    leaves: c.records.map((r, i) => ({
      record: recordToJson(r),
      salt: c.salts[i],
      subject: c.subjects[i],
      values: valuesToJson(c.values[i]!),
      leafHash: t.leafHash(i),
      treeIndex: t.leafIndexToTreeIndex(i),
      proof: t.getProof(i),
    })),
    root: t.root,
    multiproof: { indices, ...t.getMultiProof(indices) },
  };
}

async function receiptVectors(c: Built) {
  const code = newReceiptCode(derive("receipt-code").subarray(0, 17));
  const i = c.tree.length - 1;
  const receipt = buildReceipt({
    chainId: CHAIN_ID,
    contract: CONTRACT,
    batchId: 1,
    tree: c.tree,
    index: i,
    record: c.records[i]!,
    values: c.values[i]!,
    anchor: { txHash: bytesToHex(derive("anchor-tx")), blockNumber: 7 },
    code,
  });
  const trust = { root: c.tree.root, chainId: CHAIN_ID, contract: CONTRACT };
  const edit = (f: (r: Receipt) => void): Receipt => {
    const copy = structuredClone(receipt);
    f(copy);
    return copy;
  };
  const cases: { name: string; receipt: Receipt; trust: typeof trust }[] = [
    { name: "valid", receipt, trust },
    ...receipt.proof.map((_, k) => ({
      name: `bit-flip/proof-${k}`,
      receipt: edit((r) => (r.proof[k] = flipBit(r.proof[k]!, (k * 7) % 32))),
      trust,
    })),
    {
      name: "wrong-leaf/subject",
      receipt: edit((r) => (r.values[5] = flipBit(r.values[5]!, 31))),
      trust,
    },
    { name: "wrong-root", receipt, trust: { ...trust, root: flipBit(trust.root, 0) } },
    { name: "missing-element", receipt: edit((r) => r.proof.pop()), trust },
    {
      name: "extra-element",
      receipt: edit((r) => r.proof.push(bytesToHex(derive("extra")))),
      trust,
    },
    {
      name: "values-swapped/period-amount",
      receipt: edit((r) => ([r.values[2], r.values[3]] = [r.values[3]!, r.values[2]!])),
      trust,
    },
    { name: "wrong-chain-id", receipt: edit((r) => (r.chainId = 1)), trust },
    { name: "wrong-contract", receipt: edit((r) => (r.contract = `0x${"11".repeat(20)}`)), trust },
    {
      name: "record-tampered/amount",
      receipt: edit((r) => {
        const rec = r.record as Record<string, unknown>;
        const key = "net" in rec ? "net" : "total";
        rec[key] = (BigInt(rec[key] as string) + 1n).toString();
      }),
      trust,
    },
    {
      name: "bad-code-check",
      receipt: edit((r) => (r.code = r.code.slice(0, -1) + (r.code.endsWith("0") ? "1" : "0"))),
      trust,
    },
  ];
  const out = [];
  for (const k of cases) {
    const res = await verifyReceipt(k.receipt, k.trust);
    out.push({
      name: `${c.name}/${k.name}`,
      receipt: k.receipt,
      trust: k.trust,
      expect: {
        status: res.status,
        failedChecks: res.checks.filter((x) => x.outcome === "fail").map((x) => x.name),
      },
    });
  }
  return out;
}

async function generate(): Promise<Record<string, string>> {
  saltCounter = 0;
  const cases = [
    buildCase("premium-1", [toRecord("premium", premiumRow(0))]),
    buildCase(
      "premium-5",
      [0, 1, 2, 3, 4].map((i) => toRecord("premium", premiumRow(i))),
    ),
    buildCase(
      "pension-4",
      [0, 1, 2, 3].map((i) => toRecord("pension", pensionRow(i))),
    ),
    buildCase(
      "pension-13-with-correction",
      Array.from({ length: 13 }, (_, i) =>
        toRecord(
          "pension",
          pensionRow(
            i,
            i === 12 ? { supersedes: "P-140307-000099", reason: "wrong-deduction" } : {},
          ),
        ),
      ),
    ),
  ];
  const merkle = {
    format: "shafaf-vectors/1",
    description:
      "Shafaf leaves (OpenZeppelin StandardMerkleTree standard-v1) with named corruptions. Generated by scripts/generate-vectors.ts; do not edit. `checks`: every verifier (TypeScript processProof, Solidity MerkleProof / TransparencyLedger.verifyRecord) must return `valid`.",
    leafEncoding: [...LEAF_ENCODING],
    pseudonymKey: bytesToHex(PSEUDONYM_KEY),
    cases: cases.map(caseJson),
    checks: cases.flatMap(proofChecks),
  };
  const receipts = {
    format: "shafaf-vectors/1",
    description:
      "Receipts (shafaf-receipt/1) with an offline trust and the result verifyReceipt must give: status and the names of the failed checks. Generated by scripts/generate-vectors.ts; do not edit.",
    cases: [...(await receiptVectors(cases[1]!)), ...(await receiptVectors(cases[3]!))],
  };
  const text = (x: unknown) => `${JSON.stringify(x, null, 2)}\n`;
  const documents = await documentVectors();
  const named = (set: unknown, name: string) =>
    (set as { cases: { name: string; document: Record<string, unknown> }[] }).cases.find(
      (c) => c.name === name,
    )!;
  const person = named(documents.persons, "valid-range") as unknown as {
    document: Record<string, unknown>;
    trust: { vrfPublicKey: string };
  };
  const logBundles = await logBundleVectors({
    v1: receipts.cases[0]!.receipt as unknown as Record<string, unknown>,
    v2: named(documents.receipts, "valid-0").document,
    person: person.document,
    vrfPublicKey: person.trust.vrfPublicKey,
  });
  return {
    "merkle-1.json": text(merkle),
    "receipts-1.json": text(receipts),
    "tree-v2.json": text(treeV2Vectors()),
    "receipt-v2.json": text(documents.receipts),
    "person-proof-1.json": text(documents.persons),
    "record-offsets-1.json": text(recordOffsetsVectors()),
    "ledger-records-1.json": text(ledgerRecordsVectors()),
    "batch-tiles-1.json": text(batchTilesVectors()),
    "encrypted-file-1.json": text(encryptedFileVectors()),
    "encrypted-file-2.json": text(encryptedFileV2Vectors()),
    "log-entry-1.json": text(logEntryVectors()),
    "log-bundle-1.json": text(logBundles),
    "manifest-1.json": text(manifestVectors()),
    "mirror-1.json": text(await mirrorVectors()),
    "locators-1.json": text(locatorVectors()),
    "published-batches-1.json": text(publishedVectors()),
    "locator-merge-1.json": text(locatorMergeVectors()),
    "published-batches-2.json": text(publishedV2Vectors()),
  };
}

const files = await generate();
if (process.argv.includes("--check")) {
  const stale = Object.entries(files).filter(([name, text]) => {
    try {
      return readFileSync(path.join(dir, name), "utf8") !== text;
    } catch {
      return true;
    }
  });
  if (stale.length > 0) {
    console.error(
      `stale test vectors: ${stale.map(([n]) => `test/vectors/${n}`).join(", ")} — run npm run vectors and commit`,
    );
    process.exit(1);
  }
  console.log(`test vectors are up to date (${Object.keys(files).join(", ")})`);
} else {
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  console.log(
    `wrote ${Object.keys(files)
      .map((n) => `test/vectors/${n}`)
      .join(", ")}`,
  );
}
