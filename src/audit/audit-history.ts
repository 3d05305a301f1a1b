/**
 * The anomaly stage's context, read after the audited records have streamed: the earlier batch
 * artifacts (where the corrections' targets were anchored, the previous period's batch), then
 * `findAnomalies`' findings.
 *
 * Memory does not grow with the history: the audited records give the few ids the corrections
 * point at (`AnomalyFinder.correctionTargets`), and one pass over the earlier artifacts of the
 * kind reads each line's record id from its bytes (`BatchArtifact.recordKeys`), keeping only the
 * periods of those ids; the previous period's batch is folded into one tally per workshop as it
 * streams. The audited batch's own artifact is not part of its history.
 */
import { readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";
import { recordFromJson } from "../core/receipt.ts";
import type { RecordKind } from "../core/record.ts";
import { readBatchArtifact, type BatchArtifactDescriptor } from "../store/batch-artifact.ts";
import type { DataKey } from "../store/private-store.ts";
import {
  createAnomalyFinder,
  tally,
  type AnomalyContext,
  type AnomalyFinder,
  type AnomalyResult,
  type AnomalySettings,
  type WorkshopTally,
} from "./find-anomalies.ts";
import type { ExportRead } from "./read-audited-export.ts";
import { readArtifactDescriptor } from "./scan-artifact.ts";

const isArtifactDir = (dir: string): Promise<boolean> =>
  stat(path.join(dir, "artifact.json")).then(
    () => true,
    () => false,
  );

/** An earlier batch artifact: its folder and descriptor (artifact.json only). */
export interface HistoryArtifact {
  dir: string;
  descriptor: BatchArtifactDescriptor;
}

/** The audited batch, which is no part of its own history. */
export interface AuditedBatchIdentity {
  /** Its folders (the audited artifact, the reference), compared by real path. */
  dirs: readonly string[];
  /** What is anchored: an artifact of this kind with this root holds the audited batch's leaves. */
  kind: RecordKind;
  root: string;
}

const realPathOf = (dir: string): Promise<string> => realpath(dir).catch(() => path.resolve(dir));

/**
 * The artifacts in `dirs` (folders of artifacts, or artifacts), their descriptors only, without
 * the audited batch's own (`audited`: same folder, or same kind and root).
 */
export async function listHistory(
  dirs: readonly string[],
  audited?: AuditedBatchIdentity,
): Promise<HistoryArtifact[]> {
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
  const own = new Set(await Promise.all((audited?.dirs ?? []).map(realPathOf)));
  const out: HistoryArtifact[] = [];
  for (const dir of found) {
    if (own.has(await realPathOf(dir))) continue;
    const descriptor = await readArtifactDescriptor(dir);
    if (
      audited !== undefined &&
      descriptor.kind === audited.kind &&
      descriptor.root.toLowerCase() === audited.root.toLowerCase()
    )
      continue;
    out.push({ dir, descriptor });
  }
  return out;
}

/** What a history pass kept and read: the evidence that its memory is the targets', not the history's. */
export interface HistoryPassStats {
  /** Artifacts whose records.jsonl was read. */
  artifactsRead: number;
  /** Lines read across them. */
  linesRead: number;
  /** (target, period) pairs kept: never more than the targets times the artifacts read. */
  kept: number;
}

/**
 * Where each of `targets` was anchored: record id → periods, over the artifacts of `kind` in
 * `artifacts`, in one streaming pass per artifact that reads each line's record id from its
 * bytes (`recordKeys`: no `JSON.parse` of a line as the writer writes it) and keeps only the
 * targets'. A target found nowhere is absent. Each records.jsonl is checked against its sha256 and
 * count as it is read (a damaged or altered history artifact throws).
 *
 * @example
 * const where = await resolveTargets(await listHistory([batchesDir]), "premium", new Set(["P-7"]));
 */
export async function resolveTargets(
  artifacts: readonly HistoryArtifact[],
  kind: RecordKind,
  targets: ReadonlySet<string>,
  dataKey?: DataKey,
  stats?: HistoryPassStats,
): Promise<Map<string, string[]>> {
  const where = new Map<string, string[]>();
  if (targets.size === 0) return where;
  for (const { dir, descriptor } of artifacts) {
    if (descriptor.kind !== kind) continue;
    const a = await readBatchArtifact(dir, { dataKey, recordsOnly: true });
    if (a === undefined) continue;
    const period = a.descriptor.period;
    if (stats !== undefined) stats.artifactsRead++;
    for (const chunk of a.recordKeys()) {
      if (stats !== undefined) stats.linesRead += chunk.recordIds.length;
      for (const id of chunk.recordIds) {
        if (!targets.has(id)) continue;
        const periods = where.get(id);
        if (periods === undefined) where.set(id, [period]);
        else if (!periods.includes(period)) periods.push(period);
        else continue;
        if (stats !== undefined) stats.kept++;
      }
    }
  }
  return where;
}

/** `YYYY-MM` of the month before. */
export function previousPeriod(period: string): string {
  const [y, m] = period.split("-").map(Number) as [number, number];
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, "0")}`;
}

/**
 * The headcount and wage base per workshop of the artifact in `dir`, folded as its records
 * stream (one line at a time; keys.bin is not read).
 *
 * @example
 * const workshops = await tallyArtifact(previousDir, dataKey);
 */
export async function tallyArtifact(
  dir: string,
  dataKey: DataKey | undefined,
): Promise<WorkshopTally> {
  const a = await readBatchArtifact(dir, { dataKey, recordsOnly: true });
  if (a === undefined)
    throw new InvalidInputError(`${dir}: no batch artifact`, { code: "audit.previous" });
  const out: WorkshopTally = new Map();
  for await (const line of a.records()) {
    const r = recordFromJson(line.record);
    if (r !== undefined) tally(out, r);
  }
  return out;
}

/** Where the anomaly context comes from. */
export interface AnomalyContextSource {
  kind: RecordKind;
  period: string;
  historyDirs?: readonly string[] | undefined;
  previousDir?: string | undefined;
  /** Opens sealed history artifacts in place. */
  dataKey?: DataKey | undefined;
  /** The audited batch, left out of its history. */
  audited?: AuditedBatchIdentity | undefined;
}

/**
 * What the anomaly checks need besides the records, once the correction targets are known: where
 * those were anchored (undefined without history), and the previous period's batch tallied per
 * workshop (`previousDir` when given, else the newest artifact of the previous period in the
 * history).
 *
 * @example
 * const context = await anomalyContext({ kind, period, historyDirs }, finder.correctionTargets());
 * const found = finder.finish(context);
 */
export async function anomalyContext(
  p: AnomalyContextSource,
  targets: ReadonlySet<string>,
  stats?: HistoryPassStats,
): Promise<AnomalyContext> {
  const historyDirs = p.historyDirs ?? [];
  const artifacts = historyDirs.length > 0 ? await listHistory(historyDirs, p.audited) : undefined;
  const history =
    artifacts === undefined
      ? undefined
      : await resolveTargets(artifacts, p.kind, targets, p.dataKey, stats);
  const prevPeriod = previousPeriod(p.period);
  let previousDir = p.previousDir;
  if (previousDir === undefined && artifacts !== undefined)
    previousDir = artifacts
      .filter((a) => a.descriptor.kind === p.kind && a.descriptor.period === prevPeriod)
      .sort((a, b) => (a.descriptor.createdAt < b.descriptor.createdAt ? 1 : -1))[0]?.dir;
  const previous =
    previousDir === undefined
      ? undefined
      : { period: prevPeriod, workshops: await tallyArtifact(previousDir, p.dataKey) };
  return { history, previous };
}

/**
 * The finder's findings with the history and previous period they need, read now that every
 * record has been added.
 *
 * @example
 * const found = await finishWithHistory(finder, { kind, period, historyDirs: [dir] });
 */
export async function finishWithHistory(
  finder: AnomalyFinder,
  p: AnomalyContextSource,
): Promise<AnomalyResult> {
  return finder.finish(await anomalyContext(p, finder.correctionTargets()));
}

/**
 * The anomaly checks of the audited records (read whole: input files), with the history and
 * previous period they need.
 *
 * @example
 * const found = await checkAnomalies({ kind, period, exported, settings, historyDirs: [dir] });
 */
export async function checkAnomalies(
  p: AnomalyContextSource & { exported: ExportRead; settings: AnomalySettings },
): Promise<AnomalyResult> {
  const finder = createAnomalyFinder({
    kind: p.kind,
    period: p.period,
    ingestIssues: p.exported.ingestIssues,
    hadDbfInputs: p.exported.sources?.some((s) => s.format === "sso-dbf") ?? false,
    settings: p.settings,
    expectedRecords: p.exported.records.length,
  });
  for (const r of p.exported.records) finder.add(r.record, r.subject);
  return finishWithHistory(finder, p);
}
