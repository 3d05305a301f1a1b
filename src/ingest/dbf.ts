/**
 * dBase III (`.DBF`) files as SSO's ListDisk writes them: a 32-byte header, 32-byte field
 * descriptors, a 0x0D terminator, fixed-length records each led by a deletion flag (space, or
 * `*` when deleted), and a 0x1A end-of-file byte.
 *
 * Header layout (little-endian): 0 version (0x03) · 1–3 last update YY (since 1900) MM DD ·
 * 4–7 record count · 8–9 header length · 10–11 record length · 12–27 zero · 28 zero ·
 * 29 language driver id (ListDisk: 0x7E) · 30–31 zero. Descriptor: 0–10 name (NUL padded) ·
 * 11 type · 12–15 zero · 16 length · 17 decimals · 18–31 zero.
 */
import { ShafafError } from "../core/errors.ts";

/** One field descriptor. `offset` is the field's position in a record, after the deletion flag. */
export interface DbfField {
  readonly name: string;
  readonly type: "C" | "N" | "D" | "L" | "F" | "M";
  readonly length: number;
  readonly decimals: number;
  readonly offset: number;
}

/** A parsed DBF header. `updated` holds the three raw date bytes (YY since 1900, MM, DD). */
export interface DbfHeader {
  readonly version: number;
  readonly updated: readonly [number, number, number];
  readonly recordCount: number;
  readonly headerLength: number;
  readonly recordLength: number;
  readonly languageDriver: number;
  readonly fields: readonly DbfField[];
}

/** A DBF file that cannot be parsed as dBase III. `offset` is the byte position of the fault. */
export class DbfFormatError extends ShafafError {
  override name = "DbfFormatError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message, { code: "ingest.dbf.format" });
  }
}

const HEADER_SIZE = 32;
const DESCRIPTOR_SIZE = 32;
const TERMINATOR = 0x0d;
export const DBF_EOF = 0x1a;
const FLAG_ACTIVE = 0x20;
const FLAG_DELETED = 0x2a;
const FIELD_TYPES = new Set(["C", "N", "D", "L", "F", "M"]);

/** What {@link parseDbfHeader} throws: bytes that are not a dBase III header. */
export type ParseDbfHeaderErrorType = DbfFormatError;

/**
 * Parses the header and field descriptors at the start of `bytes`; `undefined` when `bytes` is
 * too short to hold the whole header yet (read more and call again).
 *
 * @throws DbfFormatError when the bytes are not a dBase III header.
 */
