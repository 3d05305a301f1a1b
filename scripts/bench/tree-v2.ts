/**
 * `npm run bench -- tree-v2`: the shafaf-tree/2 keyed Merkle-sum tree (premium lanes, 31
 * provinces, synthetic keys) beside `@openzeppelin/merkle-tree` building its tree for the same
 * count, each in a fresh child process; then the measured reason for the hash (per-call SHA-256
 * and keccak from @noble/hashes against the batched WebAssembly keccak the tree uses).
 *
 * OpenZeppelin at 1M takes minutes and gigabytes: it is measured at 100k and scaled ×10 (its sort
 * is n·log n, so the scaled figure underestimates it and the ratio printed is conservative).
 * CPU time is printed beside wall time: on a shared machine wall time measures the neighbours.
 *
 * Usage: npm run bench -- tree-v2                        (100k and 1M)
 *        node --import tsx scripts/bench/tree-v2.ts 10000  (chosen sizes)
 */
import { spawnSync } from "node:child_process";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { buildSumTree, type SumTreeColumns } from "../../src/core/build-sum-tree.ts";
import { createKeccakEngine } from "../../src/core/keccak.ts";
import { LEAF_ENCODING } from "../../src/core/leaf.ts";
import { verifySumTreeProof } from "../../src/core/verify-sum-tree-proof.ts";

type Mode = "v2" | "oz";
interface Result {
  mode: Mode;
  n: number;
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  inclusionUs?: number;
  personUs?: number;
  verifyUs?: number;
  root: string;
}

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const peakRss = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Deterministic synthetic batch: xorshift keys and commitments, 31 provinces, premium amounts. */
function columns(n: number): SumTreeColumns {
  const keys = new Uint8Array(n * 32);
  const commitments = new Uint8Array(n * 32);
  let x = 12345;
  for (let j = 0; j < n * 32; j++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    keys[j] = x & 0xff;
    commitments[j] = (x >>> 8) & 0xff;
  }
  // A person has one to three records: copy some keys onto the next record.
  for (let i = 1; i < n; i += 5) keys.copyWithin(i * 32, (i - 1) * 32, i * 32);
  const codes = Array.from({ length: 31 }, (_, i) => `IR-${String(i).padStart(2, "0")}`);
  const provinces = Array.from({ length: n }, (_, i) => codes[(i * 7) % 31]!);
  const amounts = new BigUint64Array(n * 3);
  for (let i = 0; i < n; i++) {
    amounts[3 * i] = BigInt(71_661_840 + (i % 1000) * 12_345);
    amounts[3 * i + 1] = BigInt(31 - (i % 5));
    amounts[3 * i + 2] = BigInt(21_498_552 + (i % 777) * 3_703);
  }
  return { keys, commitments, provinces, amounts };
}

function child(mode: Mode, n: number): Result {
  if (mode === "oz") {
    // The same leaf shape as Shafaf's v1 leaves (seven values, LEAF_ENCODING), as bench/tree.ts.
    const word = (i: number, k: number) =>
      `0x${((i * 2654435761 + k * 40503) >>> 0).toString(16).padStart(64, "0")}`;
    const values = Array.from({ length: n }, (_, i) => [
      word(i, 1),
      BigInt(i & 1),
      140307n,
      BigInt(71_661_840 + (i % 1000) * 12_345),
      word(i, 2),
      word(i, 3),
      word(i, 4),
    ]);
    StandardMerkleTree.of(values.slice(0, 1000), [...LEAF_ENCODING]);
    const t0 = performance.now();
    const c0 = cpuNow();
    const tree = StandardMerkleTree.of(values, [...LEAF_ENCODING]);
    return {
      mode,
      n,
      wallMs: performance.now() - t0,
      cpuMs: cpuNow() - c0,
      peakRssMiB: peakRss(),
      root: tree.root,
    };
  }
  const data = columns(n);
  buildSumTree("premium", columns(1000));
  const t0 = performance.now();
  const c0 = cpuNow();
  const tree = buildSumTree("premium", data);
  const wallMs = performance.now() - t0;
  const cpuMs = cpuNow() - c0;
  const calls = 2000;
  let t = cpuNow();
  const proofs = [];
  for (let k = 0; k < calls; k++) proofs.push(tree.inclusionProof((k * 7919) % n, 1));
  const inclusionUs = ((cpuNow() - t) * 1000) / calls;
  t = cpuNow();
  for (let k = 0; k < calls; k++) {
    const i = (k * 7919) % n;
    tree.personProof(data.keys.subarray(i * 32, i * 32 + 32), 1);
  }
  const personUs = ((cpuNow() - t) * 1000) / calls;
  t = cpuNow();
  for (const p of proofs) {
    if (verifySumTreeProof(p, { root: tree.root }).status !== "verified")
      throw new Error("a proof the tree made does not verify");
  }
  const verifyUs = ((cpuNow() - t) * 1000) / calls;
  return {
    mode,
    n,
    wallMs,
    cpuMs,
    peakRssMiB: peakRss(),
    inclusionUs,
    personUs,
    verifyUs,
    root: tree.root,
  };
}

