/**
 * `shafaf dbf read|write`: the employers' SSO list files (DSKKAR00.DBF + DSKWOR00.DBF).
 * `read` prints the premium rows a list turns into, and the list's header checks; `write`
 * produces ListDisk-compatible pairs from a CSV or JSON Lines table (one row per worker).
 */
import path from "node:path";
import type { CliCommand } from "../command.ts";
import {
  parseCommandLine,
  parseSubcommand,
  usageError as printUsageError,
} from "../parse-command-line.ts";
import { normalizeDigits } from "../../core/digits.ts";
import { isIranianNationality } from "../../core/person-id.ts";
import { RECORD_COLUMNS } from "../../core/record.ts";
import { validateRecord } from "../../core/validate-record.ts";
import { formatIssue, IssueSink, type IngestIssue } from "../../ingest/ingest-issue.ts";
import type { RawRow } from "../../ingest/raw-row.ts";
import { readCsvInto, type ColumnSchema } from "../../ingest/read-csv.ts";
import { readJsonlInto } from "../../ingest/read-jsonl.ts";
import { readSsoLists } from "../../ingest/read-sso-list.ts";
import { readWorkshopRegister } from "../../ingest/read-workshop-register.ts";
import type { SourceInfo } from "../../ingest/source-info.ts";
import { premiumShares } from "../../core/rates.ts";
import type { SsoListWorker } from "../../ingest/sso-list.ts";
import {
  SsoListWriteError,
  writeSsoList,
  type SsoListHeaderInput,
} from "../../ingest/write-sso-list.ts";

const EXIT_DATA = 65;

const USAGE = `usage: shafaf dbf read <pair-folder|DSKWOR00.DBF|folder-of-pairs|lists.zip> [options]
       shafaf dbf write --from rows.csv|rows.jsonl --out DIR [--layout v6|v2.7]

read: prints the premium rows (CSV, premium columns) on stdout and the header checks on stderr.
  --province IR-xx      province of every workshop (DBF lists carry none)
  --workshops FILE      the workshop register, a workshop_code,province CSV (wins over --province)
  --year-pivot N        two-digit years N–99 are 13xx, 00–(N−1) are 14xx (default 50)
  --json                print one JSON object {rows, issues, sources} instead
Exit status: 0 read and all checks passed, 65 problems found (listed), 64 usage error.

write: one row per worker; columns are the DBF field names (any case). Per list (rows with the
same DSK_ID, DSK_YY, DSK_MM, DSK_LISTNO) a pair is written to DIR/<DSK_ID>-<yyyymm>-<DSK_LISTNO>/.
  required: DSK_ID DSK_YY (1403 or 03) DSK_MM DSK_LISTNO DSW_ID1 DSW_DD DSW_MAH PER_NATCOD
  optional: DSK_NAME DSK_FARM DSK_ADRS DSK_KIND DSK_DISC DSK_RATE DSK_PRATE MON_PYM DSK_INC
            DSK_SPOUSE UNEMPLOYMENT (1/0, default 1) HAZARDOUS (1/0, default 0)
            DSW_FNAME DSW_LNAME DSW_DNAME DSW_IDNO DSW_IDPLC DSW_IDATE DSW_BDATE DSW_SEX DSW_NAT
            DSW_OCP DSW_SDATE DSW_EDATE DSW_ROOZ (default DSW_MAH ÷ DSW_DD, rounded down)
            DSW_MAZ (default 0) DSW_MASH (default MAH + MAZ) DSW_TOTL (default DSW_MASH)
            DSW_BIME (default 7 % of DSW_MASH) DSW_PRATE DSW_JOB DSW_INC DSW_SPOUSE
  Header totals (DSK_NUM, DSK_TDD … DSK_BIMH) are computed. Text is written in Iran System.
  --layout v6|v2.7      default v6 (the wide layout is never written)
Exit status: 0 written, 65 bad input rows (listed), 64 usage error.`;

