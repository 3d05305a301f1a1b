/**
 * Synthetic, reproducible social-security data for the demo and the benchmarks: workshops with
 * their monthly insurance lists, and pension cases with their monthly payments. Everything is
 * derived from one seed; nothing here is real personal data (national IDs are random numbers that
 * merely pass the checksum).
 */
import { PROVINCES, type ProvinceCode } from "../core/province.ts";
import { premiumShares, ratesForYear } from "../core/rates.ts";
import { periodYear } from "../core/period.ts";

/** A small, fast, seedable PRNG (mulberry32). Deterministic across platforms. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => {
      const item = items[Math.floor(next() * items.length)];
      if (item === undefined) throw new RangeError("pick from an empty list");
      return item;
    },
    chance: (p) => next() < p,
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

export interface Rng {
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  bytes(n: number): Uint8Array;
}

/** A random 10-digit national ID that passes the checksum and is not a repdigit. */
export function randomNationalId(rng: Rng): string {
  for (;;) {
    const d = Array.from({ length: 9 }, () => rng.int(0, 9));
    const s = d.reduce((acc, digit, i) => acc + digit * (10 - i), 0);
    const r = s % 11;
    const check = r < 2 ? r : 11 - r;
    const id = d.join("") + String(check);
    if (!/^(\d)\1{9}$/.test(id)) return id;
  }
}

const FIRST_MALE = [
  "علی",
  "محمد",
  "حسین",
  "رضا",
  "مهدی",
  "حسن",
  "امیر",
  "جواد",
  "سعید",
  "مجید",
  "احمد",
  "کاظم",
  "بهروز",
  "فرهاد",
  "یوسف",
  "لطیف",
];
const FIRST_FEMALE = [
  "فاطمه",
  "زهرا",
  "مریم",
  "سمیه",
  "لیلا",
  "نرگس",
  "الهام",
  "شیرین",
  "پروین",
  "ژیلا",
  "طاهره",
  "گلاره",
  "لاله",
];
const LAST = [
  "محمدی",
  "حسینی",
  "احمدی",
  "رضایی",
  "کریمی",
  "موسوی",
  "جعفری",
  "قاسمی",
  "صادقی",
  "رحیمی",
  "نوری",
  "طاهری",
  "یزدانی",
  "کاظمی",
  "ملکی",
  "سلامی",
  "گلابی",
  "لاله‌زار",
  "افشار",
  "پژوهش",
];
const TRADES = [
  { name: "نانوایی", job: "شاطر", code: "751201", hazardous: false },
  { name: "کارگاه نجاری", job: "نجار", code: "711501", hazardous: false },
  { name: "کارخانه ریخته‌گری", job: "ریخته‌گر", code: "721101", hazardous: true },
  { name: "شرکت ساختمانی", job: "بنا", code: "711201", hazardous: true },
  { name: "فروشگاه", job: "فروشنده", code: "522101", hazardous: false },
  { name: "تعمیرگاه خودرو", job: "مکانیک", code: "723101", hazardous: false },
  { name: "شرکت نرم‌افزار", job: "برنامه‌نویس", code: "251201", hazardous: false },
  { name: "کارگاه خیاطی", job: "خیاط", code: "753101", hazardous: false },
  { name: "معدن سنگ", job: "معدنچی", code: "811101", hazardous: true },
  { name: "رستوران", job: "آشپز", code: "512001", hazardous: false },
];

export interface DemoWorker {
  insuranceNo: string;
  nationalId: string;
  firstName: string;
  lastName: string;
  fatherName: string;
  sex: "مرد" | "زن";
  birthDate: string; // YYYYMMDD Jalali
  startDate: string; // YYYYMMDD Jalali
  jobTitle: string;
  jobCode: string;
  /** Monthly wage for a full month, Rials. */
  monthlyWage: bigint;
  /** Monthly insurable benefits for a full month, Rials. */
  monthlyBenefits: bigint;
}

export interface DemoWorkshop {
  code: string;
  name: string;
  employer: string;
  address: string;
  province: ProvinceCode;
  hazardous: boolean;
  workers: DemoWorker[];
}

