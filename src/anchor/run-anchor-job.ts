/**
 * The finance pipeline: inputs → validate → tree → durable artifact → anchorBatch → receipts.
 * `shafaf anchor`, `npm start`'s demo and the staff endpoint `POST /api/v1/batches` all call
 * `runAnchorJob`.
 *
 * Crash safety (MUST hold whatever instant the process dies, given the same inputs again):
 * - The job id is derived from the inputs' bytes and options, so a re-run finds its job.
 * - Salts and receipt codes are drawn once and made durable in the artifact BEFORE anything is
 *   signed; a resumed job reuses them, so its root, idempotency key and codes are the same.
 * - The signed transaction is persisted (state `sending`) BEFORE it is broadcast; a resumed job
 *   re-broadcasts the same bytes, and the contract's idempotency key refuses any second batch
 *   (`LedgerDuplicateIdempotencyKey` / `batchIdOfIdempotencyKey` lead back to the first).
 * - Receipt locators (code → line, as the artifact's locator tables `receipts.loc` and
 *   `subjects.loc`) and the record-id index are written only after the transaction has its
 *   confirmations (state `anchored`), idempotently (a table is renamed into place whole), so a
 *   re-run writes what is missing; the job is `complete` only after all. Receipts themselves are
 *   assembled on demand from the artifact.
 * - The batch is handed to readers (`shafaf serve`) last: `<data-dir>/published.json` is
 *   replaced atomically once the job is complete, on every run (a run killed before it, or an
 *   already complete job, publishes again). Readers never see a batch whose files are partial.
 */
import { assertSameChain } from "../chain/chain-identity.ts";
import { InvalidInputError, ShafafError } from "../core/errors.ts";
import { periodToNumber } from "../core/period.ts";
import type { RateTable } from "../core/rates.ts";
import { KIND_NUMBER, type RecordKind } from "../core/record.ts";
import {
  readBatchArtifact,
  removeStaleArtifactTemps,
  type BatchArtifact,
} from "../store/batch-artifact.ts";
import type { BatchEntry, JobRecord, LedgerStore } from "../store/ledger-store.ts";
import { writeBatchLocators } from "../store/batch-locators.ts";
import type { AnchorChain, MinedAnchor } from "./anchor-chain.ts";
import { decodeSignedTx } from "./inspect-job.ts";
import type { Manifest } from "../core/manifest.ts";
import { computeJobId } from "./job-id.ts";
import { writeQuarantineReport } from "./quarantine-report.ts";
import type { QuarantinedList } from "./list-quarantine.ts";
import { LOOKUP_CHUNK } from "./record-id-check.ts";
import {
  prepareBatch,
  type BatchSummary,
  type InvalidBatch,
  type PreparedBatch,
} from "./prepare-batch.ts";
import type { ValidationIssue } from "./issue-collector.ts";
import type { PersonKeying } from "./person-keying.ts";

export type { QuarantinedList } from "./list-quarantine.ts";
export { ISSUES_PER_RULE, type ValidationIssue } from "./issue-collector.ts";
import path from "node:path";
import { ensureBatchTiles } from "../store/batch-tiles.ts";

/** Step boundaries, in order. `onStep` is called at each; a crash right after any is recoverable. */
export const ANCHOR_STEPS = [
  "validated",
  "artifact-written",
  "job-prepared",
  "tx-signed",
  "tx-sent",
  "tx-mined",
  "batch-anchored",
  "tiles-written",
  "receipts-partial",
  "receipts-written",
  "complete",
  "published",
] as const;
export type AnchorStep = (typeof ANCHOR_STEPS)[number];

/** Progress and messages. Phases: read (rows read and validated), hash, receipts. */
export interface AnchorLog {
  progress(phase: "read" | "hash" | "receipts", done: number, total?: number): void;
  info(message: string): void;
}

