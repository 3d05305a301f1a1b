import { bytesToHex, hexToBytes, isHexBytes, type Hex } from "./hex.ts";
import { ShafafError } from "./errors.ts";
import { isRecordKind } from "./kinds/record-kinds.ts";
import type { RecordKind } from "./record.ts";
import type { Check } from "./verify-receipt.ts";
import { LANE_MAX, SUM_TREE_LANES } from "./sum-tree-lanes.ts";
import { siblingCount } from "./sum-tree-path.ts";
import {
  LEAF_LANE_MAX,
  provinceNode,
  sumLeafNode,
  sumParent,
  type SumLeaf,
} from "./sum-tree-hash.ts";
import { SUM_TREE_SCHEME, type SumTreeProof } from "./sum-tree-proof.ts";

/** What the verifier trusts, obtained out of band (the chain, a manifest whose hash is on-chain). */
export interface SumTreeTrust {
  /** The batch root. */
  root: string;
  /** The batch totals, when the caller has them (the manifest's lanes). */
  lanes?: readonly (bigint | string)[];
  /** The manifest's province subtrees, by code. */
  provinces?: Readonly<Record<string, { root: string; lanes: readonly (bigint | string)[] }>>;
}

export interface VerifySumTreeProofResult {
  status: "verified" | "failed";
  checks: Check[];
  /** What the proof established, when every check passed. */
  proven?: {
    type: "inclusion" | "range" | "absence";
    kind: RecordKind;
    batchId: number;
    /** The batch index of every leaf of the key (range), or of the included leaf. */
    batchIndices: number[];
    /** The lanes of those leaves added up. */
    lanes: bigint[];
    /** Those leaves (province, key, seq, lanes, commitment): a holder compares key and commitment with their own. */
    leaves: { province: string; key: Hex; seq: number; lanes: bigint[]; commitment: Hex }[];
  };
}

interface Node {
  hash: Uint8Array;
  lanes: bigint[];
}
interface Leaf extends SumLeaf {
  lanes: bigint[];
}
interface Window {
  province: string;
  provinceIndex: number;
  size: number;
  index: number;
  batchIndex: number;
  leaves: Leaf[];
  subtree: Node;
  path: Node[];
  provincePath: Node[];
}
interface Parsed {
  type: "inclusion" | "range" | "absence";
  kind: RecordKind;
  batchId: number;
  root: Node;
  batchSize: number;
  provinceCount: number;
  key: Uint8Array | undefined;
  windows: Window[];
}

/** A malformed proof field: caught below and reported as the failed `format` check. */
class FormatError extends ShafafError {
  override name = "FormatError";
  constructor(message: string) {
    super(message, { code: "core.sum-tree-proof.format" });
  }
}
const bad = (where: string, what: string): never => {
  throw new FormatError(`${where}: ${what}`);
};
const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const DEC = /^(0|[1-9][0-9]{0,38})$/;
const MAX_ITEMS = 1 << 16;

function uint(v: unknown, where: string, max = 0xffffffff): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max)
    bad(where, `not an integer in 0..${max}`);
  return v as number;
}
function hex32(v: unknown, where: string): Uint8Array {
  if (!isHexBytes(v, 32)) bad(where, "not a 0x-prefixed 32-byte hex string");
  return hexToBytes(v as string);
}
function lanesOf(v: unknown, n: number, where: string): bigint[] {
  if (!Array.isArray(v) || v.length !== n) bad(where, `not an array of ${n} lanes`);
  return (v as unknown[]).map((x, k) => {
    if (typeof x !== "string" || !DEC.test(x)) bad(`${where}[${k}]`, "not a decimal string");
    const b = BigInt(x as string);
    if (b > LANE_MAX) bad(`${where}[${k}]`, "above 2^128 − 1");
    return b;
  });
}
function nodeOf(v: unknown, n: number, where: string): Node {
  if (!isObj(v)) bad(where, "not an object");
  const o = v as Record<string, unknown>;
  return { hash: hex32(o.hash, `${where}.hash`), lanes: lanesOf(o.lanes, n, `${where}.lanes`) };
}
function arrayOf<T>(v: unknown, where: string, f: (x: unknown, w: string) => T, min = 0): T[] {
  if (!Array.isArray(v) || v.length < min || v.length > MAX_ITEMS)
    bad(where, `not an array of ${min}..${MAX_ITEMS} items`);
  return (v as unknown[]).map((x, i) => f(x, `${where}[${i}]`));
}

