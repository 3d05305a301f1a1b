/**
 * Reads employers' SSO insurance lists — `DSKKAR00.DBF` + `DSKWOR00.DBF` pairs, alone, in a
 * folder tree, or in a .zip — and turns each worker record into a premium row (CSV column
 * names), checking the header's count and totals against the worker records.
 *
 * Streaming: a worker file is read in 1 MiB chunks (zip members are inflated in 4 KiB slices,
 * under size and ratio caps); memory does not grow with the number of workers or the zip's size.
 */
import { createReadStream } from "node:fs";
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import {
  applyBasisPoints,
  DEFAULT_RATE_TABLE,
  premiumShares,
  ratesForYear,
  type RateTable,
} from "../core/rates.ts";
import { nationalityCode, isIranianNationality } from "../core/person-id.ts";
import {
  DEFAULT_COVERAGE_RULES,
  decideListCoverage,
  workerCoverage,
  type CoverageRules,
  type WorkerCoverage,
} from "../core/unemployment-coverage.ts";

type WorkerCoverageKind = WorkerCoverage["coverage"];
import { cp1256Plausibility, decodeCp1256Persian, isCp1256TextByte } from "./cp1256.ts";
import {
  DbfFormatError,
  DbfRecordSplitter,
  fieldBytes,
  type DbfField,
  type DbfHeader,
  type DbfRecord,
} from "./dbf.ts";
import { IssueSink, maskValue, type IngestIssue, type IssueOptions } from "./ingest-issue.ts";
import { decodeIranSystem, iranSystemPlausibility, isIranSystemTextByte } from "./iran-system.ts";
import { finishing, flattenBatches } from "./flatten-batches.ts";
import type { RawRow, RowSource } from "./raw-row.ts";
import {
  openZip,
  ZipReadError,
  type ZipArchive,
  type ZipLimits,
  type ZipMember,
} from "./read-zip.ts";
import { Sha256Tap, type SourceEncoding, type SourceInfo, type SsoLayout } from "./source-info.ts";
import {
  fullJalaliYear,
  KAR_FILE,
  SSO_LAYOUTS,
  TEXT_FIELDS,
  WIDE_ONLY_FIELDS,
  WOR_FILE,
  WORKER_FIELD,
  type SsoListHeader,
  type SsoListWorker,
} from "./sso-list.ts";

export interface ReadSsoListsOptions extends IssueOptions {
  /** Province (ISO 3166-2 `IR-xx` or a name core accepts) of a workshop; DBF lists carry none. */
  provinceOf?: (workshopCode: string) => string | undefined;
  /** One province for every workshop (used when `provinceOf` gives nothing). */
  province?: string;
  /** Two-digit year pivot (see `fullJalaliYear`). Default 50: 50–99 → 13yy, 00–49 → 14yy. */
  yearPivot?: number;
  /** Rate table for the recomputed shares (default core's). */
  rates?: RateTable;
  /** Receives one `SourceInfo` per DBF file once it has been read to its end. */
  onSource?: (info: SourceInfo) => void;
  /** Bounds on what a .zip may make the reader inflate (default `DEFAULT_ZIP_LIMITS`). */
  zipLimits?: Partial<ZipLimits>;
  /** Who the unemployment premium covers (default core's `DEFAULT_COVERAGE_RULES`). */
  coverage?: CoverageRules;
}

/** A worker record with its decoded header, for callers that need names (anomaly checks). */
export interface SsoListEntry {
  source: RowSource;
  header: SsoListHeader;
  worker: SsoListWorker;
}

/**
 * Streams premium rows from SSO lists at `inputPath`: a pair's folder or one of its files, a
 * folder holding pairs in sub-folders, or a .zip of such folders. File names match in any case.
 *
 * Each worker record becomes `{ record_id, period, national_id, workshop_code, insurance_no,
 * province, days, wage_base, worker_share, employer_share, unemployment_share, hazard_share,
 * total }`: `record_id` = `<DSW_ID>-<yyyymm>-<list no>-<DSW_ID1>`; worker share from DSW_BIME;
 * employer and hazard shares recomputed with core's `premiumShares` (hazardous when DSK_BIMH is
 * not zero — the format does not mark hazardous workers); the unemployment share per worker from
 * core's coverage rules and the list's DSK_BIC (`decideListCoverage`), so a list's rows come out
 * when the list ends; `nationality` (ISO code) for a foreign worker. Every row and issue carries
 * `source.list`, the pair's folder.
 *
 * Problems (bad totals, count mismatch, undecodable text, unknown layout, missing pair file)
 * are `IngestIssue`s, all reported; without `onIssue` they are thrown together at the end.
 *
 * @example
 * for await (const row of readSsoLists("lists.zip", { province: "IR-23", onIssue: console.log })) {
 *   validateRecord("premium", row.fields);
 * }
 */
export function readSsoLists(
  inputPath: string,
  options: ReadSsoListsOptions = {},
): AsyncIterableIterator<RawRow> {
  const sink = new IssueSink(options.onIssue);
  return flattenBatches(finishing(readSsoListBatches(inputPath, options, sink), sink));
}

/** `readSsoLists` with a caller-owned sink, one batch of rows per read chunk. */
export async function* readSsoListBatches(
  inputPath: string,
  options: ReadSsoListsOptions,
  sink: IssueSink,
): AsyncGenerator<RawRow[]> {
  for await (const batch of readPairs(inputPath, options, sink, false)) yield batch as RawRow[];
}

/**
 * Like `readSsoLists`, but yields the decoded header and worker (names included) instead of
 * premium rows. Personal data: keep it out of logs.
 */
export function readSsoListEntries(
  inputPath: string,
  options: ReadSsoListsOptions = {},
): AsyncIterableIterator<SsoListEntry> {
  const sink = new IssueSink(options.onIssue);
  async function* batches(): AsyncGenerator<SsoListEntry[]> {
    for await (const batch of readPairs(inputPath, options, sink, true))
      yield batch as SsoListEntry[];
  }
  return flattenBatches(finishing(batches(), sink));
}

type Item = RawRow | SsoListEntry;

/** Where a DBF file's bytes come from. */
interface DbfLocation {
  /** Display name (for issues and SourceInfo). */
  file: string;
  entry?: string;
  containerSha256?: string;
}

/** The label of a pair's list: its folder, inside the zip when there is one (`a.zip!w1`). */
function listLabel(kar: DbfLocation): string {
  if (kar.entry !== undefined) {
    const dir = path.posix.dirname(kar.entry);
    return `${kar.file}!${dir === "." ? "" : dir}`;
  }
  const dir = path.dirname(kar.file);
  return dir === "." ? kar.file : dir;
}

