/**
 * The `shafaf-receipt/2` and `shafaf-person-proof/1` vectors (test/vectors/receipt-v2.json,
 * test/vectors/person-proof-1.json), written by scripts/generate-vectors.ts and checked fresh by
 * `npm run vectors:check`. One premium batch over four provinces, built from real records with
 * person keys under the person-key vectors' test VRF key; valid documents and named corruptions,
 * each with its trust and the result verifyDocument gives: status and the failed check names.
 */
import { buildSumTree, type SumTree } from "../../src/core/build-sum-tree.ts";
import { bytesToHex, hexToBytes, type Hex } from "../../src/core/hex.ts";
import { keccak256 } from "../../src/core/keccak.ts";
import { buildPersonProof, type PersonProof } from "../../src/core/person-proof.ts";
import { batchPersonKey, personVrfInput } from "../../src/core/person-key.ts";
import type { PremiumRecord } from "../../src/core/record.ts";
import { buildReceiptV2, type ReceiptV2 } from "../../src/core/receipt-v2.ts";
import { newReceiptCode } from "../../src/core/receipt-code.ts";
import { sumTreeRecordFields } from "../../src/core/sum-tree-record.ts";
import {
  verifyDocument,
  type DocumentTrust,
  type OfflineTrust,
} from "../../src/core/verify-document.ts";
import { vrfHash, vrfSecretKey } from "../../src/core/vrf.ts";

const label = (text: string): Uint8Array =>
  keccak256(new TextEncoder().encode(`shafaf/test-vectors/documents-v2/${text}`));

/** RFC 9381 Example 16's SK, as in test/vectors/person-key-1.json: a test key only. */
export const VECTOR_VRF_SEED = "0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const OTHER_VRF_SEED = bytesToHex(label("other-vrf-key"));
const CHAIN_ID = 31337;
const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const BATCH_ID = 7;
const CONTEXT = { kind: "premium" as const, period: "1403-07" };

/** Who has records, where: one person in two provinces and twice in one, all three id forms. */
const PEOPLE: [string, string][] = [
  ["0012345679", "IR-07"],
  ["1234567891", "IR-07"],
  ["0012345679", "IR-07"],
  ["2740583311", "IR-23"],
  ["foreign:123456789012", "IR-07"],
  ["0012345679", "IR-23"],
  ["insured:12345678:AFG", "IR-30"],
  ["0084575948", "IR-23"],
  ["1234567891", "IR-10"],
  // Other people, so that the person's leaves have siblings on a path.
  ...Array.from({ length: 10 }, (_, i): [string, string] => [
    `foreign:${String(500_000_000_000 + 7919 * i)}`,
    i % 2 === 0 ? "IR-07" : "IR-23",
  ]),
];
/** A valid national ID with no record in the batch. */
const ABSENT = "0013542419";

function premiumRecord(i: number, nationalId: string, province: string): PremiumRecord {
  const wage = BigInt(71_661_840 + 1_000_000 * i);
  const share = (bp: bigint) => (wage * bp + 5000n) / 10000n;
  const unemployment = i % 3 === 0 ? 0n : share(300n);
  return {
    kind: "premium",
    recordId: `W0012345678-140307-${String(i + 1).padStart(4, "0")}`,
    period: "1403-07",
    nationalId,
    workshopCode: "0012345678",
    insuranceNo: String(10_000_000 + 7919 * i),
    province,
    days: 31 - (i % 5),
    wageBase: wage,
    workerShare: share(700n),
    employerShare: share(2000n),
    unemploymentShare: unemployment,
    hazardShare: 0n,
    total: share(700n) + share(2000n) + unemployment,
    ...(i % 2 === 0 ? { paidOn: "1403-08-02" } : {}),
  };
}

export interface DocumentFixture {
  tree: SumTree;
  records: { record: PremiumRecord; salt: Uint8Array }[];
  vrfKey: ReturnType<typeof vrfSecretKey>;
}

