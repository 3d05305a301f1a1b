/**
 * The SSO insurance list (لیست بیمه) as ListDisk stores it: `DSKKAR00.DBF` (one header record per
 * workshop-month) and `DSKWOR00.DBF` (one record per worker). Field lists of the three layouts
 * seen in the wild (DOMAIN.md), and the typed shapes the reader yields and the writer takes.
 */
import type { DbfField } from "./dbf.ts";
import type { SsoLayout } from "./source-info.ts";

type Spec = Omit<DbfField, "offset">;
const C = (name: string, length: number): Spec => ({ name, type: "C", length, decimals: 0 });
const N = (name: string, length: number): Spec => ({ name, type: "N", length, decimals: 0 });

/** DSKKAR00 fields of the v6 (1403) layout, in file order: 25 fields, record length 311. */
export const KAR_FIELDS_V6: readonly Spec[] = [
  C("DSK_ID", 10),
  C("DSK_NAME", 30),
  C("DSK_FARM", 30),
  C("DSK_ADRS", 40),
  N("DSK_KIND", 1),
  N("DSK_YY", 2),
  N("DSK_MM", 2),
  C("DSK_LISTNO", 12),
  C("DSK_DISC", 30),
  N("DSK_NUM", 5),
  N("DSK_TDD", 6),
  N("DSK_TROOZ", 12),
  N("DSK_TMAH", 12),
  N("DSK_TMAZ", 12),
  N("DSK_TMASH", 12),
  N("DSK_TTOTL", 12),
  N("DSK_TBIME", 12),
  N("DSK_TKOSO", 12),
  N("DSK_BIC", 12),
  N("DSK_RATE", 5),
  N("DSK_PRATE", 2),
  N("DSK_BIMH", 12),
  C("MON_PYM", 3),
  N("DSK_INC", 12),
  N("DSK_SPOUSE", 12),
];

/** DSKWOR00 fields of the v6 layout: 29 fields, record length 469. */
export const WOR_FIELDS_V6: readonly Spec[] = [
  C("DSW_ID", 10),
  N("DSW_YY", 2),
  N("DSW_MM", 2),
  C("DSW_LISTNO", 12),
  C("DSW_ID1", 8),
  C("DSW_FNAME", 60),
  C("DSW_LNAME", 60),
  C("DSW_DNAME", 60),
  C("DSW_IDNO", 15),
  C("DSW_IDPLC", 30),
  C("DSW_IDATE", 8),
  C("DSW_BDATE", 8),
  C("DSW_SEX", 3),
  C("DSW_NAT", 10),
  C("DSW_OCP", 50),
  C("DSW_SDATE", 8),
  C("DSW_EDATE", 8),
  N("DSW_DD", 2),
  N("DSW_ROOZ", 12),
  N("DSW_MAH", 12),
  N("DSW_MAZ", 12),
  N("DSW_MASH", 12),
  N("DSW_TOTL", 12),
  N("DSW_BIME", 12),
  N("DSW_PRATE", 2),
  C("DSW_JOB", 6),
  C("PER_NATCOD", 10),
  N("DSW_INC", 12),
  C("DSW_SPOUSE", 10),
];

/** The field lists of each layout. v2.7 is v6 without its last two fields (seniority, spouse). */
export const SSO_LAYOUTS: Readonly<
  Record<SsoLayout, { kar: readonly Spec[]; wor: readonly Spec[] }>
> = {
  v6: { kar: KAR_FIELDS_V6, wor: WOR_FIELDS_V6 },
  "v2.7": { kar: KAR_FIELDS_V6.slice(0, 23), wor: WOR_FIELDS_V6.slice(0, 27) },
  // The wide variant: 26 and 31 fields. It adds DSK_TBIM20, DSW_KOSO and DSW_BIME20 and moves
  // DSW_JOB after PER_NATCOD. Readers go by field names, so the positions chosen here for the
  // added fields only matter to tests that build such files.
  wide: {
    kar: [...KAR_FIELDS_V6, N("DSK_TBIM20", 12)],
    wor: [
      ...WOR_FIELDS_V6.slice(0, 24),
      N("DSW_KOSO", 12),
      N("DSW_BIME20", 12),
      WOR_FIELDS_V6[24]!, // DSW_PRATE
      WOR_FIELDS_V6[26]!, // PER_NATCOD
      WOR_FIELDS_V6[25]!, // DSW_JOB
      WOR_FIELDS_V6[27]!, // DSW_INC
      WOR_FIELDS_V6[28]!, // DSW_SPOUSE
    ],
  },
};

/** Fields the wide layout has and the others do not. */
export const WIDE_ONLY_FIELDS: ReadonlySet<string> = new Set([
  "DSK_TBIM20",
  "DSW_KOSO",
  "DSW_BIME20",
]);

/** Character fields that hold Persian text (decoded with the file's code page). */
export const TEXT_FIELDS: ReadonlySet<string> = new Set([
  "DSK_NAME",
  "DSK_FARM",
  "DSK_ADRS",
  "DSK_DISC",
  "MON_PYM",
  "DSW_FNAME",
  "DSW_LNAME",
  "DSW_DNAME",
  "DSW_IDNO",
  "DSW_IDPLC",
  "DSW_SEX",
  "DSW_NAT",
  "DSW_OCP",
]);

