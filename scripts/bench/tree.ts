/**
 * `npm run bench -- tree`: builds OpenZeppelin standard-v1 trees of 10k, 100k and 1M synthetic
 * leaves with Shafaf's core (batched WebAssembly keccak, flat node array) and with
 * `@openzeppelin/merkle-tree`, each measurement in a fresh child process, and prints build time,
 * the ratio, peak memory (the child's peak RSS) and the time for one proof.
 *
 * At 1M, OpenZeppelin is measured at 100k and scaled ×10 (it needs minutes and gigabytes at 1M;
 * its sort is n·log n, so ×10 underestimates it: the ratio printed is conservative).
 *
 * Usage: npm run bench -- tree            (all sizes)
 *        node --import tsx scripts/bench/tree.ts 10000 100000   (chosen sizes)
 */
import { spawnSync } from "node:child_process";
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { createHashWorkers } from "../../src/anchor/hash-workers.ts";
import { bytesToHex, type Hex } from "../../src/core/hex.ts";
import { LEAF_ENCODING, leafHashes, type LeafValues } from "../../src/core/leaf.ts";
import { buildMerkleTree, type MerkleTree } from "../../src/core/merkle-tree.ts";

type Mode = "ours" | "workers" | "stream" | "oz";
interface Result {
  mode: Mode;
  n: number;
  buildMs: number;
  /** CPU time of the build (all threads of the process): robust when other processes share the cores. */
  cpuMs: number;
  leafMs?: number;
  treeMs?: number;
  proofUs: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
  root: string;
}

/** Deterministic synthetic leaf values (xorshift words); leaf i depends only on i. */
function syntheticChunk(from: number, to: number): LeafValues[] {
  const out: LeafValues[] = new Array<LeafValues>(to - from);
  const b = new Uint8Array(32);
  for (let i = from; i < to; i++) {
    let x = (i * 2654435761 + 1) >>> 0 || 1;
    const w = (): Hex => {
      for (let j = 0; j < 32; j++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        b[j] = x & 0xff;
      }
      return bytesToHex(b);
    };
    out[i - from] = [
      w(),
      BigInt(i & 1),
      140307n,
      BigInt(50_000_000 + (i % 1000) * 12_345),
      w(),
      w(),
      w(),
    ];
  }
  return out;
}

const mib = (bytes: number) => Math.round(bytes / 1048576);
const peakRss = () => Math.round(process.resourceUsage().maxRSS / 1024);

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU microseconds per getProof call (wall time is unreliable on shared cores). */
function proofMicros(tree: MerkleTree, calls: number): number {
  const t0 = cpuNow();
  for (let k = 0; k < calls; k++) tree.getProof((k * 7919) % tree.length);
  return ((cpuNow() - t0) * 1000) / calls;
}

async function child(mode: Mode, n: number): Promise<Result> {
  // Warm up JITs and the WebAssembly module on a small tree, for both implementations alike.
  const warm = syntheticChunk(0, 1000);
  if (mode === "oz") StandardMerkleTree.of(warm as unknown as bigint[][], [...LEAF_ENCODING]);
  else buildMerkleTree(leafHashes(warm));

  if (mode === "stream") {
    // How the pipeline builds: records arrive in chunks, are hashed, and only leaf hashes stay.
    const rssBeforeMiB = mib(process.memoryUsage().rss);
    const t0 = performance.now();
    const c0 = cpuNow();
    const hashes = new Uint8Array(n * 32);
    for (let i = 0; i < n; i += 16_384) {
      const to = Math.min(n, i + 16_384);
      hashes.set(leafHashes(syntheticChunk(i, to)), i * 32);
    }
    const t1 = performance.now();
    const tree = buildMerkleTree(hashes);
    const t2 = performance.now();
    const t2cpu = cpuNow();
    return {
      mode,
      n,
      buildMs: t2 - t0,
      cpuMs: t2cpu - c0,
      leafMs: t1 - t0,
      treeMs: t2 - t1,
      proofUs: proofMicros(tree, 10_000),
      rssBeforeMiB,
      peakRssMiB: peakRss(),
      root: tree.root,
    };
  }

  const values = syntheticChunk(0, n);
  const rssBeforeMiB = mib(process.memoryUsage().rss);
  if (mode === "oz") {
    const t0 = performance.now();
    const c0 = cpuNow();
    const tree = StandardMerkleTree.of(values as unknown as bigint[][], [...LEAF_ENCODING]);
    const buildMs = performance.now() - t0;
    const cpuMs = cpuNow() - c0;
    const calls = 200;
    const t1 = cpuNow();
    for (let k = 0; k < calls; k++) tree.getProof((k * 7919) % n);
    const proofUs = ((cpuNow() - t1) * 1000) / calls;
    return {
      mode,
      n,
      buildMs,
      cpuMs,
      proofUs,
      rssBeforeMiB,
      peakRssMiB: peakRss(),
      root: tree.root,
    };
  }
  if (mode === "workers") {
    const workers = await createHashWorkers({ threads: 2 });
    try {
      await workers.leafHashes(warm);
      const t0 = performance.now();
      const c0 = cpuNow();
      const hashes = await workers.leafHashes(values);
      const t1 = performance.now();
      const tree = buildMerkleTree(hashes);
      const t2 = performance.now();
      const t2cpu = cpuNow();
      return {
        mode,
        n,
        buildMs: t2 - t0,
        cpuMs: t2cpu - c0,
        leafMs: t1 - t0,
        treeMs: t2 - t1,
        proofUs: proofMicros(tree, 10_000),
        rssBeforeMiB,
        peakRssMiB: peakRss(),
        root: tree.root,
      };
    } finally {
      await workers.close();
    }
  }
  const t0 = performance.now();
  const c0 = cpuNow();
  const hashes = leafHashes(values);
  const t1 = performance.now();
  const tree = buildMerkleTree(hashes);
  const t2 = performance.now();
  const t2cpu = cpuNow();
  return {
    mode,
    n,
    buildMs: t2 - t0,
    cpuMs: t2cpu - c0,
    leafMs: t1 - t0,
    treeMs: t2 - t1,
    proofUs: proofMicros(tree, 10_000),
    rssBeforeMiB,
    peakRssMiB: peakRss(),
    root: tree.root,
  };
}

