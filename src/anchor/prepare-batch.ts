/**
 * One reading of an anchoring job's inputs, as stages: read (open the inputs) → validate (each
 * row's rules, its record id) → key (salt, subject pseudonym) → tree (leaves, root, manifest
 * figures) → persist (append each record to the artifact being written). `runAnchorJob` calls it
 * once, or twice when the first reading finds faulty lists (`list-quarantine.ts`).
 */
import { LEAF_ENCODING, leafValues } from "../core/leaf.ts";
import { buildManifest, type Manifest } from "../core/manifest.ts";
import { computeIdempotencyKey } from "../core/idempotency-key.ts";
import {
  createBatchAccumulator,
  type BatchAccumulator,
  type BatchFigures,
} from "../core/batch-accumulator.ts";
import { DEFAULT_RATE_TABLE, type RateTable } from "../core/rates.ts";
import { createDistinctSubjects } from "../core/subject-columns.ts";
import { recordToJson } from "../core/receipt.ts";
import type { LedgerRecord, RecordKind } from "../core/record.ts";
import { DEFAULT_COVERAGE_RULES } from "../core/unemployment-coverage.ts";
import { validateRecord } from "../core/validate-record.ts";
import { openInputs, type OpenedInputs } from "../ingest/open-inputs.ts";
import type { RowSource } from "../ingest/raw-row.ts";
import { readWorkshopRegister } from "../ingest/read-workshop-register.ts";
import { createBatchArtifactWriter, type BatchArtifactWriter } from "../store/batch-artifact.ts";
import { stageBatchTiles } from "../store/batch-tiles.ts";
import type { LedgerStore } from "../store/ledger-store.ts";
import { requireDataKey } from "../store/private-store.ts";
import {
  createIssueCollector,
  type IssueCollector,
  type ValidationIssue,
} from "./issue-collector.ts";
import { createLeafCollector, type LeafCollector } from "./leaf-collector.ts";
import {
  manifestFinding,
  quarantineLists,
  type Exclusion,
  type QuarantinedList,
} from "./list-quarantine.ts";
import { createRecordIdCheck, type RowPlace } from "./record-id-check.ts";
import { createRecordKeys, type RecordKeys } from "./record-keys.ts";
import type { PersonKeying } from "./person-keying.ts";
import {
  createSumTreeBatchCollector,
  laneNamesOf,
  type SumTreeBatchCollector,
} from "../core/sum-tree-batch.ts";
import {
  countDistinctKeys,
  foldSumTree,
  sortLeaves,
  type LeafColumns,
} from "../core/fold-sum-tree.ts";

/**
 * Records keyed at a time while reading (`shafaf-tree/2`): the person identifiers of at most this
 * many records are held as strings; one cache round trip per 16,384 people of a chunk.
 */
export const KEY_CHUNK = 1 << 16;

export interface PrepareBatchParams {
  jobId: string;
  inputs: readonly string[];
  kind: RecordKind;
  period: string;
  supersedes: number | null;
  reason: string | null;
  encoding?: "utf8" | "cp1256" | "auto" | undefined;
  province?: string | undefined;
  workshopProvinces?: string | undefined;
  rates?: RateTable | undefined;
  /** Without a store nothing is written and anchored record ids are not looked up. */
  store?: LedgerStore | undefined;
  dryRun?: boolean | undefined;
  pseudonymKey: Uint8Array;
  /**
   * The person keying of a `shafaf-tree/2` batch (VRF key, cache, workers). Without it the batch
   * is a `shafaf-tree/1` one.
   */
  personKeying?: PersonKeying | undefined;
  log: {
    progress(phase: "read" | "hash", done: number): void;
    info?(message: string): void;
  };
  strict: boolean;
  /** The lists and files this reading leaves out (the second reading of a per-list job). */
  exclude: Exclusion | undefined;
}

/** The batch's identity: what the job record and the result repeat. */
export interface BatchSummary {
  jobId: string;
  kind: RecordKind;
  period: string;
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  recordCount: number;
  total: bigint;
  supersedes: number | null;
  reason: string | null;
  /**
   * `shafaf-tree/2` only: the root's lanes (the batch totals), the VRF key id, and this reading's
   * person keys: distinct people, how many came from the cache, how many were enrolled.
   */
  v2?: {
    lanes: bigint[];
    vrfKeyId: string;
    personKeys?: { people: number; cached: number; enrolled: number };
  };
}

