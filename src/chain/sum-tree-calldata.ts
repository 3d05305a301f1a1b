/**
 * Turns a `shafaf-tree/2` proof (docs/spec/tree-v2.md §7, JSON) into the arguments of the
 * ledger's `verifyInclusionV2`, `verifyRangeV2` and `verifyAbsenceV2` (SumTreeV2.Window tuples:
 * lanes as `uint128[6]`, a premium proof's lane 5 set to 0). Only the form is checked here — the
 * scheme, the kind's lane count, widths and hex — the contract computes and compares everything
 * else. The JSON's `root`, `scheme`, `kind` and `batchId` are not sent: the contract checks against
 * the anchored batch's root, totals and kind.
 */
import { ShafafError } from "../core/errors.ts";
import { isRecordKind, recordKindRules } from "../core/kinds/record-kinds.ts";

/** The Solidity tuple of a window, as ITransparencyLedger.sol declares SumTreeV2.Window. */
export const SUM_TREE_WINDOW_TUPLE =
  "tuple(bytes5 province, uint32 provinceIndex, uint32 size, uint32 index, uint64 batchIndex, tuple(bytes32 key, uint32 seq, uint128[6] lanes, bytes32 commitment)[] leaves, tuple(bytes32 hash, uint128[6] lanes) subtree, tuple(bytes32 hash, uint128[6] lanes)[] path, tuple(bytes32 hash, uint128[6] lanes)[] provincePath)";

export type LaneTuple = [bigint, bigint, bigint, bigint, bigint, bigint];

export interface SumTreeNodeCalldata {
  hash: string;
  lanes: LaneTuple;
}

export interface SumTreeWindowCalldata {
  /** `IR-dd` as 5 ASCII bytes, 0x-hex. */
  province: string;
  provinceIndex: number;
  size: number;
  index: number;
  batchIndex: bigint;
  leaves: { key: string; seq: number; lanes: LaneTuple; commitment: string }[];
  subtree: SumTreeNodeCalldata;
  path: SumTreeNodeCalldata[];
  provincePath: SumTreeNodeCalldata[];
}

export interface SumTreeProofCalldata {
  type: "inclusion" | "range" | "absence";
  /** 0 premium, 1 pension: the contract's kind numbers. */
  kind: 0 | 1;
  batchSize: bigint;
  provinceCount: number;
  /** Range and absence: the person key; undefined for inclusion. */
  key: string | undefined;
  windows: SumTreeWindowCalldata[];
}

/** The proof is not a well-formed `shafaf-tree/2` proof (not retryable: fix the proof). */
export class SumTreeCalldataError extends ShafafError {
  override name = "SumTreeCalldataError";
  constructor(where: string, problem: string) {
    super(`proof ${where}: ${problem}`, {
      details: "Give a shafaf-tree/2 proof as docs/spec/tree-v2.md §7 specifies it.",
      code: "chain.proof.format",
    });
  }
}

const LANE_MAX = (1n << 128n) - 1n;
const DEC = /^(0|[1-9][0-9]{0,38})$/;
const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const MAX_ITEMS = 1 << 16;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function fail(where: string, problem: string): never {
  throw new SumTreeCalldataError(where, problem);
}
function obj(v: unknown, where: string): Obj {
  if (!isObj(v)) fail(where, "is not an object");
  return v;
}
function uint(v: unknown, where: string, max: number): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max)
    fail(where, `is not an integer in 0..${max}`);
  return v;
}
function hex32(v: unknown, where: string): string {
  if (typeof v !== "string" || !HEX32.test(v)) fail(where, "is not 0x and 64 hex digits");
  return v.toLowerCase();
}
function array(v: unknown, where: string, min: number): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > MAX_ITEMS)
    fail(where, `is not an array of ${min}..${MAX_ITEMS} items`);
  return v as unknown[];
}
function lanes(v: unknown, count: number, where: string): LaneTuple {
  if (!Array.isArray(v) || v.length !== count) fail(where, `is not an array of ${count} lanes`);
  const out: bigint[] = v.map((x, k) => {
    if (typeof x !== "string" || !DEC.test(x)) fail(`${where}[${k}]`, "is not a decimal string");
    const b = BigInt(x);
    if (b > LANE_MAX) fail(`${where}[${k}]`, "is above 2^128 − 1");
    return b;
  });
  while (out.length < 6) out.push(0n);
  return out as LaneTuple;
}
function node(v: unknown, count: number, where: string): SumTreeNodeCalldata {
  const o = obj(v, where);
  return { hash: hex32(o.hash, `${where}.hash`), lanes: lanes(o.lanes, count, `${where}.lanes`) };
}

/**
 * @throws SumTreeCalldataError when the proof is not a well-formed `shafaf-tree/2` proof.
 * @example
 * const c = sumTreeProofCalldata(proof);
 * await ledger.verifyInclusionV2(batchId, c);
 */
export function sumTreeProofCalldata(proof: unknown): SumTreeProofCalldata {
  const p = obj(proof, "(root)");
  if (p.scheme !== "shafaf-tree/2") fail("scheme", "is not shafaf-tree/2");
  if (p.type !== "inclusion" && p.type !== "range" && p.type !== "absence")
    fail("type", "is not inclusion, range or absence");
  if (!isRecordKind(p.kind)) fail("kind", "is not premium or pension");
  const rules = recordKindRules(p.kind);
  const type = p.type;
  const count = rules.sumTreeLanes.length;
  if (type === "inclusion" && p.key !== undefined) fail("key", "an inclusion proof has no key");
  const key = type === "inclusion" ? undefined : hex32(p.key, "key");
  const windows = array(p.windows, "windows", 1).map((w, i): SumTreeWindowCalldata => {
    const at = `windows[${i}]`;
    const o = obj(w, at);
    if (typeof o.province !== "string" || !/^IR-[0-9]{2}$/.test(o.province))
      fail(`${at}.province`, "is not an IR-dd code");
    return {
      province: "0x" + Buffer.from(o.province, "ascii").toString("hex"),
      provinceIndex: uint(o.provinceIndex, `${at}.provinceIndex`, 0xffffffff),
      size: uint(o.size, `${at}.size`, 0xffffffff),
      index: uint(o.index, `${at}.index`, 0xffffffff),
      batchIndex: BigInt(uint(o.batchIndex, `${at}.batchIndex`, Number.MAX_SAFE_INTEGER)),
      leaves: array(o.leaves, `${at}.leaves`, 1).map((l, j) => {
        const lw = `${at}.leaves[${j}]`;
        const x = obj(l, lw);
        return {
          key: hex32(x.key, `${lw}.key`),
          seq: uint(x.seq, `${lw}.seq`, 0xffffffff),
          lanes: lanes(x.lanes, count, `${lw}.lanes`),
          commitment: hex32(x.commitment, `${lw}.commitment`),
        };
      }),
      subtree: node(o.subtree, count, `${at}.subtree`),
      path: array(o.path, `${at}.path`, 0).map((n, k) => node(n, count, `${at}.path[${k}]`)),
      provincePath: array(o.provincePath, `${at}.provincePath`, 0).map((n, k) =>
        node(n, count, `${at}.provincePath[${k}]`),
      ),
    };
  });
  return {
    type,
    kind: rules.number as 0 | 1,
    batchSize: BigInt(uint(p.batchSize, "batchSize", Number.MAX_SAFE_INTEGER)),
    provinceCount: uint(p.provinceCount, "provinceCount", 0xffffffff),
    key,
    windows,
  };
}
