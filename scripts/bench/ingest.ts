/**
 * `npm run bench -- ingest`: reading speed of the ingest readers on N synthetic premium rows
 * (default 1,000,000; `BENCH_INGEST_ROWS`), beside references measured in the same run on the
 * same files:
 * - CSV: `readCsv` (auto-detected and forced UTF-8) and `readJsonl` against a plain
 *   `readline` + `split(",")` pass over the same file (the floor of any CSV reader).
 * - DBF: `readSsoLists` over a folder of ListDisk pairs (200 workshops × N/200 workers) against
 *   a raw pass that only splits the same files into records (`DbfRecordSplitter`).
 * Peak memory is the process's maximum RSS after each phase (each benchmark runs alone).
 */
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { premiumShares } from "../../src/core/rates.ts";
import { DbfRecordSplitter } from "../../src/ingest/dbf.ts";
import { readCsv } from "../../src/ingest/read-csv.ts";
import { readJsonl } from "../../src/ingest/read-jsonl.ts";
import { readSsoLists } from "../../src/ingest/read-sso-list.ts";
import type { SsoListWorker } from "../../src/ingest/sso-list.ts";
import { writeSsoList } from "../../src/ingest/write-sso-list.ts";

const ROWS = Number(process.env.BENCH_INGEST_ROWS ?? 1_000_000);
const WORKSHOPS = 200;
const HEADER =
  "record_id,period,national_id,workshop_code,insurance_no,province,days,wage_base,worker_share,employer_share,unemployment_share,hazard_share,total,paid_on";

function nationalId(n: number): string {
  const d = String(100_000_000 + (n % 800_000_000)).slice(-9);
  const s = [...d].reduce((acc, c, i) => acc + Number(c) * (10 - i), 0);
  const r = s % 11;
  return d + String(r < 2 ? r : 11 - r);
}

function fields(n: number): string[] {
  const wage = BigInt(100_000_000 + (n % 997) * 100_000);
  const s = premiumShares(wage, 1403, { unemployment: true, hazardous: false });
  return [
    `P-${n}`,
    "1403-07",
    nationalId(n + 1),
    String(1_000_000_000 + (n % 20_000)),
    String(10_000_000 + n),
    "IR-23",
    "30",
    String(wage),
    String(s.worker),
    String(s.employer),
    String(s.unemployment),
    String(s.hazard),
    String(s.total),
    "1403-08-02",
  ];
}

async function writeLines(
  file: string,
  header: string | undefined,
  line: (n: number) => string,
): Promise<void> {
  const out = createWriteStream(file);
  if (header !== undefined) out.write(header + "\n");
  let chunk: string[] = [];
  for (let n = 0; n < ROWS; n++) {
    chunk.push(line(n));
    if (chunk.length === 10_000) {
      if (!out.write(chunk.join("\n") + "\n")) await once(out, "drain");
      chunk = [];
    }
  }
  out.end(chunk.length > 0 ? chunk.join("\n") + "\n" : "");
  await once(out, "finish");
}

const keys = HEADER.split(",");

function* workers(offset: number, count: number): Generator<SsoListWorker> {
  for (let i = 0; i < count; i++) {
    const n = offset + i;
    const base = BigInt(100_000_000 + (n % 997) * 100_000);
    yield {
      insuranceNo: String(10_000_000 + (n % 90_000_000)),
      firstName: ["علی", "زهرا", "محمدحسین", "فاطمه"][n % 4]!,
      lastName: ["محمدی‌نژاد", "کریمی", "احمدی", "غلامی"][n % 4]!,
      fatherName: "حسن",
      idNo: String(n % 100_000),
      idPlace: "تهران",
      idDate: "13700101",
      birthDate: "13690505",
      sex: n % 2 === 0 ? "مرد" : "زن",
      nationality: "ایرانی",
      jobTitle: "کارگر فنی",
      startDate: "14000101",
      endDate: "",
      days: 30,
      dailyWage: base / 30n,
      monthlyWage: base,
      benefits: 0n,
      insurableBase: base,
      totalPay: base,
      workerShare: premiumShares(base, 1403, { unemployment: false, hazardous: false }).worker,
      prate: 0n,
      jobCode: "712345",
      nationalId: nationalId(n + 1),
      seniorityBase: 0n,
      spouseAllowance: "0",
    };
  }
}

async function time<T>(f: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await f();
  return { ms: performance.now() - t, value };
}

const rate = (rows: number, ms: number) =>
  `${Math.round(rows / (ms / 1000)).toLocaleString("en-US")} rows/s`;