/** One worker's row in one month's list: the figures the DBF row carries. */
export interface DemoWorkerMonth {
  worker: DemoWorker;
  days: number;
  dailyWage: bigint;
  wage: bigint; // DSW_MAH
  benefits: bigint; // DSW_MAZ
  insurable: bigint; // DSW_MASH = MAH + MAZ, capped
  totalPay: bigint; // DSW_TOTL
  workerShare: bigint; // DSW_BIME
}

export interface DemoWorkshopMonth {
  workshop: DemoWorkshop;
  period: string; // "1403-07"
  listNo: string;
  rows: DemoWorkerMonth[];
}

export interface DemoPensionBeneficiary {
  nationalId: string;
  /** Share of the case's pension in basis points (survivors split; others 10 000). */
  shareBp: number;
}

export interface DemoPensionCase {
  file: string;
  category: "retirement" | "disability" | "survivors";
  province: ProvinceCode;
  /** Gross monthly pension of the whole case, Rials. */
  gross: bigint;
  beneficiaries: DemoPensionBeneficiary[];
}

export interface DemoPensionPayment {
  recordId: string;
  period: string;
  nationalId: string;
  pensionFile: string;
  category: DemoPensionCase["category"];
  province: ProvinceCode;
  gross: bigint;
  deductions: bigint;
  net: bigint;
  dueOn: string; // YYYY-MM-DD
  paidOn: string; // YYYY-MM-DD
}

export interface DemoPopulation {
  workshops: DemoWorkshop[];
  pensionCases: DemoPensionCase[];
}

export interface PopulationOptions {
  seed: number;
  /** Number of workshops (a few thousand by default in the demo). */
  workshops: number;
  /** Number of pension cases. */
  pensionCases: number;
  /** Jalali year of the demo (wage levels follow its rate table). */
  year: number;
}

function digits(rng: Rng, n: number): string {
  let s = String(rng.int(1, 9));
  while (s.length < n) s += String(rng.int(0, 9));
  return s;
}

function roundTo(amount: bigint, unit: bigint): bigint {
  return (amount / unit) * unit;
}

