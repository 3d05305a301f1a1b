/**
 * The view logic: how one decoded ledger event changes the index store's views. Pure over the
 * write transaction (every read and write goes through `tx`), so the store's per-block undo
 * records capture every change and a rollback restores the views exactly.
 *
 * Invariants kept here:
 * - a period stat and its province stats sum the CURRENT (not superseded) batches only; a batch's
 *   contribution is added when anchored and subtracted when superseded, with exact bigint Rials;
 * - provincial figures come only from manifests whose hash matched the chain (`verified`);
 * - status precedence: superseded > disputed (any current dispute) > attested (≥ 1 confirmation) > anchored.
 */
import { ChainDataError } from "../chain/errors.ts";
import { ROLE_NAMES, type LedgerEvent } from "../chain/ledger-events.ts";
import { recordKindOfNumber } from "../core/kinds/record-kinds.ts";
import { nextLogHead, nextLogHeadV2 } from "../core/log-head.ts";
import { KIND_NUMBER, type RecordKind } from "../core/record.ts";
import {
  hexKey,
  type BatchStatus,
  type BatchView,
  type ChainEvent,
  type IndexWriteTx,
  type LogState,
  type PeriodStat,
  type ProvinceStat,
  type RoleMember,
  type VrfKeyView,
} from "../store/index-store.ts";
import type { CheckedManifest } from "./manifest-view.ts";

export interface ApplyContext {
  tx: IndexWriteTx;
  /** The log state, updated in place; the caller writes it back. */
  state: LogState;
  /** Block timestamp of the event's block. */
  timestamp: number;
  /** For BatchAnchored and BatchAnchoredV2: the checked manifest and the validators that sealed the block. */
  manifest?: CheckedManifest;
  sealedBy?: string[];
  /** Alarms and oddities (no personal data: events carry none). */
  warn(message: string): void;
}

/**
 * Applies one event to the views. Synchronous: every read is from the range's transaction
 * (`tx.peek`), so a range of thousands of events runs without a promise per event.
 *
 * @example
 * for (const event of events) applyLedgerEvent(event, { tx, state, timestamp, warn });
 */