function parse(proof: unknown): Parsed {
  if (!isObj(proof)) bad("proof", "not an object");
  const p = proof as Record<string, unknown>;
  if (p.type !== "inclusion" && p.type !== "range" && p.type !== "absence")
    bad("type", "not inclusion, range or absence");
  if (!isRecordKind(p.kind)) bad("kind", "not premium or pension");
  const kind = p.kind as RecordKind;
  const n = SUM_TREE_LANES[kind].length;
  const type = p.type as Parsed["type"];
  const key = type === "inclusion" ? undefined : hex32(p.key, "key");
  if (type === "inclusion" && p.key !== undefined) bad("key", "an inclusion proof has no key");
  const windows = arrayOf(
    p.windows,
    "windows",
    (w, where) => {
      if (!isObj(w)) bad(where, "not an object");
      const o = w as Record<string, unknown>;
      if (typeof o.province !== "string" || !/^IR-[0-9]{2}$/.test(o.province))
        bad(`${where}.province`, "not an IR-dd code");
      return {
        province: o.province as string,
        provinceIndex: uint(o.provinceIndex, `${where}.provinceIndex`),
        size: uint(o.size, `${where}.size`),
        index: uint(o.index, `${where}.index`),
        batchIndex: uint(o.batchIndex, `${where}.batchIndex`, Number.MAX_SAFE_INTEGER),
        leaves: arrayOf(
          o.leaves,
          `${where}.leaves`,
          (l, lw) => {
            if (!isObj(l)) bad(lw, "not an object");
            const x = l as Record<string, unknown>;
            return {
              key: hex32(x.key, `${lw}.key`),
              seq: uint(x.seq, `${lw}.seq`),
              lanes: lanesOf(x.lanes, n, `${lw}.lanes`),
              commitment: hex32(x.commitment, `${lw}.commitment`),
            };
          },
          1,
        ),
        subtree: nodeOf(o.subtree, n, `${where}.subtree`),
        path: arrayOf(o.path, `${where}.path`, (x, pw) => nodeOf(x, n, pw)),
        provincePath: arrayOf(o.provincePath, `${where}.provincePath`, (x, pw) => nodeOf(x, n, pw)),
      };
    },
    1,
  );
  return {
    type,
    kind,
    batchId: uint(p.batchId, "batchId", Number.MAX_SAFE_INTEGER),
    root: nodeOf(p.root, n, "root"),
    batchSize: uint(p.batchSize, "batchSize", Number.MAX_SAFE_INTEGER),
    provinceCount: uint(p.provinceCount, "provinceCount"),
    key,
    windows,
  };
}

/** Result of walking a range up a tree: the root, or the reason it could not be computed. */
type Walk = { ok: true; root: Node; leftRecords: bigint } | { ok: false; detail: string };

/**
 * Computes the root of a tree of `size` leaves from the nodes at positions lo.. (level 0) and the
 * siblings in consumption order. `leftRecords` adds up the `records` lane of the left siblings:
 * the number of leaves before `lo`. Precondition: `path.length` = siblingCount(size, lo, hi).
 */