const peak = () => `${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`;

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-bench-ingest-"));
  const lines: string[] = [];
  const report = (name: string, rows: number, ms: number, reference?: number) =>
    lines.push(
      `| ${name} | ${rows.toLocaleString("en-US")} | ${(ms / 1000).toFixed(2)} s | ${rate(rows, ms)} | ${reference === undefined ? "1.00 (reference)" : (reference / ms).toFixed(2)} | ${peak()} |`,
    );
  try {
    const csv = path.join(dir, "premiums.csv");
    const jsonl = path.join(dir, "premiums.jsonl");
    await writeLines(csv, HEADER, (n) => fields(n).join(","));
    await writeLines(jsonl, undefined, (n) =>
      JSON.stringify(Object.fromEntries(fields(n).map((v, i) => [keys[i], v]))),
    );
    console.log(
      `CSV ${((await stat(csv)).size / 2 ** 20).toFixed(0)} MiB, JSONL ${((await stat(jsonl)).size / 2 ** 20).toFixed(0)} MiB, ${ROWS.toLocaleString("en-US")} rows`,
    );

    const plain = await time(async () => {
      let n = 0;
      const rl = createInterface({
        input: createReadStream(csv, { highWaterMark: 1 << 20 }),
        crlfDelay: Infinity,
      });
      for await (const line of rl) if (line.split(",").length > 0) n++;
      return n - 1;
    });
    report("CSV reference: readline + split", plain.value, plain.ms);
    for (const encoding of ["auto", "utf8"] as const) {
      const r = await time(async () => {
        let n = 0;
        for await (const row of readCsv(csv, { kind: "premium", encoding }))
          if (row.fields.total !== undefined) n++;
        return n;
      });
      if (r.value !== ROWS) throw new Error(`readCsv read ${r.value} rows`);
      report(`readCsv (encoding ${encoding})`, r.value, r.ms, plain.ms);
    }
    const j = await time(async () => {
      let n = 0;
      for await (const row of readJsonl(jsonl, { kind: "premium" }))
        if (row.fields.total !== undefined) n++;
      return n;
    });
    if (j.value !== ROWS) throw new Error(`readJsonl read ${j.value} rows`);
    report("readJsonl", j.value, j.ms, plain.ms);
    await rm(csv);
    await rm(jsonl);

    const lists = path.join(dir, "lists");
    const per = Math.ceil(ROWS / WORKSHOPS);
    const w = await time(async () => {
      let written = 0;
      for (let k = 0; k < WORKSHOPS && written < ROWS; k++) {
        const count = Math.min(per, ROWS - written);
        await writeSsoList(
          path.join(lists, `w${String(k).padStart(3, "0")}`),
          {
            header: {
              workshopCode: String(1_000_000_000 + k),
              workshopName: "کارگاه",
              employerName: "شرکت",
              address: "تهران",
              year: 1403,
              month: 7,
              listNo: "01",
              unemployment: false,
            },
            workers: workers(written, count),
          },
          { layout: "v6" },
        );
        written += count;
      }
      return written;
    });
    let dbfBytes = 0;
    for (const d of await readdir(lists))
      dbfBytes += (await stat(path.join(lists, d, "DSKWOR00.DBF"))).size;
    console.log(
      `DBF ${(dbfBytes / 2 ** 20).toFixed(0)} MiB of worker records in ${WORKSHOPS} pairs (written in ${(w.ms / 1000).toFixed(1)} s, ${rate(w.value, w.ms)})`,
    );
    const raw = await time(async () => {
      let n = 0;
      for (const d of (await readdir(lists)).sort()) {
        const splitter = new DbfRecordSplitter();
        for await (const chunk of createReadStream(path.join(lists, d, "DSKWOR00.DBF"), {
          highWaterMark: 1 << 20,
        })) {
          n += splitter.push(chunk as Buffer).length;
        }
        splitter.end();
      }
      return n;
    });
    report("DBF reference: split into records", raw.value, raw.ms);
    const dbf = await time(async () => {
      let n = 0;
      for await (const row of readSsoLists(lists, { province: "IR-23" }))
        if (row.fields.total !== undefined) n++;
      return n;
    });
    if (dbf.value !== ROWS) throw new Error(`readSsoLists read ${dbf.value} rows`);
    report("readSsoLists (premium rows, header checks)", dbf.value, dbf.ms, raw.ms);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    "\n| reader | rows | time | rate | speed vs reference | peak RSS so far |\n|---|---|---|---|---|---|",
  );
  for (const l of lines) console.log(l);
}

await main();