/** The batch of the vectors, built from records, salts and VRF person keys. */
export function documentFixture(
  seedHex = VECTOR_VRF_SEED,
  people: readonly [string, string][] = PEOPLE,
): DocumentFixture {
  const vrfKey = vrfSecretKey(hexToBytes(seedHex));
  const records = people.map(([id, province], i) => ({
    record: premiumRecord(i, id, province),
    salt: people === PEOPLE ? label(`salt/${i}`) : crypto.getRandomValues(new Uint8Array(32)),
  }));
  const n = records.length;
  const keys = new Uint8Array(n * 32);
  const commitments = new Uint8Array(n * 32);
  const amounts = new BigUint64Array(n * 3);
  records.forEach(({ record, salt }, i) => {
    const beta = vrfHash(vrfKey, personVrfInput(record.nationalId));
    keys.set(batchPersonKey(beta, CONTEXT), i * 32);
    const f = sumTreeRecordFields(record, salt);
    commitments.set(f.commitment, i * 32);
    amounts.set(f.amounts, i * 3);
  });
  const tree = buildSumTree("premium", {
    keys,
    commitments,
    provinces: records.map((r) => r.record.province),
    amounts,
  });
  return { tree, records, vrfKey };
}

/** A person proof of the fixture (for tests, benches and the browser). */
export function personProofOf(
  f: DocumentFixture,
  personId: string,
  batchId = BATCH_ID,
): PersonProof {
  return buildPersonProof({
    chainId: CHAIN_ID,
    contract: CONTRACT,
    batchId,
    tree: f.tree,
    vrfKey: f.vrfKey,
    context: CONTEXT,
    personId,
    records: f.records,
  });
}

/**
 * The person proof of `0012345679` (the fixture's three records) inside a batch of `n` other
 * records over 31 provinces (keys pseudo-random, amounts synthetic): what a real month looks like
 * to one person. For benches and the browser's timing.
 */