function walk(size: number, lo0: number, nodes0: Node[], path: Node[]): Walk {
  let count = size;
  let lo = lo0;
  let hi = lo0 + nodes0.length - 1;
  let nodes = nodes0;
  let next = 0;
  let leftRecords = 0n;
  for (let level = 0; count > 1; level++) {
    const row = nodes.slice();
    let start = lo;
    if (lo % 2 === 1) {
      const s = path[next++]!;
      leftRecords += s.lanes[0]!;
      row.unshift(s);
      start = lo - 1;
    }
    if (hi % 2 === 0 && hi + 1 < count) row.push(path[next++]!);
    const up: Node[] = [];
    for (let k = 0; k < row.length; k += 2) {
      if (k + 1 === row.length) {
        up.push(row[k]!); // the unpaired last node of the level is promoted
        continue;
      }
      const parent = sumParent(row[k]!, row[k + 1]!);
      if (parent === undefined)
        return {
          ok: false,
          detail: `a lane sum exceeds 2^128 − 1 at node ${(start + k) >> 1} of level ${level + 1}`,
        };
      up.push(parent);
    }
    nodes = up;
    lo = start >> 1;
    hi >>= 1;
    count = (count + 1) >> 1;
  }
  return { ok: true, root: nodes[0]!, leftRecords };
}

const laneText = (l: readonly bigint[]): string => `[${l.join(", ")}]`;
const sameLanes = (a: readonly bigint[], b: readonly bigint[]): boolean =>
  a.length === b.length && a.every((x, k) => x === b[k]);
const cmpBytes = (a: Uint8Array, b: Uint8Array): number => {
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return a[k]! - b[k]!;
  return 0;
};
const cmpLeaf = (a: RuleLeaf, b: RuleLeaf): number => cmpBytes(a.key, b.key) || a.seq - b.seq;

/** A window's leaf as the order and range rules read it. */
interface RuleLeaf {
  key: Uint8Array;
  seq: number;
  lanes: readonly bigint[];
}

/** Positions j ≥ 1 whose leaf is not above leaf j − 1 in (key, seq) order. */
function orderBreaks(leaves: readonly RuleLeaf[]): number[] {
  const out: number[] = [];
  for (let j = 1; j < leaves.length; j++) if (cmpLeaf(leaves[j - 1]!, leaves[j]!) >= 0) out.push(j);
  return out;
}

/**
 * The range rule of one window around `key` (tree-v2.md §6): at most one leaf on each side of
 * the key's leaves, none missing at the subtree's ends, the key's leaves numbered 0, 1, … with
 * the persons lane 1 on the first only. `why` names the break (undefined: it holds); `own` the
 * key's leaves.
 */
function rangeRule(
  w: { index: number; size: number; leaves: readonly RuleLeaf[] },
  key: Uint8Array,
): { why: string | undefined; own: number[] } {
  const own = w.leaves.flatMap((l, j) => (cmpBytes(l.key, key) === 0 ? [j] : []));
  const last = w.leaves.length - 1;
  const before = w.leaves.filter((l) => cmpBytes(l.key, key) < 0).length;
  const after = w.leaves.filter((l) => cmpBytes(l.key, key) > 0).length;
  const hi = w.index + last;
  let why: string | undefined;
  if (before > 1 || after > 1) why = "more than one leaf on a side of the key";
  else if (before === 0 && w.index !== 0)
    why = "no leaf below the key, yet the window does not start the subtree";
  else if (after === 0 && hi !== w.size - 1)
    why = "no leaf above the key, yet the window does not end the subtree";
  else if (own.length > 0 && (own[0] !== before || own[own.length - 1] !== last - after))
    why = "the key's leaves are not between its neighbours";
  else if (own.some((j, m) => w.leaves[j]!.seq !== m))
    why = "the key's leaves are not numbered 0, 1, … without a gap";
  else if (own.some((j, m) => w.leaves[j]!.lanes[1] !== (m === 0 ? 1n : 0n)))
    why = "the persons lane is not 1 on the key's first leaf and 0 on the others";
  return { why, own };
}

/** One window per province of the batch, in province order (a range or absence proof). */
function coverageHolds(
  windows: readonly { province: string; provinceIndex: number }[],
  provinceCount: number,
): boolean {
  return (
    windows.length === provinceCount &&
    windows.every(
      (w, i) => w.provinceIndex === i && (i === 0 || windows[i - 1]!.province < w.province),
    )
  );
}