export function parseDbfHeader(bytes: Uint8Array): DbfHeader | undefined {
  if (bytes.length < HEADER_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = bytes[0]!;
  if ((version & 0x07) !== 0x03) {
    throw new DbfFormatError(
      `not a dBase III file (version byte 0x${version.toString(16)}, expected 0x03)`,
      0,
    );
  }
  const recordCount = view.getUint32(4, true);
  const headerLength = view.getUint16(8, true);
  const recordLength = view.getUint16(10, true);
  if (headerLength < HEADER_SIZE + 1 || (headerLength - HEADER_SIZE - 1) % DESCRIPTOR_SIZE !== 0) {
    throw new DbfFormatError(`header length ${headerLength} is not 32 + 32·n + 1`, 8);
  }
  if (bytes.length < headerLength) return undefined;
  const fields: DbfField[] = [];
  let pos = HEADER_SIZE;
  let offset = 1;
  while (bytes[pos] !== TERMINATOR) {
    if (pos + DESCRIPTOR_SIZE > headerLength) {
      throw new DbfFormatError("field descriptors are not terminated by 0x0D", pos);
    }
    let end = pos;
    while (end < pos + 11 && bytes[end] !== 0) end++;
    const name = String.fromCharCode(...bytes.subarray(pos, end));
    const type = String.fromCharCode(bytes[pos + 11]!);
    if (!FIELD_TYPES.has(type) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new DbfFormatError(`field descriptor ${fields.length + 1} is malformed`, pos);
    }
    const length = bytes[pos + 16]!;
    fields.push({
      name,
      type: type as DbfField["type"],
      length,
      decimals: bytes[pos + 17]!,
      offset,
    });
    offset += length;
    pos += DESCRIPTOR_SIZE;
  }
  if (pos + 1 !== headerLength) {
    throw new DbfFormatError(
      `the 0x0D terminator is at byte ${pos}, but the header length says ${headerLength - 1}`,
      pos,
    );
  }
  if (offset !== recordLength) {
    throw new DbfFormatError(
      `record length ${recordLength} does not match the fields (1 + ${offset - 1})`,
      10,
    );
  }
  return {
    version,
    updated: [bytes[1]!, bytes[2]!, bytes[3]!],
    recordCount,
    headerLength,
    recordLength,
    languageDriver: bytes[29]!,
    fields,
  };
}

/** What to write into a DBF header. */
export interface DbfHeaderSpec {
  readonly fields: readonly Omit<DbfField, "offset">[];
  readonly recordCount: number;
  /** Raw date bytes: YY since 1900, MM, DD. */
  readonly updated: readonly [number, number, number];
  readonly languageDriver: number;
}

/** Header + descriptors + 0x0D, exactly as dBase III (and ListDisk) lays them out. */
export function encodeDbfHeader(spec: DbfHeaderSpec): Uint8Array {
  const headerLength = HEADER_SIZE + DESCRIPTOR_SIZE * spec.fields.length + 1;
  const recordLength = 1 + spec.fields.reduce((n, f) => n + f.length, 0);
  const out = new Uint8Array(headerLength);
  const view = new DataView(out.buffer);
  out[0] = 0x03;
  out.set(spec.updated, 1);
  view.setUint32(4, spec.recordCount, true);
  view.setUint16(8, headerLength, true);
  view.setUint16(10, recordLength, true);
  out[29] = spec.languageDriver;
  spec.fields.forEach((f, i) => {
    const at = HEADER_SIZE + i * DESCRIPTOR_SIZE;
    if (f.name.length > 10) throw new RangeError(`DBF field name ${f.name} is longer than 10`);
    for (let k = 0; k < f.name.length; k++) out[at + k] = f.name.charCodeAt(k);
    out[at + 11] = f.type.charCodeAt(0);
    out[at + 16] = f.length;
    out[at + 17] = f.decimals;
  });
  out[headerLength - 1] = TERMINATOR;
  return out;
}

/** Gives each descriptor its record offset. */
export function withOffsets(fields: readonly Omit<DbfField, "offset">[]): DbfField[] {
  let offset = 1;
  return fields.map((f) => {
    const field = { ...f, offset };
    offset += f.length;
    return field;
  });
}

/** One record: 1-based number, deletion flag, and a view of its bytes (flag included). */
export interface DbfRecord {
  readonly number: number;
  readonly deleted: boolean;
  readonly bytes: Uint8Array;
}

/** How a DBF stream ended, for the reader's issues. */
export interface DbfEnd {
  /** Records present in the data (deleted ones included). */
  readonly records: number;
  /** Whether the 0x1A end-of-file byte was present. */
  readonly eofByte: boolean;
  /** Bytes after the last whole record that were neither 0x1A nor a full record. */
  readonly trailingBytes: number;
}

/**
 * Splits a DBF byte stream into records, chunk by chunk, holding at most one partial record
 * between chunks (memory is bounded by the chunk size, not the file size).
 */
export class DbfRecordSplitter {
  #header: DbfHeader | undefined;
  #pending: Uint8Array = new Uint8Array(0);
  #records = 0;
  #ended = false;
  #eofByte = false;
  #trailing = 0;

  get header(): DbfHeader | undefined {
    return this.#header;
  }

  /**
   * Feeds the next chunk; returns the complete records it finished. The returned views stay
   * valid until the next call only.
   *
   * @throws DbfFormatError on a malformed header or a record with a bad deletion flag.
   */
  push(chunk: Uint8Array): DbfRecord[] {
    let data = this.#pending.length === 0 ? chunk : concat(this.#pending, chunk);
    const out: DbfRecord[] = [];
    if (this.#header === undefined) {
      const header = parseDbfHeader(data);
      if (header === undefined) {
        this.#pending = data.slice();
        return out;
      }
      this.#header = header;
      data = data.subarray(header.headerLength);
    }
    const size = this.#header.recordLength;
    let pos = 0;
    while (!this.#ended && pos < data.length) {
      const flag = data[pos]!;
      if (flag === DBF_EOF) {
        this.#ended = true;
        this.#eofByte = true;
        pos++;
        break;
      }
      if (pos + size > data.length) break;
      if (flag !== FLAG_ACTIVE && flag !== FLAG_DELETED) {
        throw new DbfFormatError(
          `record ${this.#records + 1} starts with 0x${flag.toString(16)}, not a deletion flag (space or *)`,
          this.#header.headerLength + this.#records * size,
        );
      }
      this.#records++;
      out.push({
        number: this.#records,
        deleted: flag === FLAG_DELETED,
        bytes: data.subarray(pos, pos + size),
      });
      pos += size;
    }
    if (this.#ended) {
      this.#trailing += data.length - pos;
      this.#pending = new Uint8Array(0);
    } else {
      this.#pending = data.slice(pos);
    }
    return out;
  }

  /** Ends the stream. */
  end(): DbfEnd {
    if (this.#header === undefined) {
      throw new DbfFormatError("file ends inside the DBF header", this.#pending.length);
    }
    return {
      records: this.#records,
      eofByte: this.#eofByte,
      trailingBytes: this.#trailing + this.#pending.length,
    };
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** The bytes of a field in a record, without trailing spaces or NULs. */
export function fieldBytes(record: Uint8Array, field: DbfField): Uint8Array {
  let end = field.offset + field.length;
  while (end > field.offset && (record[end - 1] === 0x20 || record[end - 1] === 0)) end--;
  return record.subarray(field.offset, end);
}

/** An ASCII field (identifiers, numbers, dates), trimmed on both sides. */
export function fieldAscii(record: Uint8Array, field: DbfField): string {
  const bytes = fieldBytes(record, field);
  let start = 0;
  while (start < bytes.length && bytes[start] === 0x20) start++;
  let s = "";
  for (let i = start; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/**
 * Writes `value` into a record's field: character fields left-aligned, numeric fields
 * right-aligned, both padded with spaces.
 *
 * @throws RangeError when the value does not fit.
 */
export function putField(record: Uint8Array, field: DbfField, value: Uint8Array | string): void {
  const bytes = typeof value === "string" ? asciiBytes(value, field) : value;
  if (bytes.length > field.length) {
    throw new RangeError(
      `${field.name}: ${bytes.length} bytes do not fit in the field's ${field.length}`,
    );
  }
  const start =
    field.type === "N" || field.type === "F"
      ? field.offset + field.length - bytes.length
      : field.offset;
  record.fill(0x20, field.offset, field.offset + field.length);
  record.set(bytes, start);
}

function asciiBytes(value: string, field: DbfField): Uint8Array {
  const out = new Uint8Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c > 0x7e || c < 0x20) {
      throw new RangeError(`${field.name}: non-ASCII character in an ASCII field`);
    }
    out[i] = c;
  }
  return out;
}
