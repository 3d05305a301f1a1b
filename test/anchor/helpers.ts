/**
 * Helpers for the anchor tests: synthetic valid rows, CSV text as people make it, and the real
 * CLI run as a child process. Nothing here touches a network at import time.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { premiumShares } from "../../src/core/rates.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const MAIN = path.join(ROOT, "src/cli/main.ts");

export const PREMIUM_COLUMNS = [
  "record_id",
  "period",
  "national_id",
  "workshop_code",
  "insurance_no",
  "province",
  "days",
  "wage_base",
  "worker_share",
  "employer_share",
  "unemployment_share",
  "hazard_share",
  "total",
  "paid_on",
] as const;

export const PENSION_COLUMNS = [
  "record_id",
  "period",
  "national_id",
  "pension_file",
  "category",
  "province",
  "gross",
  "deductions",
  "net",
  "due_on",
  "paid_on",
] as const;

/** A national ID passing the checksum, derived from `n` (never a repdigit for n ≥ 1). */
export function nationalIdFor(n: number): string {
  const d = String(100_000_000 + (n % 800_000_000))
    .padStart(9, "0")
    .slice(-9);
  const s = [...d].reduce((acc, c, i) => acc + Number(c) * (10 - i), 0);
  const r = s % 11;
  return d + String(r < 2 ? r : 11 - r);
}

export type Row = Record<string, string>;

/** `count` valid premium rows of `period`, ids `${prefix}-${start + i}`. */
export function premiumRows(
  count: number,
  options: { period?: string; prefix?: string; start?: number } = {},
): Row[] {
  const period = options.period ?? "1403-07";
  const year = Number(period.slice(0, 4));
  const rows: Row[] = [];
  for (let i = 0; i < count; i++) {
    const n = (options.start ?? 0) + i;
    const wage = BigInt(100_000_000 + (n % 97) * 1_000_000);
    const unemployment = n % 3 !== 0;
    const hazardous = n % 5 === 0;
    const s = premiumShares(wage, year, { unemployment, hazardous });
    rows.push({
      record_id: `${options.prefix ?? "P"}-${n}`,
      period,
      national_id: nationalIdFor(n + 1),
      workshop_code: String(1_000_000_000 + (n % 50)),
      insurance_no: String(10_000_000 + n),
      province: ["IR-23", "IR-10", "IR-07"][n % 3]!,
      days: "30",
      wage_base: wage.toString(),
      worker_share: s.worker.toString(),
      employer_share: s.employer.toString(),
      unemployment_share: s.unemployment.toString(),
      hazard_share: s.hazard.toString(),
      total: s.total.toString(),
      paid_on: `${period}-15`.replace(/-(\d\d)-15$/, (_, m: string) => `-${m}-15`),
    });
  }
  return rows;
}

/** `count` valid pension rows of `period`. */
export function pensionRows(
  count: number,
  options: { period?: string; prefix?: string } = {},
): Row[] {
  const period = options.period ?? "1403-07";
  const rows: Row[] = [];
  const categories = ["retirement", "disability", "survivors"];
  for (let i = 0; i < count; i++) {
    const gross = 150_000_000n + BigInt(i) * 1_000_000n;
    const deductions = 5_000_000n + BigInt(i % 7) * 100_000n;
    rows.push({
      record_id: `${options.prefix ?? "N"}-${i}`,
      period,
      national_id: nationalIdFor(500 + i),
      pension_file: String(700_000 + i),
      category: categories[i % 3]!,
      province: ["IR-23", "IR-10"][i % 2]!,
      gross: gross.toString(),
      deductions: deductions.toString(),
      net: (gross - deductions).toString(),
      due_on: `${period}-01`,
      paid_on: `${period}-03`,
    });
  }
  return rows;
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** CSV text: header + rows, LF or CRLF, optionally quoting every cell. */
export function toCsv(
  columns: readonly string[],
  rows: readonly Row[],
  options: { crlf?: boolean; quoteAll?: boolean } = {},
): string {
  const eol = options.crlf === true ? "\r\n" : "\n";
  const cell = (v: string): string =>
    options.quoteAll === true ? `"${v.replaceAll('"', '""')}"` : csvCell(v);
  return (
    [columns.join(","), ...rows.map((r) => columns.map((c) => cell(r[c] ?? "")).join(","))].join(
      eol,
    ) + eol
  );
}

export function toJsonl(rows: readonly Row[]): string {
  return rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `shafaf` CLI in a child process. */
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, SHAFAF_KEYSTORE_PASSWORD: "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