function runChild(mode: Mode, n: number): Result {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", import.meta.filename, "--child", mode, String(n)],
    { encoding: "utf8", maxBuffer: 1 << 20 },
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{"))
    throw new Error(
      `bench child ${mode} ${n} failed (status ${r.status}): ${r.stderr.slice(-2000)}`,
    );
  return JSON.parse(line) as Result;
}

/** Node hashes per CPU-second for the 225-byte premium node preimage, three ways. */
function hashChoice(): void {
  const count = 100_000;
  const rec = 32 + 5 * 16;
  const pre = new Uint8Array(1 + 2 * rec).fill(7);
  const rate = (f: () => void, n: number) => {
    f();
    const t = cpuNow();
    f();
    return Math.round(n / ((cpuNow() - t) / 1000));
  };
  const sha = rate(() => {
    for (let i = 0; i < count; i++) sha256(pre);
  }, count);
  const kec = rate(() => {
    for (let i = 0; i < count; i++) keccak_256(pre);
  }, count);
  const e = createKeccakEngine();
  const base = e.reserve(2 * count * rec + count * rec + 4096);
  e.bytes().fill(1, base, base + 2 * count * rec);
  for (let i = 0; i < 2 * count; i++) e.bytes().fill(0, base + i * rec + 32, base + (i + 1) * rec);
  const wasm = rate(
    () =>
      e.exports.sumNodeMany(base, count, rec, 5, base + 2 * count * rec, base + 3 * count * rec),
    count,
  );
  console.log(
    "\nNode hash (225-byte preimage: 0x01 ‖ hash ‖ 5 lanes ‖ hash ‖ 5 lanes), one core:\n",
  );
  console.log("| implementation | nodes per CPU-second |");
  console.log("|---|---|");
  console.log(`| @noble/hashes sha256, one call per node | ${(sha / 1e6).toFixed(2)} M |`);
  console.log(`| @noble/hashes keccak_256, one call per node | ${(kec / 1e6).toFixed(2)} M |`);
  console.log(
    `| batched WebAssembly keccak (sumNodeMany, lane sums included) | ${(wasm / 1e6).toFixed(2)} M |`,
  );
}

function main(): void {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => x > 0);
  const ns = sizes.length > 0 ? sizes : [100_000, 1_000_000];
  const oz = new Map<number, Result>();
  console.log(
    "| records | v2 wall | v2 CPU | v2 peak RSS | OpenZeppelin CPU | ratio (CPU) | inclusion proof | person proof | verify |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|");
  for (const n of ns) {
    const v2 = runChild("v2", n);
    const ozN = Math.min(n, 100_000);
    if (!oz.has(ozN)) oz.set(ozN, runChild("oz", ozN));
    const o = oz.get(ozN)!;
    const scale = n / ozN;
    const ozCpu = o.cpuMs * scale;
    const note = scale === 1 ? "" : ` (${ozN / 1000}k × ${scale})`;
    console.log(
      `| ${n.toLocaleString("en")} | ${(v2.wallMs / 1000).toFixed(2)} s | ${(v2.cpuMs / 1000).toFixed(2)} s | ${v2.peakRssMiB} MiB | ${(ozCpu / 1000).toFixed(1)} s${note} | ${Math.round(ozCpu / v2.cpuMs)}× | ${v2.inclusionUs!.toFixed(0)} µs | ${v2.personUs!.toFixed(0)} µs | ${v2.verifyUs!.toFixed(0)} µs |`,
    );
  }
  hashChoice();
}

if (process.argv[2] === "--child") {
  console.log(JSON.stringify(child(process.argv[3] as Mode, Number(process.argv[4]))));
} else main();