export function applyLedgerEvent(event: LedgerEvent, ctx: ApplyContext): void {
  const { tx, state } = ctx;
  switch (event.type) {
    case "BatchAnchored":
    case "BatchAnchoredV2": {
      if (event.batchId !== state.batchCount + 1) {
        ctx.warn(
          `batch ids jump from ${state.batchCount} to ${event.batchId} at block ${event.blockNumber}: events are missing`,
        );
        state.headCheck = {
          ...state.headCheck,
          status: "mismatch",
          detail: `${event.type} ${event.batchId} follows batch ${state.batchCount}`,
        };
      }
      state.recomputedHead =
        event.type === "BatchAnchored"
          ? nextLogHead(state.recomputedHead, event)
          : nextLogHeadV2(state.recomputedHead, event);
      if (state.recomputedHead !== event.headAfter && event.batchId === state.batchCount + 1) {
        ctx.warn(
          `batch ${event.batchId}: recomputed head ${state.recomputedHead} differs from the event's headAfter ${event.headAfter}`,
        );
      }
      state.batchCount = Math.max(state.batchCount, event.batchId);
      const manifest = ctx.manifest ?? { status: "missing" };
      const { people: _people, ...manifestView } = manifest;
      const view: BatchView = {
        batchId: event.batchId,
        kind: kindOfNumber(event.kind),
        period: formatPeriod(event.period),
        root: event.root,
        ...(event.type === "BatchAnchored"
          ? { recordCount: event.recordCount, total: event.totalAmount.toString() }
          : { recordCount: laneCount(event.totals[0]!), total: event.totals[4]!.toString() }),
        manifestHash: event.manifestHash,
        idempotencyKey: event.idempotencyKey,
        headAfter: event.headAfter,
        anchorer: event.anchorer,
        anchoredAt: ctx.timestamp,
        txHash: event.transactionHash,
        blockNumber: event.blockNumber,
        blockHash: event.blockHash,
        supersedes: event.supersedes === 0 ? null : event.supersedes,
        supersededBy: null,
        status: "anchored",
        attestations: [],
        manifest: manifestView,
        ...(ctx.sealedBy === undefined ? {} : { sealedBy: ctx.sealedBy }),
        ...(event.type === "BatchAnchored"
          ? {}
          : {
              scheme: "shafaf-tree/2" as const,
              totals: event.totals.map(String),
              vrfKeyId: event.vrfKeyId,
            }),
      };
      const existing = tx.peek<BatchView>("batches", hexKey(event.batchId));
      if (existing !== undefined) {
        ctx.warn(
          `batch ${event.batchId} anchored twice (blocks ${existing.blockNumber}, ${event.blockNumber})`,
        );
        return;
      }
      tx.put("batches", hexKey(event.batchId), view);
      addContribution(tx, view, manifest.people, 1n);
      return;
    }

    case "VrfKeyRegistered": {
      const key = hexKey(event.index);
      const existing = tx.peek<VrfKeyView>("vrfKeys", key);
      if (existing !== undefined) {
        ctx.warn(
          `VRF key index ${event.index} registered twice (blocks ${existing.registeredAtBlock}, ${event.blockNumber})`,
        );
        return;
      }
      const view: VrfKeyView = {
        keyId: event.keyId,
        publicKey: event.publicKey,
        index: event.index,
        registrar: event.registrar,
        registeredAtBlock: event.blockNumber,
        registeredAt: ctx.timestamp,
        txHash: event.transactionHash,
      };
      tx.put("vrfKeys", key, view);
      return;
    }

    case "BatchSuperseded": {
      const old = tx.peek<BatchView>("batches", hexKey(event.batchId));
      if (old === undefined) {
        ctx.warn(`BatchSuperseded names unknown batch ${event.batchId}`);
        return;
      }
      if (old.supersededBy !== null) {
        ctx.warn(
          `batch ${event.batchId} superseded twice (${old.supersededBy}, ${event.supersededBy})`,
        );
        return;
      }
      const updated: BatchView = { ...old, supersededBy: event.supersededBy };
      updated.status = statusOf(updated);
      tx.put("batches", hexKey(event.batchId), updated);
      addContribution(tx, old, peopleOf(tx, old), -1n);
      return;
    }

    case "BatchAttested": {
      const batch = tx.peek<BatchView>("batches", hexKey(event.batchId));
      if (batch === undefined) {
        ctx.warn(`BatchAttested names unknown batch ${event.batchId}`);
        return;
      }
      const entry = {
        auditor: event.auditor,
        verdict: event.verdict === 1 ? ("confirmed" as const) : ("disputed" as const),
        reportHash: event.reportHash,
        txHash: event.transactionHash,
        blockNumber: event.blockNumber,
      };
      const attestations = batch.attestations.filter((a) => a.auditor !== event.auditor);
      attestations.push(entry);
      const updated: BatchView = { ...batch, attestations };
      updated.status = statusOf(updated);
      tx.put("batches", hexKey(event.batchId), updated);
      return;
    }

    case "RoleGranted":
    case "RoleRevoked": {
      const key = `${event.role}!${event.account}`;
      if (event.type === "RoleGranted") {
        const member: RoleMember = {
          role: event.role,
          roleName: ROLE_NAMES.get(event.role) ?? null,
          account: event.account,
          grantedAtBlock: event.blockNumber,
        };
        tx.put("roles", key, member);
      } else {
        tx.del("roles", key);
      }
      putEvent(tx, event, {
        role: event.role,
        roleName: ROLE_NAMES.get(event.role) ?? null,
        account: event.account,
        sender: event.sender,
      });
      return;
    }

    case "RoleAdminChanged":
      putEvent(tx, event, {
        role: event.role,
        previousAdminRole: event.previousAdminRole,
        newAdminRole: event.newAdminRole,
      });
      return;

    case "Paused":
    case "Unpaused":
      state.paused = event.type === "Paused";
      putEvent(tx, event, { account: event.account });
      return;

    case "DefaultAdminTransferScheduled":
      putEvent(tx, event, { newAdmin: event.newAdmin, acceptSchedule: event.acceptSchedule });
      return;

    case "DefaultAdminDelayChangeScheduled":
      putEvent(tx, event, { newDelay: event.newDelay, effectSchedule: event.effectSchedule });
      return;

    case "DefaultAdminTransferCanceled":
    case "DefaultAdminDelayChangeCanceled":
      putEvent(tx, event, {});
      return;

    // The ledger log's checkpoints and the trust policy: public facts, listed with the
    // governance events (no view is derived from them; the head formula is unchanged).
    case "LogCheckpointRecorded":
      putEvent(tx, event, {
        size: event.size,
        root: event.root,
        previousSize: event.previousSize,
        recorder: event.recorder,
      });
      return;

    case "TrustPolicySet":
      putEvent(tx, event, {
        policyHash: event.policyHash,
        previous: event.previous,
        admin: event.admin,
      });
      return;
  }
}