export interface RunAnchorJobParams {
  inputs: readonly string[];
  kind: RecordKind;
  /** The batch's period, `YYYY-MM`: every row must have it. */
  period: string;
  supersedes?: number | undefined;
  reason?: string | undefined;
  dryRun?: boolean | undefined;
  encoding?: "utf8" | "cp1256" | "auto" | undefined;
  /** Province (ISO code) for inputs that carry none, such as SSO DBF lists. */
  province?: string | undefined;
  /**
   * The workshop register (CSV `workshop_code,province`): the province of each DBF list's
   * workshop; `province` covers workshops it does not list. Part of the job's identity.
   */
  workshopProvinces?: string | undefined;
  /** Blocks to wait for (1 = mined). Default 1. */
  confirmations?: number | undefined;
  /** Required unless `dryRun`. */
  chain?: AnchorChain | undefined;
  /** Required unless `dryRun` (a dry run without a store skips the already-anchored check). */
  store?: LedgerStore | undefined;
  /** The organization's pseudonym key (32 bytes). */
  pseudonymKey: Uint8Array;
  /**
   * The person keying (VRF key, cache, workers) that makes the batch a `shafaf-tree/2` one; the
   * caller opens and closes it. Without it the batch is `shafaf-tree/1`. Part of the job's identity.
   */
  personKeying?: PersonKeying | undefined;
  rates?: RateTable | undefined;
  log?: AnchorLog | undefined;
  /** Called at each step boundary (tests kill the process here). */
  onStep?: ((step: AnchorStep) => void) | undefined;
  /** How long to wait for the transaction before giving up (resumable). Default 10 min. */
  waitTimeoutMs?: number | undefined;
  /**
   * All or nothing (the behaviour before per-list quarantine): one problem anywhere, or one
   * finding, and nothing is anchored. Default false: each list is accepted or quarantined.
   */
  strict?: boolean | undefined;
  /**
   * Where the quarantine report of a job with quarantined lists is written
   * (`<quarantineRoot>/<jobId>/`). Without it no report files are written (the result still
   * lists the quarantined lists).
   */
  quarantineRoot?: string | undefined;
}

export interface AnchorSummary extends BatchSummary {
  elapsedMs: number;
}

export type AnchorJobResult =
  | (AnchorSummary & {
      status: "anchored";
      batchId: number;
      txHash: string;
      blockNumber: number;
      chainId: number;
      contract: string;
      /** True when an earlier, interrupted run of the same job was finished. */
      resumed: boolean;
      /** True when the job was already complete and nothing was done. */
      alreadyComplete: boolean;
      warnings: ValidationIssue[];
      /** Lists left out of this batch (empty on a resumed job: see the quarantine report). */
      quarantined: QuarantinedList[];
      /** Discrepancies recorded in the manifest that refused nothing. */
      findings: ValidationIssue[];
      /** The quarantine report's folder, when one was written. */
      quarantineReport?: string;
    })
  | (AnchorSummary & {
      status: "dry-run";
      manifest: Manifest;
      warnings: ValidationIssue[];
      quarantined: QuarantinedList[];
      findings: ValidationIssue[];
    })
  | (InvalidBatch & {
      elapsedMs: number;
      /** The quarantine report's folder, when one was written. */
      quarantineReport?: string;
    });

const noLog: AnchorLog = { progress: () => undefined, info: () => undefined };

/**
 * Runs (or resumes) one anchoring job.
 *
 * @example
 * const result = await runAnchorJob({ inputs: ["premiums.csv"], kind: "premium", period: "1403-07",
 *   chain, store, pseudonymKey, log });
 * if (result.status === "invalid") for (const i of result.issues) console.log(i.message);
 */
