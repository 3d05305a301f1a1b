/**
 * Compare, record level, streaming: the audited leaves merge-joined with the anchored leaves,
 * both in one sort order (`shafaf-tree/2`: tree order — province, key, commitment; v1: leaf
 * hash), so that equal leaves meet without a map of a million hashes. Only the records whose leaf found no partner are opened
 * again, by their byte offset in records.jsonl, and explained field by field by
 * `compare-records.ts`'s `explainLeaf` — the same evidence, record for record, as the in-memory
 * comparison (`compareRecords`) gives.
 */
import { bytesToHex, isHexBytes, type Hex } from "../core/hex.ts";
import { keccak256 } from "../core/keccak.ts";
import { recordFromJson } from "../core/receipt.ts";
import type { ArtifactRecordLine } from "../store/batch-artifact.ts";
import type { RecordMismatch } from "./audit-report.ts";
import { explainLeaf } from "./compare-records.ts";
import type { AuditedRecord } from "./read-audited-export.ts";
import type { ReferenceLine } from "./read-reference.ts";
import type { LeafColumns, ScannedArtifact } from "./scan-artifact.ts";

/** One side of the join: a scanned artifact and its rows in tree order. */
export interface JoinSide {
  scanned: ScannedArtifact;
  order: Uint32Array;
}

/** keccak256(k_b ‖ commitment) of row `r`: the leaf identity the report names. */
export function leafIdOf(c: LeafColumns, r: number): Hex {
  const pair = new Uint8Array(64);
  pair.set(c.keys.subarray(r * 32, r * 32 + 32), 0);
  pair.set(c.commitments.subarray(r * 32, r * 32 + 32), 32);
  return bytesToHex(keccak256(pair));
}

/**
 * The anchored leaves as the join sees them: indices `order` sorted the way the audited rows
 * are, `cmp(row, i)` comparing an audited row with anchored leaf i, `same(i, j)` two anchored
 * leaves.
 */
export interface AnchoredLeaves {
  /** Anchored leaves. */
  count: number;
  order: Uint32Array;
  cmp(row: number, i: number): number;
  same(i: number, j: number): boolean;
  /** The anchored leaf i as the report names it. */
  leafHash(i: number): string;
  /** The reference whose line i is anchored leaf i, when its records are usable; else undefined. */
  lines: ScannedArtifact | undefined;
}

/**
 * `shafaf-tree/2`: every audited record whose leaf is not an anchored leaf, explained against the
 * reference (`changed`, `added`, `duplicate`), and every anchored leaf no audited record matched
 * or explained (`missing`). The reference MUST be usable: every line a record line at its index,
 * its tree the anchored tree (so its row r is its line r).
 *
 * @example
 * const mismatches = joinLeaves({ scanned: audited, order }, { scanned: reference, order: refOrder });
 */
export function joinLeaves(audited: JoinSide, reference: JoinSide): RecordMismatch[] {
  const a = audited.scanned.columns;
  const b = reference.scanned.columns;
  const sameRow = (c: LeafColumns, x: number, y: number): boolean => {
    if (c.province[x] !== c.province[y]) return false;
    for (let k = 0; k < 32; k++) if (c.keys[x * 32 + k] !== c.keys[y * 32 + k]) return false;
    for (let k = 0; k < 32; k++)
      if (c.commitments[x * 32 + k] !== c.commitments[y * 32 + k]) return false;
    return true;
  };
  return joinRecords(
    audited,
    {
      count: b.count,
      order: reference.order,
      cmp: (x, y) => {
        const px = a.codes[a.province[x]!]!;
        const py = b.codes[b.province[y]!]!;
        if (px !== py) return px < py ? -1 : 1;
        for (let k = 0; k < 32; k++) {
          const d = a.keys[x * 32 + k]! - b.keys[y * 32 + k]!;
          if (d !== 0) return d;
        }
        for (let k = 0; k < 32; k++) {
          const d = a.commitments[x * 32 + k]! - b.commitments[y * 32 + k]!;
          if (d !== 0) return d;
        }
        return 0;
      },
      same: (i, j) => sameRow(b, i, j),
      leafHash: (i) => leafIdOf(b, i),
      lines: reference.scanned,
    },
    (x, y) => sameRow(a, x, y),
    (row) => leafIdOf(a, row),
  );
}

/**
 * The join of audited rows (in `audited.order`) with anchored leaves, as `compareRecords` does it
 * with a map from leaf to index: the first audited record of a leaf matches it (the last anchored
 * index of that leaf), later ones are duplicates; the others are explained in export order.
 */
