/**
 * Compare, record level: each audited leaf against the anchored leaves. A leaf found among them
 * matches (once; again is a duplicate); otherwise the reference's record of the same id names
 * the fields, salt, subject or person key that differ. Anchored leaves nothing matched or
 * explained are missing. Needs a reference whose tree is the anchored tree; without one, nothing
 * is listed. A v1 leaf is its leaf hash; a `shafaf-tree/2` leaf is keccak256(k_b ‖ commitment)
 * (`recompute-sum-tree.ts`), so the same logic blames the same records under both schemes.
 */
import { bytesToHex } from "../core/hex.ts";
import { maskNationalId } from "../core/national-id.ts";
import { recordToJson } from "../core/receipt.ts";
import type { RecordMismatch } from "./audit-report.ts";
import type { AuditedRecord } from "./read-audited-export.ts";
import type { Reference, ReferenceLine } from "./read-reference.ts";

const text = (v: unknown): string =>
  typeof v === "object" && v !== null ? JSON.stringify(v) : String(v);
const display = (field: string, v: unknown): string | null =>
  v === undefined || v === null ? null : field === "nationalId" ? maskNationalId(text(v)) : text(v);

/**
 * @example
 * const mismatches = sortMismatches([...exported.invalid,
 *   ...compareRecords(reference, anchored.root, exported.records, recomputed.leafOf)]);
 */
export function compareRecords(
  reference: Reference | undefined,
  anchoredRoot: string,
  records: readonly AuditedRecord[],
  leafOf: (i: number) => string,
): RecordMismatch[] {
  if (reference === undefined || reference.tree.root !== anchoredRoot) return [];
  const anchoredLeaves = new Map<string, number>();
  for (let i = 0; i < reference.tree.length; i++) anchoredLeaves.set(reference.tree.leafHash(i), i);
  const out: RecordMismatch[] = [];
  const matched = new Set<number>();
  const explained = new Set<number>();
  const saltOwner = new Map<string, string>();
  for (const l of reference.byIndex ?? []) saltOwner.set(l.salt, String(l.record.recordId));
  const keyOwner = new Map<string, string>();
  for (const l of reference.byIndex ?? [])
    if (l.key !== undefined && !keyOwner.has(l.key)) keyOwner.set(l.key, String(l.record.recordId));
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    const leaf = leafOf(i);
    const idx = anchoredLeaves.get(leaf);
    const base = { recordId: r.record.recordId, source: r.source };
    if (idx !== undefined && !matched.has(idx)) {
      matched.add(idx);
      continue;
    }
    if (idx !== undefined) {
      out.push({
        ...base,
        problem: "duplicate",
        anchoredIndex: idx,
        field: null,
        anchored: null,
        recomputed: null,
        detail: "the same record appears again in the export",
      });
      continue;
    }
    out.push(...explainLeaf(reference, r, leaf, { matched, explained, saltOwner, keyOwner }));
  }
  for (let i = 0; i < reference.tree.length; i++) {
    if (matched.has(i) || explained.has(i)) continue;
    const ref = reference.byIndex?.[i];
    out.push({
      problem: "missing",
      recordId: ref === undefined ? null : String(ref.record.recordId),
      anchoredIndex: i,
      source: null,
      field: null,
      anchored: reference.tree.leafHash(i),
      recomputed: null,
      detail: "an anchored record is missing from the export",
    });
  }
  return out;
}

/** Why an audited leaf is not an anchored one; adds the anchored index it explains to `explained`. */
export function explainLeaf(
  reference: Pick<Reference, "lines" | "tree">,
  r: AuditedRecord,
  leaf: string,
  seen: {
    matched: Set<number>;
    explained: Set<number>;
    saltOwner: Map<string, string>;
    /** v2: the first anchored record of each person key. */
    keyOwner?: Map<string, string>;
  },
): RecordMismatch[] {
  const base = { recordId: r.record.recordId, source: r.source };
  const ref = reference.lines?.get(r.record.recordId);
  if (
    ref === undefined &&
    reference.lines === undefined &&
    r.index !== undefined &&
    r.index < reference.tree.length &&
    !seen.matched.has(r.index) &&
    !seen.explained.has(r.index)
  ) {
    // No usable reference records: the artifact line is compared with the anchored leaf at its index.
    seen.explained.add(r.index);
    return [
      {
        ...base,
        problem: "leaf",
        anchoredIndex: r.index,
        field: null,
        anchored: reference.tree.leafHash(r.index),
        recomputed: leaf,
        detail: `the record's leaf differs from the anchored leaf at index ${r.index}: a value, its salt or its subject was changed (the reference records are unavailable, so the field cannot be named)`,
      },
    ];
  }
  if (ref === undefined)
    return [
      {
        ...base,
        problem: reference.lines === undefined ? "leaf" : "added",
        anchoredIndex: null,
        field: null,
        anchored: null,
        recomputed: leaf,
        detail:
          reference.lines === undefined
            ? "the record's leaf is not among the anchored leaves (the reference records are unavailable, so the differing field cannot be named)"
            : "the record is not in the anchored batch",
      },
    ];
  seen.explained.add(ref.index);
  const out = compareFields(ref.record, r, ref.index);
  out.push(...compareKeys(ref, r, seen.saltOwner));
  out.push(...comparePersonKey(ref, r, seen.keyOwner));
  if (out.length === 0)
    out.push({
      ...base,
      problem: "leaf",
      anchoredIndex: ref.index,
      field: null,
      anchored: reference.tree.leafHash(ref.index),
      recomputed: leaf,
      detail: "the leaf differs although no field does",
    });
  return out;
}