/**
 * The rules of {@link verifySumTreeProof} that are neither hash links nor sums, for a proof
 * whose every node and leaf was read from tile windows verified against the trusted root (a
 * builder's own check, `sum-tiles.ts` with a trusted province root; DESIGN.md "Lookups from
 * verified windows"): leaves in ascending (key, seq) order in each window, the range rule around
 * the key, one window per province in order, and the claim (a range proof holds a leaf of the
 * key, an absence proof none). Returns the first rule broken, or undefined. NOT a verifier: it
 * hashes nothing.
 *
 * @example
 * const broken = sumTreeProofRulesBreak(tree.personProof(key, batchId)); // undefined
 */
export function sumTreeProofRulesBreak(proof: SumTreeProof): string | undefined {
  const key = proof.key === undefined ? undefined : hexToBytes(proof.key);
  let owned = 0;
  for (const [i, w] of proof.windows.entries()) {
    const leaves = w.leaves.map((l) => ({
      key: hexToBytes(l.key),
      seq: l.seq,
      lanes: l.lanes.map((v, k) => (k < 2 ? BigInt(v) : 0n)),
    }));
    if (orderBreaks(leaves).length > 0) return `window ${i}: leaves out of (key, seq) order`;
    if (key !== undefined) {
      const { why, own } = rangeRule({ index: w.index, size: w.size, leaves }, key);
      if (why !== undefined) return `window ${i} (${w.province}): ${why}`;
      owned += own.length;
    }
  }
  if (proof.type === "inclusion") return undefined;
  if (!coverageHolds(proof.windows, proof.provinceCount))
    return "a range or absence proof has one window per province of the batch, in order";
  if (proof.type === "range" && owned === 0) return "a range proof holds no leaf of the key";
  if (proof.type === "absence" && owned > 0) return "an absence proof holds a leaf of the key";
  return undefined;
}

/**
 * Verifies a `shafaf-tree/2` proof (inclusion, range or absence; docs/spec/tree-v2.md §6)
 * against a trusted root. Pure and browser-safe; never throws: malformed or hostile input yields
 * `failed` with the check that broke. Lengths are checked from index and size before any hashing;
 * every root and sum is computed first and then compared, and a failed check names both values.
 *
 * @example
 * const r = verifySumTreeProof(proof, { root: onChainRoot });
 * r.status; // "verified" | "failed"
 */