/** The workshop-month header (DSKKAR00), decoded. Years are four-digit; amounts are Rials. */
export interface SsoListHeader {
  workshopCode: string;
  workshopName: string;
  employerName: string;
  address: string;
  /** DSK_KIND: list type (0 = normal in ListDisk). */
  listKind: number;
  year: number;
  month: number;
  listNo: string;
  description: string;
  workerCount: number;
  totalDays: bigint;
  totalDailyWage: bigint;
  totalMonthlyWage: bigint;
  totalBenefits: bigint;
  totalInsurable: bigint;
  totalPay: bigint;
  totalWorkerShare: bigint;
  totalEmployerShare: bigint;
  unemploymentPremium: bigint;
  rate: bigint;
  prate: bigint;
  hazardPremium: bigint;
  contractRow: string;
  /** v6 and wide only. */
  seniorityBase?: bigint;
  spouseAllowance?: bigint;
}

/** One worker row (DSKWOR00), decoded. Dates stay as the file's `YYYYMMDD` text ("" = none). */
export interface SsoListWorker {
  insuranceNo: string;
  firstName: string;
  lastName: string;
  fatherName: string;
  idNo: string;
  idPlace: string;
  idDate: string;
  birthDate: string;
  /** «مرد» or «زن». */
  sex: string;
  nationality: string;
  jobTitle: string;
  startDate: string;
  endDate: string;
  days: number;
  dailyWage: bigint;
  monthlyWage: bigint;
  benefits: bigint;
  insurableBase: bigint;
  totalPay: bigint;
  workerShare: bigint;
  prate: bigint;
  jobCode: string;
  nationalId: string;
  seniorityBase?: bigint;
  spouseAllowance?: string;
}

/** Header property → DSKKAR00 field. */
export const HEADER_FIELD: Readonly<Record<keyof SsoListHeader, string>> = {
  workshopCode: "DSK_ID",
  workshopName: "DSK_NAME",
  employerName: "DSK_FARM",
  address: "DSK_ADRS",
  listKind: "DSK_KIND",
  year: "DSK_YY",
  month: "DSK_MM",
  listNo: "DSK_LISTNO",
  description: "DSK_DISC",
  workerCount: "DSK_NUM",
  totalDays: "DSK_TDD",
  totalDailyWage: "DSK_TROOZ",
  totalMonthlyWage: "DSK_TMAH",
  totalBenefits: "DSK_TMAZ",
  totalInsurable: "DSK_TMASH",
  totalPay: "DSK_TTOTL",
  totalWorkerShare: "DSK_TBIME",
  totalEmployerShare: "DSK_TKOSO",
  unemploymentPremium: "DSK_BIC",
  rate: "DSK_RATE",
  prate: "DSK_PRATE",
  hazardPremium: "DSK_BIMH",
  contractRow: "MON_PYM",
  seniorityBase: "DSK_INC",
  spouseAllowance: "DSK_SPOUSE",
};

/** Worker property → DSKWOR00 field (DSW_ID, DSW_YY, DSW_MM, DSW_LISTNO repeat the header). */
export const WORKER_FIELD: Readonly<Record<keyof SsoListWorker, string>> = {
  insuranceNo: "DSW_ID1",
  firstName: "DSW_FNAME",
  lastName: "DSW_LNAME",
  fatherName: "DSW_DNAME",
  idNo: "DSW_IDNO",
  idPlace: "DSW_IDPLC",
  idDate: "DSW_IDATE",
  birthDate: "DSW_BDATE",
  sex: "DSW_SEX",
  nationality: "DSW_NAT",
  jobTitle: "DSW_OCP",
  startDate: "DSW_SDATE",
  endDate: "DSW_EDATE",
  days: "DSW_DD",
  dailyWage: "DSW_ROOZ",
  monthlyWage: "DSW_MAH",
  benefits: "DSW_MAZ",
  insurableBase: "DSW_MASH",
  totalPay: "DSW_TOTL",
  workerShare: "DSW_BIME",
  prate: "DSW_PRATE",
  jobCode: "DSW_JOB",
  nationalId: "PER_NATCOD",
  seniorityBase: "DSW_INC",
  spouseAllowance: "DSW_SPOUSE",
};

/**
 * Two-digit Jalali year → four digits: `yy ≥ pivot` is 13yy, below it 14yy (default pivot 50:
 * 1350–1449). ListDisk keeps only the last two digits (DSK_YY, DSW_YY).
 *
 * @example
 * fullJalaliYear(3) // 1403
 * fullJalaliYear(99) // 1399
 */
export function fullJalaliYear(yy: number, pivot = 50): number {
  return yy >= pivot ? 1300 + yy : 1400 + yy;
}

/** The pair's file names as ListDisk writes them (matched case-insensitively). */
export const KAR_FILE = "DSKKAR00.DBF";
export const WOR_FILE = "DSKWOR00.DBF";