/** The salt and the subject of a record against the anchored ones of the same record id. */
function compareKeys(
  ref: ReferenceLine,
  r: AuditedRecord,
  saltOwner: ReadonlyMap<string, string>,
): RecordMismatch[] {
  const out: RecordMismatch[] = [];
  const base = { recordId: r.record.recordId, source: r.source };
  if (ref.salt !== r.salt) {
    const owner = saltOwner.get(r.salt);
    out.push({
      ...base,
      problem: "changed",
      anchoredIndex: ref.index,
      field: "salt",
      anchored: `the salt anchored for ${r.record.recordId}`,
      recomputed:
        owner === undefined
          ? "a salt not anchored for any record"
          : `the salt anchored for ${owner}`,
      detail:
        owner === undefined
          ? "the export's salt is not the anchored one"
          : `the export gives this record the salt of record ${owner} (salts swapped or copied)`,
    });
  }
  if (ref.subject !== r.subject)
    out.push({
      ...base,
      problem: "changed",
      anchoredIndex: ref.index,
      field: "subject",
      anchored: ref.subject,
      recomputed: r.subject,
      detail: "the subject pseudonym differs from the anchored one",
    });
  return out;
}

/**
 * v2: the person key of a record against the anchored one of the same record id. Names the
 * anchored record whose key the export gives instead (keys swapped or copied), never the key's
 * person.
 */
function comparePersonKey(
  ref: ReferenceLine,
  r: AuditedRecord,
  keyOwner: ReadonlyMap<string, string> | undefined,
): RecordMismatch[] {
  if (ref.key === undefined) return [];
  const mine = r.key === undefined ? undefined : bytesToHex(r.key);
  if (mine === ref.key) return [];
  const owner = mine === undefined ? undefined : keyOwner?.get(mine);
  return [
    {
      recordId: r.record.recordId,
      source: r.source,
      problem: "changed",
      anchoredIndex: ref.index,
      field: "personKey",
      anchored: `the person key anchored for ${r.record.recordId}`,
      recomputed:
        mine === undefined
          ? "no key (keys.bin has none for this line)"
          : owner === undefined
            ? "a key not anchored for any record"
            : `the person key anchored for ${owner}`,
      detail:
        mine === undefined
          ? "keys.bin holds no person key for this record"
          : owner === undefined
            ? "the export's person key (keys.bin) is not the anchored one"
            : `the export gives this record the person key of record ${owner} (keys swapped or copied)`,
    },
  ];
}

/** One "changed" mismatch per record field that differs, in field-name order (national IDs masked). */
function compareFields(
  anchored: Record<string, string | number>,
  r: AuditedRecord,
  anchoredIndex: number,
): RecordMismatch[] {
  const mine = recordToJson(r.record) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(anchored), ...Object.keys(mine)])].sort();
  return keys
    .filter((k) => text(anchored[k]) !== text(mine[k]))
    .map((k) => ({
      recordId: r.record.recordId,
      source: r.source,
      problem: "changed",
      anchoredIndex,
      field: k,
      anchored: display(k, anchored[k]),
      recomputed: display(k, mine[k]),
      detail: `${k} differs from the anchored record`,
    }));
}

/** The report's order: by record id (none last), problem, field, source, then anchored index. */
export function sortMismatches(mismatches: RecordMismatch[]): RecordMismatch[] {
  return mismatches.sort((a, b) => {
    const ka = `${a.recordId ?? "~"}\0${a.problem}\0${a.field ?? ""}\0${a.source ?? ""}`;
    const kb = `${b.recordId ?? "~"}\0${b.problem}\0${b.field ?? ""}\0${b.source ?? ""}`;
    return ka < kb ? -1 : ka > kb ? 1 : (a.anchoredIndex ?? -1) - (b.anchoredIndex ?? -1);
  });
}
