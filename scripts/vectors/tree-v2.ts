/**
 * The `shafaf-tree/2` vectors (test/vectors/tree-v2.json), written by scripts/generate-vectors.ts
 * and checked fresh by `npm run vectors:check`. Trees built honestly and deliberately wrongly, and
 * proofs, valid and corrupted, each with the result the TypeScript verifier gives: status and the
 * names of the failed checks. Every verifier (TypeScript, Solidity, browser) must agree on `valid`.
 */
import { buildOrderedSumTree, buildSumTree, type SumTree } from "../../src/core/build-sum-tree.ts";
import { bytesToHex } from "../../src/core/hex.ts";
import { keccak256 } from "../../src/core/keccak.ts";
import { recordToJson } from "../../src/core/receipt.ts";
import type { LedgerRecord, RecordKind } from "../../src/core/record.ts";
import { sumTreeRecordFields } from "../../src/core/sum-tree-record.ts";
import { SUM_TREE_LANES } from "../../src/core/sum-tree-lanes.ts";
import {
  sumLeafNode,
  sumParent,
  type SumLeaf,
  type SumNode,
} from "../../src/core/sum-tree-hash.ts";
import type { SumTreeProof } from "../../src/core/sum-tree-proof.ts";
import { verifySumTreeProof, type SumTreeTrust } from "../../src/core/verify-sum-tree-proof.ts";

const label = (text: string): Uint8Array =>
  keccak256(new TextEncoder().encode(`shafaf/test-vectors/tree-v2/${text}`));
/** Keys sorted by their label number would not be sorted by bytes: the tree sorts them. */
const key = (n: number) => label(`key/${n}`);
const commitment = (n: number) => label(`commitment/${n}`);

interface Rec {
  person: number;
  province: string;
  amounts: bigint[];
}

function build(kind: RecordKind, recs: Rec[]): SumTree {
  const n = recs.length;
  const keys = new Uint8Array(n * 32);
  const commitments = new Uint8Array(n * 32);
  const amountsN = SUM_TREE_LANES[kind].length - 2;
  const amounts = new BigUint64Array(n * amountsN);
  recs.forEach((r, i) => {
    keys.set(key(r.person), i * 32);
    commitments.set(commitment(i), i * 32);
    amounts.set(r.amounts, i * amountsN);
  });
  return buildSumTree(kind, { keys, commitments, provinces: recs.map((r) => r.province), amounts });
}

const premium = (person: number, province: string, i: number): Rec => ({
  person,
  province,
  amounts: [
    BigInt(71_661_840 + 1_000_000 * i),
    BigInt(31 - (i % 5)),
    BigInt(21_498_552 + 300_000 * i),
  ],
});
const pension = (person: number, i: number): Rec => ({
  person,
  province: "IR-10",
  amounts: [
    BigInt(150_000_000 + 7_000_000 * i),
    BigInt(2_000_000 * (i % 3)),
    BigInt(150_000_000 + 5_000_000 * i),
    BigInt(i % 2),
  ],
});

const json = (tree: SumTree) => ({
  kind: tree.kind,
  root: tree.root,
  lanes: tree.lanes.map(String),
  provinces: tree.provinces.map((p) => ({
    code: p.code,
    size: p.size,
    offset: p.offset,
    root: p.root,
    lanes: p.lanes.map(String),
  })),
  leaves: Array.from({ length: tree.size }, (_, i) => {
    const leaf = tree.leaf(i);
    return {
      province: leaf.province,
      key: bytesToHex(leaf.key),
      seq: leaf.seq,
      lanes: leaf.lanes.map(String),
      commitment: bytesToHex(leaf.commitment),
      leafHash: bytesToHex(sumLeafNode(leaf).hash),
    };
  }),
});

/** A leaf with explicit fields, for trees built wrongly on purpose. */
const raw = (person: number, seq: number, persons: bigint, c: number, wage: bigint): SumLeaf => ({
  key: key(person),
  seq,
  lanes: [1n, persons, wage, 30n, wage / 3n],
  commitment: commitment(c),
});
const byKey = (a: SumLeaf, b: SumLeaf) => {
  for (let k = 0; k < 32; k++) if (a.key[k] !== b.key[k]) return a.key[k]! - b.key[k]!;
  return a.seq - b.seq;
};

type Mutate = (p: SumTreeProof & Record<string, unknown>) => void;
const clone = (p: SumTreeProof) =>
  JSON.parse(JSON.stringify(p)) as SumTreeProof & Record<string, unknown>;
const flip = (hex: string, byte = 0): `0x${string}` => {
  const b = hex.slice(2 + byte * 2, 4 + byte * 2);
  const f = (parseInt(b, 16) ^ 1).toString(16).padStart(2, "0");
  return `0x${hex.slice(2, 2 + byte * 2)}${f}${hex.slice(4 + byte * 2)}`;
};

