/**
 * Distinct people and "the same person twice in one list", counted from fixed-size columns
 * instead of sets and maps of strings: 32 bytes per subject pseudonym, a number per workshop or
 * pension file, the record ids packed in one byte buffer. Equal rows are brought together by a
 * native sort of 32-bit prefixes (ties settled by comparing the whole row), so a million records
 * cost tens of megabytes, not hundreds. Subjects MUST be 32-byte hex pseudonyms (`0x…`), as
 * every leaf's subject is.
 */

/** Grows a byte column by doubling. */
function bytesColumn(initial: number) {
  let bytes = new Uint8Array(initial);
  return {
    get bytes() {
      return bytes;
    },
    ensure(length: number): Uint8Array {
      if (length > bytes.length) {
        const grown = new Uint8Array(Math.max(length, bytes.length * 2));
        grown.set(bytes);
        bytes = grown;
      }
      return bytes;
    },
  };
}

const HEX = new Int8Array(128).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX["0123456789abcdef".charCodeAt(d)] = d;
  HEX["0123456789ABCDEF".charCodeAt(d)] = d;
}

function writeSubject(column: ReturnType<typeof bytesColumn>, row: number, subject: string): void {
  const bad = () => new RangeError("a subject is a 32-byte pseudonym, 0x + 64 hex digits");
  if (subject.length !== 66 || subject[0] !== "0" || subject[1] !== "x") throw bad();
  const b = column.ensure((row + 1) * 32);
  for (let k = 0; k < 32; k++) {
    const hi = HEX[subject.charCodeAt(2 + 2 * k)] ?? -1;
    const lo = HEX[subject.charCodeAt(3 + 2 * k)] ?? -1;
    if (hi < 0 || lo < 0) throw bad();
    b[row * 32 + k] = (hi << 4) | lo;
  }
}

const prefixAt = (b: Uint8Array, o: number): number =>
  ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/**
 * Rows 0…n−1 ordered by `prefix` (a uint32), then by `cmp` among equal prefixes. Rows `cmp` calls
 * equal have equal prefixes, so they end up side by side. 12 bytes per row (a native sort of
 * doubles), where a comparator sort of a typed array copies it into two arrays of JS values.
 *
 * @example
 * const order = sortRows(n, (r) => prefixAt(bytes, r * 32), (x, y) => bytesCmp(bytes, x, y) || x - y);
 */
export function sortRows(
  n: number,
  prefix: (row: number) => number,
  cmp: (a: number, b: number) => number,
): Uint32Array {
  const posBits = Math.max(1, Math.ceil(Math.log2(Math.max(2, n))));
  const scale = 2 ** posBits;
  const drop = 2 ** (32 - Math.min(32, 53 - posBits));
  const f = new Float64Array(n);
  for (let r = 0; r < n; r++) f[r] = Math.floor(prefix(r) / drop) * scale + r;
  f.sort();
  const out = new Uint32Array(n);
  for (let k = 0; k < n; k++) out[k] = f[k]! % scale;
  for (let i = 0; i < n;) {
    const p = Math.floor(f[i]! / scale);
    let j = i + 1;
    while (j < n && Math.floor(f[j]! / scale) === p) j++;
    if (j - i > 1) out.subarray(i, j).sort(cmp);
    i = j;
  }
  return out;
}

const bytesCmp = (b: Uint8Array, x: number, y: number): number => {
  for (let k = 0; k < 32; k++) {
    const d = b[x * 32 + k]! - b[y * 32 + k]!;
    if (d !== 0) return d;
  }
  return 0;
};

/**
 * A set of subject pseudonyms that only counts: `size` is the number of distinct subjects added
 * (`createBatchAccumulator`'s `people`).
 *
 * @example
 * const acc = createBatchAccumulator({ people: createDistinctSubjects() });
 */
export function createDistinctSubjects(expectedRows = 4096): {
  add(subject: string): void;
  readonly size: number;
} {
  const column = bytesColumn(32 * Math.max(1, expectedRows));
  let n = 0;
  let counted: { n: number; size: number } | undefined;
  return {
    add(subject) {
      writeSubject(column, n++, subject);
    },
    get size() {
      if (counted?.n !== n) counted = { n, size: countDistinct(column.bytes, n) };
      return counted.size;
    },
  };
}