/** Builds the population: workshops spread over all 31 provinces, workers, and pension cases. */
export function createPopulation(options: PopulationOptions): DemoPopulation {
  const rng = createRng(options.seed);
  const rates = ratesForYear(options.year);
  const minWage = rates.minMonthlyWage ?? 71_661_840n;
  const usedCodes = new Set<string>();
  const usedInsurance = new Set<string>();
  const workshops: DemoWorkshop[] = [];
  for (let w = 0; w < options.workshops; w++) {
    // Every province gets workshops: the first 31 go round-robin, the rest weighted by index.
    const province = (w < PROVINCES.length ? PROVINCES[w] : rng.pick(PROVINCES))!.code;
    const trade = rng.pick(TRADES);
    let code: string;
    do code = digits(rng, 10);
    while (usedCodes.has(code));
    usedCodes.add(code);
    const size = rng.chance(0.6)
      ? rng.int(1, 4)
      : rng.chance(0.8)
        ? rng.int(5, 15)
        : rng.int(16, 40);
    const workers: DemoWorker[] = [];
    for (let i = 0; i < size; i++) {
      const male = rng.chance(0.78);
      let insuranceNo: string;
      do insuranceNo = digits(rng, 8);
      while (usedInsurance.has(insuranceNo));
      usedInsurance.add(insuranceNo);
      const multiple = BigInt(100 + rng.int(0, 250)); // 1.00–3.50 × minimum wage
      workers.push({
        insuranceNo,
        nationalId: randomNationalId(rng),
        firstName: rng.pick(male ? FIRST_MALE : FIRST_FEMALE),
        lastName: rng.pick(LAST),
        fatherName: rng.pick(FIRST_MALE),
        sex: male ? "مرد" : "زن",
        birthDate: `13${rng.int(40, 82)}${String(rng.int(1, 12)).padStart(2, "0")}${String(rng.int(1, 29)).padStart(2, "0")}`,
        startDate: `13${rng.int(90, 99)}${String(rng.int(1, 12)).padStart(2, "0")}01`,
        jobTitle: trade.job,
        jobCode: trade.code,
        monthlyWage: roundTo((minWage * multiple) / 100n, 1_000n),
        monthlyBenefits: roundTo((minWage * BigInt(rng.int(5, 30))) / 100n, 1_000n),
      });
    }
    workshops.push({
      code,
      name: `${trade.name} ${rng.pick(LAST)}`,
      employer: `${rng.pick(FIRST_MALE)} ${rng.pick(LAST)}`,
      address: `${PROVINCES.find((p) => p.code === province)!.fa} خیابان ${rng.pick(LAST)} پلاک ${rng.int(1, 400)}`,
      province,
      hazardous: trade.hazardous,
      workers,
    });
  }

  const pensionCases: DemoPensionCase[] = [];
  const usedFiles = new Set<string>();
  for (let c = 0; c < options.pensionCases; c++) {
    const roll = rng.next();
    const category = roll < 0.7 ? "retirement" : roll < 0.82 ? "disability" : "survivors";
    let file: string;
    do file = digits(rng, 9);
    while (usedFiles.has(file));
    usedFiles.add(file);
    const gross = roundTo((minWage * BigInt(rng.int(100, 300))) / 100n, 1_000n);
    const beneficiaries: DemoPensionBeneficiary[] = [];
    if (category === "survivors") {
      // A spouse and 1–4 children share the deceased's pension.
      const children = rng.int(1, 4);
      const total = children + 1;
      let left = 10_000;
      for (let b = 0; b < total; b++) {
        const share = b === total - 1 ? left : Math.floor(10_000 / total);
        left -= share;
        beneficiaries.push({ nationalId: randomNationalId(rng), shareBp: share });
      }
    } else {
      beneficiaries.push({ nationalId: randomNationalId(rng), shareBp: 10_000 });
    }
    pensionCases.push({ file, category, province: rng.pick(PROVINCES).code, gross, beneficiaries });
  }
  return { workshops, pensionCases };
}

const MONTH_DAYS = [31, 31, 31, 31, 31, 31, 30, 30, 30, 30, 30, 29];

/** Days in a Jalali month of the demo year (Esfand taken as 29 days: leap years are not modelled). */
export function daysInMonth(month: number): number {
  return MONTH_DAYS[month - 1] ?? 30;
}

/**
 * One month's insurance list of a workshop. Workers join and leave a little from month to month;
 * figures follow the rules DOMAIN.md states (MASH = MAH + MAZ capped at the maximum insurable
 * wage; worker share 7 % of MASH).
 */
export function workshopMonth(
  workshop: DemoWorkshop,
  period: string,
  rng: Rng,
  fullMonthChance = 0.85,
): DemoWorkshopMonth {
  const year = periodYear(period);
  const month = Number(period.slice(5, 7));
  const rates = ratesForYear(year);
  const maxWage = rates.maxMonthlyWage;
  const monthDays = daysInMonth(month);
  const rows: DemoWorkerMonth[] = [];
  for (const worker of workshop.workers) {
    if (rng.chance(0.04)) continue; // not on this month's list
    const days = rng.chance(fullMonthChance) ? monthDays : rng.int(5, monthDays);
    const dailyWage = worker.monthlyWage / 30n;
    const wage = dailyWage * BigInt(days);
    const benefits = (worker.monthlyBenefits * BigInt(days)) / BigInt(monthDays);
    let insurable = wage + benefits;
    if (maxWage !== undefined && insurable > maxWage) insurable = maxWage;
    const shares = premiumShares(insurable, year, {
      unemployment: true,
      hazardous: workshop.hazardous,
    });
    rows.push({
      worker,
      days,
      dailyWage,
      wage,
      benefits,
      insurable,
      totalPay: wage + benefits,
      workerShare: shares.worker,
    });
  }
  if (rows.length === 0 && workshop.workers[0] !== undefined) {
    const worker = workshop.workers[0];
    const shares = premiumShares(worker.monthlyWage, year, {
      unemployment: true,
      hazardous: workshop.hazardous,
    });
    rows.push({
      worker,
      days: monthDays,
      dailyWage: worker.monthlyWage / 30n,
      wage: worker.monthlyWage,
      benefits: 0n,
      insurable: worker.monthlyWage,
      totalPay: worker.monthlyWage,
      workerShare: shares.worker,
    });
  }
  return { workshop, period, listNo: "1", rows };
}

