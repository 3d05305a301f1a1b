/**
 * Writes the demo's input files exactly as the organization would receive them: one SSO
 * insurance list (a real DSKKAR00/DSKWOR00 DBF pair in Iran System text, written by the
 * project's ListDisk-compatible writer) per workshop and month, a workshop → province register,
 * and one pension-payment CSV per month. Corrections are written as complete corrected months.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { writeSsoList } from "../ingest/write-sso-list.ts";
import { encodeIranSystem } from "../ingest/iran-system.ts";
import type { SsoListWorker } from "../ingest/sso-list.ts";
import {
  createPopulation,
  monthTexture,
  createRng,
  pensionMonth,
  workshopMonth,
  type DemoPensionPayment,
  type DemoPopulation,
  type DemoWorkshopMonth,
} from "./synthetic.ts";

export interface DemoInputsOptions {
  outDir: string;
  seed: number;
  /** 1 = the default demo (≈ 2,000 workshops, 600 pension cases); 2 doubles it, 0.1 a tenth. */
  scale: number;
  year?: number;
  /** Compute the population and the file names without writing anything (the files exist). */
  dryRun?: boolean;
}

export interface DemoMonthInputs {
  period: string;
  /** Folder holding one sub-folder (a DBF pair) per workshop. */
  premiumDir: string;
  premiumRecords: number;
  pensionCsv: string;
  pensionRecords: number;
}

export interface DemoCorrection {
  kind: "premium" | "pension";
  period: string;
  /** The complete corrected month. */
  input: string;
  reason: string;
  /** Record ids whose figures changed. */
  corrected: string[];
}

export interface DemoInputs {
  population: DemoPopulation;
  /** CSV `workshop_code,province`: DBF lists carry no province. */
  workshopsCsv: string;
  provinceOf: (workshopCode: string) => string | undefined;
  months: DemoMonthInputs[];
  corrections: DemoCorrection[];
}

const PENSION_HEADER =
  "record_id,period,national_id,pension_file,category,province,gross,deductions,net,due_on,paid_on,supersedes,reason";

function pensionLine(p: DemoPensionPayment, supersedes = "", reason = ""): string {
  return [
    p.recordId,
    p.period,
    p.nationalId,
    p.pensionFile,
    p.category,
    p.province,
    p.gross,
    p.deductions,
    p.net,
    p.dueOn,
    p.paidOn,
    supersedes,
    reason,
  ].join(",");
}

/** `text` cut at a word boundary so that its Iran System bytes fit a DBF field of `bytes`. */
function fit(text: string, bytes: number): string {
  let t = text;
  while (encodeIranSystem(t).length > bytes) {
    const cut = t.lastIndexOf(" ");
    t = cut > 0 ? t.slice(0, cut) : t.slice(0, -1);
  }
  return t;
}

function listWorkers(month: DemoWorkshopMonth): SsoListWorker[] {
  return month.rows.map((row) => ({
    insuranceNo: row.worker.insuranceNo,
    firstName: row.worker.firstName,
    lastName: row.worker.lastName,
    fatherName: row.worker.fatherName,
    idNo: row.worker.nationalId.slice(4),
    idPlace: "",
    idDate: "",
    birthDate: row.worker.birthDate,
    sex: row.worker.sex,
    nationality: "ایرانی",
    jobTitle: row.worker.jobTitle,
    startDate: row.worker.startDate,
    endDate: "",
    days: row.days,
    dailyWage: row.dailyWage,
    monthlyWage: row.wage,
    benefits: row.benefits,
    insurableBase: row.insurable,
    totalPay: row.totalPay,
    workerShare: row.workerShare,
    prate: 0n,
    jobCode: row.worker.jobCode,
    nationalId: row.worker.nationalId,
  }));
}

