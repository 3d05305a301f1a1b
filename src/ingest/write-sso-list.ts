/**
 * Writes an SSO insurance list as ListDisk does: `DSKKAR00.DBF` + `DSKWOR00.DBF`, dBase III,
 * field descriptors identical to the official v6 (or v2.7) templates, language byte 0x7E, 0x0D
 * header terminator, 0x1A end-of-file byte, Persian text in Iran System (visual order).
 * The wide layout is read but never written.
 */
import { workerCoverage } from "../core/unemployment-coverage.ts";
import { ShafafError } from "../core/errors.ts";
import { open, mkdir } from "node:fs/promises";
import path from "node:path";
import { premiumShares, type RateTable } from "../core/rates.ts";
import { DBF_EOF, encodeDbfHeader, putField, withOffsets, type DbfField } from "./dbf.ts";
import { encodeIranSystem, IranSystemEncodeError } from "./iran-system.ts";
import {
  KAR_FILE,
  SSO_LAYOUTS,
  TEXT_FIELDS,
  WOR_FILE,
  WORKER_FIELD,
  type SsoListHeader,
  type SsoListWorker,
} from "./sso-list.ts";

/** ListDisk's language driver byte (it claims cp1256 while the text is Iran System). */
export const LISTDISK_LDID = 0x7e;

/** The header's own data; every count and total is computed from the workers. */
export type SsoListHeaderInput = Pick<
  SsoListHeader,
  "workshopCode" | "workshopName" | "employerName" | "address" | "year" | "month" | "listNo"
> &
  Partial<
    Pick<
      SsoListHeader,
      | "listKind"
      | "description"
      | "rate"
      | "prate"
      | "contractRow"
      | "seniorityBase"
      | "spouseAllowance"
    >
  > & {
    /**
     * The list pays the unemployment premium (DSK_BIC = Σ 3 % over the workers core's coverage
     * rules cover: not foreign nationals, the chairman, the managing director or board members,
     * as ListDisk leaves them out). Default true.
     */
    unemployment?: boolean;
    /** Hazardous-jobs list (DSK_BIMH = Σ 4 %). Default false. */
    hazardous?: boolean;
    /** Written instead of the computed value (tests of the reader's checks), by DBF field name. */
    override?: Partial<Record<string, bigint>>;
  };

export interface SsoListInput {
  /** Absent: an empty list (header file without a record), like ListDisk's blank templates. */
  header?: SsoListHeaderInput;
  workers: Iterable<SsoListWorker> | AsyncIterable<SsoListWorker>;
}

export interface WriteSsoListOptions {
  layout: "v6" | "v2.7";
  /** The DBF "last update" bytes (YY since 1900, MM, DD), per file or for both. Default: today (UTC). */
  updated?:
    | readonly [number, number, number]
    | { kar: readonly [number, number, number]; wor: readonly [number, number, number] };
  rates?: RateTable;
}

export interface WriteSsoListResult {
  karPath: string;
  worPath: string;
  workers: number;
}

/** A value that cannot be written; names the list field and the worker number, never the value. */
export class SsoListWriteError extends ShafafError {
  override name = "SsoListWriteError";
  constructor(
    message: string,
    readonly field: string,
    readonly worker: number | undefined,
  ) {
    super(message, { code: "ingest.sso-list.write" });
  }
}

function today(): [number, number, number] {
  const d = new Date();
  return [d.getUTCFullYear() - 1900, d.getUTCMonth() + 1, d.getUTCDate()];
}

/** What {@link writeSsoList} throws besides I/O errors: a value that does not fit its field. */
export type WriteSsoListErrorType = SsoListWriteError;

/**
 * Writes `DSKKAR00.DBF` and `DSKWOR00.DBF` into `dir` (created if needed), streaming the
 * workers; header totals (DSK_NUM, DSK_TDD … DSK_BIMH) are the sums of the worker fields, shares
 * recomputed with core's `premiumShares`.
 *
 * @throws SsoListWriteError when a value does not fit its field or has no Iran System byte.
 * @example
 * await writeSsoList("out/ws1", { header, workers }, { layout: "v6" });
 */