/** Everything to commit the artifact; the writer holds the records appended so far. */
export interface PreparedBatch {
  status: "prepared";
  summary: BatchSummary;
  manifest: Manifest;
  manifestBytes: Uint8Array;
  /** v1: the serialized tree; v2: the person keys (32 bytes per record, line order). */
  treeBytes?: Uint8Array;
  keysBytes?: Uint8Array;
  /**
   * v2: what the tiles step of this run starts from instead of re-reading the artifact — the
   * tiles staged in the artifact's temporary folder by the fold that gave the root (`staged`,
   * the `tiles.tmp-…` folder's name: the tree is hashed once per job), or, when nothing is
   * written (a dry run), the records' fixed-size columns and their tree order. A resumed job has
   * none.
   */
  sumColumns?: { columns: LeafColumns; order: Uint32Array } | { staged: string };
  writer: BatchArtifactWriter | undefined;
  warnings: ValidationIssue[];
  findings: ValidationIssue[];
}

/** A first reading found faulty lists (per-list mode only): read again without `exclude`. */
export interface NeedsQuarantine {
  status: "quarantine";
  quarantined: QuarantinedList[];
  exclude: Exclusion;
}

/** Nothing can be anchored. */
export interface InvalidBatch {
  status: "invalid";
  jobId: string;
  kind: RecordKind;
  period: string;
  rowsRead: number;
  validRows: number;
  issues: ValidationIssue[];
  /** Per-list mode: every list was faulty; each one, for the employers' report. */
  quarantined?: QuarantinedList[];
}

/** What the validate stage read. `figures` and `leaves` hold only records read before any error. */
export interface RowsRead {
  rowsRead: number;
  validRows: number;
  /** Rows and (up to 8) workshops of each list, for the quarantine report. */
  lists: Map<string, { rows: number; workshops: Set<string> }>;
  figures: BatchFigures;
  leaves: LeafCollector;
  /** A `shafaf-tree/2` batch: its records' columns (else undefined). */
  sum: SumTreeBatchCollector | undefined;
  /** A `shafaf-tree/2` batch: people enrolled (not found in the person-key cache) while keying. */
  enrolled?: number;
}

/**
 * @example
 * const prepared = await prepareBatch({ jobId, inputs, kind, period, supersedes: null,
 *   reason: null, store, pseudonymKey, log, strict: false, exclude: undefined });
 * if (prepared.status === "prepared") await prepared.writer?.commit({ … });
 */
export async function prepareBatch(
  p: PrepareBatchParams,
): Promise<PreparedBatch | NeedsQuarantine | InvalidBatch> {
  const collected = createIssueCollector({
    strict: p.strict,
    excluded: (list, file) => isExcluded(p.exclude, list, file),
  });
  const writer =
    p.dryRun || p.store === undefined
      ? undefined
      : await createBatchArtifactWriter(p.store.batchesDir, p.jobId, {
          dataKey: requireDataKey(p.store.dataDir, p.store.dataKeyId, p.store.dataKey),
        });
  try {
    const opened = await openBatchInputs(p);
    const read = await readRows(p, opened, collected, writer);
    for (const i of opened.issues()) collected.addIngest(i);
    p.log.progress("read", read.rowsRead);
    collected.finish();
    const refused = refusal(p, collected.issues, read);
    if (refused !== undefined) {
      await writer?.abort();
      return refused;
    }
    return {
      status: "prepared",
      ...(read.sum === undefined
        ? buildBatch(p, read, collected.findings, opened)
        : await buildBatchV2(p, { ...read, sum: read.sum }, collected.findings, opened, writer)),
      writer,
      warnings: collected.warnings,
      findings: collected.findings,
    };
  } catch (error) {
    await writer?.abort();
    throw error;
  }
}

/** True for a row or issue of a list or file that `exclude` leaves out. */
export function isExcluded(
  exclude: Exclusion | undefined,
  list: string | undefined,
  file: string,
): boolean {
  return (
    exclude !== undefined &&
    (exclude.files.has(file) || (list !== undefined && exclude.lists.has(list)))
  );
}