export async function runAnchorJob(params: RunAnchorJobParams): Promise<AnchorJobResult> {
  const started = Date.now();
  const log = params.log ?? noLog;
  const onStep = params.onStep ?? (() => undefined);
  const { supersedes, reason, period } = checkJobParams(params);
  const jobId = await jobIdOf(params, { supersedes, reason, period });
  const store = params.store;
  if (!params.dryRun && store !== undefined && params.chain !== undefined) {
    const ctx = { ...params, store, chain: params.chain, log, onStep, started };
    const resumed = await resumeExistingJob(ctx, jobId, period);
    if (resumed !== undefined) return resumed;
  }
  const base = {
    ...params,
    jobId,
    period,
    supersedes,
    reason,
    log,
    strict: params.strict === true,
  };
  const { prepared, quarantined } = await readInputs(base);
  const reportDir =
    params.quarantineRoot !== undefined && !params.dryRun
      ? path.join(params.quarantineRoot, jobId)
      : undefined;
  if (prepared.status === "invalid") {
    const all = prepared.quarantined;
    if (all === undefined || all.length === 0 || reportDir === undefined)
      return { ...prepared, elapsedMs: Date.now() - started };
    const dir = await writeQuarantineReport(reportDir, {
      jobId,
      kind: params.kind,
      period,
      quarantined: all,
    });
    return { ...prepared, quarantineReport: dir, elapsedMs: Date.now() - started };
  }
  // Before the artifact: a re-run after a crash rewrites the same report.
  const quarantineReport =
    quarantined.length > 0 && reportDir !== undefined
      ? await writeQuarantineReport(reportDir, { jobId, kind: params.kind, period, quarantined })
      : undefined;
  onStep("validated");
  const outcome = { warnings: prepared.warnings, quarantined, findings: prepared.findings };
  if (params.dryRun || store === undefined || params.chain === undefined) {
    await prepared.writer?.abort();
    return {
      status: "dry-run",
      ...prepared.summary,
      manifest: prepared.manifest,
      ...outcome,
      elapsedMs: Date.now() - started,
    };
  }
  const artifact = await commitArtifact(prepared, store.dataKey);
  onStep("artifact-written");
  const job = jobFromArtifact(artifact);
  await store.putJob(job);
  onStep("job-prepared");
  const ctx = { ...params, store, chain: params.chain, log, onStep, started };
  // The staged tiles (or, without them, the columns) go to the tiles step, which then lets go of
  // them (a box it empties), and the keys and the writer are dropped here: nothing the size of
  // the batch stays reachable during the receipt locators.
  const built = { columns: prepared.sumColumns };
  delete prepared.sumColumns;
  delete prepared.keysBytes;
  prepared.writer = undefined;
  const result = await finishJob(ctx, job, artifact, false, built);
  const v2 = prepared.summary.v2;
  return {
    ...result,
    ...(v2 !== undefined ? { v2 } : {}),
    ...outcome,
    ...(quarantineReport !== undefined ? { quarantineReport } : {}),
  };
}

/** Checks the options that need no input read: a correction's pair, a chain and store, the period. */
function checkJobParams(params: RunAnchorJobParams): {
  supersedes: number | null;
  reason: string | null;
  period: string;
} {
  const supersedes = params.supersedes ?? null;
  const reason = params.reason ?? null;
  if ((supersedes === null) !== (reason === null)) {
    throw new InvalidInputError("--supersedes and --reason go together", {
      details:
        "a correction names the batch it corrects and a reason code, e.g. --supersedes 4 --reason late-payment",
      code: "anchor.supersedes.reason",
    });
  }
  if (!params.dryRun && (params.chain === undefined || params.store === undefined)) {
    throw new InvalidInputError("anchoring needs a chain and a store", {
      details: "give --rpc, --contract and a signer, or use --dry-run",
      code: "anchor.chain.missing",
    });
  }
  const period = params.period;
  try {
    periodToNumber(period);
  } catch {
    throw new InvalidInputError(`invalid --period ${JSON.stringify(period)}`, {
      details: "use the Jalali year and month as YYYY-MM, e.g. 1403-07",
      code: "anchor.period",
    });
  }
  return { supersedes, reason, period };
}

/** The job's identity: the inputs' bytes and every option that changes what is anchored. */
function jobIdOf(
  params: RunAnchorJobParams,
  p: { supersedes: number | null; reason: string | null; period: string },
): Promise<string> {
  return computeJobId({
    inputs: params.inputs,
    kind: params.kind,
    period: p.period,
    supersedes: p.supersedes,
    reason: p.reason,
    options: {
      encoding: params.encoding,
      province: params.province,
      ...(params.strict === true ? { strict: "true" } : {}),
      ...(params.personKeying !== undefined
        ? { scheme: "shafaf-tree/2", vrfKeyId: params.personKeying.vrfKeyId }
        : {}),
    },
    registers: params.workshopProvinces === undefined ? [] : [params.workshopProvinces],
  });
}

