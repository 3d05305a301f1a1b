/**
 * The anomaly stage's context: earlier batch artifacts (record ids seen in other periods, the
 * previous period's batch), then `findAnomalies` over the audited records.
 */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import { recordFromJson } from "../core/receipt.ts";
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import { readBatchArtifact, type BatchArtifactDescriptor } from "../store/batch-artifact.ts";
import type { DataKey } from "../store/private-store.ts";
import { findAnomalies, type AnomalyResult, type AnomalySettings } from "./find-anomalies.ts";
import type { ExportRead } from "./read-audited-export.ts";

const isArtifactDir = (dir: string): Promise<boolean> =>
  stat(path.join(dir, "artifact.json")).then(
    () => true,
    () => false,
  );

/** Record ids → periods, and the descriptors, of every artifact in `dirs` (folders of artifacts or artifacts). */
export async function readHistory(
  dirs: readonly string[],
  kind: RecordKind,
  dataKey?: DataKey,
): Promise<{
  ids: Map<string, string[]>;
  artifacts: { dir: string; descriptor: BatchArtifactDescriptor }[];
}> {
  const found: string[] = [];
  for (const d of dirs) {
    if (await isArtifactDir(d)) {
      found.push(d);
      continue;
    }
    let names: string[];
    try {
      names = (await readdir(d)).sort();
    } catch {
      throw new InvalidInputError(`${d}: no such folder of batch artifacts`, {
        code: "audit.history",
      });
    }
    for (const name of names) {
      if (name.includes(".tmp-")) continue;
      if (await isArtifactDir(path.join(d, name))) found.push(path.join(d, name));
    }
  }
  const ids = new Map<string, string[]>();
  const artifacts: { dir: string; descriptor: BatchArtifactDescriptor }[] = [];
  for (const dir of found) {
    const a = await readBatchArtifact(dir, { dataKey });
    if (a === undefined) continue;
    artifacts.push({ dir, descriptor: a.descriptor });
    if (a.descriptor.kind !== kind) continue;
    for await (const line of a.records()) {
      const id = String(line.record.recordId);
      const periods = ids.get(id) ?? [];
      if (!periods.includes(a.descriptor.period)) periods.push(a.descriptor.period);
      ids.set(id, periods);
    }
  }
  return { ids, artifacts };
}

/** `YYYY-MM` of the month before. */
export function previousPeriod(period: string): string {
  const [y, m] = period.split("-").map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

async function recordsOf(dir: string, dataKey: DataKey | undefined): Promise<LedgerRecord[]> {
  const a = await readBatchArtifact(dir, { dataKey });
  if (a === undefined)
    throw new InvalidInputError(`${dir}: no batch artifact`, { code: "audit.previous" });
  const out: LedgerRecord[] = [];
  for await (const line of a.records()) {
    const r = recordFromJson(line.record);
    if (r !== undefined) out.push(r);
  }
  return out;
}

/**
 * What the anomaly checks need besides the records: the history and the previous period's batch
 * (`previousDir` when given, else the newest artifact of the previous period in `historyDirs`).
 */
export async function anomalyContext(p: {
  kind: RecordKind;
  period: string;
  historyDirs?: readonly string[] | undefined;
  previousDir?: string | undefined;
  /** Opens sealed history artifacts in place. */
  dataKey?: DataKey | undefined;
}): Promise<{
  history: Map<string, string[]> | undefined;
  previous: { period: string; records: LedgerRecord[] } | undefined;
}> {
  const historyDirs = p.historyDirs ?? [];
  const history =
    historyDirs.length > 0 ? await readHistory(historyDirs, p.kind, p.dataKey) : undefined;
  let previous: { period: string; records: LedgerRecord[] } | undefined;
  const prevPeriod = previousPeriod(p.period);
  if (p.previousDir !== undefined) {
    previous = { period: prevPeriod, records: await recordsOf(p.previousDir, p.dataKey) };
  } else if (history !== undefined) {
    const candidates = history.artifacts
      .filter((a) => a.descriptor.kind === p.kind && a.descriptor.period === prevPeriod)
      .sort((a, b) => (a.descriptor.createdAt < b.descriptor.createdAt ? 1 : -1));
    if (candidates[0] !== undefined)
      previous = { period: prevPeriod, records: await recordsOf(candidates[0].dir, p.dataKey) };
  }
  return { history: history?.ids, previous };
}

/**
 * The anomaly checks of the audited records, with the history and previous period they need.
 *
 * @example
 * const found = await checkAnomalies({ kind, period, exported, settings, historyDirs: [dir] });
 */
export async function checkAnomalies(p: {
  kind: RecordKind;
  period: string;
  exported: ExportRead;
  settings: AnomalySettings;
  historyDirs?: readonly string[] | undefined;
  previousDir?: string | undefined;
  dataKey?: DataKey | undefined;
}): Promise<AnomalyResult> {
  const { history, previous } = await anomalyContext(p);
  return findAnomalies({
    kind: p.kind,
    period: p.period,
    records: p.exported.records.map((r) => ({ record: r.record, subject: r.subject })),
    ingestIssues: p.exported.ingestIssues,
    hadDbfInputs: p.exported.sources?.some((s) => s.format === "sso-dbf") ?? false,
    history,
    previous,
    settings: p.settings,
  });
}