/** Read: the inputs, with the workshop register's provinces when one is given. */
export async function openBatchInputs(p: PrepareBatchParams): Promise<OpenedInputs> {
  const register =
    p.workshopProvinces === undefined ? undefined : await readWorkshopRegister(p.workshopProvinces);
  return openInputs(p.inputs, {
    kind: p.kind,
    ...(register !== undefined ? { provinceOf: (code: string) => register.get(code) } : {}),
    ...(p.encoding !== undefined ? { encoding: p.encoding } : {}),
    ...(p.province !== undefined ? { province: p.province } : {}),
    ...(p.rates !== undefined ? { rates: p.rates } : {}),
  });
}

/**
 * Validate, for every row: its record's rules, then its record id. Once any error is known the
 * rows are still validated (to report every problem) but no longer keyed, hashed or written.
 */
export async function readRows(
  p: PrepareBatchParams,
  opened: OpenedInputs,
  collected: IssueCollector,
  writer: BatchArtifactWriter | undefined,
): Promise<RowsRead> {
  const lists = new Map<string, { rows: number; workshops: Set<string> }>();
  const ids = createRecordIdCheck({
    ...p,
    store: p.store,
    report: (issue) => collected.add(issue),
  });
  // The distinct people in a column of 32-byte pseudonyms, not a Set of strings (bounded).
  const figures = createBatchAccumulator({ people: createDistinctSubjects() });
  const leaves = createLeafCollector((n) => p.log.progress("hash", n));
  const sum =
    p.personKeying === undefined
      ? undefined
      : createSumTreeBatchCollector(p.kind, { personIds: true });
  const enrolled = { count: 0 };
  const keys = createRecordKeys(p.pseudonymKey);
  const rates = p.rates ?? DEFAULT_RATE_TABLE;
  let rowsRead = 0;
  let validRows = 0;
  const to = { figures, leaves, sum, keys, writer };
  const options = { expectedPeriod: p.period, rates };
  // A batch of rows at a time, and a promise only where work waits (a lookup chunk, a written
  // buffer, a key chunk): not three or four per row (docs/DESIGN.md "One fold per job, and the
  // second core measured").
  for await (const batch of opened.rowBatches) {
    for (const row of batch) {
      if (isExcluded(p.exclude, row.source.list, row.source.file)) continue;
      rowsRead++;
      if (rowsRead % 10_000 === 0) p.log.progress("read", rowsRead);
      const where = placeOf(row.source);
      tallyList(lists, row.source, row.fields.workshop_code);
      const checked = validateRecord(p.kind, row.fields, options);
      if (!checked.ok) {
        for (const i of checked.issues) collected.add({ ...where, ...i });
        continue;
      }
      let claimed = ids.claim(checked.record, where);
      if (typeof claimed !== "boolean") claimed = await claimed;
      if (!claimed) continue;
      validRows++;
      if (collected.issues.length > 0) continue; // all-or-nothing: keep validating, stop building
      const written = addRecord(checked.record, validRows - 1, where, to);
      if (written !== undefined) await written;
      if (sum !== undefined && sum.count - sum.keyed >= KEY_CHUNK)
        enrolled.count += await keyRecords(p, sum);
    }
  }
  await ids.flush();
  if (sum !== undefined && collected.issues.length === 0)
    enrolled.count += await keyRecords(p, sum);
  return {
    rowsRead,
    validRows,
    lists,
    figures: figures.figures(),
    leaves,
    sum,
    ...(sum !== undefined ? { enrolled: enrolled.count } : {}),
  };
}

/**
 * Key (`shafaf-tree/2`): k_b of the records read since the last call, from the person-key cache
 * or enrolled on the workers; their identifiers are then dropped. Returns how many people were
 * enrolled (each person is enrolled once: a later chunk finds them in the cache).
 */
async function keyRecords(p: PrepareBatchParams, sum: SumTreeBatchCollector): Promise<number> {
  const persons = sum.unkeyedPersons();
  if (persons.length === 0) return 0;
  const { keys, computed } = await p.personKeying!.batchKeys(persons.length, (i) => persons[i]!, {
    kind: p.kind,
    period: p.period,
  });
  sum.setKeys(keys);
  return computed;
}

