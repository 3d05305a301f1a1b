/**
 * Fixtures for the real-lists cases (issue #17), built with the list writer and, where the
 * writer cannot, by editing bytes: directors and foreign workers left out of DSK_BIC, foreign
 * workers without a national code, a record edited after the header was computed, the wide
 * layout with DSK_TKOSO = 0 and DSK_TBIM20 set. No real person's data: synthetic workers only.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseDbfHeader } from "../../src/ingest/dbf.ts";
import type { SsoListWorker } from "../../src/ingest/sso-list.ts";
import { writeSsoList, type SsoListHeaderInput } from "../../src/ingest/write-sso-list.ts";
import { LIST_HEADER, worker } from "./helpers.ts";

/** 3 % rounded half-up, as ListDisk computes DSK_BIC per worker. */
export const threePercent = (base: bigint): bigint => (base * 300n + 5_000n) / 10_000n;

/** The chairman (011015), the managing director (027079), two Afghan workers, four others. */
export function workforce(): SsoListWorker[] {
  const w = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => worker(i));
  w[0] = { ...w[0]!, jobCode: "011015", jobTitle: "رئیس هیئت مدیره" };
  w[1] = { ...w[1]!, jobCode: "027079", jobTitle: "مدیرعامل" };
  w[2] = { ...w[2]!, nationality: "افغانی", nationalId: "", insuranceNo: "20000002" };
  w[3] = { ...w[3]!, nationality: "افغانی", nationalId: "", insuranceNo: "20000003" };
  return w;
}

/** Writes one list into `dir` (v6) and returns its workers. */
export async function writeList(
  dir: string,
  workers: SsoListWorker[],
  header: Partial<SsoListHeaderInput> = {},
): Promise<SsoListWorker[]> {
  await writeSsoList(dir, { header: { ...LIST_HEADER, ...header }, workers }, { layout: "v6" });
  return workers;
}

/**
 * Overwrites a numeric field of record `record` (1-based) of a DBF file, right-aligned as
 * dBase writes numbers: the "edited after ListDisk computed it" case.
 */
export function patchNumber(file: string, record: number, field: string, value: bigint): void {
  const bytes = new Uint8Array(readFileSync(file));
  const header = parseDbfHeader(bytes)!;
  const f = header.fields.find((x) => x.name === field);
  if (f === undefined) throw new Error(`no field ${field} in ${path.basename(file)}`);
  const at = header.headerLength + (record - 1) * header.recordLength + f.offset;
  const text = value.toString().padStart(f.length, " ");
  if (text.length > f.length) throw new Error(`${value} does not fit ${field}`);
  for (let i = 0; i < f.length; i++) bytes[at + i] = text.charCodeAt(i);
  writeFileSync(file, bytes);
}

/** Reads a numeric field of record `record` (1-based). */
export function readNumber(file: string, record: number, field: string): bigint {
  const bytes = new Uint8Array(readFileSync(file));
  const header = parseDbfHeader(bytes)!;
  const f = header.fields.find((x) => x.name === field)!;
  const at = header.headerLength + (record - 1) * header.recordLength + f.offset;
  return BigInt(new TextDecoder().decode(bytes.subarray(at, at + f.length)).trim() || "0");
}