/**
 * A job that got as far as a committed artifact is finished, not started again (an abandoned
 * one is reopened with the current signer); otherwise the way is cleared for a new one.
 */
async function resumeExistingJob(
  ctx: FinishContext,
  jobId: string,
  period: string,
): Promise<AnchorJobResult | undefined> {
  const { store, log } = ctx;
  await bindToChain(store, ctx.chain);
  const existing = await findExistingJob(store, jobId);
  if (existing?.job.state === "abandoned") {
    // Same inputs, same artifact, same idempotency key: starting over can never anchor twice.
    await refuseUnfinishedJobs(store, jobId, ctx.kind, period);
    log.info(
      `job ${jobId.slice(0, 12)}… was abandoned; starting it over with the current signer (same artifact and idempotency key)`,
    );
    existing.job = { ...existing.job, state: "prepared" };
    await store.putJob(existing.job);
  }
  if (existing !== undefined) return finishJob(ctx, existing.job, existing.artifact, true);
  await refuseUnfinishedJobs(store, jobId, ctx.kind, period);
  await removeStaleArtifactTemps(store.batchesDir, jobId);
  return undefined;
}

/**
 * Validate, hash and (unless a dry run) stream the artifact. Per list: a first reading that finds
 * faulty lists is followed by a second that leaves them out (deterministic: the same inputs
 * quarantine the same lists, so a re-run finds the same job).
 */
async function readInputs(base: Omit<Parameters<typeof prepareBatch>[0], "exclude">): Promise<{
  prepared: Exclude<Awaited<ReturnType<typeof prepareBatch>>, { status: "quarantine" }>;
  quarantined: QuarantinedList[];
}> {
  const first = await prepareBatch({ ...base, exclude: undefined });
  if (first.status !== "quarantine") return { prepared: first, quarantined: [] };
  base.log.info?.(
    `${first.quarantined.length} list(s) quarantined; reading the inputs again without them`,
  );
  const second = await prepareBatch({ ...base, exclude: first.exclude });
  if (second.status === "quarantine")
    throw new ShafafError("a second pass found new faulty lists; the inputs changed while read", {
      code: "anchor.inputs.changed",
      details: "run the command again on inputs that nobody is writing to",
    });
  return { prepared: second, quarantined: first.quarantined };
}

/** Makes the artifact durable (v1: the tree; v2: the person keys) and reads it back, checked. */
async function commitArtifact(
  prepared: Extract<Awaited<ReturnType<typeof prepareBatch>>, { status: "prepared" }>,
  dataKey: LedgerStore["dataKey"],
): Promise<BatchArtifact> {
  const summary = prepared.summary;
  const v2 = summary.v2;
  const { dir } = await prepared.writer!.commit({
    manifestBytes: prepared.manifestBytes,
    ...(v2 === undefined ? { tree: prepared.treeBytes! } : { keys: prepared.keysBytes! }),
    descriptor: {
      ...(v2 !== undefined
        ? { scheme: "shafaf-tree/2", vrfKeyId: v2.vrfKeyId, lanes: v2.lanes.map(String) }
        : {}),
      kind: summary.kind,
      period: summary.period,
      recordCount: summary.recordCount,
      total: summary.total.toString(),
      root: summary.root,
      manifestHash: summary.manifestHash,
      idempotencyKey: summary.idempotencyKey,
      supersedes: summary.supersedes,
      reason: summary.reason,
      createdAt: new Date().toISOString(),
    },
  });
  const artifact = await readBatchArtifact(dir, { dataKey });
  if (artifact === undefined)
    throw new ShafafError(`the artifact in ${dir} vanished after it was written`);
  return artifact;
}