/**
 * The window of leaves lo..hi of province p, with honest hashes: what a dishonest server that
 * leaves out some of a person's records (or a neighbour) would send. Levels recomputed from the
 * leaves with the specification's parent.
 */
function windowOf(tree: SumTree, p: number, lo: number, hi: number, base: SumTreeProof) {
  const pr = tree.provinces[p]!;
  let level: SumNode[] = Array.from({ length: pr.size }, (_, j) =>
    sumLeafNode(tree.leaf(pr.offset + j)),
  );
  const path: { hash: `0x${string}`; lanes: string[] }[] = [];
  const node = (n: SumNode) => ({ hash: bytesToHex(n.hash), lanes: n.lanes.map(String) });
  let a = lo;
  let b = hi;
  while (level.length > 1) {
    if (a % 2 === 1) path.push(node(level[a - 1]!));
    if (b % 2 === 0 && b + 1 < level.length) path.push(node(level[b + 1]!));
    const up: SumNode[] = [];
    for (let k = 0; k < level.length; k += 2)
      up.push(k + 1 < level.length ? sumParent(level[k]!, level[k + 1]!)! : level[k]!);
    level = up;
    a >>= 1;
    b >>= 1;
  }
  const honest = base.windows[p]!;
  const leaves = [];
  for (let j = lo; j <= hi; j++) {
    const l = tree.leaf(pr.offset + j);
    leaves.push({
      key: bytesToHex(l.key),
      seq: l.seq,
      lanes: l.lanes.map(String),
      commitment: bytesToHex(l.commitment),
    });
  }
  return { ...honest, index: lo, batchIndex: pr.offset + lo, leaves, path };
}