/** The distinct 32-byte values among rows 0…n−1 of `b`. */
function countDistinct(b: Uint8Array, n: number): number {
  const order = sortRows(
    n,
    (r) => prefixAt(b, r * 32),
    (x, y) => bytesCmp(b, x, y) || x - y,
  );
  let size = 0;
  for (let k = 0; k < n; k++) if (k === 0 || bytesCmp(b, order[k - 1]!, order[k]!) !== 0) size++;
  return size;
}

/** A group of records of one person in one list: the anomaly check `duplicate-person`. */
export interface PersonGroup {
  owner: string;
  subject: string;
  ids: string[];
}

/**
 * Records by (owner, subject): `groups()` gives those with two or more records, in the order of
 * their first record, each with its record ids in the order added.
 *
 * @example
 * const groups = createPersonGroups();
 * groups.add(record.workshopCode, subject, record.recordId);
 * for (const g of groups.groups()) …
 */
export function createPersonGroups(expectedRows = 4096): {
  add(owner: string, subject: string, recordId: string): void;
  groups(): PersonGroup[];
  /**
   * The distinct subjects added (as {@link createDistinctSubjects} counts them), from the same
   * column: a fold that feeds both, record for record, holds the subjects once.
   */
  distinctSubjects(): number;
} {
  const rows0 = Math.max(1, expectedRows);
  const subjects = bytesColumn(32 * rows0);
  let owners = new Float64Array(rows0);
  const otherOwners = new Map<string, number>();
  const otherNames: string[] = [];
  const ids = bytesColumn(1 << 16);
  let idEnds = new Uint32Array(rows0);
  let idBytes = 0;
  let n = 0;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const ownerNumber = (owner: string): number => {
    if (/^[0-9]{1,14}$/.test(owner)) return Number(`1${owner}`);
    let k = otherOwners.get(owner);
    if (k === undefined) {
      k = -(otherNames.length + 1);
      otherOwners.set(owner, k);
      otherNames.push(owner);
    }
    return k;
  };
  const ownerName = (k: number): string => (k > 0 ? String(k).slice(1) : otherNames[-k - 1]!);
  const idOf = (r: number): string =>
    decoder.decode(ids.bytes.subarray(r === 0 ? 0 : idEnds[r - 1]!, idEnds[r]));
  return {
    add(owner, subject, recordId) {
      if (n === owners.length) {
        const o = new Float64Array(n * 2);
        o.set(owners);
        owners = o;
        const e = new Uint32Array(n * 2);
        e.set(idEnds);
        idEnds = e;
      }
      owners[n] = ownerNumber(owner);
      writeSubject(subjects, n, subject);
      const encoded = encoder.encode(recordId);
      ids.ensure(idBytes + encoded.length).set(encoded, idBytes);
      idBytes += encoded.length;
      idEnds[n] = idBytes;
      n++;
    },
    groups() {
      const s = subjects.bytes;
      const same = (x: number, y: number): number => owners[x]! - owners[y]! || bytesCmp(s, x, y);
      const order = sortRows(
        n,
        (r) => (prefixAt(s, r * 32) ^ Math.imul((owners[r]! % 4294967296) | 0, 0x9e3779b1)) >>> 0,
        (x, y) => same(x, y) || x - y,
      );
      const out: { first: number; group: PersonGroup }[] = [];
      for (let i = 0; i < n;) {
        let j = i + 1;
        while (j < n && same(order[i]!, order[j]!) === 0) j++;
        if (j - i > 1) {
          const rows = [...order.subarray(i, j)].sort((x, y) => x - y);
          const first = rows[0]!;
          let subject = "0x";
          for (let k = 0; k < 32; k++) subject += s[first * 32 + k]!.toString(16).padStart(2, "0");
          out.push({
            first,
            group: { owner: ownerName(owners[first]!), subject, ids: rows.map(idOf) },
          });
        }
        i = j;
      }
      return out.sort((a, b) => a.first - b.first).map((g) => g.group);
    },
    distinctSubjects: () => countDistinct(subjects.bytes, n),
  };
}