function runChild(mode: Mode, n: number): Result {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", import.meta.filename, "--child", mode, String(n)],
    {
      encoding: "utf8",
      maxBuffer: 1 << 20,
    },
  );
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !line.startsWith("{")) {
    throw new Error(
      `bench child ${mode} ${n} failed (status ${r.status}): ${r.stderr.slice(-2000)}`,
    );
  }
  return JSON.parse(line) as Result;
}

const fmtMs = (ms: number) =>
  ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`;

function main(): void {
  const sizes = process.argv
    .slice(2)
    .map(Number)
    .filter((x) => x > 0);
  const chosen = sizes.length > 0 ? sizes : [10_000, 100_000, 1_000_000];
  console.log(`node ${process.version}, ${process.arch}; each figure from a fresh child process`);
  console.log(
    "ours = core leafHashes + buildMerkleTree on one thread; workers = leaf hashing on 2 worker threads;",
  );
  console.log(
    "stream = records generated and hashed in chunks of 16,384 as the anchor pipeline does (only leaf hashes\n  kept; its time includes generating the synthetic records, the other rows start from ready values)\n",
  );
  const rows: string[][] = [
    ["leaves", "impl", "build (wall)", "build (CPU)", "leaf hashing", "tree", "1 proof (CPU)"],
  ];
  rows[0]!.push("RSS before", "peak RSS", "OZ ÷ ours (wall)", "OZ ÷ ours (CPU)");
  const oz = new Map<number, Result>();
  for (const n of chosen) {
    let ref: Result;
    let refNote = "";
    if (n <= 100_000) {
      ref = runChild("oz", n);
      oz.set(n, ref);
    } else {
      const base = oz.get(100_000) ?? runChild("oz", 100_000);
      oz.set(100_000, base);
      const k = n / 100_000;
      ref = {
        ...base,
        n,
        buildMs: base.buildMs * k,
        cpuMs: base.cpuMs * k,
        rssBeforeMiB: NaN,
        peakRssMiB: NaN,
        root: "",
      };
      refNote = ` (100k measured, ×${k})`;
    }
    const ours = runChild("ours", n);
    const workers = runChild("workers", n);
    const stream = runChild("stream", n);
    if (ref.root !== "" && ref.root !== ours.root) {
      throw new Error(`root mismatch at ${n}: ${ref.root} ≠ ${ours.root}`);
    }
    if (workers.root !== ours.root || stream.root !== ours.root) {
      throw new Error(`root mismatch between our modes at ${n}`);
    }
    rows.push([
      String(n),
      `@openzeppelin/merkle-tree${refNote}`,
      fmtMs(ref.buildMs),
      fmtMs(ref.cpuMs),
      "",
      "",
      `${ref.proofUs.toFixed(0)} µs`,
      Number.isNaN(ref.rssBeforeMiB) ? "" : `${ref.rssBeforeMiB} MiB`,
      Number.isNaN(ref.peakRssMiB) ? "not run" : `${ref.peakRssMiB} MiB`,
      "",
      "",
    ]);
    for (const r of [ours, workers, stream]) {
      rows.push([
        String(n),
        r.mode,
        fmtMs(r.buildMs),
        fmtMs(r.cpuMs),
        fmtMs(r.leafMs ?? 0),
        fmtMs(r.treeMs ?? 0),
        `${r.proofUs.toFixed(1)} µs`,
        `${r.rssBeforeMiB} MiB`,
        `${r.peakRssMiB} MiB`,
        `${(ref.buildMs / r.buildMs).toFixed(0)}×`,
        `${(ref.cpuMs / r.cpuMs).toFixed(0)}×`,
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
  console.log("\ntargets at 1M: ratio ≥ 50×, peak memory ≤ 1 GiB, one proof ≤ 20 µs");
  console.log(
    "CPU time counts every thread of the process (the workers row spends more CPU to finish sooner);",
  );
  console.log(
    "on shared or busy cores compare the CPU columns, on an idle machine the wall-clock ones.",
  );
}

if (process.argv[2] === "--child") {
  const result = await child(process.argv[3] as Mode, Number(process.argv[4]));
  console.log(JSON.stringify(result));
} else {
  main();
}