export function treeV2Vectors(): unknown {
  const main = build("premium", [
    premium(1, "IR-23", 0),
    premium(2, "IR-23", 1),
    premium(1, "IR-23", 2),
    premium(3, "IR-07", 3),
    premium(4, "IR-07", 4),
    premium(1, "IR-07", 5),
    premium(5, "IR-23", 6),
    premium(6, "IR-30", 7),
    premium(2, "IR-23", 8),
    premium(7, "IR-23", 9),
    premium(8, "IR-07", 10),
    premium(1, "IR-23", 11),
  ]);
  const pensions = build(
    "pension",
    [0, 1, 2, 3, 4].map((i) => pension(10 + (i % 4), i)),
  );
  const single = build("premium", [premium(20, "IR-00", 0)]);

  // Wrong trees (their roots are honest hashes of wrong content: only order checks catch them).
  const sorted = [
    raw(30, 0, 1n, 0, 100n),
    raw(31, 0, 1n, 1, 200n),
    raw(32, 0, 1n, 2, 300n),
    raw(33, 0, 1n, 3, 400n),
    raw(34, 0, 1n, 4, 500n),
  ].sort(byKey);
  const swapped = [sorted[0]!, sorted[2]!, sorted[1]!, sorted[3]!, sorted[4]!];
  const unordered = buildOrderedSumTree("premium", [{ code: "IR-05", leaves: swapped }]);
  const dupLeaves = [
    sorted[0]!,
    sorted[1]!,
    { ...sorted[1]!, commitment: commitment(9) },
    sorted[2]!,
  ];
  const duplicate = buildOrderedSumTree("premium", [{ code: "IR-05", leaves: dupLeaves }]);
  const gapLeaves = [
    sorted[0]!,
    { ...sorted[1]!, seq: 0 },
    { ...sorted[1]!, seq: 2, lanes: [1n, 0n, 7n, 30n, 2n], commitment: commitment(8) },
    sorted[2]!,
  ];
  const seqGap = buildOrderedSumTree("premium", [{ code: "IR-05", leaves: gapLeaves }]);
  const twoPersons = [
    sorted[0]!,
    { ...sorted[1]!, seq: 0 },
    { ...sorted[1]!, seq: 1, lanes: [1n, 1n, 7n, 30n, 2n], commitment: commitment(7) },
    sorted[2]!,
  ];
  const personsTwice = buildOrderedSumTree("premium", [{ code: "IR-05", leaves: twoPersons }]);

  const trustOf = (t: SumTree): SumTreeTrust => ({ root: t.root, lanes: t.lanes.map(String) });
  const cases: { name: string; tree: string; trust: SumTreeTrust; proof: unknown }[] = [];
  const add = (name: string, tree: string, t: SumTree, proof: unknown, trust = trustOf(t)) =>
    cases.push({ name, tree, trust, proof });

  // Valid: every leaf's inclusion in every honest tree; every key's range; absences.
  for (const [name, t] of [
    ["premium-12", main],
    ["pension-5", pensions],
    ["premium-1", single],
  ] as const) {
    for (let i = 0; i < t.size; i++) add(`inclusion-${i}`, name, t, t.inclusionProof(i, 7));
  }
  for (const person of [1, 2, 3, 6])
    add(`range-person-${person}`, "premium-12", main, main.personProof(key(person), 7));
  for (const person of [99, 100, 101])
    add(`absence-person-${person}`, "premium-12", main, main.personProof(key(person), 7));
  add("range-person-20", "premium-1", single, single.personProof(key(20), 7));
  add("absence-person-99-single", "premium-1", single, single.personProof(key(99), 7));

  // Corrupted.
  const incl = main.inclusionProof(5, 7);
  const mutate = (
    name: string,
    base: SumTreeProof,
    f: Mutate,
    t: SumTree = main,
    trust = trustOf(t),
  ) => {
    const p = clone(base);
    f(p);
    add(name, "premium-12", t, p, trust);
  };
  const w0 = (p: SumTreeProof) => p.windows[0]!;
  mutate(
    "corrupt-flipped-bit-path",
    incl,
    (p) => (w0(p).path[0]!.hash = flip(w0(p).path[0]!.hash, 31)),
  );
  mutate(
    "corrupt-flipped-bit-commitment",
    incl,
    (p) => (w0(p).leaves[0]!.commitment = flip(w0(p).leaves[0]!.commitment, 5)),
  );
  mutate(
    "corrupt-leaf-lane-plus-one",
    incl,
    (p) => (w0(p).leaves[0]!.lanes[2] = String(BigInt(w0(p).leaves[0]!.lanes[2]!) + 1n)),
  );
  mutate(
    "corrupt-sibling-lane-plus-one",
    incl,
    (p) => (w0(p).path[0]!.lanes[4] = String(BigInt(w0(p).path[0]!.lanes[4]!) + 1n)),
  );
  mutate(
    "corrupt-sibling-lane-overflow",
    incl,
    (p) => (w0(p).path[0]!.lanes[2] = String((1n << 128n) - 1n)),
  );
  mutate(
    "corrupt-lane-above-128-bits",
    incl,
    (p) => (w0(p).path[0]!.lanes[2] = String(1n << 128n)),
  );
  mutate("corrupt-swapped-siblings", incl, (p) => {
    const path = w0(p).path;
    [path[0], path[1]] = [path[1]!, path[0]!];
  });
  mutate("corrupt-swapped-children", incl, (p) => {
    // Claim the leaf is the other child of its parent: the sibling order flips.
    w0(p).index ^= 1;
    w0(p).batchIndex ^= 1;
  });
  mutate("corrupt-wrong-index", incl, (p) => (w0(p).index += 2));
  mutate("corrupt-wrong-size", incl, (p) => (w0(p).size += 1));
  mutate("corrupt-wrong-batch-index", incl, (p) => (w0(p).batchIndex += 1));
  mutate("corrupt-wrong-batch-size", incl, (p) => (p.batchSize += 1));
  mutate("corrupt-wrong-province-code", incl, (p) => (w0(p).province = "IR-24"));
  mutate("corrupt-trailing-sibling", incl, (p) => w0(p).path.push(w0(p).path[0]!));
  mutate(
    "corrupt-unknown-scheme",
    incl,
    (p) => ((p as Record<string, unknown>).scheme = "shafaf-tree/3"),
  );
  mutate("corrupt-kind-changed", incl, (p) => (p.kind = "pension"));
  mutate("corrupt-wrong-trusted-root", incl, () => undefined, main, { root: pensions.root });
  // Maxwell's flaw (Hu, Zhang & Guo 2018/1139): totals that are the max of the children, not their sum.
  const max = (a: string[], b: string[]) =>
    a.map((x, k) => String(BigInt(x) > BigInt(b[k]!) ? x : b[k]!));
  mutate(
    "corrupt-root-sum-is-max",
    incl,
    (p) => {
      const kids = main.provinces.map((pr) => pr.lanes.map(String));
      p.root.lanes = kids.reduce((a, b) => max(a, b));
    },
    main,
    { root: main.root },
  );
  mutate("corrupt-province-sum-is-max", incl, (p) => {
    const leaves = w0(p).leaves[0]!.lanes;
    w0(p).subtree.lanes = max(
      leaves,
      w0(p)
        .path.map((x) => x.lanes)
        .reduce((a, b) => max(a, b)),
    );
  });
  mutate("corrupt-trusted-totals", incl, () => undefined, main, {
    root: main.root,
    lanes: main.lanes.map((v, k) => String(k === 4 ? v - 1n : v)),
  });
  const range = main.personProof(key(1), 7);
  mutate("corrupt-range-claimed-absent", range, (p) => (p.type = "absence"));
  mutate("corrupt-range-province-dropped", range, (p) => p.windows.pop());
  mutate("corrupt-range-other-key", range, (p) => (p.key = bytesToHex(key(2))));
  // Person 1 has records in two provinces; in each, drop a neighbour or one of their own records.
  const dishonest = (
    name: string,
    p: number,
    cut: (lo: number, hi: number) => [number, number],
  ) => {
    const w = range.windows[p]!;
    const [lo, hi] = cut(w.index, w.index + w.leaves.length - 1);
    mutate(name, range, (x) => (x.windows[p] = windowOf(main, p, lo, hi, range)));
  };
  const ownIn = (p: number) =>
    main
      .indicesOf(key(1))
      .filter(
        (i) =>
          i >= main.provinces[p]!.offset && i < main.provinces[p]!.offset + main.provinces[p]!.size,
      );
  const p1 = main.provinces.findIndex((_, p) => ownIn(p).length >= 2);
  const w1 = range.windows[p1]!;
  const k1 = bytesToHex(key(1));
  const hasLeft = w1.leaves[0]!.key !== k1;
  const hasRight = w1.leaves[w1.leaves.length - 1]!.key !== k1;
  if (hasLeft) dishonest("corrupt-range-without-left-neighbour", p1, (lo, hi) => [lo + 1, hi]);
  if (hasRight) dishonest("corrupt-range-without-right-neighbour", p1, (lo, hi) => [lo, hi - 1]);
  dishonest("corrupt-range-without-an-own-record", p1, (lo, hi) =>
    hasRight ? [lo, hi - 2] : [lo + 2, hi],
  );
  const absent = main.personProof(key(99), 7);
  mutate("corrupt-absence-claimed-present", absent, (p) => (p.type = "range"));
  add(
    "corrupt-neighbours-out-of-order",
    "unordered-5",
    unordered,
    unordered.personProof(sorted[1]!.key, 7),
  );
  add("corrupt-duplicate-key", "duplicate-4", duplicate, duplicate.personProof(sorted[1]!.key, 7));
  add("corrupt-seq-gap", "seq-gap-4", seqGap, seqGap.personProof(sorted[1]!.key, 7));
  add(
    "corrupt-persons-twice",
    "persons-twice-4",
    personsTwice,
    personsTwice.personProof(sorted[1]!.key, 7),
  );

  const records: LedgerRecord[] = [
    {
      kind: "premium",
      recordId: "W0012345678-140307-0001",
      period: "1403-07",
      nationalId: "0012345679",
      workshopCode: "0012345678",
      insuranceNo: "10000000",
      province: "IR-23",
      days: 31,
      wageBase: 71_661_840n,
      workerShare: 5_016_329n,
      employerShare: 14_332_368n,
      unemploymentShare: 2_149_855n,
      hazardShare: 0n,
      total: 21_498_552n,
      paidOn: "1403-08-02",
    },
    {
      kind: "pension",
      recordId: "P-140307-000001",
      period: "1403-07",
      nationalId: "1234567891",
      pensionFile: "PF-0001",
      category: "survivors",
      province: "IR-10",
      gross: 150_000_000n,
      deductions: 2_000_000n,
      net: 148_000_000n,
      dueOn: "1403-07-25",
      paidOn: "1403-07-24",
      supersedes: "P-140307-000099",
      reason: "کسر اشتباه",
    },
  ];
  const recordVectors = records.map((r, i) => {
    const salt = label(`salt/${i}`);
    const f = sumTreeRecordFields(r, salt);
    return {
      record: recordToJson(r),
      salt: bytesToHex(salt),
      amounts: f.amounts.map(String),
      commitment: bytesToHex(f.commitment),
    };
  });

  return {
    format: "shafaf-vectors/1",
    scheme: "shafaf-tree/2",
    records: recordVectors,
    description:
      "shafaf-tree/2 (docs/spec/tree-v2.md): trees, and proofs with the trust they are checked against and the result the TypeScript verifier gives (status, names of the failed checks). Every verifier must agree on `valid`. Generated by scripts/vectors/tree-v2.ts; do not edit.",
    trees: {
      "premium-12": json(main),
      "pension-5": json(pensions),
      "premium-1": json(single),
      "unordered-5": json(unordered),
      "duplicate-4": json(duplicate),
      "seq-gap-4": json(seqGap),
      "persons-twice-4": json(personsTwice),
    },
    proofs: cases.map((c) => {
      const r = verifySumTreeProof(c.proof, c.trust);
      return {
        name: c.name,
        tree: c.tree,
        trust: c.trust,
        proof: c.proof,
        valid: r.status === "verified",
        failedChecks: r.checks.filter((x) => !x.ok).map((x) => x.name),
      };
    }),
  };
}