/**
 * The data directory belongs to one history of one chain: its jobs, batch ids and receipts mean
 * nothing on a chain restarted with a new genesis (batch ids restart at 1, so a finished job
 * would look `alreadyComplete` and a new batch would take an old batch's id).
 */
async function bindToChain(store: LedgerStore, chain: AnchorChain): Promise<void> {
  const genesisHash = await chain.genesisHash();
  const bound = await store.getChainBinding();
  if (bound?.genesisHash !== undefined) {
    assertSameChain(
      { chainId: bound.chainId, genesisHash: bound.genesisHash },
      { chainId: chain.chainId, genesisHash },
      {
        subject: `the data directory ${store.dataDir}`,
        fix: "Its batches and receipts belong to that chain: point --rpc at it, or anchor into another --data-dir (nothing was sent).",
        codePrefix: "anchor",
      },
    );
  }
  await store.bindChain({ chainId: chain.chainId, contract: chain.contract, genesisHash });
}

function jobFromArtifact(artifact: BatchArtifact): JobRecord {
  const d = artifact.descriptor;
  return {
    format: "shafaf-job/1",
    jobId: d.jobId,
    state: "prepared",
    kind: d.kind,
    period: d.period,
    root: d.root,
    manifestHash: d.manifestHash,
    idempotencyKey: d.idempotencyKey,
    recordCount: d.recordCount,
    total: d.total,
    supersedes: d.supersedes,
    reason: d.reason,
    createdAt: d.createdAt,
    ...(d.scheme === "shafaf-tree/2"
      ? { scheme: d.scheme, lanes: [...(d.lanes ?? [])], vrfKeyId: d.vrfKeyId ?? "" }
      : {}),
  };
}

/** The job of `jobId` if it got as far as a committed artifact (with or without its job record). */
async function findExistingJob(
  store: LedgerStore,
  jobId: string,
): Promise<{ job: JobRecord; artifact: BatchArtifact } | undefined> {
  const artifact = await readBatchArtifact(path.join(store.batchesDir, jobId), {
    dataKey: store.dataKey,
  });
  const job = await store.getJob(jobId);
  if (artifact === undefined) {
    if (job !== undefined) {
      throw new ShafafError(
        `job ${jobId} is recorded but its artifact is missing from ${store.batchesDir}`,
        {
          details: "restore the data directory from its backup",
          code: "anchor.artifact.missing",
        },
      );
    }
    return undefined;
  }
  if (job === undefined) {
    // Killed between committing the artifact and recording the job: adopt the artifact.
    const adopted = jobFromArtifact(artifact);
    await store.putJob(adopted);
    return { job: adopted, artifact };
  }
  return { job, artifact };
}

/** A new job must not start while another job of the same kind and period is in flight. */
async function refuseUnfinishedJobs(
  store: LedgerStore,
  jobId: string,
  kind: RecordKind,
  period: string,
): Promise<void> {
  for (const other of await store.listJobs()) {
    if (other.jobId === jobId || other.kind !== kind || other.period !== period) continue;
    if (other.state === "complete" || other.state === "prepared" || other.state === "abandoned")
      continue;
    throw new InvalidInputError(
      `another ${kind} batch for ${period} is being anchored (job ${other.jobId.slice(0, 12)}…, ${other.state})`,
      {
        details:
          "run its original command again to finish it first; then anchor these inputs. " +
          `\`shafaf jobs show ${other.jobId.slice(0, 12)} --rpc URL\` says where it is; a job whose transaction can never be mined can be given up with \`shafaf jobs abandon\``,
        code: "anchor.job.unfinished",
      },
    );
  }
}

interface FinishContext extends RunAnchorJobParams {
  store: LedgerStore;
  chain: AnchorChain;
  log: AnchorLog;
  onStep: (step: AnchorStep) => void;
  started: number;
}