async function writeMonthLists(
  dir: string,
  lists: readonly DemoWorkshopMonth[],
  dryRun: boolean,
): Promise<number> {
  if (dryRun) return lists.reduce((n, list) => n + list.rows.length, 0);
  let records = 0;
  let next = 0;
  // File creation dominates (the writer itself is fast): keep several lists in flight.
  const worker = async (): Promise<void> => {
    while (next < lists.length) {
      const list = lists[next++]!;
      const [year, month] = list.period.split("-").map(Number) as [number, number];
      const workers = listWorkers(list);
      records += workers.length;
      await writeSsoList(
        path.join(dir, list.workshop.code),
        {
          header: {
            workshopCode: list.workshop.code,
            workshopName: fit(list.workshop.name, 30),
            employerName: fit(list.workshop.employer, 30),
            address: fit(list.workshop.address, 40),
            year,
            month,
            listNo: list.listNo,
            unemployment: true,
            hazardous: list.workshop.hazardous,
          },
          workers,
        },
        // ListDisk stamps the DBF "last update" with the Gregorian date the list was made.
        { layout: "v6", updated: [124 + Math.floor((month + 2) / 12), ((month + 2) % 12) + 1, 5] },
      );
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return records;
}

/** The months of the demo and what is special about them. */
export const DEMO_CORRECTED_PREMIUM_MONTH = 3;
export const DEMO_CORRECTED_PENSION_MONTH = 8;

/**
 * Writes every input of the demo under `outDir` and says where each month's files are.
 * Deterministic for a given seed and scale.
 */
export async function writeDemoInputs(options: DemoInputsOptions): Promise<DemoInputs> {
  const year = options.year ?? 1403;
  const population = createPopulation({
    seed: options.seed,
    workshops: Math.max(31, Math.round(2_000 * options.scale)),
    pensionCases: Math.max(20, Math.round(600 * options.scale)),
    year,
  });
  const rng = createRng(options.seed ^ 0x5eed);
  const dryRun = options.dryRun ?? false;
  const write = async (file: string, text: string): Promise<void> => {
    if (dryRun) return;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  };
  const workshopsCsv = path.join(options.outDir, "workshops.csv");
  await write(
    workshopsCsv,
    "workshop_code,province\n" +
      population.workshops.map((w) => `${w.code},${w.province}`).join("\n") +
      "\n",
  );
  const provinces = new Map(population.workshops.map((w) => [w.code, w.province]));

  const months: DemoMonthInputs[] = [];
  const corrections: DemoCorrection[] = [];
  for (let m = 1; m <= 12; m++) {
    const period = `${year}-${String(m).padStart(2, "0")}`;
    const texture = monthTexture(m);
    // Growth: the year's new employers and retirees join month by month (every province has a
    // workshop from the first month: the first 31 workshops are one per province).
    const workshops = population.workshops.slice(
      0,
      Math.max(31, Math.ceil(population.workshops.length * texture.workshopsActive)),
    );
    const cases = population.pensionCases.slice(
      0,
      Math.ceil(population.pensionCases.length * texture.pensionCasesActive),
    );
    const lists = workshops.map((w) =>
      workshopMonth(
        w,
        period,
        rng,
        w.hazardous ? texture.hazardousFullMonthChance : texture.fullMonthChance,
      ),
    );
    const premiumDir = path.join(options.outDir, "premium", period);
    const premiumRecords = await writeMonthLists(premiumDir, lists, dryRun);

    const payments = pensionMonth(cases, period, rng, texture.lateRate, texture.pensionFactorBp);
    const pensionCsv = path.join(options.outDir, "pension", `${period}.csv`);
    await write(
      pensionCsv,
      PENSION_HEADER + "\n" + payments.map((p) => pensionLine(p)).join("\n") + "\n",
    );
    months.push({
      period,
      premiumDir,
      premiumRecords,
      pensionCsv,
      pensionRecords: payments.length,
    });

    if (m === DEMO_CORRECTED_PREMIUM_MONTH) {
      // A few workshops resubmit their list with a corrected wage: the whole month is re-anchored.
      const fixed = lists.map((list, i) =>
        i % 97 === 5 && list.rows[0] !== undefined
          ? {
              ...list,
              rows: list.rows.map((row, j) =>
                j === 0
                  ? {
                      ...row,
                      benefits: row.benefits + 1_000_000n,
                      insurable: row.insurable + 1_000_000n,
                      totalPay: row.totalPay + 1_000_000n,
                      workerShare: ((row.insurable + 1_000_000n) * 7n + 50n) / 100n,
                    }
                  : row,
              ),
            }
          : list,
      );
      const dir = path.join(options.outDir, "corrections", `premium-${period}`);
      await writeMonthLists(dir, fixed, dryRun);
      corrections.push({
        kind: "premium",
        period,
        input: dir,
        reason: "wage-correction",
        corrected: fixed.filter((l, i) => l !== lists[i]).map((l) => l.workshop.code),
      });
    }
    if (m === DEMO_CORRECTED_PENSION_MONTH) {
      // Some pensions were paid with a wrong deduction; the month is re-anchored with the fix.
      const changed: string[] = [];
      const lines = payments.map((p, i) => {
        if (i % 53 !== 7) return pensionLine(p);
        changed.push(p.recordId);
        const deductions = p.deductions / 2n;
        return pensionLine(
          { ...p, recordId: `${p.recordId}-C1`, deductions, net: p.gross - deductions },
          p.recordId,
          "deduction-correction",
        );
      });
      const file = path.join(options.outDir, "corrections", `pension-${period}.csv`);
      await write(file, PENSION_HEADER + "\n" + lines.join("\n") + "\n");
      corrections.push({
        kind: "pension",
        period,
        input: file,
        reason: "deduction-correction",
        corrected: changed,
      });
    }
  }
  return {
    population,
    workshopsCsv,
    provinceOf: (code) => provinces.get(code),
    months,
    corrections,
  };
}