const HEADER_COLUMNS = [
  "dsk_id",
  "dsk_name",
  "dsk_farm",
  "dsk_adrs",
  "dsk_kind",
  "dsk_yy",
  "dsk_mm",
  "dsk_listno",
  "dsk_disc",
  "dsk_rate",
  "dsk_prate",
  "mon_pym",
  "dsk_inc",
  "dsk_spouse",
  "unemployment",
  "hazardous",
];
const WORKER_COLUMNS = [
  "dsw_id1",
  "dsw_fname",
  "dsw_lname",
  "dsw_dname",
  "dsw_idno",
  "dsw_idplc",
  "dsw_idate",
  "dsw_bdate",
  "dsw_sex",
  "dsw_nat",
  "dsw_ocp",
  "dsw_sdate",
  "dsw_edate",
  "dsw_dd",
  "dsw_rooz",
  "dsw_mah",
  "dsw_maz",
  "dsw_mash",
  "dsw_totl",
  "dsw_bime",
  "dsw_prate",
  "dsw_job",
  "per_natcod",
  "dsw_inc",
  "dsw_spouse",
];
const REQUIRED = [
  "dsk_id",
  "dsk_yy",
  "dsk_mm",
  "dsk_listno",
  "dsw_id1",
  "dsw_dd",
  "dsw_mah",
  "per_natcod",
];

/** The `dbf write` input table. */
export const DBF_WRITE_SCHEMA: ColumnSchema = {
  name: "SSO list rows",
  columns: [...HEADER_COLUMNS, ...WORKER_COLUMNS],
  optional: [...HEADER_COLUMNS, ...WORKER_COLUMNS].filter((c) => !REQUIRED.includes(c)),
};

export const command: CliCommand = {
  summary: "read or write employers' SSO insurance lists (DSKKAR00/DSKWOR00 DBF pairs)",
  async run(argv) {
    const split = parseSubcommand("dbf", USAGE, argv, ["read", "write"]);
    if (typeof split === "number") return split;
    return split.sub === "read" ? read(split.rest) : write(split.rest);
  },
};

function usageError(message: string): number {
  return printUsageError("dbf", USAGE, message);
}

