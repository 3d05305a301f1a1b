/**
 * The synthetic premium month of the benchmarks and `npm run national`: one generator, so that
 * the person-key cache enrolled for one run (people nationalId(1…P)) is warm for the others, and
 * the plain line split every anchor figure is compared with. Not a benchmark itself (it lives
 * outside scripts/bench/, whose every file `npm run bench` runs).
 */
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { premiumShares } from "../../src/core/rates.ts";

/** Person n (n ≥ 1): a valid 10-digit national ID (its check digit computed). */
export function nationalId(n: number): string {
  const d = String(100_000_000 + (n % 800_000_000)).slice(-9);
  const s = [...d].reduce((acc, c, i) => acc + Number(c) * (10 - i), 0);
  const r = s % 11;
  return d + String(r < 2 ? r : 11 - r);
}

export const PREMIUM_CSV_HEADER =
  "record_id,period,national_id,workshop_code,insurance_no,province,days,wage_base,worker_share,employer_share,unemployment_share,hazard_share,total,paid_on\n";

/**
 * Writes `rows` premium rows for `period`: row n is person (n mod people) + 1, in workshop
 * (n + ⌊n / people⌋) mod 20,000 (so a person's rows fall in distinct workshops), province
 * `provinces[n mod length]`, 30 days, a wage cycling over 997 values.
 */
export async function writePremiumCsv(
  file: string,
  o: { rows: number; people: number; period: string; provinces: readonly string[] },
): Promise<void> {
  const out = createWriteStream(file);
  out.write(PREMIUM_CSV_HEADER);
  let chunk: string[] = [];
  for (let n = 0; n < o.rows; n++) {
    const wage = BigInt(100_000_000 + (n % 997) * 100_000);
    const s = premiumShares(wage, 1403, { unemployment: n % 3 !== 0, hazardous: n % 7 === 0 });
    chunk.push(
      `P-${n},${o.period},${nationalId((n % o.people) + 1)},${1_000_000_000 + ((n + Math.floor(n / o.people)) % 20_000)},${10_000_000 + n},${o.provinces[n % o.provinces.length]},30,${wage},${s.worker},${s.employer},${s.unemployment},${s.hazard},${s.total},${o.period}-20\n`,
    );
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join(""))) await once(out, "drain");
      chunk = [];
    }
  }
  out.end(chunk.join(""));
  await once(out, "finish");
}

/**
 * The reference of every anchor figure: a plain line split of the CSV (the floor of any CSV
 * reader), its data rows and the CPU seconds (user + system) and wall seconds it took.
 */
export async function plainSplit(
  file: string,
): Promise<{ rows: number; cpu: number; wall: number }> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  let rows = 0;
  let cells = 0;
  const lines = createInterface({
    input: createReadStream(file, { highWaterMark: 1 << 20 }),
    crlfDelay: Infinity,
  });
  for await (const line of lines) {
    cells += line.split(",").length;
    rows++;
  }
  if (cells === 0) throw new Error("empty CSV");
  const used = process.cpuUsage(cpu);
  return {
    rows: rows - 1,
    cpu: (used.user + used.system) / 1e6,
    wall: (performance.now() - t) / 1000,
  };
}