export function joinRecords(
  audited: JoinSide,
  anchored: AnchoredLeaves,
  sameAudited: (x: number, y: number) => boolean,
  leafOfRow: (row: number) => string,
): RecordMismatch[] {
  const a = audited.scanned.columns;
  const unmatchedAudited: number[] = [];
  const duplicates: { row: number; anchoredIndex: number }[] = [];
  const matches: { row: number; index: number }[] = [];
  const unmatchedAnchored: number[] = [];
  const ao = audited.order;
  const bo = anchored.order;
  let i = 0;
  let j = 0;
  while (i < ao.length || j < bo.length) {
    // The next group of equal leaves on each side (rows ascending, so export order).
    const c = i >= ao.length ? 1 : j >= bo.length ? -1 : anchored.cmp(ao[i]!, bo[j]!);
    let i2 = i;
    if (c <= 0) {
      i2 = i + 1;
      while (i2 < ao.length && sameAudited(ao[i]!, ao[i2]!)) i2++;
    }
    let j2 = j;
    if (c >= 0) {
      j2 = j + 1;
      while (j2 < bo.length && anchored.same(bo[j]!, bo[j2]!)) j2++;
    }
    if (c < 0) for (let k = i; k < i2; k++) unmatchedAudited.push(ao[k]!);
    else if (c > 0) for (let k = j; k < j2; k++) unmatchedAnchored.push(bo[k]!);
    else {
      // As a map from leaf to its (last) anchored index: the first audited record matches it,
      // the others are duplicates; other anchored leaves equal to it stay unmatched.
      let idx = bo[j]!;
      for (let k = j + 1; k < j2; k++) idx = Math.max(idx, bo[k]!);
      matches.push({ row: ao[i]!, index: idx });
      for (let k = i + 1; k < i2; k++) duplicates.push({ row: ao[k]!, anchoredIndex: idx });
      for (let k = j; k < j2; k++) if (bo[k] !== idx) unmatchedAnchored.push(bo[k]!);
    }
    i = i2;
    j = j2;
  }
  if (unmatchedAudited.length === 0 && duplicates.length === 0 && unmatchedAnchored.length === 0)
    return [];
  unmatchedAudited.sort((x, y) => x - y);
  matches.sort((x, y) => x.row - y.row);

  // ── open only the records that differ, by offset ──
  const withKeys = audited.scanned.keys !== undefined;
  const auditedLines = readLinesAt(
    audited.scanned,
    [...unmatchedAudited, ...duplicates.map((d) => d.row)].map((r) => a.line[r]!),
  );
  const ref = anchored.lines;
  const referenceLines =
    ref === undefined ? new Map<number, ArtifactRecordLine>() : readLinesAt(ref, unmatchedAnchored);
  const recordOf = (row: number): AuditedRecord => {
    const i = a.line[row]!;
    const line = auditedLines.get(i)!;
    return {
      record: recordFromJson(line.record)!,
      salt: line.salt.toLowerCase() as Hex,
      subject: line.subject.toLowerCase() as Hex,
      source: `records.jsonl:${i + 1}`,
      index: i,
      ...(!withKeys
        ? {}
        : {
            key:
              i < audited.scanned.keys!.count
                ? a.keys.subarray(row * 32, row * 32 + 32)
                : undefined,
          }),
    };
  };
  const refLine = (i: number, line: ArtifactRecordLine): ReferenceLine => ({
    index: i,
    salt: line.salt.toLowerCase(),
    subject: line.subject.toLowerCase(),
    ...(ref?.keys === undefined
      ? {}
      : { key: bytesToHex(ref.columns.keys.subarray(i * 32, i * 32 + 32)) }),
    record: line.record,
  });
  const lines = ref === undefined ? undefined : new Map<string, ReferenceLine>();
  for (const [i, line] of referenceLines)
    lines!.set(String(line.record.recordId), refLine(i, line));
  const records = unmatchedAudited.map(recordOf);
  // An audited record whose id, salt or key belongs to an anchored record that did match (an
  // added record, salts or keys copied): one more pass over the reference finds them.
  const wanted = { ids: new Set<string>(), salts: new Set<string>(), keys: new Set<string>() };
  if (lines !== undefined)
    for (const r of records) {
      const line = lines.get(r.record.recordId);
      const key = r.key === undefined ? undefined : bytesToHex(r.key);
      if (line === undefined) wanted.ids.add(r.record.recordId);
      if (line === undefined || line.salt !== r.salt) wanted.salts.add(r.salt);
      if (key !== undefined && (line === undefined || line.key !== key)) wanted.keys.add(key);
    }
  const owners =
    ref === undefined
      ? { salts: new Map<string, string>(), keys: new Map<string, string>() }
      : findOwners(ref, wanted, (i, line) => {
          const id = String(line.record.recordId);
          if (wanted.ids.has(id)) lines!.set(id, refLine(i, line));
        });
  const matched = new Set<number>();
  const explained = new Set<number>();
  const view = {
    lines,
    tree: { root: null, length: anchored.count, leafHash: (i: number) => anchored.leafHash(i) },
  };
  const out: RecordMismatch[] = [];
  for (const d of duplicates) {
    const r = recordOf(d.row);
    out.push({
      recordId: r.record.recordId,
      source: r.source,
      problem: "duplicate",
      anchoredIndex: d.anchoredIndex,
      field: null,
      anchored: null,
      recomputed: null,
      detail: "the same record appears again in the export",
    });
  }
  // In export order, with the anchored leaves matched by earlier records only (as a single pass
  // over the export sees them).
  let m = 0;
  unmatchedAudited.forEach((row, k) => {
    while (m < matches.length && matches[m]!.row < row) matched.add(matches[m++]!.index);
    out.push(
      ...explainLeaf(view, records[k]!, leafOfRow(row), {
        matched,
        explained,
        saltOwner: owners.salts,
        keyOwner: owners.keys,
      }),
    );
  });
  for (const i of unmatchedAnchored.sort((x, y) => x - y)) {
    if (explained.has(i)) continue;
    const line = referenceLines.get(i);
    out.push({
      problem: "missing",
      recordId: line === undefined ? null : String(line.record.recordId),
      anchoredIndex: i,
      source: null,
      field: null,
      anchored: anchored.leafHash(i),
      recomputed: null,
      detail: "an anchored record is missing from the export",
    });
  }
  return out;
}