export async function writeSsoList(
  dir: string,
  list: SsoListInput,
  options: WriteSsoListOptions,
): Promise<WriteSsoListResult> {
  const specs = SSO_LAYOUTS[options.layout];
  const karFields = withOffsets(specs.kar);
  const worFields = withOffsets(specs.wor);
  const updated = options.updated ?? today();
  const karDate = "kar" in updated ? updated.kar : updated;
  const worDate = "wor" in updated ? updated.wor : updated;
  await mkdir(dir, { recursive: true });
  const karPath = path.join(dir, KAR_FILE);
  const worPath = path.join(dir, WOR_FILE);
  const h = list.header;
  const yy = h === undefined ? 0 : h.year % 100;

  const sums = new Map<string, bigint>();
  const add = (field: string, v: bigint) => sums.set(field, (sums.get(field) ?? 0n) + v);
  let count = 0;
  const recordLength = 1 + worFields.reduce((n, f) => n + f.length, 0);
  const wor = await open(worPath, "w");
  try {
    await wor.write(
      encodeDbfHeader({
        fields: specs.wor,
        recordCount: 0,
        updated: worDate,
        languageDriver: LISTDISK_LDID,
      }),
    );
    const batch = 2048;
    let buffer = new Uint8Array(recordLength * batch);
    let used = 0;
    for await (const w of list.workers) {
      if (h === undefined) {
        throw new SsoListWriteError("a list with workers needs a header", "DSK_ID", count + 1);
      }
      count++;
      const rec = buffer.subarray(used * recordLength, (used + 1) * recordLength);
      rec.fill(0x20);
      const covered =
        (h.unemployment ?? true) &&
        workerCoverage({ jobCode: w.jobCode, jobTitle: w.jobTitle, nationality: w.nationality })
          .coverage === "covered";
      const shares = premiumShares(
        w.insurableBase,
        h.year,
        { unemployment: covered, hazardous: h.hazardous ?? false },
        options.rates,
      );
      add("employer", shares.employer);
      add("unemployment", shares.unemployment);
      add("hazard", shares.hazard);
      const values: Record<string, string | bigint | number | undefined> = {
        DSW_ID: h.workshopCode,
        DSW_YY: yy,
        DSW_MM: h.month,
        DSW_LISTNO: h.listNo,
      };
      for (const [prop, field] of Object.entries(WORKER_FIELD)) {
        values[field] = w[prop as keyof SsoListWorker];
      }
      for (const f of worFields) {
        const v = values[f.name];
        put(rec, f, v, count);
        if (f.type === "N" && v !== undefined) add(f.name, BigInt(v));
      }
      if (++used === batch) {
        await wor.write(buffer);
        buffer = new Uint8Array(recordLength * batch);
        used = 0;
      }
    }
    await wor.write(buffer.subarray(0, used * recordLength));
    await wor.write(Uint8Array.of(DBF_EOF));
    const n = new Uint8Array(4);
    new DataView(n.buffer).setUint32(0, count, true);
    await wor.write(n, 0, 4, 4);
  } finally {
    await wor.close();
  }

  const karHeader = encodeDbfHeader({
    fields: specs.kar,
    recordCount: h === undefined ? 0 : 1,
    updated: karDate,
    languageDriver: LISTDISK_LDID,
  });
  const parts: Uint8Array[] = [karHeader];
  if (h !== undefined) {
    const rec = new Uint8Array(1 + karFields.reduce((s, f) => s + f.length, 0)).fill(0x20);
    const computed: Record<string, bigint> = {
      DSK_NUM: BigInt(count),
      DSK_TDD: sums.get("DSW_DD") ?? 0n,
      DSK_TROOZ: sums.get("DSW_ROOZ") ?? 0n,
      DSK_TMAH: sums.get("DSW_MAH") ?? 0n,
      DSK_TMAZ: sums.get("DSW_MAZ") ?? 0n,
      DSK_TMASH: sums.get("DSW_MASH") ?? 0n,
      DSK_TTOTL: sums.get("DSW_TOTL") ?? 0n,
      DSK_TBIME: sums.get("DSW_BIME") ?? 0n,
      DSK_TKOSO: sums.get("employer") ?? 0n,
      DSK_BIC: sums.get("unemployment") ?? 0n,
      DSK_BIMH: sums.get("hazard") ?? 0n,
    };
    const values: Record<string, string | bigint | number | undefined> = {
      ...computed,
      DSK_ID: h.workshopCode,
      DSK_NAME: h.workshopName,
      DSK_FARM: h.employerName,
      DSK_ADRS: h.address,
      DSK_KIND: h.listKind ?? 0,
      DSK_YY: yy,
      DSK_MM: h.month,
      DSK_LISTNO: h.listNo,
      DSK_DISC: h.description ?? "",
      DSK_RATE: h.rate ?? 0n,
      DSK_PRATE: h.prate ?? 0n,
      MON_PYM: h.contractRow ?? "",
      DSK_INC: h.seniorityBase ?? 0n,
      DSK_SPOUSE: h.spouseAllowance ?? 0n,
      ...h.override,
    };
    for (const f of karFields) put(rec, f, values[f.name], undefined);
    parts.push(rec);
  }
  parts.push(Uint8Array.of(DBF_EOF));
  const kar = await open(karPath, "w");
  try {
    for (const p of parts) await kar.write(p);
  } finally {
    await kar.close();
  }
  return { karPath, worPath, workers: count };
}

function put(
  rec: Uint8Array,
  field: DbfField,
  value: string | bigint | number | undefined,
  worker: number | undefined,
): void {
  if (value === undefined) return;
  const who = worker === undefined ? "the header" : `worker ${worker}`;
  let bytes: Uint8Array | string;
  if (field.type === "N") {
    if (typeof value === "string" ? !/^[0-9]*$/.test(value) : value < 0) {
      throw new SsoListWriteError(
        `${field.name} of ${who} must be a whole non-negative number`,
        field.name,
        worker,
      );
    }
    bytes = String(value);
  } else if (TEXT_FIELDS.has(field.name)) {
    try {
      bytes = encodeIranSystem(String(value));
    } catch (error) {
      if (!(error instanceof IranSystemEncodeError)) throw error;
      throw new SsoListWriteError(`${field.name} of ${who}: ${error.message}`, field.name, worker);
    }
  } else {
    bytes = String(value);
    if (!/^[\x20-\x7e]*$/.test(bytes)) {
      throw new SsoListWriteError(
        `${field.name} of ${who} must be Latin digits or letters`,
        field.name,
        worker,
      );
    }
  }
  const length = typeof bytes === "string" ? bytes.length : bytes.length;
  if (length > field.length) {
    throw new SsoListWriteError(
      `${field.name} of ${who} is ${length} bytes long; the field holds ${field.length}`,
      field.name,
      worker,
    );
  }
  putField(rec, field, bytes);
}