async function* readPairs(
  inputPath: string,
  options: ReadSsoListsOptions,
  sink: IssueSink,
  entries: boolean,
): AsyncGenerator<Item[]> {
  let info;
  try {
    info = await stat(inputPath);
  } catch {
    sink.add(fileIssue(inputPath, "sso.input", "no such file or folder", "check the path"));
    return;
  }
  if (info.isFile() && /\.zip$/i.test(inputPath)) {
    yield* readZip(inputPath, options, sink, entries);
    return;
  }
  if (info.isFile() && !isPairFile(path.basename(inputPath))) {
    sink.add(
      fileIssue(
        inputPath,
        "sso.input",
        "not an SSO list file",
        `give a ${KAR_FILE}/${WOR_FILE} pair (or its folder, or a .zip of such folders)`,
      ),
    );
    return;
  }
  const pairs = info.isFile()
    ? [await pairOfFolder(path.dirname(inputPath))]
    : await findPairs(inputPath);
  const base = info.isFile() ? path.dirname(inputPath) : inputPath;
  // Names in issues and the manifest: the given folder's (or the pair's folder's) name and the
  // path below it, never the absolute path of this machine.
  const label = (p: string) => path.join(path.basename(path.resolve(base)), path.relative(base, p));
  if (pairs.length === 0 || pairs.every((p) => p.kar === undefined && p.wor === undefined)) {
    sink.add(
      fileIssue(
        inputPath,
        "sso.input",
        "no SSO list files found",
        `expected ${KAR_FILE} and ${WOR_FILE}`,
      ),
    );
    return;
  }
  for (const pair of pairs) {
    if (!checkPairComplete(pair, label, sink)) continue;
    const karBytes = await readFile(pair.kar!);
    const reader = new PairReader(
      karBytes,
      { file: label(pair.kar!) },
      { file: label(pair.wor!) },
      options,
      sink,
      entries,
    );
    if (!reader.ok) continue;
    for await (const chunk of createReadStream(pair.wor!, { highWaterMark: 1 << 20 })) {
      const batch = reader.push(chunk as Buffer);
      if (batch.length > 0) yield batch;
    }
    const tail = reader.end();
    if (tail.length > 0) yield tail;
  }
}

interface PairPaths {
  dir: string;
  kar?: string;
  wor?: string;
}

function isPairFile(name: string): boolean {
  const upper = name.toUpperCase();
  return upper === KAR_FILE || upper === WOR_FILE;
}

function checkPairComplete(
  pair: { dir: string; kar?: string | undefined; wor?: string | undefined },
  label: (p: string) => string,
  sink: IssueSink,
): boolean {
  if (pair.kar !== undefined && pair.wor !== undefined) return true;
  const present = (pair.kar ?? pair.wor)!;
  const missing = pair.kar === undefined ? KAR_FILE : WOR_FILE;
  sink.add(
    fileIssue(
      label(present),
      "sso.pair",
      `${missing} is missing next to this file`,
      `every list is a pair: put ${missing} in the same folder`,
    ),
  );
  return false;
}

async function pairOfFolder(dir: string): Promise<PairPaths> {
  const pair: PairPaths = { dir };
  for (const name of (await readdir(dir)).sort()) {
    const upper = name.toUpperCase();
    if (upper === KAR_FILE) pair.kar = path.join(dir, name);
    if (upper === WOR_FILE) pair.wor = path.join(dir, name);
  }
  return pair;
}

/** Every folder under `root` (itself included) holding a pair file, in sorted path order. */
async function findPairs(root: string): Promise<PairPaths[]> {
  const out: PairPaths[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    if (entries.some((e) => e.isFile() && isPairFile(e.name))) out.push(await pairOfFolder(dir));
    for (const e of entries) if (e.isDirectory()) await walk(path.join(dir, e.name));
  };
  await walk(root);
  return out;
}

/** Largest DSKKAR00 member read from a zip (a one-record header file is about 1 KiB). */
const MAX_KAR_BYTES = 1 << 20;
/** Bytes a DSKWOR00 member may hold beyond what its DBF header announces (EOF byte, padding). */
const WOR_SLACK_BYTES = 64 << 10;

/**
 * Zips are untrusted: the central directory is read (see `openZip`), only pair members are
 * inflated, each under the zip limits, and a worker member also under the size its own DBF
 * header announces (header length + records × record length). DSKKAR00 members (one record)
 * are read whole; DSKWOR00 members stream into the pair reader as they inflate.
 */
async function* readZip(
  zipPath: string,
  options: ReadSsoListsOptions,
  sink: IssueSink,
  entries: boolean,
): AsyncGenerator<Item[]> {
  const file = path.basename(zipPath);
  const zipTap = new Sha256Tap();
  for await (const chunk of createReadStream(zipPath, { highWaterMark: 1 << 20 }))
    zipTap.update(chunk as Buffer);
  const containerSha256 = zipTap.digest();
  let zip: ZipArchive;
  try {
    zip = await openZip(zipPath, options.zipLimits);
  } catch (error) {
    sink.add(zipIssue(file, error));
    return;
  }
  try {
    const pairs = new Map<string, { dir: string; kar?: ZipMember; wor?: ZipMember }>();
    for (const member of zip.members) {
      const name = member.name;
      const base = name.slice(name.lastIndexOf("/") + 1);
      if (!isPairFile(base)) continue;
      const dir = name.slice(0, name.lastIndexOf("/") + 1);
      const pair = pairs.get(dir) ?? { dir };
      pairs.set(dir, pair);
      const which = base.toUpperCase() === KAR_FILE ? "kar" : "wor";
      if (pair[which] !== undefined) {
        sink.add({
          ...zipIssue(file, undefined, name),
          rule: "sso.zip-duplicate",
          message: `the folder holds ${base.toUpperCase()} twice`,
          hint: "keep one list per folder",
        });
        continue;
      }
      pair[which] = member;
    }
    if (pairs.size === 0) {
      sink.add(
        fileIssue(
          file,
          "sso.input",
          "the zip holds no SSO list files",
          `expected ${KAR_FILE} and ${WOR_FILE}`,
        ),
      );
      return;
    }
    for (const pair of [...pairs.values()].sort((a, b) => (a.dir < b.dir ? -1 : 1))) {
      const names = { dir: pair.dir, kar: pair.kar?.name, wor: pair.wor?.name };
      if (!checkPairComplete(names, (p) => `${file}!${p}`, sink)) continue;
      const kar = pair.kar!;
      const wor = pair.wor!;
      let karBytes: Uint8Array;
      try {
        if (kar.size > MAX_KAR_BYTES) {
          throw new ZipReadError(
            `${kar.name} is ${kar.size} bytes; a list header file is about 1 KiB`,
            { code: "zip.limit", member: kar.name, hint: "export the list again from ListDisk" },
          );
        }
        const parts: Uint8Array[] = [];
        for await (const part of zip.read(kar)) parts.push(part);
        karBytes = concatAll(parts);
      } catch (error) {
        sink.add(zipIssue(file, error, kar.name));
        continue;
      }
      const reader = new PairReader(
        karBytes,
        { file, entry: kar.name, containerSha256 },
        { file, entry: wor.name, containerSha256 },
        options,
        sink,
        entries,
      );
      if (!reader.ok) continue;
      let head: Uint8Array | undefined = new Uint8Array(0);
      try {
        for await (const part of zip.read(wor)) {
          let data = part;
          if (head !== undefined) {
            head = concatAll([head, part]);
            if (head.length < 12) continue;
            const announced = announcedDbfSize(head);
            if (wor.size > announced + WOR_SLACK_BYTES) {
              throw new ZipReadError(
                `${wor.name} inflates to ${wor.size} bytes but its DBF header announces ${announced}`,
                {
                  code: "zip.limit",
                  member: wor.name,
                  hint: "the file is damaged or was made to mislead; export the list again",
                },
              );
            }
            data = head;
            head = undefined;
          }
          const batch = reader.push(data);
          if (batch.length > 0) yield batch;
        }
        if (head !== undefined && head.length > 0) reader.push(head);
      } catch (error) {
        sink.add(zipIssue(file, error, wor.name));
        continue;
      }
      const tail = reader.end();
      if (tail.length > 0) yield tail;
    }
  } finally {
    await zip.close();
  }
}