/**
 * What makes each month of the demo year look like a real one rather than twelve copies:
 * new employers register and new retirees join month by month (growth); Nowruz closes many
 * workshops for the first half of Farvardin, and winter (Dey, Bahman) stops building sites, mines
 * and foundries (seasonality); the yearly pension raise is paid from Ordibehesht, with Farvardin's
 * arrears in Khordad and the New-Year bonus (عیدی) in Esfand; and one month (Azar) is paid late
 * for many pensioners. Pure: the same month always has the same texture.
 *
 * @example
 * monthTexture(1).fullMonthChance // 0.35: Nowruz
 */
export function monthTexture(month: number): MonthTexture {
  const grown = 0.9 + (0.1 * (month - 1)) / 11;
  const winter = month === 10 || month === 11;
  return {
    workshopsActive: grown,
    pensionCasesActive: grown,
    fullMonthChance: month === 1 ? 0.35 : 0.85,
    hazardousFullMonthChance: month === 1 ? 0.3 : winter ? 0.35 : 0.85,
    pensionFactorBp: month === 1 ? 10_000 : month === 3 ? 14_000 : month === 12 ? 15_000 : 12_000,
    lateRate: month === 9 ? 0.4 : 0.02,
  };
}

export interface MonthTexture {
  /** Share of the population's workshops already registered (0–1). */
  workshopsActive: number;
  /** Share of the pension cases already open (0–1). */
  pensionCasesActive: number;
  /** Chance that a worker of an ordinary workshop worked the whole month. */
  fullMonthChance: number;
  /** The same for hazardous trades (building, mining, foundry), which stop in winter. */
  hazardousFullMonthChance: number;
  /** Each pension's gross this month, in basis points of the case's base gross. */
  pensionFactorBp: number;
  /** Share of the month's pension payments paid after their due date. */
  lateRate: number;
}

/**
 * The month's pension payments: one record per beneficiary. Payment is due on the 25th of the
 * month (configuration in real life); `lateRate` of them are paid 1–20 days late. `factorBp`
 * scales each case's gross (10 000 = the base amount).
 */
export function pensionMonth(
  cases: readonly DemoPensionCase[],
  period: string,
  rng: Rng,
  lateRate = 0.03,
  factorBp = 10_000,
): DemoPensionPayment[] {
  const month = Number(period.slice(5, 7));
  const dueOn = `${period}-25`;
  const out: DemoPensionPayment[] = [];
  for (const c of cases) {
    c.beneficiaries.forEach((b, i) => {
      const gross = roundTo((c.gross * BigInt(b.shareBp) * BigInt(factorBp)) / 100_000_000n, 10n);
      const deductions = (gross * 2n) / 100n; // health insurance 2 %: a payment fact, not a formula we enforce
      let paidOn = `${period}-${String(rng.int(20, 25)).padStart(2, "0")}`;
      if (rng.chance(lateRate)) {
        const late = rng.int(1, 20);
        const day = 25 + late;
        const md = daysInMonth(month);
        paidOn =
          day <= md
            ? `${period}-${String(day).padStart(2, "0")}`
            : month < 12
              ? `${period.slice(0, 4)}-${String(month + 1).padStart(2, "0")}-${String(day - md).padStart(2, "0")}`
              : `${Number(period.slice(0, 4)) + 1}-01-${String(day - md).padStart(2, "0")}`;
      }
      out.push({
        recordId: `PN-${c.file}-${i + 1}-${period.replace("-", "")}`,
        period,
        nationalId: b.nationalId,
        pensionFile: c.file,
        category: c.category,
        province: c.province,
        gross,
        deductions,
        net: gross - deductions,
        dueOn,
        paidOn,
      });
    });
  }
  return out;
}