/** superseded > disputed > attested > anchored. */
export function statusOf(batch: Pick<BatchView, "supersededBy" | "attestations">): BatchStatus {
  if (batch.supersededBy !== null) return "superseded";
  if (batch.attestations.some((a) => a.verdict === "disputed")) return "disputed";
  if (batch.attestations.some((a) => a.verdict === "confirmed")) return "attested";
  return "anchored";
}

/**
 * A v2 batch's records lane as a number: the contract takes a uint128 but a batch's records are
 * leaves of one tree, far below 2^53; anything above is an impossible batch, refused loudly.
 */
function laneCount(records: bigint): number {
  if (records > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ChainDataError(`BatchAnchoredV2: records lane ${records} exceeds 2^53`, {
      code: "chain.event.decode",
    });
  }
  return Number(records);
}

/** 140307 → "1403-07". */
export function formatPeriod(period: number): string {
  return `${Math.floor(period / 100)}-${String(period % 100).padStart(2, "0")}`;
}

function putEvent(tx: IndexWriteTx, event: LedgerEvent, args: ChainEvent["args"]): void {
  const value: ChainEvent = {
    type: event.type as ChainEvent["type"],
    blockNumber: event.blockNumber,
    logIndex: event.logIndex,
    txHash: event.transactionHash,
    args,
  };
  tx.put(
    "events",
    `${hexKey(event.blockNumber)}!${event.logIndex.toString(16).padStart(8, "0")}`,
    value,
  );
}

/** `people` of a batch's verified manifest is kept beside the views so it can be subtracted later. */
function peopleOf(tx: IndexWriteTx, batch: BatchView): number | undefined {
  return tx.peek<number>("meta", `people!${hexKey(batch.batchId)}`);
}

function addContribution(
  tx: IndexWriteTx,
  batch: BatchView,
  people: number | undefined,
  sign: 1n | -1n,
): void {
  const p = batch.period.replace("-", "");
  const k = KIND_NUMBER[batch.kind];
  const n = Number(sign);
  if (sign === 1n && people !== undefined)
    tx.put("meta", `people!${hexKey(batch.batchId)}`, people);

  const statKey = `${p}!${k}`;
  // a copy: the transaction's values are frozen
  const stat: PeriodStat = {
    ...(tx.peek<PeriodStat>("periods", statKey) ?? {
      period: batch.period,
      kind: batch.kind,
      batches: 0,
      recordCount: 0,
      total: "0",
      corrections: 0,
    }),
  };
  stat.batches += n;
  stat.recordCount += n * batch.recordCount;
  stat.total = (BigInt(stat.total) + sign * BigInt(batch.total)).toString();
  if (batch.supersedes !== null) stat.corrections += n;
  if (people !== undefined) stat.people = (stat.people ?? 0) + n * people;
  const m = batch.manifest;
  if (m.status === "verified" && m.onTime !== undefined)
    stat.onTime = (stat.onTime ?? 0) + n * m.onTime;
  if (m.status === "verified" && m.late !== undefined) stat.late = (stat.late ?? 0) + n * m.late;
  if (stat.batches === 0) tx.del("periods", statKey);
  else tx.put("periods", statKey, stat);

  if (m.status !== "verified" || m.byProvince === undefined) return;
  for (const [province, cell] of Object.entries(m.byProvince)) {
    const key = `${p}!${k}!${province}`;
    const row: ProvinceStat = {
      ...(tx.peek<ProvinceStat>("provinces", key) ?? {
        period: batch.period,
        kind: batch.kind,
        province,
        count: 0,
        total: "0",
      }),
    };
    row.count += n * cell.count;
    row.total = (BigInt(row.total) + sign * BigInt(cell.total)).toString();
    if (row.count === 0 && row.total === "0") tx.del("provinces", key);
    else tx.put("provinces", key, row);
  }
}

// the two kinds every batch so far has (looked up once, not per event)
const PREMIUM = recordKindOfNumber(0);
const PENSION = recordKindOfNumber(1);

/** The kind of a decoded event's kind number (the decoder refuses numbers the contract has not). */
function kindOfNumber(n: number): RecordKind {
  const kind = n === 0 ? PREMIUM : n === 1 ? PENSION : recordKindOfNumber(n);
  if (kind === undefined)
    throw new ChainDataError(`kind ${n} is not a record kind`, { code: "indexer.event.kind" });
  return kind;
}