function csvCell(v: string | undefined): string {
  if (v === undefined) return "";
  return /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

async function read(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine("dbf read", USAGE, argv, {
    province: { type: "string" },
    workshops: { type: "string" },
    "year-pivot": { type: "string" },
    json: { type: "boolean" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    return usageError("give one pair folder, DBF file, folder of pairs or zip");
  const pivot = values["year-pivot"];
  if (pivot !== undefined && !/^[0-9]{1,2}$/.test(pivot))
    return usageError("--year-pivot is a number 0–99");
  let provinces: Map<string, string> | undefined;
  if (values.workshops !== undefined) {
    try {
      provinces = await readWorkshopRegister(values.workshops);
    } catch (error) {
      process.stderr.write(`shafaf dbf: ${(error as Error).message}\n`);
      return EXIT_DATA;
    }
  }
  const issues: IngestIssue[] = [];
  const sources: SourceInfo[] = [];
  const rows: RawRow[] = [];
  const columns = RECORD_COLUMNS.premium;
  const out = process.stdout;
  if (values.json !== true) out.write(columns.join(",") + "\n");
  let count = 0;
  // The checks `shafaf anchor` applies to each row, here too: core's record rules and record ids
  // that appear twice (so a list is known to be anchorable before it is anchored).
  const seen = new Map<string, string>();
  const rowChecks = (row: RawRow): void => {
    const source = {
      file: row.source.file,
      line: row.source.line,
      ...(row.source.entry !== undefined ? { entry: row.source.entry } : {}),
      ...(row.source.list !== undefined ? { list: row.source.list } : {}),
    };
    const checked = validateRecord("premium", row.fields);
    if (!checked.ok) {
      for (const i of checked.issues) {
        // The reader already reports what it cannot provide (the province) and its own share checks.
        if (i.field === "province" && row.fields.province === undefined) continue;
        issues.push({ source, ...i });
      }
      return;
    }
    const id = checked.record.recordId;
    const first = seen.get(id);
    if (first === undefined) seen.set(id, `${row.source.file}:${row.source.line}`);
    else
      issues.push({
        source,
        field: "record_id",
        rule: "record-id.duplicate",
        value: id,
        message: `record_id appears twice in these lists (first at ${first})`,
        hint: "a worker appears once per workshop, month and list number; remove the duplicate list or record",
      });
  };
  for await (const row of readSsoLists(positionals[0]!, {
    onIssue: (i) => issues.push(i),
    onSource: (s) => sources.push(s),
    ...(provinces !== undefined ? { provinceOf: (code: string) => provinces.get(code) } : {}),
    ...(values.province !== undefined ? { province: values.province } : {}),
    ...(pivot !== undefined ? { yearPivot: Number(pivot) } : {}),
  })) {
    count++;
    rowChecks(row);
    if (values.json === true) rows.push(row);
    else if (!out.write(columns.map((c) => csvCell(row.fields[c])).join(",") + "\n")) {
      await new Promise((resolve) => out.once("drain", resolve));
    }
  }
  const errors = issues.filter((i) => i.severity !== "warning");
  if (values.json === true) {
    out.write(
      JSON.stringify({
        rows: rows.map((r) => ({ source: r.source, fields: r.fields })),
        issues,
        sources,
      }) + "\n",
    );
  } else {
    const lists = sources.filter((s) => /DSKKAR00\.DBF$/i.test(s.entry ?? s.name)).length;
    for (const i of issues) process.stderr.write(formatIssue(i) + "\n");
    process.stderr.write(
      `${lists} list(s), ${count} worker row(s); header checks: ${errors.length === 0 ? "passed" : `${errors.length} problem(s)`}\n`,
    );
  }
  return errors.length === 0 ? 0 : EXIT_DATA;
}

async function write(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine("dbf write", USAGE, argv, {
    from: { type: "string" },
    out: { type: "string" },
    layout: { type: "string" },
  });
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (parsed.positionals.length > 0)
    return usageError(`unexpected argument "${parsed.positionals[0]}"`);
  if (values.from === undefined || values.out === undefined)
    return usageError("--from and --out are required");
  const layout = values.layout ?? "v6";
  if (layout !== "v6" && layout !== "v2.7")
    return usageError("--layout is v6 or v2.7 (the wide layout is never written)");

  const issues: IngestIssue[] = [];
  const sink = new IssueSink((i) => issues.push(i));
  const options = { schema: DBF_WRITE_SCHEMA };
  const rows = /\.(jsonl|ndjson)$/i.test(values.from)
    ? readJsonlInto(values.from, options, sink)
    : readCsvInto(values.from, options, sink);
  const lists = new Map<
    string,
    { header: SsoListHeaderInput; headerLine: number; headerKey: string; workers: SsoListWorker[] }
  >();
  const file = path.basename(values.from);
  for await (const row of rows) {
    const built = toListRow(row, file, (i) => issues.push(i));
    if (built === undefined) continue;
    const { header, worker, headerKey } = built;
    const key = `${header.workshopCode}-${header.year}${String(header.month).padStart(2, "0")}-${header.listNo}`;
    const list = lists.get(key);
    if (list === undefined)
      lists.set(key, { header, headerLine: row.source.line, headerKey, workers: [worker] });
    else if (list.headerKey !== headerKey) {
      issues.push({
        source: { file, line: row.source.line },
        field: "",
        rule: "dbf-write.header-differs",
        value: "",
        message: `the list's header columns (DSK_…) differ from those on line ${list.headerLine}`,
        hint: "every row of one list must repeat the same header values",
      });
    } else list.workers.push(worker);
  }
  sink.finish();
  const errors = issues.filter((i) => i.severity !== "warning");
  for (const i of issues) process.stderr.write(formatIssue(i) + "\n");
  if (errors.length > 0) {
    process.stderr.write(`shafaf dbf: nothing written, ${errors.length} problem(s)\n`);
    return EXIT_DATA;
  }
  if (lists.size === 0) {
    process.stderr.write("shafaf dbf: the input has no rows; nothing written\n");
    return EXIT_DATA;
  }
  for (const [key, list] of lists) {
    const dir = path.join(values.out, key.replace(/[^A-Za-z0-9-]/g, "_"));
    try {
      const r = await writeSsoList(dir, { header: list.header, workers: list.workers }, { layout });
      process.stdout.write(`${r.karPath}\n${r.worPath}\n`);
    } catch (error) {
      if (!(error instanceof SsoListWriteError)) throw error;
      process.stderr.write(`shafaf dbf: list ${key}: ${error.message}\n`);
      return EXIT_DATA;
    }
  }
  process.stderr.write(`${lists.size} list(s) written (${layout}) under ${values.out}\n`);
  return 0;
}

/** One input row → the list header it belongs to and its worker; issues for bad values. */
function toListRow(
  row: RawRow,
  file: string,
  report: (i: IngestIssue) => void,
): { header: SsoListHeaderInput; headerKey: string; worker: SsoListWorker } | undefined {
  const f = row.fields;
  let ok = true;
  const bad = (column: string, message: string, hint: string) => {
    ok = false;
    report({
      source: { file, line: row.source.line },
      field: column.toUpperCase(),
      rule: "dbf-write.value",
      value: "",
      message,
      hint,
    });
  };
  const text = (c: string) => f[c] ?? "";
  const ascii = (c: string) => normalizeDigits(text(c));
  const int = (c: string, fallback?: bigint): bigint => {
    const v = ascii(c);
    if (v === "") {
      if (fallback !== undefined) return fallback;
      bad(c, `${c.toUpperCase()} is required`, "give a whole number");
      return 0n;
    }
    if (!/^[0-9]+$/.test(v)) {
      bad(c, `${c.toUpperCase()} is not a whole non-negative number`, "digits only, whole Rials");
      return 0n;
    }
    return BigInt(v);
  };
  const flag = (c: string, fallback: boolean): boolean => {
    const v = ascii(c).toLowerCase();
    if (v === "") return fallback;
    if (["1", "true", "yes"].includes(v)) return true;
    if (["0", "false", "no"].includes(v)) return false;
    bad(c, `${c.toUpperCase()} must be 1 or 0`, "1 = yes, 0 = no");
    return fallback;
  };
  for (const c of ["dsk_id", "dsk_listno", "dsw_id1", "per_natcod"]) {
    // A foreign national has no national ID: PER_NATCOD stays empty when DSW_NAT is foreign.
    if (c === "per_natcod" && !isIranianNationality(text("dsw_nat"))) continue;
    if (ascii(c) === "") bad(c, `${c.toUpperCase()} is required`, "fill it in");
  }
  const yy = Number(int("dsk_yy"));
  const year = yy >= 1000 ? yy : yy >= 50 ? 1300 + yy : 1400 + yy;
  const month = Number(int("dsk_mm"));
  if (month < 1 || month > 12)
    bad("dsk_mm", "DSK_MM is not a month (1–12)", "1 = Farvardin … 12 = Esfand");
  const header: SsoListHeaderInput = {
    workshopCode: ascii("dsk_id"),
    workshopName: text("dsk_name"),
    employerName: text("dsk_farm"),
    address: text("dsk_adrs"),
    year,
    month,
    listNo: ascii("dsk_listno"),
    listKind: Number(int("dsk_kind", 0n)),
    description: text("dsk_disc"),
    rate: int("dsk_rate", 0n),
    prate: int("dsk_prate", 0n),
    contractRow: text("mon_pym"),
    seniorityBase: int("dsk_inc", 0n),
    spouseAllowance: int("dsk_spouse", 0n),
    unemployment: flag("unemployment", true),
    hazardous: flag("hazardous", false),
  };
  const days = int("dsw_dd");
  const mah = int("dsw_mah");
  const maz = int("dsw_maz", 0n);
  const mash = int("dsw_mash", mah + maz);
  let workerShare = 0n;
  try {
    workerShare = premiumShares(mash, year, { unemployment: false, hazardous: false }).worker;
  } catch {
    bad("dsk_yy", `no premium rates for the year ${year}`, "check DSK_YY");
  }
  const worker: SsoListWorker = {
    insuranceNo: ascii("dsw_id1"),
    firstName: text("dsw_fname"),
    lastName: text("dsw_lname"),
    fatherName: text("dsw_dname"),
    idNo: text("dsw_idno"),
    idPlace: text("dsw_idplc"),
    idDate: ascii("dsw_idate"),
    birthDate: ascii("dsw_bdate"),
    sex: text("dsw_sex"),
    nationality: text("dsw_nat"),
    jobTitle: text("dsw_ocp"),
    startDate: ascii("dsw_sdate"),
    endDate: ascii("dsw_edate"),
    days: Number(days),
    dailyWage: int("dsw_rooz", days > 0n ? mah / days : 0n),
    monthlyWage: mah,
    benefits: maz,
    insurableBase: mash,
    totalPay: int("dsw_totl", mash),
    workerShare: int("dsw_bime", workerShare),
    prate: int("dsw_prate", 0n),
    jobCode: ascii("dsw_job"),
    nationalId: ascii("per_natcod"),
    seniorityBase: int("dsw_inc", 0n),
    spouseAllowance: ascii("dsw_spouse"),
  };
  if (!ok) return undefined;
  const headerKey = JSON.stringify(header, (_k, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v,
  );
  return { header, headerKey, worker };
}