/** The lines `which` (0-based) of an artifact's records.jsonl, each read by its byte range. */
function readLinesAt(
  s: ScannedArtifact,
  which: readonly number[],
): Map<number, ArtifactRecordLine> {
  const out = new Map<number, ArtifactRecordLine>();
  if (which.length === 0) return out;
  const records = s.openRecords();
  try {
    for (const i of [...new Set(which)].sort((x, y) => x - y)) {
      const start = s.offsets[i]!;
      const bytes = records.read(start, s.offsets[i + 1]! - start);
      out.set(i, JSON.parse(bytes.toString("utf8")) as ArtifactRecordLine);
    }
  } finally {
    records.close();
  }
  return out;
}

/**
 * One pass over the reference's lines when an explanation needs it: the anchored record of each
 * wanted salt (the last line holding it) and of each wanted key (the first line holding it);
 * `each` sees every line. Skipped when nothing is wanted.
 */
function findOwners(
  s: ScannedArtifact,
  wanted: { ids: Set<string>; salts: Set<string>; keys: Set<string> },
  each: (i: number, line: ArtifactRecordLine) => void,
): { salts: Map<string, string>; keys: Map<string, string> } {
  const salts = new Map<string, string>();
  const keys = new Map<string, string>();
  if (wanted.ids.size === 0 && wanted.salts.size === 0 && wanted.keys.size === 0)
    return { salts, keys };
  const c = s.columns;
  const keyLines = new Map<number, string>();
  if (wanted.keys.size > 0)
    for (let r = 0; r < c.count; r++) {
      const hex = bytesToHex(c.keys.subarray(r * 32, r * 32 + 32));
      if (wanted.keys.has(hex) && !keys.has(hex)) {
        keys.set(hex, "");
        keyLines.set(c.line[r]!, hex);
      }
    }
  const records = s.openRecords();
  try {
    const most = 4 << 20;
    let i = 0;
    while (i < s.lines) {
      // Whole lines, up to 4 MiB at a time (a longer line alone).
      let j = i + 1;
      while (j < s.lines && s.offsets[j + 1]! - s.offsets[i]! <= most) j++;
      const start = s.offsets[i]!;
      const bytes = records.read(start, s.offsets[j]! - start);
      for (let k = i; k < j; k++) {
        const text = bytes.toString("utf8", s.offsets[k]! - start, s.offsets[k + 1]! - start);
        const line = JSON.parse(text) as ArtifactRecordLine;
        const id = String(line.record?.recordId);
        if (isHexBytes(line.salt, 32) && wanted.salts.has(line.salt.toLowerCase()))
          salts.set(line.salt.toLowerCase(), id);
        const key = keyLines.get(k);
        if (key !== undefined) keys.set(key, id);
        each(k, line);
      }
      i = j;
    }
  } finally {
    records.close();
  }
  return { salts, keys };
}
