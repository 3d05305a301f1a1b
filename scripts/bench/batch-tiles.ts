/**
 * `npm run bench -- batch-tiles`: writing a shafaf-tree/2 batch's tiles (docs/spec/batch-tiles-v1.md)
 * beside building its tree in memory (the reference, same run, same process), and proofs read
 * from the tiles on disk beside proofs from the in-memory tree: CPU per record to write, bytes and
 * files on disk (public and private), CPU per inclusion and person proof (the reader keeps at most
 * 32 MiB of folded tile windows, whatever the batch's size).
 * Premium lanes, 31 provinces, synthetic keys (as bench/tree-v2.ts). Each size in a fresh process.
 *
 * Usage: npm run bench -- batch-tiles                        (100k and 1M)
 *        node --import tsx scripts/bench/batch-tiles.ts 10000  (chosen sizes)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { buildSumTree } from "../../src/core/build-sum-tree.ts";
import { createTileSumTree } from "../../src/core/sum-tiles.ts";
import { verifySumTreeProof } from "../../src/core/verify-sum-tree-proof.ts";
import { openBatchTiles, tiledProvinces, writeBatchTiles } from "../../src/store/batch-tiles.ts";

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function columns(n: number) {
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

function du(dir: string): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      const d = du(p);
      bytes += d.bytes;
      files += d.files;
    } else {
      bytes += statSync(p).size;
      files++;
    }
  }
  return { bytes, files };
}

async function child(n: number): Promise<Record<string, number>> {
  const data = columns(n);
  let c = cpuNow();
  const tree = buildSumTree("premium", data);
  const buildCpuMs = cpuNow() - c;
  const dir = mkdtempSync(path.join(tmpdir(), "shafaf-bench-tiles-"));
  try {
    c = cpuNow();
    let t = performance.now();
    const d = await writeBatchTiles(dir, tree, data.keys);
    const writeCpuMs = cpuNow() - c;
    const writeWallMs = performance.now() - t;
    const pub = du(path.join(dir, "tiles", "public"));
    const priv = du(path.join(dir, "tiles", "private"));
    const reader = openBatchTiles(dir, d);
    // The openings: a server reads the record line and hashes it; here the commitment column.
    const tiled = createTileSumTree({
      kind: "premium",
      provinces: tiledProvinces(d),
      readTile: (p, level, index, width) => reader.readTile(p, level, index, width),
      leafKey: (i) => reader.leafKey(i),
      leafKeys: (from, count) => reader.leafKeys(from, count),
      leafCommitment: (i) => {
        const line = reader.leafLine(i);
        return data.commitments.subarray(32 * line, 32 * line + 32);
      },
    });
    const calls = 2000;
    const pick = (k: number) => (k * 7919 + 13) % n;
    // warm-up (the upper windows and each province's every-256th keys), then the baseline
    for (let k = 0; k < 50; k++) {
      const i = (k * 104729) % n;
      tiled.personProof(data.keys.subarray(32 * i, 32 * i + 32), 1);
    }

    c = cpuNow();
    t = performance.now();
    for (let k = 0; k < calls; k++) {
      const proof = tiled.inclusionProof(pick(k), 1);
      if (k % 100 === 0 && verifySumTreeProof(proof, { root: tree.root }).status !== "verified")
        throw new Error("a proof from tiles does not verify");
    }
    const tileInclusionUs = ((cpuNow() - c) * 1000) / calls;
    c = cpuNow();
    for (let k = 0; k < calls; k++) tree.inclusionProof(pick(k), 1);
    const memInclusionUs = ((cpuNow() - c) * 1000) / calls;
    c = cpuNow();
    for (let k = 0; k < calls / 4; k++) {
      const i = pick(k);
      tiled.personProof(data.keys.subarray(32 * i, 32 * i + 32), 1);
    }
    const tilePersonUs = ((cpuNow() - c) * 1000) / (calls / 4);
    c = cpuNow();
    for (let k = 0; k < calls / 4; k++) {
      const i = pick(k);
      tree.personProof(data.keys.subarray(32 * i, 32 * i + 32), 1);
    }
    const memPersonUs = ((cpuNow() - c) * 1000) / (calls / 4);
    reader.close();
    return {
      n,
      buildCpuMs,
      writeCpuMs,
      writeWallMs,
      publicBytes: pub.bytes,
      publicFiles: pub.files,
      privateBytes: priv.bytes,
      privateFiles: priv.files,
      tileInclusionUs,
      memInclusionUs,
      tilePersonUs,
      memPersonUs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child") {
  console.log(JSON.stringify(await child(Number(process.argv[3]))));
} else {
  const sizes = process.argv.slice(2).map(Number);
  const rows = [];
  for (const n of sizes.length > 0 ? sizes : [100_000, 1_000_000]) {
    const r = spawnSync(
      process.execPath,
      ["--expose-gc", "--import", "tsx", import.meta.filename, "--child", String(n)],
      { encoding: "utf8", maxBuffer: 1 << 20 },
    );
    const line = r.stdout.trim().split("\n").pop() ?? "";
    if (r.status !== 0 || !line.startsWith("{")) {
      console.error(r.stderr.slice(-2000));
      process.exit(1);
    }
    rows.push(JSON.parse(line) as Record<string, number>);
  }
  const f = (x: number, d = 2) => x.toFixed(d);
  console.log(
    "| records | tree build CPU (reference) | tile write CPU | per record | wall | public bytes (files) | private bytes (files) |",
  );
  console.log("|---|---|---|---|---|---|---|");
  for (const r of rows)
    console.log(
      `| ${r.n!.toLocaleString("en-US")} | ${f(r.buildCpuMs! / 1000)} s | ${f(r.writeCpuMs! / 1000)} s (${f(r.writeCpuMs! / r.buildCpuMs!)}× the build) | ${f((r.writeCpuMs! * 1000) / r.n!)} µs | ${f(r.writeWallMs! / 1000)} s | ${r.publicBytes!.toLocaleString("en-US")} (${r.publicFiles}) | ${r.privateBytes!.toLocaleString("en-US")} (${r.privateFiles}) |`,
    );
  console.log(
    "\n| records | inclusion proof from tiles (CPU) | from the in-memory tree | person proof from tiles | from the in-memory tree |",
  );
  console.log("|---|---|---|---|---|");
  for (const r of rows)
    console.log(
      `| ${r.n!.toLocaleString("en-US")} | ${f(r.tileInclusionUs!, 0)} µs | ${f(r.memInclusionUs!, 0)} µs | ${f(r.tilePersonUs!, 0)} µs | ${f(r.memPersonUs!, 0)} µs |`,
    );
}
