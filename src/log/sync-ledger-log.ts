/**
 * The ledger log is derived from chain state: entry i is the log entry (docs/spec/log-entry-v1.md)
 * of batch i + 1. `syncLedgerLog` brings a log up to the anchored batches it is given, appending
 * only batches beyond the log's size and refusing when an entry already logged differs from the
 * batch the chain now shows (a fork: the log never rewrites).
 */
import { InvariantError } from "../core/errors.ts";
import { ledgerLogEntry, type LedgerLogBatch } from "../core/ledger-log-entry.ts";
import type { TiledLog } from "./tiled-log.ts";
import { cosignCheckpoint, type CosignOutcome, type WitnessEndpoint } from "./witness-client.ts";

export interface SyncLedgerLogResult {
  /** Entries appended by this call. */
  appended: number;
  /** The log's size after the call. */
  size: number;
  /**
   * The first batch id that could not be logged because an earlier one is missing from `batches`
   * (the log is in batch-id order, without gaps); undefined when every batch given is logged.
   */
  waitingBefore?: number;
  /** The checkpoint note now served (cosigned when witnesses answered); undefined for an empty log. */
  checkpoint?: string;
  /** One outcome per witness asked (empty when nothing was appended or no witness is configured). */
  cosign: CosignOutcome[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * Appends to `log` the entries of the anchored `batches` (any order; batch ids from 1) beyond its
 * size, signs a checkpoint when it grew (or when none was written yet), and, when `witnesses` are
 * given, asks them to cosign it and publishes the cosigned note. Idempotent: a second call with
 * the same batches appends nothing and signs nothing.
 *
 * Throws `InvariantError` (code `log.fork`) when a logged entry differs from its batch.
 *
 * @example
 * const r = await syncLedgerLog({ log, batches, witnesses, knownSizes: new Map() });
 */
export async function syncLedgerLog(options: {
  log: TiledLog;
  batches: readonly LedgerLogBatch[];
  witnesses?: readonly WitnessEndpoint[];
  /** Witness name → size it last cosigned; kept by the caller between calls. */
  knownSizes?: Map<string, number>;
  timeoutMs?: number;
}): Promise<SyncLedgerLogResult> {
  const { log } = options;
  const byId = new Map<number, LedgerLogBatch>();
  for (const b of options.batches) byId.set(b.batchId, b);
  // Existing entries must be exactly the chain's batches.
  const size = log.size();
  for (let i = 0; i < size; i++) {
    const batch = byId.get(i + 1);
    if (batch === undefined) continue;
    if (!sameBytes(log.entry(i), ledgerLogEntry(batch))) {
      throw new InvariantError(
        `the log's entry ${i} differs from batch ${i + 1} as the chain now shows it`,
        {
          code: "log.fork",
          details:
            "the log is append-only and never rewritten: find out why the chain's batch changed (a reorganization deeper than the confirmations, or another contract) before logging again",
        },
      );
    }
  }
  const fresh: Uint8Array[] = [];
  let next = size + 1;
  for (; byId.has(next); next++) fresh.push(ledgerLogEntry(byId.get(next)!));
  const highest = Math.max(0, ...byId.keys());
  const waitingBefore = highest > next ? next : undefined;
  if (fresh.length > 0) await log.append(fresh);
  let checkpoint = await log.checkpoint();
  let cosign: CosignOutcome[] = [];
  if (fresh.length > 0 || (checkpoint === undefined && log.size() > 0)) {
    checkpoint = await log.signCheckpoint();
    const witnesses = options.witnesses ?? [];
    if (witnesses.length > 0) {
      const newSize = log.size();
      const r = await cosignCheckpoint({
        note: checkpoint,
        size: newSize,
        witnesses,
        knownSizes: options.knownSizes ?? new Map<string, number>(),
        proofFrom: (old) => log.consistencyProof(old, newSize),
        ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      });
      cosign = r.outcomes;
      checkpoint = r.note;
      await log.publishCheckpoint(checkpoint);
    }
  }
  return {
    appended: fresh.length,
    size: log.size(),
    ...(waitingBefore === undefined ? {} : { waitingBefore }),
    ...(checkpoint === undefined ? {} : { checkpoint }),
    cosign,
  };
}