/** Bytes a DBF file should have from its header: header + records × record length + EOF byte. */
function announcedDbfSize(head: Uint8Array): number {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  return view.getUint16(8, true) + view.getUint32(4, true) * view.getUint16(10, true) + 1;
}

function concatAll(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** A zip problem as one issue; only names and sizes, never member contents. */
function zipIssue(file: string, error: unknown, entry?: string): IngestIssue {
  const zipError = error instanceof ZipReadError ? error : undefined;
  const limit = zipError?.code === "zip.limit";
  return {
    source: {
      file,
      ...((zipError?.member ?? entry) !== undefined ? { entry: (zipError?.member ?? entry)! } : {}),
    },
    field: "",
    rule: limit ? "sso.zip-limit" : "sso.zip",
    value: "",
    message:
      zipError !== undefined
        ? zipError.shortMessage
        : error === undefined
          ? "the zip cannot be read"
          : "the zip cannot be read (an unexpected error while reading it)",
    hint: zipError?.details ?? "re-create the zip, or unpack it and give the folder",
  };
}

function fileIssue(file: string, rule: string, message: string, hint: string): IngestIssue {
  return { source: { file }, field: "", rule, value: "", message, hint };
}

/** Byte statistics of a file's text fields, for detecting its code page. */
class TextStats {
  high = 0;
  badIranSystem = 0;
  badCp1256 = 0;
  /** Record numbers (first few) holding a byte impossible in each code page. */
  readonly badRecordsIranSystem: number[] = [];
  readonly badRecordsCp1256: number[] = [];

  scan(bytes: Uint8Array, record: number): void {
    let badIs = false;
    let badCp = false;
    for (const b of bytes) {
      if (b < 0x80) continue;
      this.high++;
      if (!isIranSystemTextByte(b)) {
        this.badIranSystem++;
        badIs = true;
      }
      if (!isCp1256TextByte(b)) {
        this.badCp1256++;
        badCp = true;
      }
    }
    if (badIs && this.badRecordsIranSystem.length < 20) this.badRecordsIranSystem.push(record);
    if (badCp && this.badRecordsCp1256.length < 20) this.badRecordsCp1256.push(record);
  }

  /** Iran System unless cp1256 explains the bytes strictly better (ListDisk writes Iran System). */
  get encoding(): "iran-system" | "cp1256" {
    return this.badCp1256 < this.badIranSystem ? "cp1256" : "iran-system";
  }
}

/** Code page of a small sample (header record, or the first worker records). */
function sampleEncoding(bytes: Uint8Array): "iran-system" | "cp1256" {
  const is = iranSystemPlausibility(bytes);
  const cp = cp1256Plausibility(bytes);
  return is !== undefined && cp !== undefined && cp > is ? "cp1256" : "iran-system";
}

function decodeText(bytes: Uint8Array, encoding: "iran-system" | "cp1256"): string {
  return encoding === "cp1256" ? decodeCp1256Persian(bytes) : decodeIranSystem(bytes);
}

/** The fields of a file found by name, and the layout they make. */
interface FileLayout {
  layout: SsoLayout | undefined;
  byName: Map<string, DbfField>;
}

function layoutOf(header: DbfHeader, which: "kar" | "wor"): FileLayout {
  const byName = new Map(header.fields.map((f) => [f.name.toUpperCase(), f]));
  const same = (specs: readonly { name: string; type: string; length: number }[]) =>
    specs.length === header.fields.length &&
    specs.every((s, i) => {
      const f = header.fields[i]!;
      return f.name.toUpperCase() === s.name && f.type === s.type && f.length === s.length;
    });
  let layout: SsoLayout | undefined;
  if (same(SSO_LAYOUTS.v6[which])) layout = "v6";
  else if (same(SSO_LAYOUTS["v2.7"][which])) layout = "v2.7";
  else if (header.fields.some((f) => WIDE_ONLY_FIELDS.has(f.name.toUpperCase()))) layout = "wide";
  return { layout, byName };
}

const REQUIRED_KAR = [
  "DSK_ID",
  "DSK_YY",
  "DSK_MM",
  "DSK_LISTNO",
  "DSK_NUM",
  "DSK_TDD",
  "DSK_TMAH",
  "DSK_TMAZ",
  "DSK_TMASH",
  "DSK_TTOTL",
  "DSK_TBIME",
  "DSK_TKOSO",
  "DSK_BIC",
  "DSK_BIMH",
];
const REQUIRED_WOR = [
  "DSW_ID",
  "DSW_YY",
  "DSW_MM",
  "DSW_LISTNO",
  "DSW_ID1",
  "DSW_DD",
  "DSW_MAH",
  "DSW_MAZ",
  "DSW_MASH",
  "DSW_TOTL",
  "DSW_BIME",
  "PER_NATCOD",
];

/** Sums of worker fields checked against header totals: header field → worker field. */
const TOTALS: readonly (readonly [string, string, string])[] = [
  ["DSK_TDD", "DSW_DD", "Σ days"],
  ["DSK_TROOZ", "DSW_ROOZ", "Σ daily wage"],
  ["DSK_TMAH", "DSW_MAH", "Σ monthly wage"],
  ["DSK_TMAZ", "DSW_MAZ", "Σ insurable benefits"],
  ["DSK_TMASH", "DSW_MASH", "Σ insurable base"],
  ["DSK_TTOTL", "DSW_TOTL", "Σ total pay"],
  ["DSK_TBIME", "DSW_BIME", "Σ worker share"],
  ["DSK_TBIM20", "DSW_BIME20", "Σ DSW_BIME20"],
];

/**
 * One pair: the header is parsed up front; worker chunks are pushed as they stream; `end()`
 * runs the header checks and reports the two files' SourceInfo.
 */
class PairReader {
  readonly ok: boolean;
  readonly #options: ReadSsoListsOptions;
  readonly #sink: IssueSink;
  readonly #entries: boolean;
  readonly #kar: DbfLocation;
  readonly #wor: DbfLocation;
  readonly #list: string;
  /** Rows of this list, held until its end: a worker's unemployment share needs the whole list. */
  #pending: {
    row: RawRow;
    base: bigint;
    /** DSW_JOB, DSW_OCP and DSW_NAT bytes as one latin1 string: decoded once per distinct value. */
    who: string;
  }[] = [];
  /** Insurance number → first record number, for duplicates inside the list. */
  readonly #insuranceNos = new Map<string, number>();
  readonly #splitter = new DbfRecordSplitter();
  readonly #worTap = new Sha256Tap();
  #fields: Map<string, DbfField> | undefined;
  #worLayout: SsoLayout | undefined;
  #failed = false;
  readonly #stats = new TextStats();

  // From the header record.
  #karRecord!: Uint8Array;
  #karFields!: Map<string, DbfField>;
  #karInfo!: Omit<SourceInfo, "records">;
  #header!: SsoListHeader;
  #workshop = "";
  #yy = 0;
  #mm = 0;
  #listNo = "";
  #period = "";
  #recordPrefix = "";
  #province: string | undefined;
  #hazardous = false;
  #ratesOk = true;

  // Running figures.
  #live = 0;
  #deleted = 0;
  readonly #sums = new Map<string, bigint>();
  /** Worker fields summed for the header checks, their running sums, and this row's values. */
  #sumNames: string[] = [];
  #sumFields: DbfField[] = [];
  #sumSmall: number[] = [];
  #sumBig: bigint[] = [];
  #rowValues: number[] = [];
  /** The worker fields every row reads (`dd` … `bime` index `#sumFields`). */
  #key:
    | {
        id: DbfField;
        yy: DbfField;
        mm: DbfField;
        listNo: DbfField;
        id1: DbfField;
        natcod: DbfField;
        dd: number;
        mah: number;
        maz: number;
        mash: number;
        bime: number;
      }
    | undefined;
  #employerSum = 0n;
  #hazardSum = 0n;
  /** Entries waiting for the code page decision (entries mode only). */
  #waiting: { number: number; bytes: Uint8Array }[] | undefined = [];
  #textEncoding: "iran-system" | "cp1256" | undefined;

  constructor(
    karBytes: Uint8Array,
    kar: DbfLocation,
    wor: DbfLocation,
    options: ReadSsoListsOptions,
    sink: IssueSink,
    entries: boolean,
  ) {
    this.#options = options;
    this.#sink = sink;
    this.#entries = entries;
    this.#kar = kar;
    this.#wor = wor;
    this.#list = listLabel(kar);
    this.ok = this.#readHeader(karBytes);
  }

  #issue(
    at: DbfLocation,
    record: number | undefined,
    field: string,
    rule: string,
    value: string,
    message: string,
    hint: string,
    severity?: "warning" | "finding",
  ): void {
    this.#sink.add({
      source: {
        file: at.file,
        ...(record !== undefined ? { record } : {}),
        ...(at.entry !== undefined ? { entry: at.entry } : {}),
        list: this.#list,
      },
      field,
      rule,
      value,
      message,
      hint,
      ...(severity !== undefined ? { severity } : {}),
    });
  }

  #readHeader(bytes: Uint8Array): boolean {
    const splitter = new DbfRecordSplitter();
    let records: DbfRecord[];
    try {
      records = splitter.push(bytes).map((r) => ({ ...r, bytes: r.bytes.slice() }));
      splitter.end();
    } catch (error) {
      this.#formatIssue(this.#kar, error);
      return false;
    }
    const dbf = splitter.header!;
    const { layout, byName } = layoutOf(dbf, "kar");
    const missing = REQUIRED_KAR.filter((n) => !byName.has(n));
    if (layout === undefined || missing.length > 0) {
      this.#unknownLayout(this.#kar, dbf, missing, "kar");
      return false;
    }
    const live = records.filter((r) => !r.deleted);
    if (live.length !== 1) {
      this.#issue(
        this.#kar,
        undefined,
        "",
        "sso.header-record",
        String(live.length),
        `${KAR_FILE} must hold exactly one live record (the workshop-month header); it holds ${live.length}`,
        "export the list again from ListDisk",
      );
      if (live.length === 0) return false;
    }
    const rec = live[0]!.bytes;
    this.#karRecord = rec;
    this.#karFields = byName;
    const tap = new Sha256Tap();
    tap.update(bytes);
    let text: Uint8Array = new Uint8Array(0);
    for (const [name, f] of byName)
      if (TEXT_FIELDS.has(name)) text = concatAll([text, fieldBytes(rec, f)]);
    const encoding = sampleEncoding(text);
    this.#karInfo = {
      name: this.#kar.file,
      ...(this.#kar.entry !== undefined ? { entry: this.#kar.entry } : {}),
      sha256: tap.digest(),
      ...(this.#kar.containerSha256 !== undefined
        ? { containerSha256: this.#kar.containerSha256 }
        : {}),
      format: "sso-dbf",
      layout,
      encoding,
      ...(records.length > live.length ? { deletedRecords: records.length - live.length } : {}),
    };
    const str = (name: string) => this.#ascii(this.#kar, 1, rec, byName.get(name));
    const num = (name: string) => this.#number(this.#kar, 1, rec, byName.get(name));
    const txt = (name: string) => {
      const f = byName.get(name);
      return f === undefined ? "" : decodeText(fieldBytes(rec, f), encoding).trim();
    };
    this.#workshop = str("DSK_ID");
    this.#yy = Number(num("DSK_YY"));
    this.#mm = Number(num("DSK_MM"));
    this.#listNo = str("DSK_LISTNO");
    const year = fullJalaliYear(this.#yy, this.#options.yearPivot);
    this.#period = `${year}-${String(this.#mm).padStart(2, "0")}`;
    const listId = this.#listNo.replace(/[^A-Za-z0-9]/g, "") || "0";
    this.#recordPrefix = `${this.#workshop}-${year}${String(this.#mm).padStart(2, "0")}-${listId}-`;
    if (this.#mm < 1 || this.#mm > 12) {
      this.#issue(
        this.#kar,
        1,
        "DSK_MM",
        "sso.month",
        maskValue(String(this.#mm)),
        "DSK_MM is not a month (1–12)",
        "fix the list's month in ListDisk",
      );
    }
    const h: SsoListHeader = {
      workshopCode: this.#workshop,
      workshopName: txt("DSK_NAME"),
      employerName: txt("DSK_FARM"),
      address: txt("DSK_ADRS"),
      listKind: Number(num("DSK_KIND")),
      year,
      month: this.#mm,
      listNo: this.#listNo,
      description: txt("DSK_DISC"),
      workerCount: Number(num("DSK_NUM")),
      totalDays: num("DSK_TDD"),
      totalDailyWage: num("DSK_TROOZ"),
      totalMonthlyWage: num("DSK_TMAH"),
      totalBenefits: num("DSK_TMAZ"),
      totalInsurable: num("DSK_TMASH"),
      totalPay: num("DSK_TTOTL"),
      totalWorkerShare: num("DSK_TBIME"),
      totalEmployerShare: num("DSK_TKOSO"),
      unemploymentPremium: num("DSK_BIC"),
      rate: num("DSK_RATE"),
      prate: num("DSK_PRATE"),
      hazardPremium: num("DSK_BIMH"),
      contractRow: txt("MON_PYM"),
      ...(byName.has("DSK_INC") ? { seniorityBase: num("DSK_INC") } : {}),
      ...(byName.has("DSK_SPOUSE") ? { spouseAllowance: num("DSK_SPOUSE") } : {}),
    };
    this.#header = h;
    this.#hazardous = h.hazardPremium !== 0n;
    try {
      ratesForYear(year, this.#options.rates);
    } catch {
      this.#ratesOk = false;
      this.#issue(
        this.#kar,
        1,
        "DSK_YY",
        "sso.rates-year",
        String(year),
        `there are no premium rates for ${year}`,
        "check DSK_YY (two-digit years 50–99 are read as 13xx, 00–49 as 14xx)",
      );
    }
    this.#province = this.#options.provinceOf?.(this.#workshop) ?? this.#options.province;
    if (this.#province === undefined) {
      this.#issue(
        this.#kar,
        1,
        "DSK_ID",
        "sso.province",
        maskValue(this.#workshop),
        "DBF lists carry no province, and none was given for this workshop",
        "give the province with --province IR-xx, or a workshop_code,province table",
      );
    }
    return true;
  }

  #unknownLayout(at: DbfLocation, dbf: DbfHeader, missing: string[], which: "kar" | "wor"): void {
    const expected = SSO_LAYOUTS.v6[which].map((s) => s.name);
    const names = dbf.fields.map((f) => f.name.toUpperCase());
    const extra = names.filter((n) => !expected.includes(n) && !WIDE_ONLY_FIELDS.has(n));
    this.#issue(
      at,
      undefined,
      "",
      "sso.layout",
      `${dbf.fields.length} fields`,
      `unknown list layout (${dbf.fields.length} fields, record length ${dbf.recordLength})` +
        (missing.length > 0 ? `; missing ${missing.join(", ")}` : "") +
        (extra.length > 0 ? `; unexpected ${extra.join(", ")}` : ""),
      "known layouts: ListDisk v6 (1403), v2.7 and the wide variant; export the list again with ListDisk",
    );
  }

  #formatIssue(at: DbfLocation, error: unknown): void {
    if (!(error instanceof DbfFormatError)) throw error;
    this.#issue(
      at,
      undefined,
      "",
      "sso.dbf",
      `byte ${error.offset}`,
      `not a readable dBase III file: ${error.message}`,
      "export the list again from ListDisk",
    );
  }

  /** An identifier or date field: ASCII, trimmed; Iran System digits (0x80–0x89) read as digits. */
  #ascii(at: DbfLocation, record: number, rec: Uint8Array, field: DbfField | undefined): string {
    if (field === undefined) return "";
    let start = field.offset;
    let end = field.offset + field.length;
    while (end > start && (rec[end - 1] === 0x20 || rec[end - 1] === 0)) end--;
    while (start < end && rec[start] === 0x20) start++;
    let s = "";
    let bad = false;
    for (let i = start; i < end; i++) {
      const b = rec[i]!;
      if (b < 0x80) s += String.fromCharCode(b);
      else if (b <= 0x89) s += String.fromCharCode(0x30 + b - 0x80);
      else bad = true;
    }
    if (bad) {
      this.#issue(
        at,
        record,
        field.name,
        "sso.ascii",
        maskValue(s),
        `${field.name} holds characters that are not digits or Latin letters`,
        "retype the value with Latin digits",
      );
    }
    return s;
  }

  /**
   * A numeric field of at most 15 digits as a Number (blank is 0), parsed from the bytes.
   * Anything but digits surrounded by spaces is reported (`sso.number`) and read as 0.
   */
  #int(at: DbfLocation, record: number, rec: Uint8Array, field: DbfField): number {
    let v = 0;
    let state = 0; // 0 leading blanks, 1 digits, 2 trailing blanks
    const end = field.offset + field.length;
    for (let i = field.offset; i < end; i++) {
      const b = rec[i]!;
      if (b >= 0x30 && b <= 0x39 && state < 2) {
        v = v * 10 + (b - 0x30);
        state = 1;
      } else if (b === 0x20 || b === 0) {
        if (state === 1) state = 2;
      } else {
        state = 3;
        break;
      }
    }
    if (state === 3 || field.length > 15) {
      return Number(this.#number(at, record, rec, field));
    }
    return v;
  }

  #number(at: DbfLocation, record: number, rec: Uint8Array, field: DbfField | undefined): bigint {
    if (field === undefined) return 0n;
    const s = this.#ascii(at, record, rec, field);
    if (s === "") return 0n;
    if (!/^[0-9]+$/.test(s)) {
      this.#issue(
        at,
        record,
        field.name,
        "sso.number",
        maskValue(s),
        `${field.name} is not a whole non-negative number`,
        "numbers in SSO lists are whole Rials or counts, digits only",
      );
      return 0n;
    }
    return BigInt(s);
  }

  /** Feeds a chunk of DSKWOR00; returns the rows (or entries) it completed. */
  push(chunk: Uint8Array): Item[] {
    if (this.#failed) return [];
    this.#worTap.update(chunk);
    let records: DbfRecord[];
    try {
      records = this.#splitter.push(chunk);
    } catch (error) {
      this.#failed = true;
      this.#formatIssue(this.#wor, error);
      return [];
    }
    if (this.#fields === undefined && this.#splitter.header !== undefined) {
      const { layout, byName } = layoutOf(this.#splitter.header, "wor");
      const missing = REQUIRED_WOR.filter((n) => !byName.has(n));
      if (layout === undefined || missing.length > 0) {
        this.#failed = true;
        this.#unknownLayout(this.#wor, this.#splitter.header, missing, "wor");
        return [];
      }
      this.#fields = byName;
      this.#worLayout = layout;
      this.#sumNames = TOTALS.map(([, w]) => w).filter((w) => byName.has(w));
      this.#sumFields = this.#sumNames.map((w) => byName.get(w)!);
      this.#sumSmall = this.#sumNames.map(() => 0);
      this.#sumBig = this.#sumNames.map(() => 0n);
      this.#rowValues = this.#sumNames.map(() => 0);
      const at = (name: string) => this.#sumNames.indexOf(name);
      this.#key = {
        id: byName.get("DSW_ID")!,
        yy: byName.get("DSW_YY")!,
        mm: byName.get("DSW_MM")!,
        listNo: byName.get("DSW_LISTNO")!,
        id1: byName.get("DSW_ID1")!,
        natcod: byName.get("PER_NATCOD")!,
        dd: at("DSW_DD"),
        mah: at("DSW_MAH"),
        maz: at("DSW_MAZ"),
        mash: at("DSW_MASH"),
        bime: at("DSW_BIME"),
      };
    }
    const out: Item[] = [];
    for (const r of records) {
      const item = this.#record(r);
      if (item !== undefined) out.push(...item);
    }
    return out;
  }

  #textFields: DbfField[] | undefined;

  #record(r: DbfRecord): Item[] | undefined {
    if (r.deleted) {
      this.#deleted++;
      return undefined;
    }
    this.#live++;
    const f = this.#fields!;
    const rec = r.bytes;
    this.#textFields ??= [...f.values()].filter((x) => TEXT_FIELDS.has(x.name.toUpperCase()));
    for (const tf of this.#textFields) this.#stats.scan(fieldBytes(rec, tf), r.number);
    const at = this.#wor;
    const k = this.#key!;
    const n = r.number;
    const workshop = this.#ascii(at, n, rec, k.id);
    const yy = this.#int(at, n, rec, k.yy);
    const mm = this.#int(at, n, rec, k.mm);
    const listNo = this.#ascii(at, n, rec, k.listNo);
    const insuranceNo = this.#ascii(at, n, rec, k.id1);
    if (workshop !== this.#workshop) {
      this.#issue(
        at,
        n,
        "DSW_ID",
        "sso.workshop-mismatch",
        maskValue(workshop),
        "the worker's workshop code (DSW_ID) differs from the header's DSK_ID",
        "a pair holds one workshop's list; fix DSW_ID or split the lists",
      );
    }
    if (yy !== this.#yy || mm !== this.#mm) {
      this.#issue(
        at,
        n,
        yy !== this.#yy ? "DSW_YY" : "DSW_MM",
        "sso.period-mismatch",
        `${yy}/${mm}`,
        "the worker's year/month differs from the header's DSK_YY/DSK_MM",
        "a pair holds one month's list; fix the record's period",
      );
    }
    if (listNo !== this.#listNo) {
      this.#issue(
        at,
        n,
        "DSW_LISTNO",
        "sso.listno-mismatch",
        maskValue(listNo),
        "the worker's list number differs from the header's DSK_LISTNO",
        "fix DSW_LISTNO",
      );
    }
    // Sums in Numbers (each value < 10^12 < 2^40), spilled into BigInts before 2^52.
    const sumFields = this.#sumFields;
    const small = this.#sumSmall;
    const values = this.#rowValues;
    for (let i = 0; i < sumFields.length; i++) {
      const v = this.#int(at, n, rec, sumFields[i]!);
      values[i] = v;
      small[i] = small[i]! + v;
      if (small[i]! > 2 ** 52) {
        this.#sumBig[i]! += BigInt(small[i]!);
        small[i] = 0;
      }
    }
    const mah = values[k.mah]!;
    const maz = values[k.maz]!;
    const mash = values[k.mash]!;
    const bime = values[k.bime]!;
    const days = values[k.dd]!;
    if (mash !== mah + maz) {
      this.#issue(
        at,
        n,
        "DSW_MASH",
        "sso.insurable-base",
        maskValue(String(mash)),
        "DSW_MASH (insurable base) is not DSW_MAH + DSW_MAZ (monthly wage + insurable benefits)",
        "recompute the row in ListDisk",
      );
    }
    let employer = 0n;
    let hazard = 0n;
    if (this.#ratesOk) {
      const shares = premiumShares(
        BigInt(mash),
        this.#header.year,
        { unemployment: false, hazardous: this.#hazardous },
        this.#options.rates,
      );
      employer = shares.employer;
      hazard = shares.hazard;
      if (shares.worker !== BigInt(bime)) {
        this.#issue(
          at,
          n,
          "DSW_BIME",
          "sso.worker-share",
          maskValue(String(bime)),
          "DSW_BIME (worker share) is not 7 % of DSW_MASH",
          "recompute the row's worker share (7 % of the insurable base, rounded to the Rial)",
        );
      }
    }
    this.#employerSum += employer;
    this.#hazardSum += hazard;
    const firstAt = this.#insuranceNos.get(insuranceNo);
    if (firstAt !== undefined) {
      this.#issue(
        at,
        n,
        "DSW_ID1",
        "sso.duplicate-insurance-no",
        maskValue(insuranceNo),
        `the insurance number DSW_ID1 appears twice in this list (first at record ${firstAt})`,
        "a worker appears once in a month's list; remove the duplicate record or correct DSW_ID1",
      );
    } else this.#insuranceNos.set(insuranceNo, n);
    const source: RowSource = {
      file: at.file,
      line: r.number,
      ...(at.entry !== undefined ? { entry: at.entry } : {}),
      list: this.#list,
    };
    if (!this.#entries) {
      const f = this.#fields!;
      const latin1 = (name: string) => {
        const field = f.get(name);
        if (field === undefined) return "";
        const b = fieldBytes(rec, field);
        return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
      };
      this.#pending.push({
        row: {
          source,
          fields: {
            record_id: this.#recordPrefix + insuranceNo,
            period: this.#period,
            national_id: this.#ascii(at, n, rec, k.natcod),
            workshop_code: workshop,
            insurance_no: insuranceNo,
            province: this.#province,
            days: String(days),
            wage_base: String(mash),
            worker_share: String(bime),
            employer_share: String(employer),
            unemployment_share: "0",
            hazard_share: String(hazard),
            total: String(BigInt(bime) + employer + hazard),
            paid_on: undefined,
          },
        },
        base: BigInt(mash),
        who: `${latin1("DSW_JOB")}\0${latin1("DSW_OCP")}\0${latin1("DSW_NAT")}`,
      });
      return [];
    }
    // Entries: decode names once the file's code page is known.
    if (this.#waiting !== undefined) {
      this.#waiting.push({ number: r.number, bytes: rec.slice() });
      if (this.#stats.high < 256 && this.#waiting.length < 2000) return [];
      return this.#flushWaiting();
    }
    return [this.#entry(r.number, rec)];
  }

  #flushWaiting(): Item[] {
    this.#textEncoding = this.#stats.encoding;
    const waiting = this.#waiting ?? [];
    this.#waiting = undefined;
    return waiting.map((w) => this.#entry(w.number, w.bytes));
  }

  #entry(number: number, rec: Uint8Array): SsoListEntry {
    const f = this.#fields!;
    const at = this.#wor;
    const enc = this.#textEncoding ?? "iran-system";
    const str = (name: string) => this.#asciiQuiet(rec, f.get(name));
    const num = (name: string) => {
      const s = str(name);
      return /^[0-9]+$/.test(s) ? BigInt(s) : 0n;
    };
    const txt = (name: string) => {
      const field = f.get(name);
      return field === undefined ? "" : decodeText(fieldBytes(rec, field), enc).trim();
    };
    const worker: SsoListWorker = {
      insuranceNo: str(WORKER_FIELD.insuranceNo),
      firstName: txt("DSW_FNAME"),
      lastName: txt("DSW_LNAME"),
      fatherName: txt("DSW_DNAME"),
      idNo: txt("DSW_IDNO"),
      idPlace: txt("DSW_IDPLC"),
      idDate: str("DSW_IDATE"),
      birthDate: str("DSW_BDATE"),
      sex: txt("DSW_SEX"),
      nationality: txt("DSW_NAT"),
      jobTitle: txt("DSW_OCP"),
      startDate: str("DSW_SDATE"),
      endDate: str("DSW_EDATE"),
      days: Number(num("DSW_DD")),
      dailyWage: num("DSW_ROOZ"),
      monthlyWage: num("DSW_MAH"),
      benefits: num("DSW_MAZ"),
      insurableBase: num("DSW_MASH"),
      totalPay: num("DSW_TOTL"),
      workerShare: num("DSW_BIME"),
      prate: num("DSW_PRATE"),
      jobCode: str("DSW_JOB"),
      nationalId: str("PER_NATCOD"),
      ...(f.has("DSW_INC") ? { seniorityBase: num("DSW_INC") } : {}),
      ...(f.has("DSW_SPOUSE") ? { spouseAllowance: str("DSW_SPOUSE") } : {}),
    };
    return {
      source: {
        file: at.file,
        line: number,
        ...(at.entry !== undefined ? { entry: at.entry } : {}),
      },
      header: this.#header,
      worker,
    };
  }

  #asciiQuiet(rec: Uint8Array, field: DbfField | undefined): string {
    if (field === undefined) return "";
    let s = "";
    for (const b of fieldBytes(rec, field)) {
      s +=
        b < 0x80 ? String.fromCharCode(b) : b <= 0x89 ? String.fromCharCode(0x30 + b - 0x80) : "?";
    }
    return s.trim();
  }

  /** Ends the worker file: header checks, code page, SourceInfo. */
  end(): Item[] {
    if (this.#failed) return [];
    let tail: Item[] = [];
    let end;
    try {
      end = this.#splitter.end();
    } catch (error) {
      this.#formatIssue(this.#wor, error);
      return [];
    }
    if (this.#fields === undefined) return [];
    if (this.#entries) tail = this.#flushWaiting();
    else this.#textEncoding = this.#stats.encoding;
    this.#sumNames.forEach((name, i) =>
      this.#sums.set(name, this.#sumBig[i]! + BigInt(this.#sumSmall[i]!)),
    );
    const dbf = this.#splitter.header!;
    if (end.records !== dbf.recordCount) {
      this.#issue(
        this.#wor,
        undefined,
        "",
        "sso.record-count",
        String(end.records),
        `the DBF header says ${dbf.recordCount} records but the file holds ${end.records}`,
        "the file is truncated or was edited by another program; export it again",
      );
    }
    if (end.trailingBytes > 0) {
      this.#issue(
        this.#wor,
        undefined,
        "",
        "sso.trailing-bytes",
        String(end.trailingBytes),
        `${end.trailingBytes} bytes after the last record are not a whole record`,
        "the file is truncated or corrupt; export it again",
        end.eofByte ? "warning" : undefined,
      );
    }
    if (this.#deleted > 0) {
      this.#issue(
        this.#wor,
        undefined,
        "",
        "sso.deleted-records",
        String(this.#deleted),
        `${this.#deleted} records marked deleted were skipped`,
        "nothing to do, unless those workers belong in the list",
        "warning",
      );
    }
    this.#checkHeader();
    if (!this.#entries) tail = this.#decideCoverage();
    const encoding = this.#checkText();
    this.#options.onSource?.({ ...this.#karInfo, records: 1 });
    this.#options.onSource?.({
      name: this.#wor.file,
      ...(this.#wor.entry !== undefined ? { entry: this.#wor.entry } : {}),
      sha256: this.#worTap.digest(),
      ...(this.#wor.containerSha256 !== undefined
        ? { containerSha256: this.#wor.containerSha256 }
        : {}),
      format: "sso-dbf",
      layout: this.#worLayout!,
      encoding,
      records: this.#live,
      ...(this.#deleted > 0 ? { deletedRecords: this.#deleted } : {}),
    });
    return tail;
  }

  #checkHeader(): void {
    const kar = this.#kar;
    const num = (name: string) => this.#number(kar, 1, this.#karRecord, this.#karFields.get(name));
    // A header total that disagrees with the worker records changes no worker's record: it is
    // a finding (an error with --strict and for `dbf read`'s exit status), not a refusal.
    const mismatch = (field: string, what: string, hint: string) =>
      this.#issue(
        kar,
        1,
        field,
        "sso.header-total",
        maskValue(String(num(field))),
        `${field} (${what}) does not match the ${this.#live} worker records`,
        hint,
        "finding",
      );
    if (BigInt(this.#header.workerCount) !== BigInt(this.#live)) {
      this.#issue(
        kar,
        1,
        "DSK_NUM",
        "sso.header-count",
        String(this.#header.workerCount),
        `DSK_NUM says ${this.#header.workerCount} workers but ${WOR_FILE} holds ${this.#live} live records`,
        "recount the list in ListDisk, or add the missing worker records",
      );
    }
    for (const [headerField, workerField, what] of TOTALS) {
      if (!this.#karFields.has(headerField) || !this.#sums.has(workerField)) continue;
      if (num(headerField) !== this.#sums.get(workerField)) {
        mismatch(
          headerField,
          `${what}, ${workerField}`,
          `the header total must equal the sum of ${workerField} over the worker records`,
        );
      }
    }
    if (!this.#ratesOk) return;
    const rates = ratesForYear(this.#header.year, this.#options.rates);
    const rule = (this.#options.rates ?? DEFAULT_RATE_TABLE).rounding;
    const base = this.#sums.get("DSW_MASH") ?? 0n;
    // A recomputed share total may be rounded per worker or on the list's total: accept either.
    const accepts = (actual: bigint, perRowSum: bigint, bp: number) =>
      actual === perRowSum || actual === applyBasisPoints(base, bp, rule);
    // The wide layout's DSK_TBIM20 carries the 20 % employer share too: real files hold it there
    // with DSK_TKOSO = 0, or in both (docs/unemployment-coverage.md, "DSK_TKOSO and DSK_TBIM20").
    const employerOk = (field: string) =>
      this.#karFields.has(field) && accepts(num(field), this.#employerSum, rates.employerBp);
    const wideEmployerOk =
      this.#karFields.has("DSK_TBIM20") &&
      employerOk("DSK_TBIM20") &&
      (num("DSK_TKOSO") === 0n || employerOk("DSK_TKOSO"));
    if (!employerOk("DSK_TKOSO") && !wideEmployerOk) {
      mismatch(
        "DSK_TKOSO",
        "employer share, 20 % of DSK_TMASH",
        this.#karFields.has("DSK_TBIM20")
          ? "the employer share must be 20 % of the insurable base, in DSK_TKOSO or (wide layout) in DSK_TBIM20 with DSK_TKOSO 0"
          : "the employer share must be 20 % of the insurable base",
      );
    }
    if (this.#hazardous && !accepts(num("DSK_BIMH"), this.#hazardSum, rates.hazardBp)) {
      mismatch(
        "DSK_BIMH",
        "hazardous-jobs premium, 4 % of the insurable base",
        "the DBF format does not say which workers are in hazardous jobs, so DSK_BIMH must be 0 or 4 % of the whole list; list hazardous workers in a separate list",
      );
    }
  }

  /**
   * Each worker's unemployment coverage (the rules, then the list's DSK_BIC between the
   * alternatives), the identifier columns, and the rows of the list in input order.
   */
  #decideCoverage(): Item[] {
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length === 0) return [];
    const enc = this.#textEncoding ?? "iran-system";
    const rules = this.#options.coverage ?? DEFAULT_COVERAGE_RULES;
    // Job codes, titles and nationalities repeat across a list: decode each distinct one once.
    const decoded = new Map<string, { nationality: string; coverage: WorkerCoverageKind }>();
    const workers = pending.map((p) => {
      let d = decoded.get(p.who);
      if (d === undefined) {
        const [job, title, nat] = p.who.split("\0") as [string, string, string];
        const bytes = (t: string) => Uint8Array.from(Buffer.from(t, "latin1"));
        const nationality = decodeText(bytes(nat), enc).trim();
        const jobCode = [...job]
          .map((c) =>
            c >= "\x80" && c <= "\x89" ? String.fromCharCode(c.charCodeAt(0) - 0x50) : c,
          )
          .join("")
          .trim();
        const jobTitle = decodeText(bytes(title), enc).trim();
        d = {
          nationality,
          coverage: workerCoverage({ jobCode, jobTitle, nationality }, rules).coverage,
        };
        decoded.set(p.who, d);
      }
      return { base: p.base, ...d };
    });
    const declared = this.#header.unemploymentPremium;
    const decided = this.#ratesOk
      ? decideListCoverage(
          workers,
          declared,
          this.#header.year,
          this.#options.rates ?? DEFAULT_RATE_TABLE,
        )
      : undefined;
    if (decided !== undefined && !decided.ok) {
      const names: Record<string, string> = {
        rules: "the workers the coverage rules cover",
        "rules-with-uncertain": "those plus the board members named by title",
        all: "every worker",
        none: "nobody (DSK_BIC 0)",
      };
      this.#issue(
        this.#kar,
        1,
        "DSK_BIC",
        "sso.unemployment-coverage",
        maskValue(String(declared)),
        `DSK_BIC (unemployment premium) is 3 % of none of: ${decided.alternatives
          .map((a) => `${names[a.alternative]} (${a.workers})`)
          .join("; ")} — which workers it covers cannot be decided (rules ${rules.version})`,
        "recompute DSK_BIC in ListDisk as 3 % of the insurable base of the covered workers (not foreign nationals, the chairman or the managing director), or have the coverage rules configured for this workshop",
      );
    } else if (decided !== undefined && decided.alternative === "all") {
      const excluded = workers.filter((w) => w.coverage !== "covered").length;
      if (excluded > 0)
        this.#issue(
          this.#kar,
          1,
          "DSK_BIC",
          "sso.unemployment-overpaid",
          String(excluded),
          `DSK_BIC pays the unemployment premium for ${excluded} worker(s) the coverage rules exclude (foreign nationals, chairman, managing director, board members); the shares are recorded as declared`,
          "nothing to do unless the employer asks for a refund of the premium paid for them",
          "finding",
        );
    }
    const out: Item[] = [];
    pending.forEach((p, i) => {
      const f = p.row.fields;
      const share = decided?.ok === true ? decided.shares[i]! : 0n;
      f.unemployment_share = String(share);
      f.total = String(BigInt(f.total!) + share);
      const nationality = workers[i]!.nationality;
      if (!isIranianNationality(nationality))
        f.nationality = nationalityCode(nationality) ?? nationality;
      out.push(p.row);
    });
    return out;
  }

  #checkText(): SourceEncoding {
    const s = this.#stats;
    if (s.high === 0) return "iran-system";
    const encoding = s.encoding;
    const bad = encoding === "cp1256" ? s.badCp1256 : s.badIranSystem;
    if (bad > 0) {
      const records = encoding === "cp1256" ? s.badRecordsCp1256 : s.badRecordsIranSystem;
      this.#issue(
        this.#wor,
        records[0],
        "",
        "sso.text-encoding",
        `${bad} bytes`,
        `names and other text are neither Iran System nor cp1256 text (${bad} impossible bytes, in records ${records.join(", ")}${records.length === 20 ? ", …" : ""})`,
        "the file may be damaged or from another program; open it in ListDisk and save it again",
      );
    }
    return encoding;
  }
}
