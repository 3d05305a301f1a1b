/**
 * The record-id rules of one batch: an id appears once in the batch, and is not already anchored
 * for the same kind and period (unless in the batch this one supersedes, or in a superseded
 * batch). The store is asked in chunks of `LOOKUP_CHUNK` ids.
 */
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import type { LedgerStore } from "../store/ledger-store.ts";
import type { ValidationIssue } from "./issue-collector.ts";

export const LOOKUP_CHUNK = 2048;

/** Where a row is, as its issues name it. */
export type RowPlace = Pick<ValidationIssue, "file" | "line" | "entry" | "list">;

export interface RecordIdCheck {
  /**
   * Claims `record`'s id for this batch: false (and an issue) when the batch had it already;
   * true otherwise, with the already-anchored check queued (its issue comes at a `flush`).
   */
  claim(record: LedgerRecord, where: RowPlace & { line: number }): Promise<boolean>;
  /** Runs the queued already-anchored checks. */
  flush(): Promise<void>;
}

/**
 * @example
 * const ids = createRecordIdCheck({ store, kind, period, supersedes: null, report: collected.add });
 * if (!(await ids.claim(record, where))) continue;
 * …
 * await ids.flush();
 */
export function createRecordIdCheck(p: {
  /** Without a store only duplicates within the batch are found. */
  store: LedgerStore | undefined;
  kind: RecordKind;
  period: string;
  supersedes: number | null;
  report: (issue: ValidationIssue) => void;
}): RecordIdCheck {
  const seen = new Map<string, string>(); // record id → "file:line" of its first row
  const supersededCache = new Map<number, boolean>();
  let pending: { recordId: string; where: ValidationIssue }[] = [];
  const isSuperseded = async (store: LedgerStore, batchId: number): Promise<boolean> => {
    let superseded = supersededCache.get(batchId);
    if (superseded === undefined) {
      superseded = ((await store.getBatch(batchId))?.supersededBy ?? null) !== null;
      supersededCache.set(batchId, superseded);
    }
    return superseded;
  };
  const flush = async (): Promise<void> => {
    if (pending.length === 0 || p.store === undefined) return;
    const batch = pending;
    pending = [];
    const found = await p.store.getRecordIds(
      p.kind,
      p.period,
      batch.map((b) => b.recordId),
    );
    for (let i = 0; i < batch.length; i++) {
      const entry = found[i];
      if (entry === undefined || entry.batchId === p.supersedes) continue;
      if (await isSuperseded(p.store, entry.batchId)) continue;
      p.report({
        ...batch[i]!.where,
        message: `record_id was already anchored in batch ${entry.batchId} for ${p.kind} ${p.period}`,
        hint: `a correction goes in a new batch with --supersedes ${entry.batchId} --reason <code>`,
      });
    }
  };
  const claim = async (record: LedgerRecord, where: RowPlace & { line: number }) => {
    const dupWhere: ValidationIssue = {
      ...where,
      field: "record_id",
      rule: "record-id.duplicate",
      value: record.recordId,
      message: "",
      hint: "",
    };
    const first = seen.get(record.recordId);
    if (first !== undefined) {
      p.report({
        ...dupWhere,
        message: `record_id appears twice in this batch (first at ${first})`,
        hint: "each record id must be unique within a kind and period; remove or renumber the duplicate",
      });
      return false;
    }
    seen.set(record.recordId, `${where.file}:${where.line}`);
    pending.push({ recordId: record.recordId, where: { ...dupWhere, rule: "record-id.anchored" } });
    if (pending.length >= LOOKUP_CHUNK) await flush();
    return true;
  };
  return { claim, flush };
}
