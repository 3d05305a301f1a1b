/**
 * `npm run bench -- vrf`: person-key (ECVRF-EDWARDS25519-SHA512-TAI) evaluation rates, each
 * beside the reference measured in the same run:
 * - reference: core `vrfHash` (noble's constant-time variable-base multiplication, one core),
 *   and `vrfProve` / `vrfVerify` for scale;
 * - fast path: `createFastVrfHash().hashMany` (OpenSSL X25519, one core, in process);
 * - enrolment over worker threads (1 and 2 workers): wall keys/s and keys per CPU-second;
 * - `enrolPersons` with the LevelDB cache: cold (compute and store) and warm (all cached).
 * CPU time is the robust figure on a shared machine; the load average is printed beside it.
 * The goal: 45 M people enrolled in ≤ 2 h on 2 cores, i.e. ≥ 6,250 keys/s.
 *
 * Usage: npm run bench -- vrf     (BENCH_VRF_N people for the worker runs, default 100,000:
 * smaller runs are dominated by the workers' start)
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { enrolPersons } from "../../src/anchor/enrol-persons.ts";
import { createFastVrfHash } from "../../src/anchor/fast-vrf-hash.ts";
import { createPersonKeyWorkers } from "../../src/anchor/person-key-workers.ts";
import { personVrfInput } from "../../src/core/person-key.ts";
import { vrfHash, vrfProve, vrfSecretKey, vrfVerify } from "../../src/core/vrf.ts";
import { openPersonKeyCache, personKeyCacheKey } from "../../src/store/person-key-cache.ts";

const N = Number(process.env.BENCH_VRF_N ?? 100_000);
const GOAL = 45_000_000 / 7200;

/** A valid national ID for n (9 digits from n, then the check digit). */
function nationalId(n: number): string {
  const d = String(100_000_000 + (n % 800_000_000)).slice(-9);
  const s = [...d].reduce((acc, c, i) => acc + Number(c) * (10 - i), 0);
  const r = s % 11;
  return d + String(r < 2 ? r : 11 - r);
}

const threadCpuMs = (): number => {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
};
const processCpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const rate = (n: number, ms: number): number => Math.round((n / ms) * 1000);
const fmt = (n: number): string => n.toLocaleString("en-US");
const load = (): string =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");

function onCore(n: number, f: (i: number) => void): number {
  for (let i = 0; i < Math.min(20, n); i++) f(i); // warm-up
  const t0 = threadCpuMs();
  for (let i = 0; i < n; i++) f(i);
  return rate(n, threadCpuMs() - t0);
}

async function main(): Promise<void> {
  console.log(`load average at start: ${load()} (2 cores); N = ${fmt(N)}`);
  const seed = randomBytes(32);
  const key = vrfSecretKey(seed);
  const people: string[] = Array.from({ length: N }, (_, i) => nationalId(i * 7919 + 13));
  const alphas = people.map((p) => personVrfInput(p));

  const reference = onCore(500, (i) => vrfHash(key, alphas[i]!));
  const proofs = alphas.slice(0, 200).map((a) => vrfProve(key, a));
  const prove = onCore(200, (i) => vrfProve(key, alphas[i]!));
  const verify = onCore(200, (i) => vrfVerify(key.publicKey, proofs[i], alphas[i]));
  const fast = createFastVrfHash(seed);
  fast.hashMany(alphas.slice(0, 512));
  const fastN = Math.min(N, 5120);
  const t0 = threadCpuMs();
  for (let from = 0; from < fastN; from += 512) fast.hashMany(alphas.slice(from, from + 512));
  const fastRate = rate(fastN, threadCpuMs() - t0);

  const lines: string[] = [];
  lines.push("| what | keys/s | per CPU-second |");
  lines.push("|---|---|---|");
  lines.push(`| reference vrfHash (noble constant-time multiply), 1 core | | ${fmt(reference)} |`);
  lines.push(`| vrfProve (proof on request), 1 core | | ${fmt(prove)} |`);
  lines.push(`| vrfVerify (portal side), 1 core | | ${fmt(verify)} |`);
  lines.push(
    `| fast path (OpenSSL X25519), 1 core, in process | | ${fmt(fastRate)} (${(fastRate / reference).toFixed(1)}× the reference) |`,
  );

  const workerRates: Record<number, number> = {};
  for (const threads of [1, 2]) {
    const workers = await createPersonKeyWorkers({ seed, threads });
    try {
      await workers.hashMany(alphas.slice(0, 1024)); // warm-up
      const c0 = processCpuMs();
      const w0 = performance.now();
      await workers.hashMany(alphas);
      const wall = performance.now() - w0;
      const cpu = processCpuMs() - c0;
      workerRates[threads] = rate(N, wall);
      lines.push(
        `| enrolment, ${threads} worker${threads > 1 ? "s" : ""} (no cache) | ${fmt(rate(N, wall))} | ${fmt(rate(N, cpu))} |`,
      );
    } finally {
      await workers.close();
    }
  }

  let enrolRate: number | undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-bench-vrf-"));
  try {
    const cache = await openPersonKeyCache(path.join(dir, "person-keys"), {
      cacheKey: personKeyCacheKey(seed),
      vrfPublicKey: key.publicKey,
    });
    const workers = await createPersonKeyWorkers({ seed, threads: 2 });
    try {
      let w0 = performance.now();
      const cold = await enrolPersons(people, { cache, workers });
      const coldMs = performance.now() - w0;
      w0 = performance.now();
      const c0 = processCpuMs();
      const warm = await enrolPersons(people, { cache, workers });
      const warmMs = performance.now() - w0;
      const warmCpu = processCpuMs() - c0;
      if (cold.computed !== N || warm.cached !== N) throw new Error("cache did not warm up");
      enrolRate = rate(N, coldMs);
      lines.push(
        `| enrolPersons cold (2 workers, compute + LevelDB write) | ${fmt(rate(N, coldMs))} | |`,
      );
      lines.push(
        `| enrolPersons warm (all from the LevelDB cache) | ${fmt(rate(N, warmMs))} | ${fmt(rate(N, warmCpu))} |`,
      );
    } finally {
      await workers.close();
      await cache.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  for (const l of lines) console.log(l);
  const two = workerRates[2] ?? 0;
  console.log(
    `\n45 M people: ${enrolRate === undefined ? "?" : (45e6 / enrolRate / 3600).toFixed(2)} h enrolled into the cache (enrolPersons cold, wall); ` +
      `${(45e6 / two / 3600).toFixed(2)} h of VRF alone at the measured 2-worker wall rate; ` +
      `${(45e6 / (2 * fastRate) / 3600).toFixed(2)} h at 2 × the one-core CPU rate (an idle 2-core machine). ` +
      `Goal: ${fmt(Math.round(GOAL))} keys/s (2 h).`,
  );
  console.log(`load average at end: ${load()}`);
}

await main();