/** The row's place, with `entry` and `list` only when set (a CSV row: one two-field literal). */
const placeOf = (s: RowSource): RowPlace & { line: number } =>
  s.entry === undefined && s.list === undefined
    ? { file: s.file, line: s.line }
    : {
        file: s.file,
        line: s.line,
        ...(s.entry !== undefined ? { entry: s.entry } : {}),
        ...(s.list !== undefined ? { list: s.list } : {}),
      };

function tallyList(
  lists: RowsRead["lists"],
  source: RowSource,
  workshop: string | undefined,
): void {
  const key = source.list ?? source.file;
  let unit = lists.get(key);
  if (unit === undefined) lists.set(key, (unit = { rows: 0, workshops: new Set() }));
  unit.rows++;
  if (typeof workshop === "string" && workshop !== "" && unit.workshops.size < 8)
    unit.workshops.add(workshop);
}

/**
 * Key → tree → persist for one valid record (leaf `index`). A promise only when the artifact's
 * buffer is written out (await it before the next record).
 */
export function addRecord(
  record: LedgerRecord,
  index: number,
  where: RowPlace & { line: number },
  to: {
    figures: BatchAccumulator;
    leaves: LeafCollector;
    /** A `shafaf-tree/2` batch: its columns take the record instead of `leaves`. */
    sum?: SumTreeBatchCollector | undefined;
    keys: RecordKeys;
    writer: BatchArtifactWriter | undefined;
  },
): Promise<void> | undefined {
  const { salt, saltBytes, subject } = to.keys.keyOf(record);
  to.figures.add(record, subject);
  if (to.sum !== undefined) to.sum.push(record, saltBytes);
  else to.leaves.push(leafValues(record, { salt, subject }));
  if (to.writer === undefined) return undefined;
  return to.writer.append({
    index,
    code: to.keys.receiptCode(),
    salt,
    subject,
    source: where,
    record: recordToJson(record),
  });
}

/**
 * The outcome of a reading with errors: in per-list mode, quarantine when some rows would be
 * left to anchor; otherwise invalid (with every list when all were faulty). An empty batch is
 * invalid too. Undefined when the batch can be built.
 */
export function refusal(
  p: PrepareBatchParams,
  issues: ValidationIssue[],
  read: Pick<RowsRead, "rowsRead" | "validRows" | "lists">,
): NeedsQuarantine | InvalidBatch | undefined {
  let allQuarantined: QuarantinedList[] | undefined;
  if (issues.length > 0 && !p.strict && p.exclude === undefined) {
    const q = quarantineLists(issues, read.lists);
    // Something left to anchor: quarantine the faulty lists, anchor the rest (second pass).
    if (q.quarantined.reduce((n, l) => n + l.rows, 0) < read.rowsRead)
      return { status: "quarantine", ...q };
    allQuarantined = q.quarantined; // nothing left: invalid, with every list's report
  }
  if (issues.length === 0 && read.validRows === 0) {
    issues.push({
      file: p.inputs.join(", "),
      field: "",
      rule: "batch.empty",
      value: "",
      message: "the inputs hold no records",
      hint: "check that the files are the month's lists and not just headers",
    });
  }
  if (issues.length === 0) return undefined;
  return {
    status: "invalid",
    jobId: p.jobId,
    kind: p.kind,
    period: p.period,
    rowsRead: read.rowsRead,
    validRows: read.validRows,
    issues,
    ...(allQuarantined !== undefined ? { quarantined: allQuarantined } : {}),
  };
}

/** Tree: the root, the manifest of the figures, and the idempotency key they give. */
export function buildBatch(
  p: PrepareBatchParams,
  read: Pick<RowsRead, "validRows" | "figures" | "leaves">,
  findings: readonly ValidationIssue[],
  opened: Pick<OpenedInputs, "sources">,
): Pick<PreparedBatch, "summary" | "manifest" | "manifestBytes" | "treeBytes"> {
  const tree = read.leaves.tree();
  const { manifest, bytes, hash } = buildManifest(manifestInput(p, read, findings, opened));
  const summary = batchSummary(p, read, tree.root, hash);
  return { summary, manifest, manifestBytes: bytes, treeBytes: tree.serialize() };
}

/**
 * Tree for a `shafaf-tree/2` batch whose records were keyed while read: the sum tree folded from
 * the fixed-size columns chunk by chunk (fold-sum-tree.ts), the people counted from the keys,
 * and the v2 manifest listing the VRF key, the lanes and the province subtrees.
 */
