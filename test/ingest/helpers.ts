/**
 * Test helpers for ingest: a hand-written Windows-1256 encoder table (independent of Node's
 * decoder, which the tests cross-check against it), temp folders, synthetic SSO lists, and a
 * DBF builder for layouts the writer refuses to produce (wide, unknown).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { encodeDbfHeader, putField, withOffsets, type DbfField } from "../../src/ingest/dbf.ts";
import { encodeIranSystem } from "../../src/ingest/iran-system.ts";
import type { SsoListWorker } from "../../src/ingest/sso-list.ts";
import type { SsoListHeaderInput } from "../../src/ingest/write-sso-list.ts";

/** Windows-1256 bytes of the characters Persian text uses (from the code page's published chart). */
export const CP1256: Readonly<Record<string, number>> = {
  "\u060c": 0xa1, // ،
  "\u061b": 0xba, // ؛
  "\u061f": 0xbf, // ؟
  "\u0621": 0xc1, // ء
  "\u0622": 0xc2, // آ
  "\u0623": 0xc3, // أ
  "\u0624": 0xc4, // ؤ
  "\u0625": 0xc5, // إ
  "\u0626": 0xc6, // ئ
  "\u0627": 0xc7, // ا
  "\u0628": 0xc8, // ب
  "\u0629": 0xc9, // ة
  "\u062a": 0xca, // ت
  "\u062b": 0xcb, // ث
  "\u062c": 0xcc, // ج
  "\u062d": 0xcd, // ح
  "\u062e": 0xce, // خ
  "\u062f": 0xcf, // د
  "\u0630": 0xd0, // ذ
  "\u0631": 0xd1, // ر
  "\u0632": 0xd2, // ز
  "\u0633": 0xd3, // س
  "\u0634": 0xd4, // ش
  "\u0635": 0xd5, // ص
  "\u0636": 0xd6, // ض
  "\u0637": 0xd8, // ط
  "\u0638": 0xd9, // ظ
  "\u0639": 0xda, // ع
  "\u063a": 0xdb, // غ
  "\u0640": 0xdc, // ـ
  "\u0641": 0xdd, // ف
  "\u0642": 0xde, // ق
  "\u0643": 0xdf, // ك
  "\u0644": 0xe1, // ل
  "\u0645": 0xe3, // م
  "\u0646": 0xe4, // ن
  "\u0647": 0xe5, // ه
  "\u0648": 0xe6, // و
  "\u0649": 0xec, // ى
  "\u064a": 0xed, // ي
  "\u067e": 0x81, // پ
  "\u0686": 0x8d, // چ
  "\u0698": 0x8e, // ژ
  "\u06af": 0x90, // گ
  "\u06a9": 0x98, // ک
  "\u200c": 0x9d, // ZWNJ
};

/**
 * Encodes text as Excel does when saving "CSV" in a Persian locale: Persian yeh (U+06CC, not in
 * the code page) best-fits to Arabic yeh 0xED; Persian digits are not representable and fail.
 */
export function encodeCp1256(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    if (c < 0x80) out.push(c);
    else if (ch === "\u06cc") out.push(0xed);
    else {
      const b = CP1256[ch];
      if (b === undefined) throw new Error(`no cp1256 byte for U+${c.toString(16)}`);
      out.push(b);
    }
  }
  return Buffer.from(out);
}

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = "shafaf-ingest-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const PREMIUM_HEADER =
  "record_id,period,national_id,workshop_code,insurance_no,province,days,wage_base,worker_share,employer_share,unemployment_share,hazard_share,total,paid_on";

/** A valid premium CSV data line (worker 7 %, employer 20 %, unemployment 3 %). */
export function premiumLine(i: number, wage = 100_000_000n): string {
  const w = (wage * 7n) / 100n;
  const e = (wage * 20n) / 100n;
  const u = (wage * 3n) / 100n;
  return `P-${i},1403-07,0012345679,1234567890,${String(10_000_000 + i)},IR-23,31,${wage},${w},${e},${u},0,${w + e + u},1403-08-02`;
}

/** Valid national IDs for synthetic workers. */
export const NATIONAL_IDS = ["0012345679", "1234567891", "2740583311"] as const;

export const LIST_HEADER: SsoListHeaderInput = {
  workshopCode: "1234567890",
  workshopName: "کارگاه لاله",
  employerName: "شرکت آزمون پارس",
  address: "تهران، خیابان ۱۲ فروردین، پلاک ۳۴",
  year: 1403,
  month: 7,
  listNo: "01",
  description: "لیست مهر",
};

const FIRST = ["علی", "زهرا", "محمدحسین", "فاطمه", "رضا", "مریم", "سعید", "لاله"];
const LAST = ["محمدی‌نژاد", "کریمی", "احمدی", "غلامی", "عباسی", "ظهیری", "قربانی", "ژیان"];

/** A synthetic worker with consistent figures (MASH = MAH + MAZ, BIME = 7 % rounded half-up). */
export function worker(i: number, base = 100_000_000n + BigInt(i) * 1_234_567n): SsoListWorker {
  const maz = 5_000_000n;
  const mah = base - maz;
  const days = 31;
  const bime = (base * 700n + 5_000n) / 10_000n;
  return {
    insuranceNo: String(10_000_000 + i),
    firstName: FIRST[i % FIRST.length]!,
    lastName: LAST[i % LAST.length]!,
    fatherName: "حسن",
    idNo: String(1000 + i),
    idPlace: "تهران",
    idDate: "13700101",
    birthDate: "13690505",
    sex: i % 2 === 0 ? "مرد" : "زن",
    nationality: "ایرانی",
    jobTitle: "کارگر فنی",
    startDate: "14000101",
    endDate: "",
    days,
    dailyWage: mah / BigInt(days),
    monthlyWage: mah,
    benefits: maz,
    insurableBase: base,
    totalPay: base,
    workerShare: bime,
    prate: 0n,
    jobCode: "712345",
    nationalId: NATIONAL_IDS[i % NATIONAL_IDS.length]!,
    seniorityBase: 0n,
    spouseAllowance: "0",
  };
}

type Spec = Omit<DbfField, "offset">;

/**
 * Writes a DBF with any descriptors and records given as field → value (text fields are Iran
 * System encoded when `encodeText` names them, or written as raw bytes when a Uint8Array).
 */
export function writeRawDbf(
  file: string,
  specs: readonly Spec[],
  records: readonly Record<string, string | Uint8Array>[],
  options: {
    deleted?: ReadonlySet<number>;
    recordCount?: number;
    eof?: boolean;
    text?: ReadonlySet<string>;
  } = {},
): void {
  const fields = withOffsets(specs);
  const size = 1 + fields.reduce((n, f) => n + f.length, 0);
  const header = encodeDbfHeader({
    fields: specs,
    recordCount: options.recordCount ?? records.length,
    updated: [125, 8, 1],
    languageDriver: 0x7e,
  });
  const body = new Uint8Array(size * records.length).fill(0x20);
  records.forEach((r, i) => {
    const rec = body.subarray(i * size, (i + 1) * size);
    if (options.deleted?.has(i)) rec[0] = 0x2a;
    for (const f of fields) {
      const v = r[f.name];
      if (v === undefined) continue;
      putField(
        rec,
        f,
        typeof v === "string" && options.text?.has(f.name) ? encodeIranSystem(v) : v,
      );
    }
  });
  writeFileSync(
    file,
    Buffer.concat([header, body, options.eof === false ? new Uint8Array(0) : Uint8Array.of(0x1a)]),
  );
}

/** Collects an async iterable. */
export async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