export function largeBatchPersonProof(
  f: DocumentFixture,
  n: number,
): { tree: SumTree; proof: PersonProof } {
  const mine = f.records.filter((r) => r.record.nationalId === "0012345679");
  const total = n + mine.length;
  const keys = new Uint8Array(total * 32);
  const commitments = new Uint8Array(total * 32);
  const amounts = new BigUint64Array(total * 3);
  const provinces: string[] = [];
  const seed = new Uint8Array(36);
  seed.set(label("large-batch"), 0);
  for (let i = 0; i < n; i++) {
    new DataView(seed.buffer).setUint32(32, i);
    const k = keccak256(seed);
    keys.set(k, i * 32);
    commitments.set(keccak256(k), i * 32);
    amounts.set([50_000_000n + BigInt(i), 30n, 15_000_000n], i * 3);
    provinces.push(`IR-${String(i % 31).padStart(2, "0")}`);
  }
  const kb = batchPersonKey(vrfHash(f.vrfKey, personVrfInput("0012345679")), CONTEXT);
  mine.forEach((r, j) => {
    const fields = sumTreeRecordFields(r.record, r.salt);
    keys.set(kb, (n + j) * 32);
    commitments.set(fields.commitment, (n + j) * 32);
    amounts.set(fields.amounts, (n + j) * 3);
    provinces.push(r.record.province);
  });
  const tree = buildSumTree("premium", { keys, commitments, provinces, amounts });
  const proof = buildPersonProof({
    chainId: CHAIN_ID,
    contract: CONTRACT,
    batchId: BATCH_ID,
    tree,
    vrfKey: f.vrfKey,
    context: CONTEXT,
    personId: "0012345679",
    records: mine,
  });
  return { tree, proof };
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const flip = (hex: string, byte = 0): Hex => {
  const b = hexToBytes(hex);
  b[byte]! ^= 0x01;
  return bytesToHex(b);
};

interface Case {
  name: string;
  description: string;
  document: unknown;
  trust: DocumentTrust;
  valid: boolean;
  status: string;
  failedChecks: string[];
}

async function run(
  name: string,
  description: string,
  document: unknown,
  trust: OfflineTrust,
): Promise<Case> {
  const r = await verifyDocument(document, trust);
  return {
    name,
    description,
    document,
    trust,
    valid: r.status === "verified",
    status: r.status,
    failedChecks: r.checks.filter((c) => c.outcome !== "pass").map((c) => c.name),
  };
}

export async function documentVectors(): Promise<{ receipts: unknown; persons: unknown }> {
  const f = documentFixture();
  const other = documentFixture(OTHER_VRF_SEED);
  const root = f.tree.root;
  const pk = bytesToHex(f.vrfKey.publicKey);
  const trust: OfflineTrust = { root, vrfPublicKey: pk };
  const otherRoot = other.tree.root;

  // ── receipts v2 ──
  const receiptAt = (i: number): ReceiptV2 => {
    const want = bytesToHex(
      sumTreeRecordFields(f.records[i]!.record, f.records[i]!.salt).commitment,
    );
    let index = 0;
    while (bytesToHex(f.tree.leaf(index).commitment) !== want) index++;
    return buildReceiptV2({
      chainId: CHAIN_ID,
      contract: CONTRACT,
      batchId: BATCH_ID,
      code: newReceiptCode(label(`code/${i}`).subarray(0, 17)),
      tree: f.tree,
      index,
      record: f.records[i]!.record,
      salt: f.records[i]!.salt,
    });
  };
  const r0 = receiptAt(0);
  const rc: Case[] = [];
  for (const i of [0, 4, 6, 8])
    rc.push(
      await run(`valid-${i}`, `record ${i} (${f.records[i]!.record.province})`, receiptAt(i), {
        root,
      }),
    );
  rc.push(
    await run("valid-chain-contract", "with the chain and contract trusted too", r0, {
      root,
      chainId: CHAIN_ID,
      contract: CONTRACT,
    }),
  );
  const mut = (
    name: string,
    description: string,
    edit: (r: ReceiptV2 & Record<string, unknown>) => void,
    t: OfflineTrust = { root },
  ) => {
    const r = clone(r0) as ReceiptV2 & Record<string, unknown>;
    edit(r);
    return run(name, description, r, t);
  };
  rc.push(
    await mut("flipped-commitment", "one bit of the leaf's commitment flipped", (r) => {
      r.proof.windows[0]!.leaves[0]!.commitment = flip(r.proof.windows[0]!.leaves[0]!.commitment);
    }),
    await mut("flipped-path", "one bit of a sibling hash flipped", (r) => {
      r.proof.windows[0]!.path[0]!.hash = flip(r.proof.windows[0]!.path[0]!.hash, 31);
    }),
    await mut("flipped-salt", "one bit of the salt flipped", (r) => {
      r.salt = flip(r.salt, 5);
    }),
    await mut("lane-changed", "the leaf's premium lane raised by one", (r) => {
      const l = r.proof.windows[0]!.leaves[0]!.lanes;
      l[4] = (BigInt(l[4]!) + 1n).toString();
    }),
    await mut("record-amount-changed", "the record's total raised by one", (r) => {
      const rec = r.record as Record<string, string>;
      rec.total = (BigInt(rec.total!) + 1n).toString();
    }),
    await mut("record-province-changed", "the record names another province", (r) => {
      (r.record as Record<string, string>).province = "IR-10";
    }),
    await mut("wrong-batch", "the receipt names batch 8, its proof batch 7", (r) => {
      r.batchId = 8;
    }),
    await mut("wrong-root", "trusted root of another batch", () => {}, { root: otherRoot }),
    await mut("wrong-chain", "the trust names another chain", () => {}, { root, chainId: 1 }),
    await mut("unknown-format", "format shafaf-receipt/3", (r) => {
      (r as Record<string, unknown>).format = "shafaf-receipt/3";
    }),
    await mut("unknown-scheme", "proof scheme shafaf-tree/3", (r) => {
      (r.proof as unknown as Record<string, unknown>).scheme = "shafaf-tree/3";
    }),
    await mut("unknown-key", "an extra top-level field", (r) => {
      r.note = "unbound text";
    }),
    await mut("bad-code", "a receipt code with a wrong check symbol", (r) => {
      r.code = r.code.slice(0, -1) + (r.code.endsWith("0") ? "1" : "0");
    }),
    await run(
      "range-not-inclusion",
      "a range proof in place of the inclusion proof",
      { ...clone(r0), proof: personProofOf(f, "0012345679").proof },
      { root },
    ),
  );

  // ── person proofs ──
  const p0 = personProofOf(f, "0012345679");
  const pc: Case[] = [];
  pc.push(
    await run("valid-range", "three records in two provinces, two in one", p0, trust),
    await run(
      "valid-range-foreign",
      "a foreign: identifier",
      personProofOf(f, "foreign:123456789012"),
      trust,
    ),
    await run(
      "valid-range-insured",
      "an insured: identifier",
      personProofOf(f, "insured:12345678:AFG"),
      trust,
    ),
    await run(
      "valid-absence",
      "a person with no record in the batch",
      personProofOf(f, ABSENT),
      trust,
    ),
    await run("no-trusted-vrf-key", "no trusted VRF key given: inconclusive", p0, { root }),
  );
  const pmut = (
    name: string,
    description: string,
    edit: (p: PersonProof & Record<string, unknown>) => void,
    t: OfflineTrust = trust,
  ) => {
    const p = clone(p0) as PersonProof & Record<string, unknown>;
    edit(p);
    return run(name, description, p, t);
  };
  const ownWindow = (p: PersonProof) => p.proof.windows.find((w) => w.leaves.length > 2)!;
  pc.push(
    await pmut("flipped-path", "one bit of a sibling hash flipped", (p) => {
      const w = p.proof.windows.find((x) => x.path.length > 0)!;
      w.path[0]!.hash = flip(w.path[0]!.hash, 31);
    }),
    await pmut("lane-changed", "an own leaf's wage lane raised by one", (p) => {
      const leaf = ownWindow(p).leaves.find((l) => l.key === p.proof.key)!;
      leaf.lanes[2] = (BigInt(leaf.lanes[2]!) + 1n).toString();
    }),
    await pmut("wrong-vrf-proof", "one bit of the VRF proof's challenge flipped", (p) => {
      p.vrf.proof = flip(p.vrf.proof, 40);
    }),
    await pmut("wrong-vrf-key-named", "the proof names another VRF public key", (p) => {
      p.vrf.publicKey = bytesToHex(other.vrfKey.publicKey);
    }),
    await run(
      "wrong-vrf-key-trusted",
      "a consistent proof under another key than the trusted one",
      personProofOf(other, "0012345679"),
      { root: otherRoot, vrfPublicKey: pk },
    ),
    await pmut(
      "wrong-identifier",
      "another person's identifier with this person's VRF proof",
      (p) => {
        p.personId = "1234567891";
      },
    ),
    await pmut(
      "other-persons-tree-proof",
      "another person's range proof under this person's VRF proof",
      (p) => {
        p.proof = personProofOf(f, "1234567891").proof;
      },
    ),
    await pmut("out-of-order-neighbours", "two leaves of a window swapped", (p) => {
      const w = ownWindow(p);
      [w.leaves[0], w.leaves[1]] = [w.leaves[1]!, w.leaves[0]!];
    }),
    await pmut("missing-own-record", "one of the person's record openings left out", (p) => {
      p.records.splice(1, 1);
    }),
    await pmut("records-reordered", "the record openings out of leaf order", (p) => {
      p.records.reverse();
    }),
    await pmut(
      "record-changed",
      "a record's net amount raised by one (commitment no longer opens)",
      (p) => {
        const rec = p.records[0]!.record as Record<string, string>;
        rec.total = (BigInt(rec.total!) + 1n).toString();
      },
    ),
    await pmut("wrong-batch", "the document names batch 8, its proofs batch 7", (p) => {
      p.batchId = 8;
    }),
    await pmut("wrong-root", "trusted root of another batch", () => {}, {
      root: otherRoot,
      vrfPublicKey: pk,
    }),
    await pmut("wrong-context", "k_b claimed for the pension batch of the month", (p) => {
      p.context = { kind: "pension", period: "1403-07" };
    }),
    await pmut(
      "absence-claimed",
      "the range proof relabelled an absence proof, openings dropped",
      (p) => {
        p.proof.type = "absence";
        p.records = [];
      },
    ),
    await pmut("unknown-format", "format shafaf-person-proof/2", (p) => {
      (p as Record<string, unknown>).format = "shafaf-person-proof/2";
    }),
    await pmut("unknown-key", "an extra top-level field", (p) => {
      p.name = "unbound text";
    }),
    await pmut("identifier-not-canonical", "the identifier with Persian digits", (p) => {
      p.personId = "۰۰۱۲۳۴۵۶۷۹";
    }),
  );
  const head = (what: string, spec: string) => ({
    format: "shafaf-vectors/1",
    spec,
    description: `${what} Generated by scripts/vectors/documents-v2.ts through scripts/generate-vectors.ts; do not edit. Each case: the document, its trust, and what verifyDocument (src/core/verify-document.ts) gives: valid, status, and the names of the checks that did not pass. Every verifier MUST agree with \`valid\`. Test VRF key: RFC 9381 Example 16's SK.`,
    chainId: CHAIN_ID,
    contract: CONTRACT,
    batchId: BATCH_ID,
    root,
    vrfPublicKey: pk,
  });
  return {
    receipts: {
      ...head(
        "Receipts shafaf-receipt/2 over one shafaf-tree/2 premium batch.",
        "docs/spec/receipt-v2.md",
      ),
      cases: rc,
    },
    persons: {
      ...head(
        "Person proofs shafaf-person-proof/1 over one shafaf-tree/2 premium batch.",
        "docs/spec/person-proof-v1.md",
      ),
      cases: pc,
    },
  };
}