/** Drives a job with a committed artifact from its recorded state to `complete`. */
async function finishJob(
  ctx: FinishContext,
  initial: JobRecord,
  artifact: BatchArtifact,
  resumed: boolean,
  /**
   * v2: the tiles this run staged while folding (or the columns it folded), for the tiles step
   * (a resumed job reads the artifact); emptied once the tiles are written.
   */
  built?: { columns: PreparedBatch["sumColumns"] },
): Promise<Extract<AnchorJobResult, { status: "anchored" }>> {
  const { store, chain, log, onStep } = ctx;
  let job = initial;
  const alreadyComplete = job.state === "complete";
  if (resumed && !alreadyComplete)
    log.info(`resuming job ${job.jobId.slice(0, 12)}… (${job.state})`);

  if (job.state === "prepared" && resumed) await refuseIfOvertaken(store, job, artifact);
  if (job.state === "prepared" || job.state === "sending") {
    const mined = await sendAndWait(ctx, job);
    job = {
      ...job,
      state: "anchored",
      txHash: mined.txHash,
      batchId: mined.batchId,
      blockNumber: mined.blockNumber,
      blockHash: mined.blockHash,
      anchoredAt: mined.anchoredAt,
    };
    delete job.rawTx;
    await store.putJob(job);
    onStep("batch-anchored");
  }

  const batch: BatchEntry = {
    format: "shafaf-batch-entry/1",
    batchId: job.batchId!,
    jobId: job.jobId,
    chainId: chain.chainId,
    contract: chain.contract.toLowerCase(),
    kind: job.kind,
    period: job.period,
    root: job.root,
    manifestHash: job.manifestHash,
    idempotencyKey: job.idempotencyKey,
    recordCount: job.recordCount,
    total: job.total,
    supersedes: job.supersedes,
    supersededBy: (await store.getBatch(job.batchId!))?.supersededBy ?? null,
    reason: job.reason,
    txHash: job.txHash!,
    blockNumber: job.blockNumber!,
    blockHash: job.blockHash!,
    anchoredAt: job.anchoredAt!,
    receipts: "on-demand",
    locators: "files",
    ...(job.scheme !== undefined ? { scheme: job.scheme } : {}),
  };

  if (job.state === "anchored") {
    // A v2 batch's tiles (batch-tiles-v1.md): written whole into a temporary folder and renamed,
    // so a kill at any point leaves none or all; a resumed job writes the same bytes (from the
    // artifact's records read again as columns; this run renames the tiles it staged in the
    // artifact's folder when it folded the tree, so the tree is hashed once).
    if (artifact.keys !== undefined) {
      await ensureBatchTiles(artifact, built?.columns);
      if (built !== undefined) built.columns = undefined;
      onStep("tiles-written");
    }
    await writeAllReceiptLocators(ctx, batch, artifact);
    onStep("receipts-written");
    job = {
      ...job,
      state: "complete",
      receiptsWritten: job.recordCount,
      completedAt: new Date().toISOString(),
    };
    await store.completeJob(job, batch);
    onStep("complete");
  }
  const published = await store.publish();
  if (published.migrated.length > 0)
    log.info(
      `wrote the locator tables of ${published.migrated.length} earlier batch(es) for readers (${published.migrated.join(", ")})`,
    );
  if (published.mergeError !== undefined)
    log.info(
      `published without merging the locator tables (the next publish tries again): ${published.mergeError.message}`,
    );
  onStep("published");

  return {
    status: "anchored",
    jobId: job.jobId,
    kind: job.kind,
    period: job.period,
    root: job.root,
    manifestHash: job.manifestHash,
    idempotencyKey: job.idempotencyKey,
    recordCount: job.recordCount,
    total: BigInt(job.total),
    supersedes: job.supersedes,
    reason: job.reason,
    ...(job.scheme === "shafaf-tree/2"
      ? { v2: { lanes: (job.lanes ?? []).map((l) => BigInt(l)), vrfKeyId: job.vrfKeyId ?? "" } }
      : {}),
    batchId: batch.batchId,
    txHash: batch.txHash,
    blockNumber: batch.blockNumber,
    chainId: chain.chainId,
    contract: chain.contract,
    resumed: resumed && !alreadyComplete,
    alreadyComplete,
    quarantined: [],
    findings: [],
    warnings: [],
    elapsedMs: Date.now() - ctx.started,
  };
}