export function verifySumTreeProof(proof: unknown, trust: SumTreeTrust): VerifySumTreeProofResult {
  const checks: Check[] = [];
  const pass = (name: string, detail: string) =>
    checks.push({ name, ok: true, outcome: "pass", detail });
  const fail = (name: string, detail: string, expected?: string, computed?: string) => {
    const c: Check = { name, ok: false, outcome: "fail", detail };
    if (expected !== undefined) c.expected = expected;
    if (computed !== undefined) c.computed = computed;
    checks.push(c);
  };
  const done = (): VerifySumTreeProofResult => ({ status: "failed", checks });
  try {
    const scheme = isObj(proof) ? proof.scheme : undefined;
    if (scheme !== SUM_TREE_SCHEME) {
      fail("scheme", "the proof is not a shafaf-tree/2 proof", SUM_TREE_SCHEME, String(scheme));
      return done();
    }
    pass("scheme", SUM_TREE_SCHEME);
    let p: Parsed;
    try {
      p = parse(proof);
    } catch (e) {
      if (e instanceof FormatError) {
        fail("format", e.message);
        return done();
      }
      throw e;
    }
    pass("format", "every field has its type and width");
    if (!isHexBytes(trust.root, 32)) {
      fail("trusted-root", "the trusted root is not a 32-byte hex string");
      return done();
    }

    // Shape, before hashing: counts and path lengths follow from indices and sizes.
    if (p.type === "inclusion" && (p.windows.length !== 1 || p.windows[0]!.leaves.length !== 1)) {
      fail("path-length", "an inclusion proof holds one window of one leaf");
      return done();
    }
    for (const [i, w] of p.windows.entries()) {
      const hi = w.index + w.leaves.length - 1;
      if (w.size < 1 || hi >= w.size || w.provinceIndex >= p.provinceCount) {
        fail(
          "path-length",
          `window ${i}: leaves ${w.index}..${hi} of ${w.size}, province ${w.provinceIndex} of ${p.provinceCount}`,
        );
        return done();
      }
      const want = siblingCount(w.size, w.index, hi);
      const wantTop = siblingCount(p.provinceCount, w.provinceIndex, w.provinceIndex);
      if (w.path.length !== want || w.provincePath.length !== wantTop) {
        fail(
          "path-length",
          `window ${i}: the index, size and province count call for ${want} + ${wantTop} siblings`,
          `${want} + ${wantTop}`,
          `${w.path.length} + ${w.provincePath.length}`,
        );
        return done();
      }
    }
    pass("path-length", "every path has the length its index and size call for");

    // Compute: leaves → province subtree root → province node → batch root.
    let failed = false;
    const ownIndices: number[] = [];
    const ownLanes = SUM_TREE_LANES[p.kind].map(() => 0n);
    const ownLeaves: NonNullable<VerifySumTreeProofResult["proven"]>["leaves"] = [];
    const prove = (w: Window, j: number) => {
      const l = w.leaves[j]!;
      ownIndices.push(w.batchIndex + j);
      l.lanes.forEach((v, k) => (ownLanes[k] = ownLanes[k]! + v));
      ownLeaves.push({
        province: w.province,
        key: bytesToHex(l.key),
        seq: l.seq,
        lanes: l.lanes,
        commitment: bytesToHex(l.commitment),
      });
    };
    for (const [i, w] of p.windows.entries()) {
      const leafNodes: Node[] = [];
      for (const [j, leaf] of w.leaves.entries()) {
        if (
          leaf.lanes[0] !== 1n ||
          leaf.lanes[1]! > 1n ||
          leaf.lanes.some((v) => v > LEAF_LANE_MAX)
        ) {
          fail(
            "leaf",
            `window ${i} leaf ${j}: a leaf counts 1 record and 0 or 1 person, each lane below 2^64`,
            "records 1, persons 0 or 1, lanes < 2^64",
            `records ${leaf.lanes[0]}, persons ${leaf.lanes[1]}`,
          );
          return done();
        }
        leafNodes.push(sumLeafNode(leaf));
      }
      const sub = walk(w.size, w.index, leafNodes, w.path);
      if (!sub.ok) {
        fail("lanes", `window ${i} (${w.province}): ${sub.detail}`);
        return done();
      }
      const subRoot = sub.root;
      if (subRoot.lanes[0] !== BigInt(w.size)) {
        fail(
          "size",
          `window ${i}: the subtree's records lane is its size`,
          String(w.size),
          String(subRoot.lanes[0]),
        );
        failed = true;
      }
      if (sub.leftRecords !== BigInt(w.index)) {
        fail(
          "index",
          `window ${i}: the records left of the first leaf are its index`,
          String(w.index),
          String(sub.leftRecords),
        );
        failed = true;
      }
      const claimedSub = `${bytesToHex(w.subtree.hash)} ${laneText(w.subtree.lanes)}`;
      const computedSub = `${bytesToHex(subRoot.hash)} ${laneText(subRoot.lanes)}`;
      if (claimedSub !== computedSub) {
        fail(
          "province",
          `window ${i} (${w.province}): the province subtree root`,
          claimedSub,
          computedSub,
        );
        failed = true;
      }
      const manifest = trust.provinces?.[w.province];
      if (trust.provinces !== undefined) {
        const listed =
          manifest === undefined
            ? "absent"
            : `${manifest.root.toLowerCase()} ${laneText(manifest.lanes.map(BigInt))}`;
        if (listed !== computedSub) {
          fail(
            "trusted-province",
            `window ${i} (${w.province}): the manifest's province subtree`,
            listed,
            computedSub,
          );
          failed = true;
        }
      }
      const top = walk(
        p.provinceCount,
        w.provinceIndex,
        [provinceNode(p.kind, w.province, subRoot)],
        w.provincePath,
      );
      if (!top.ok) {
        fail("lanes", `window ${i}: top tree: ${top.detail}`);
        return done();
      }
      if (top.leftRecords + BigInt(w.index) !== BigInt(w.batchIndex)) {
        fail(
          "batch-index",
          `window ${i}: the records left of the first leaf in the batch`,
          String(w.batchIndex),
          String(top.leftRecords + BigInt(w.index)),
        );
        failed = true;
      }
      const rootText = `${bytesToHex(top.root.hash)} ${laneText(top.root.lanes)}`;
      const claimedRoot = `${bytesToHex(p.root.hash)} ${laneText(p.root.lanes)}`;
      if (bytesToHex(top.root.hash) !== bytesToHex(p.root.hash)) {
        fail("root", `window ${i}: the batch root computed from the proof`, claimedRoot, rootText);
        failed = true;
      } else if (!sameLanes(top.root.lanes, p.root.lanes)) {
        fail(
          "root-lanes",
          `window ${i}: the batch totals are the sums of the top children`,
          laneText(p.root.lanes),
          laneText(top.root.lanes),
        );
        failed = true;
      }
      if (top.root.lanes[0] !== BigInt(p.batchSize)) {
        fail(
          "batch-size",
          `window ${i}: the batch's records lane is its size`,
          String(p.batchSize),
          String(top.root.lanes[0]),
        );
        failed = true;
      }
      // Order inside the window, and the key's leaves.
      for (const j of orderBreaks(w.leaves)) {
        fail(
          "order",
          `window ${i}: leaves ${j - 1} and ${j} are not in ascending (key, seq) order`,
        );
        failed = true;
      }
      if (p.key !== undefined) {
        const { why, own } = rangeRule(w, p.key);
        if (why !== undefined) {
          fail("range", `window ${i} (${w.province}): ${why}`);
          failed = true;
        }
        for (const j of own) {
          prove(w, j);
        }
      } else {
        prove(w, 0);
      }
    }
    if (!failed) pass("root", "every window leads to the proof's root, sizes and indices agree");

    if (p.type !== "inclusion") {
      if (!coverageHolds(p.windows, p.provinceCount)) {
        fail(
          "coverage",
          "a range or absence proof has one window per province of the batch, in order",
          String(p.provinceCount),
          String(p.windows.length),
        );
        failed = true;
      }
      if (p.type === "range" && ownIndices.length === 0) {
        fail("claim", "a range proof holds at least one leaf of the key", "≥ 1", "0");
        failed = true;
      }
      if (p.type === "absence" && ownIndices.length > 0) {
        fail("claim", "an absence proof holds no leaf of the key", "0", String(ownIndices.length));
        failed = true;
      }
    }

    // Compare with what the caller trusts.
    const trusted = trust.root.toLowerCase();
    if (bytesToHex(p.root.hash) !== trusted) {
      fail(
        "trusted-root",
        "the proof's batch root against the trusted root",
        trusted,
        bytesToHex(p.root.hash),
      );
      failed = true;
    } else pass("trusted-root", "the batch root is the trusted root");
    if (trust.lanes !== undefined) {
      const want = trust.lanes.map(BigInt);
      if (!sameLanes(want, p.root.lanes)) {
        fail(
          "trusted-lanes",
          "the batch totals against the trusted totals",
          laneText(want),
          laneText(p.root.lanes),
        );
        failed = true;
      } else pass("trusted-lanes", "the batch totals are the trusted totals");
    }
    if (failed) return done();
    return {
      status: "verified",
      checks,
      proven: {
        type: p.type,
        kind: p.kind,
        batchId: p.batchId,
        batchIndices: ownIndices,
        lanes: ownLanes,
        leaves: ownLeaves,
      },
    };
  } catch (e) {
    fail("format", `the proof could not be read: ${e instanceof Error ? e.name : "error"}`);
    return done();
  }
}
