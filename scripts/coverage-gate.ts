/**
 * The coverage gate of `npm run coverage`: reads `coverage/lcov.info` (written by
 * `hardhat test --coverage`) and fails unless the line coverage of the deployable contracts —
 * `contracts/`, without the test harnesses in `contracts/mocks/` — is at least 95 %.
 *
 * Usage: node --import tsx scripts/coverage-gate.ts [--min 95] [--lcov coverage/lcov.info]
 * Exit status: 0 pass, 1 below the minimum or nothing measured, 64 usage error.
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";

export interface FileCoverage {
  file: string;
  linesFound: number;
  linesHit: number;
  /** Line numbers never executed. */
  uncovered: number[];
}

/**
 * Parses lcov text into per-file line coverage, from the `DA:` records (a file may appear in
 * several sections, one per test run: its lines are merged, a line is hit if any run hit it).
 */
export function parseLcov(text: string): FileCoverage[] {
  const files = new Map<string, Map<number, number>>();
  let current: Map<number, number> | undefined;
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line.startsWith("SF:")) {
      const file = line.slice(3);
      current = files.get(file) ?? new Map<number, number>();
      files.set(file, current);
    } else if (line.startsWith("DA:")) {
      const m = /^DA:(\d+),(\d+)/.exec(line);
      if (current === undefined || m === null) {
        throw new Error(`lcov line ${i + 1}: malformed DA record ${JSON.stringify(line)}`);
      }
      const n = Number(m[1]);
      current.set(n, (current.get(n) ?? 0) + Number(m[2]));
    } else if (line === "end_of_record") {
      current = undefined;
    }
  }
  return [...files].map(([file, lines]) => {
    const uncovered = [...lines]
      .filter(([, hits]) => hits === 0)
      .map(([n]) => n)
      .sort((a, b) => a - b);
    return { file, linesFound: lines.size, linesHit: lines.size - uncovered.length, uncovered };
  });
}

/** Whether `file` (relative to `root`, or absolute under it) is a deployable contract the gate measures. */
export function isGated(file: string, root = process.cwd()): boolean {
  const prefix = root.replaceAll("\\", "/").replace(/\/?$/, "/");
  let f = file.replaceAll("\\", "/");
  if (f.startsWith(prefix)) f = f.slice(prefix.length);
  f = f.replace(/^\.\//, "");
  return f.startsWith("contracts/") && !f.startsWith("contracts/mocks/");
}

async function main(argv: string[]): Promise<number> {
  let values: { min?: string; lcov?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { min: { type: "string" }, lcov: { type: "string" } },
    }));
  } catch (error) {
    process.stderr.write(`coverage-gate: ${(error as Error).message}\n`);
    return 64;
  }
  const min = Number(values.min ?? "95");
  if (!Number.isFinite(min) || min < 0 || min > 100) {
    process.stderr.write(`coverage-gate: --min ${values.min} is not a percentage (0..100)\n`);
    return 64;
  }
  const lcovFile = values.lcov ?? "coverage/lcov.info";
  let text: string;
  try {
    text = await readFile(lcovFile, "utf8");
  } catch {
    process.stderr.write(
      `coverage-gate: ${lcovFile} is missing: run \`hardhat test --coverage …\` first (npm run coverage does both)\n`,
    );
    return 1;
  }
  const gated = parseLcov(text).filter((f) => isGated(f.file));
  const found = gated.reduce((s, f) => s + f.linesFound, 0);
  const hit = gated.reduce((s, f) => s + f.linesHit, 0);
  if (found === 0) {
    process.stderr.write(
      `coverage-gate: ${lcovFile} measures no line of contracts/: nothing ran\n`,
    );
    return 1;
  }
  for (const f of gated) {
    const pct = ((100 * f.linesHit) / Math.max(f.linesFound, 1)).toFixed(2).padStart(6);
    const missed = f.uncovered.length > 0 ? `  uncovered: ${f.uncovered.join(", ")}` : "";
    process.stdout.write(`${pct} %  ${f.file} (${f.linesHit}/${f.linesFound})${missed}\n`);
  }
  const total = (100 * hit) / found;
  const verdict = total >= min ? "pass" : "FAIL";
  process.stdout.write(
    `line coverage of contracts/ (without mocks): ${total.toFixed(2)} % (${hit}/${found}), minimum ${min} %: ${verdict}\n`,
  );
  return total >= min ? 0 : 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