/**
 * A job resumed before anything was signed was validated earlier; since then another job may
 * have anchored some of its record ids (a different file for the same month). Re-check them, so
 * that resuming a stale job never anchors a record twice.
 */
async function refuseIfOvertaken(
  store: LedgerStore,
  job: JobRecord,
  artifact: BatchArtifact,
): Promise<void> {
  let ids: string[] = [];
  const check = async (): Promise<void> => {
    const found = await store.getRecordIds(job.kind, job.period, ids);
    for (const entry of found) {
      if (entry === undefined || entry.batchId === job.supersedes) continue;
      if (((await store.getBatch(entry.batchId))?.supersededBy ?? null) !== null) continue;
      throw new InvalidInputError(
        `job ${job.jobId.slice(0, 12)}… is stale: batch ${entry.batchId} anchored some of its records meanwhile`,
        {
          details:
            "nothing was sent for this job; check the month's batches and anchor a correction if needed",
          code: "anchor.job.overtaken",
        },
      );
    }
    ids = [];
  };
  for (const chunk of artifact.recordKeys())
    for (const recordId of chunk.recordIds) {
      ids.push(recordId);
      if (ids.length >= LOOKUP_CHUNK) await check();
    }
  if (ids.length > 0) await check();
}

/** Sends the job's anchorBatch (or finds the batch it already made) and waits for it. */
async function sendAndWait(ctx: FinishContext, initial: JobRecord): Promise<MinedAnchor> {
  const { store, chain, log, onStep } = ctx;
  const confirmations = ctx.confirmations ?? 1;
  let job = initial;
  const sign = (): ReturnType<AnchorChain["signAnchor"]> => signAnchorOf(chain, job);
  const adopt = async (batchId: number): Promise<MinedAnchor> => {
    const found = await chain.findAnchor(batchId);
    if (found.root !== job.root || found.idempotencyKey !== job.idempotencyKey) {
      throw new ShafafError(`batch ${batchId} on chain does not match job ${job.jobId}`, {
        code: "anchor.chain.mismatch",
      });
    }
    log.info(`the batch was already anchored as batch ${batchId}; finishing its receipts`);
    return found;
  };

  for (let attempt = 0; attempt < 5; attempt++) {
    const existing = await chain.batchIdOfIdempotencyKey(job.idempotencyKey);
    if (existing !== 0) return adopt(existing);

    if (job.state === "sending" && job.rawTx !== undefined && job.txHash !== undefined) {
      const signer = job.signer ?? decodeSignedTx(job.rawTx).signer;
      if (signer.toLowerCase() !== chain.account.toLowerCase()) {
        // Signed by another account (e.g. one without gas money). Re-broadcasting those bytes
        // cannot help the current signer; if the node neither mined nor holds them, sign again.
        // Safe: the new transaction has the same idempotency key, so at most one is ever anchored.
        const status = await chain.transactionStatus(job.txHash);
        if (status.status === "unknown") {
          log.info(
            `the stored transaction ${job.txHash} was signed by ${signer} and the node does not know it; signing again with ${chain.account} (same idempotency key)`,
          );
          job = { ...job, state: "prepared" };
          delete job.rawTx;
          delete job.txHash;
          delete job.signer;
          await store.putJob(job);
        }
      }
    }
    if (job.state !== "sending" || job.rawTx === undefined || job.txHash === undefined) {
      const signed = await sign();
      if ("existing" in signed) return adopt(signed.existing);
      job = {
        ...job,
        state: "sending",
        rawTx: signed.rawTx,
        txHash: signed.txHash,
        signer: chain.account,
      };
      await store.putJob(job);
      onStep("tx-signed");
    }
    const sent = await chain.broadcast(job.rawTx!, job.txHash!);
    if (sent === "stale") {
      job = { ...job, state: "prepared" };
      delete job.rawTx;
      delete job.txHash;
      delete job.signer;
      await store.putJob(job);
      continue; // the nonce went to another transaction: sign again (the key still guards)
    }
    onStep("tx-sent");
    log.info(`sent ${job.txHash}; waiting for ${confirmations} confirmation(s)`);
    const mined = await chain.waitForAnchor(job.txHash!, confirmations, {
      ...(ctx.waitTimeoutMs !== undefined ? { timeoutMs: ctx.waitTimeoutMs } : {}),
    });
    if (mined === undefined || "reverted" in mined) {
      // Dropped, or reverted (e.g. a duplicate of a copy that was mined first): look again.
      const again = await chain.batchIdOfIdempotencyKey(job.idempotencyKey);
      if (again !== 0) return adopt(again);
      job = { ...job, state: "prepared" };
      delete job.rawTx;
      delete job.txHash;
      delete job.signer;
      await store.putJob(job);
      if (mined !== undefined) {
        const signed = await sign(); // surfaces the contract's reason
        if ("existing" in signed) return adopt(signed.existing);
        throw new ShafafError(`the anchoring transaction reverted`, {
          code: "anchor.chain.reverted",
        });
      }
      continue;
    }
    onStep("tx-mined");
    if (mined.root !== job.root || mined.idempotencyKey !== job.idempotencyKey) {
      throw new ShafafError(`the mined batch ${mined.batchId} does not match job ${job.jobId}`, {
        code: "anchor.chain.mismatch",
      });
    }
    return mined;
  }
  throw new ShafafError("could not get the anchoring transaction mined after 5 attempts", {
    details: "run the same command again; check the signer's pending transactions",
    retryable: true,
    code: "anchor.chain.attempts",
  });
}