export async function buildBatchV2(
  p: PrepareBatchParams,
  read: Pick<RowsRead, "validRows" | "figures" | "enrolled"> & { sum: SumTreeBatchCollector },
  findings: readonly ValidationIssue[],
  opened: Pick<OpenedInputs, "sources">,
  /** The artifact being written: the tiles are staged in its folder as the tree is folded. */
  writer?: Pick<BatchArtifactWriter, "dir" | "dataKey">,
): Promise<
  Pick<PreparedBatch, "summary" | "manifest" | "manifestBytes" | "keysBytes" | "sumColumns">
> {
  const keying = p.personKeying!;
  const sum = read.sum;
  const started = performance.now();
  if (sum.keyed < sum.count)
    read = { ...read, enrolled: (read.enrolled ?? 0) + (await keyRecords(p, sum)) };
  const columns = sum.columns();
  const persons = countDistinctKeys(columns.keys, columns.count);
  const enrolled = read.enrolled ?? 0;
  const cached = persons - enrolled;
  p.log.info?.(
    `person keys: ${persons} people, ${cached} from the cache, ${enrolled} enrolled (${Math.round(performance.now() - started)} ms)`,
  );
  const order = sortLeaves(columns);
  // One fold: with an artifact being written, the fold that gives the root writes the tiles.
  const staged =
    writer === undefined
      ? undefined
      : await stageBatchTiles(
          writer.dir,
          columns,
          order,
          writer.dataKey === undefined ? undefined : { jobId: p.jobId, key: writer.dataKey },
        );
  const tree = staged?.summary ?? foldSumTree(columns, order);
  p.log.progress("hash", sum.count);
  const { manifest, bytes, hash } = buildManifest({
    ...manifestInput(p, read, findings, opened),
    tree: {
      vrfKeyId: keying.vrfKeyId,
      laneNames: laneNamesOf(p.kind),
      lanes: [...tree.lanes],
      provinces: tree.provinces,
    },
  });
  const summary: BatchSummary = {
    ...batchSummary(p, read, tree.root, hash),
    v2: {
      lanes: [...tree.lanes],
      vrfKeyId: keying.vrfKeyId,
      personKeys: { people: persons, cached, enrolled },
    },
  };
  return {
    summary,
    manifest,
    manifestBytes: bytes,
    keysBytes: columns.keys,
    sumColumns: staged !== undefined ? { staged: staged.name } : { columns, order },
  };
}

/** The batch's identity from its root and manifest hash (both schemes). */
function batchSummary(
  p: PrepareBatchParams,
  read: Pick<RowsRead, "validRows" | "figures">,
  root: string,
  manifestHash: string,
): BatchSummary {
  return {
    jobId: p.jobId,
    kind: p.kind,
    period: p.period,
    root,
    manifestHash,
    idempotencyKey: computeIdempotencyKey(manifestHash, root, p.supersedes),
    recordCount: read.validRows,
    total: read.figures.total,
    supersedes: p.supersedes,
    reason: p.reason,
  };
}

/** The manifest's facts shared by both schemes. */
function manifestInput(
  p: PrepareBatchParams,
  read: Pick<RowsRead, "validRows" | "figures">,
  findings: readonly ValidationIssue[],
  opened: Pick<OpenedInputs, "sources">,
): Parameters<typeof buildManifest>[0] {
  const f = read.figures;
  const sources = opened.sources();
  return {
    kind: p.kind,
    period: p.period,
    recordCount: read.validRows,
    total: f.total,
    byProvince: f.byProvince,
    ...(p.kind === "pension" ? { byCategory: f.byCategory, timeliness: f.timeliness } : {}),
    sources,
    rulesVersion: (p.rates ?? DEFAULT_RATE_TABLE).version,
    leafEncoding: LEAF_ENCODING,
    supersedes: p.supersedes,
    reason: p.reason,
    people: f.people,
    ...(p.exclude !== undefined ? { quarantined: p.exclude.summary } : {}),
    ...(findings.length > 0 ? { findings: findings.map(manifestFinding) } : {}),
    ...(sources.some((s) => s.format === "sso-dbf")
      ? { coverageRules: DEFAULT_COVERAGE_RULES.version }
      : {}),
  };
}