/** Signs the job's anchoring: `anchorBatchV2` for a `shafaf-tree/2` batch, else `anchorBatch`. */
function signAnchorOf(chain: AnchorChain, job: JobRecord): ReturnType<AnchorChain["signAnchor"]> {
  const common = {
    root: job.root,
    kind: KIND_NUMBER[job.kind],
    period: periodToNumber(job.period),
    manifestHash: job.manifestHash,
    supersedes: job.supersedes ?? 0,
    idempotencyKey: job.idempotencyKey,
  };
  if (job.scheme === "shafaf-tree/2") {
    if (job.lanes === undefined || job.vrfKeyId === undefined)
      throw new ShafafError(
        `job ${job.jobId} is a shafaf-tree/2 job without its lanes or VRF key id`,
        {
          details: "the job record is damaged: restore the data directory from its backup",
          code: "anchor.job.v2",
        },
      );
    return chain.signAnchorV2({
      ...common,
      totals: job.lanes.map((l) => BigInt(l)),
      vrfKeyId: job.vrfKeyId,
    });
  }
  return chain.signAnchor({
    ...common,
    recordCount: job.recordCount,
    totalAmount: BigInt(job.total),
  });
}

/**
 * Writes the batch's locator tables (`receipts.loc`, `subjects.loc`: code → line, subject →
 * lines; docs/spec/locators-v1.md) into its artifact folder, and the record-id index (the
 * duplicate check) into the ledger store, from one reading of the artifact; idempotent. Nothing
 * per receipt is built or stored: the receipt is assembled from the artifact when asked for
 * (`src/store/receipt-assembler.ts`).
 */
async function writeAllReceiptLocators(
  ctx: FinishContext,
  batch: BatchEntry,
  artifact: BatchArtifact,
): Promise<void> {
  const { store, log } = ctx;
  if (artifact.descriptor.root !== batch.root) {
    throw new ShafafError(
      `the artifact's tree has root ${artifact.descriptor.root}, the batch ${batch.root}`,
      { code: "anchor.artifact.root" },
    );
  }
  let written = 0;
  let partialSignalled = false;
  await writeBatchLocators(artifact, store.dataKey, async (records) => {
    await store.writeRecordIds(batch, records);
    written += records.length;
    log.progress("receipts", written, batch.recordCount);
    if (!partialSignalled && written < batch.recordCount) {
      partialSignalled = true;
      ctx.onStep("receipts-partial");
    }
  });
}
