/**
 * One round of the log monitor: read every source's latest checkpoint (each log prefix, each
 * witness of the trust policy, optionally the chain), verify signatures against the policy, check
 * that every checkpoint is a consistent extension of the last one seen (proofs computed from the
 * log's tiles), and report alarms. The round never throws: what it could not read is a problem
 * ("could not check"), what it found wrong an alarm.
 *
 * Alarm kinds (stable, also the `kind` label of the metrics):
 * - `split-view`: two checkpoints of one origin that cannot both be true — the same size with
 *   different roots, a consistency proof that fails, or tiles that do not hash to the signed root;
 * - `rollback`: a source serves a smaller checkpoint than it served before (kept across restarts);
 * - `signature`: a checkpoint not signed by the policy's log key, or a bad cosignature;
 * - `quorum`: a log serves a checkpoint without the policy's quorum of cosignatures;
 * - `stale-witness`: a witness behind the log by more than `maxWitnessLag`, or behind and its
 *   latest cosignature older than `maxWitnessAgeSeconds`;
 * - `stale-log`: the chain has more batches than the log has entries, for `staleLogAfterSeconds`;
 * - `chain-mismatch`: the log has more entries than the chain has batches;
 * - `role-change`: a RoleGranted or RoleRevoked event on the ledger since the last round.
 */
import { decodeBase64, encodeBase64 } from "../core/base64.ts";
import { openCheckpoint, type Checkpoint } from "../core/checkpoint.ts";
import { consistencyProof, EMPTY_ROOT, rootHash, verifyConsistency } from "../core/rfc6962.ts";
import {
  LOG_ENTRY_FORMAT,
  parseLedgerLogEntry,
  type LedgerLogEntry,
} from "../core/ledger-log-entry.ts";
import { cosignatureTimestamp } from "../core/signed-note.ts";
import { quorumSatisfied, type TrustPolicy } from "../core/tlog-policy.ts";
import type { MonitorState } from "./monitor-state.ts";
import { fetchText, remoteTree, witnessCheckpointUrl, type RemoteTree } from "./remote-log.ts";

export type AlarmKind =
  | "split-view"
  | "rollback"
  | "signature"
  | "quorum"
  | "stale-witness"
  | "stale-log"
  | "chain-mismatch"
  | "role-change";

export const ALARM_KINDS: readonly AlarmKind[] = [
  "split-view",
  "rollback",
  "signature",
  "quorum",
  "stale-witness",
  "stale-log",
  "chain-mismatch",
  "role-change",
];

export interface Alarm {
  kind: AlarmKind;
  /** `log <url>`, `witness <name>`, `chain`. */
  source: string;
  message: string;
}

export interface SourceReport {
  source: string;
  type: "log" | "witness";
  origin: string;
  /** True when a checkpoint was read and its signatures verified. */
  ok: boolean;
  size?: number;
  rootHash?: string;
  /** Witnesses whose cosignature on the checkpoint verified. */
  cosigners?: string[];
  /** Witnesses: seconds since the latest cosignature. */
  ageSeconds?: number;
  error?: string;
}

export interface RoundResult {
  /** ISO time of the round. */
  at: string;
  /** `alarm` when any alarm, else `unchecked` when anything could not be checked, else `healthy`. */
  status: "healthy" | "alarm" | "unchecked";
  alarms: Alarm[];
  /** What could not be checked (a source down, a proof that could not be computed). */
  problems: string[];
  sources: SourceReport[];
  /** Origin → the last consistent checkpoint after the round. */
  latest: Record<string, { size: number; rootHash: string }>;
  chain?: { block: number; batchCount: number };
}

/** The chain's side, read at one block. */
/** The facts of an anchored batch that its log entry repeats (docs/spec/log-entry-v1.md). */
export interface ChainBatchFacts {
  scheme: "shafaf-tree/1" | "shafaf-tree/2";
  kind: "premium" | "pension";
  /** "1403-07". */
  period: string;
  root: string;
  manifestHash: string;
  idempotencyKey: string;
  supersedes: number | null;
}

export interface ChainReader {
  readonly contract: string;
  chainId(): Promise<number>;
  blockNumber(): Promise<number>;
  batchCount(block: number): Promise<number>;
  batch(batchId: number, block: number): Promise<ChainBatchFacts>;
  /** RoleGranted / RoleRevoked events in `[fromBlock, toBlock]`, in chain order. */
  roleEvents(
    fromBlock: number,
    toBlock: number,
  ): Promise<
    {
      type: "RoleGranted" | "RoleRevoked";
      role: string;
      account: string;
      sender: string;
      blockNumber: number;
    }[]
  >;
}

export interface MonitorOptions {
  policy: TrustPolicy;
  /** Log prefixes serving `checkpoint` and `tile/…` (e.g. `http://127.0.0.1:8080/log`). */
  logs: readonly string[];
  /** Witnesses to read (name as in the policy, monitoring prefix). */
  witnesses: readonly { name: string; url: string }[];
  chain?: ChainReader;
  /** A witness more than this many entries behind the log is stale (default 1). */
  maxWitnessLag?: number;
  /** A witness behind the log whose latest cosignature is older than this is stale (default 3600). */
  maxWitnessAgeSeconds?: number;
  /** The log lagging behind the chain's batch count this long is stale (default 600). */
  staleLogAfterSeconds?: number;
  /** First block to read role events from when the state has none (default: the current block + 1). */
  rolesFromBlock?: number;
  /** Log entries compared with the ledger's batches per round and origin (default 500). */
  maxEntriesPerRound?: number;
  /** A log checkpoint without quorum is read again after this many ms before the alarm (default 2000; 0: never). */
  quorumRetryMs?: number;
  timeoutMs?: number;
  /** POSIX seconds (tests move the clock). */
  now?: () => number;
}

interface Seen {
  source: string;
  type: "log" | "witness";
  checkpoint: Checkpoint;
  note: string;
  tree?: RemoteTree;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * What is wrong with log entry `bytes` as the entry of the ledger batch `want` (undefined when it
 * is exactly that batch's entry, the transaction hash aside: it is not in the contract's state).
 */
function entryMismatch(
  bytes: Uint8Array,
  want: ChainBatchFacts & { chainId: number; contract: string; batchId: number },
): string | undefined {
  let entry: LedgerLogEntry;
  try {
    entry = parseLedgerLogEntry(bytes);
  } catch (error) {
    return `not a ${LOG_ENTRY_FORMAT} entry (${describe(error)})`;
  }
  for (const field of [
    "chainId",
    "contract",
    "batchId",
    "scheme",
    "kind",
    "period",
    "root",
    "manifestHash",
    "idempotencyKey",
    "supersedes",
  ] as const) {
    const a = entry[field];
    const b = typeof want[field] === "string" ? want[field].toLowerCase() : want[field];
    if (a !== b)
      return `the log says ${field} ${JSON.stringify(a)}, the ledger ${JSON.stringify(b)}`;
  }
  return undefined;
}

function describe(error: unknown): string {
  const e = error as { shortMessage?: string; message?: string };
  return e.shortMessage ?? e.message ?? String(error);
}

/**
 * Runs one round against `state` (updated in place: the caller saves it).
 *
 * @example
 * const state = await loadMonitorState("monitor-state.json");
 * const result = await runMonitorRound({ policy, logs: ["http://127.0.0.1:8080/log"], witnesses }, state);
 * await saveMonitorState("monitor-state.json", state);
 */
export async function runMonitorRound(
  options: MonitorOptions,
  state: MonitorState,
): Promise<RoundResult> {
  const { policy } = options;
  const now = (options.now ?? (() => Math.floor(Date.now() / 1000)))();
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxLag = options.maxWitnessLag ?? 1;
  const maxAge = options.maxWitnessAgeSeconds ?? 3600;
  const maxEntries = options.maxEntriesPerRound ?? 500;
  const alarms: Alarm[] = [];
  const problems: string[] = [];
  const reports: SourceReport[] = [];
  const alarm = (kind: AlarmKind, source: string, message: string) =>
    alarms.push({ kind, source, message });
  const logVerifiers = policy.logs.map((l) => l.verifier);
  const origins = [...new Set(logVerifiers.map((v) => v.name))];
  const seen: Seen[] = [];

  const noteRollback = (source: string, origin: string, size: number) => {
    const key = `${source} ${origin}`;
    const before = state.sources[key];
    if (before !== undefined && size < before.size)
      alarm(
        "rollback",
        source,
        `serves ${origin} at size ${size} after serving size ${before.size}: a log or witness never goes back`,
      );
    if (before === undefined || size > before.size) state.sources[key] = { origin, size };
  };

  // 1. The logs' checkpoints. One without quorum is read again after `quorumRetryMs`: the log
  // publishes its own signed checkpoint a few milliseconds before the cosigned one.
  const witnessVerifiers = policy.witnesses.map((w) => w.verifier);
  const readLog = async (url: string) => {
    const note = await fetchText(`${url}/checkpoint`, timeoutMs);
    if (note === undefined) return undefined;
    const opened = openCheckpoint(note, { logVerifiers, otherVerifiers: witnessVerifiers });
    if (!opened.ok) return { note, opened };
    const cosigners = policy.witnesses
      .filter((w) =>
        opened.verified.some((s) => s.name === w.verifier.name && s.keyId === w.verifier.keyId),
      )
      .map((w) => w.name);
    return {
      note,
      opened,
      cosigners,
      quorum: quorumSatisfied(policy, policy.quorum, new Set(cosigners)),
    };
  };
  await Promise.all(
    options.logs.map(async (raw) => {
      const source = `log ${raw}`;
      const url = raw.replace(/\/$/, "");
      let read: Awaited<ReturnType<typeof readLog>>;
      try {
        read = await readLog(url);
        if (read?.quorum === false && (options.quorumRetryMs ?? 2000) > 0) {
          await new Promise((resolve) => setTimeout(resolve, options.quorumRetryMs ?? 2000));
          read = await readLog(url);
        }
      } catch (error) {
        problems.push(`${source}: ${describe(error)}`);
        reports.push({ source, type: "log", origin: "", ok: false, error: describe(error) });
        return;
      }
      if (read === undefined) {
        problems.push(`${source}: no checkpoint (404)`);
        reports.push({ source, type: "log", origin: "", ok: false, error: "no checkpoint" });
        return;
      }
      const { note, opened } = read;
      if (!opened.ok) {
        alarm("signature", source, `the checkpoint does not verify: ${opened.message}`);
        reports.push({ source, type: "log", origin: "", ok: false, error: opened.message });
        return;
      }
      const { checkpoint } = opened;
      const cosigners = read.cosigners ?? [];
      if (read.quorum === false)
        alarm(
          "quorum",
          source,
          `checkpoint of size ${checkpoint.size}: cosigned by ${cosigners.length} witness(es) [${cosigners.join(", ")}]: quorum ${policy.quorum} not met`,
        );
      reports.push({
        source,
        type: "log",
        origin: checkpoint.origin,
        ok: true,
        size: checkpoint.size,
        rootHash: encodeBase64(checkpoint.rootHash),
        cosigners,
      });
      noteRollback(source, checkpoint.origin, checkpoint.size);
      seen.push({
        source,
        type: "log",
        checkpoint,
        note,
        tree: remoteTree(url, checkpoint.size, timeoutMs),
      });
    }),
  );

  // 2. Each witness's latest cosigned checkpoint of each origin.
  const witnessTimes = new Map<string, number | undefined>();
  await Promise.all(
    options.witnesses.flatMap((w) =>
      origins.map(async (origin) => {
        const source = `witness ${w.name}`;
        const pw = policy.witnesses.find((p) => p.name === w.name);
        if (pw === undefined) {
          problems.push(`${source}: not a witness of the policy`);
          return;
        }
        let note: string | undefined;
        try {
          note = await fetchText(witnessCheckpointUrl(w.url, origin), timeoutMs);
        } catch (error) {
          problems.push(`${source}: ${describe(error)}`);
          reports.push({ source, type: "witness", origin, ok: false, error: describe(error) });
          return;
        }
        if (note === undefined) {
          // Cosigned nothing for this origin yet: size 0, judged by the lag below.
          reports.push({ source, type: "witness", origin, ok: true, size: 0 });
          witnessTimes.set(`${source} ${origin}`, undefined);
          return;
        }
        const opened = openCheckpoint(note, {
          logVerifiers,
          otherVerifiers: [pw.verifier],
          origin,
        });
        const mine = opened.ok
          ? opened.verified.find(
              (s) => s.name === pw.verifier.name && s.keyId === pw.verifier.keyId,
            )
          : undefined;
        if (!opened.ok || mine === undefined) {
          const why = opened.ok
            ? "it carries no valid cosignature of this witness"
            : opened.message;
          alarm("signature", source, `its checkpoint of ${origin} does not verify: ${why}`);
          reports.push({ source, type: "witness", origin, ok: false, error: why });
          return;
        }
        const at = cosignatureTimestamp(mine);
        witnessTimes.set(`${source} ${origin}`, at);
        reports.push({
          source,
          type: "witness",
          origin,
          ok: true,
          size: opened.checkpoint.size,
          rootHash: encodeBase64(opened.checkpoint.rootHash),
          cosigners: [w.name],
          ...(at === undefined ? {} : { ageSeconds: Math.max(0, now - at) }),
        });
        noteRollback(source, origin, opened.checkpoint.size);
        seen.push({ source, type: "witness", checkpoint: opened.checkpoint, note });
      }),
    ),
  );

  // 3. Consistency, per origin, against the largest tree a log serves.
  const largestLog = new Map<string, number>();
  /** Origin → the reference log whose tiles hash to its root and with which nothing split. */
  const trusted = new Map<string, Seen>();
  for (const origin of origins) {
    const mine = seen.filter((s) => s.checkpoint.origin === origin);
    const logs = mine.filter((s) => s.type === "log");
    const before = state.origins[origin];
    const candidates: Seen[] = [...mine];
    if (before !== undefined) {
      const rootHashBytes = decodeBase64(before.rootHash)!;
      candidates.push({
        source: `state (last consistent, from ${before.source})`,
        type: "log",
        checkpoint: { origin, size: before.size, rootHash: rootHashBytes, extensions: [] },
        note: before.note,
      });
    }
    if (logs.length === 0) {
      if (mine.length > 0 || before !== undefined)
        problems.push(`${origin}: no log served a checkpoint: consistency not checked`);
      continue;
    }
    const ref = logs.reduce((a, b) => (b.checkpoint.size > a.checkpoint.size ? b : a));
    const T = ref.checkpoint.size;
    largestLog.set(origin, T);
    const splitBefore = alarms.filter((a) => a.kind === "split-view").length;
    let unchecked = false;
    // The reference tiles must hash to the reference's signed root.
    if (T > 0) {
      try {
        const root = await ref.tree!.run((node) => rootHash(T, node));
        if (!sameBytes(root, ref.checkpoint.rootHash)) {
          alarm(
            "split-view",
            ref.source,
            `its tiles hash to another root than its signed checkpoint of size ${T}`,
          );
        }
      } catch (error) {
        problems.push(`${ref.source}: tiles: ${describe(error)}`);
        unchecked = true;
      }
    }
    for (const c of candidates) {
      if (c === ref || unchecked) continue;
      const { size, rootHash: root } = c.checkpoint;
      if (size > T) {
        problems.push(
          `${c.source}: size ${size} is beyond every log's checkpoint (${T}): consistency not checked`,
        );
        continue;
      }
      if (size === T) {
        if (!sameBytes(root, ref.checkpoint.rootHash))
          alarm(
            "split-view",
            c.source,
            `checkpoint of size ${size} has root ${encodeBase64(root)}, ${ref.source} has ${encodeBase64(ref.checkpoint.rootHash)} at the same size`,
          );
        continue;
      }
      if (size === 0) {
        if (!sameBytes(root, EMPTY_ROOT))
          alarm(
            "split-view",
            c.source,
            "a checkpoint of size 0 with another root than the empty tree's",
          );
        continue;
      }
      try {
        const proof = await ref.tree!.run((node) => consistencyProof(size, T, node));
        const r = verifyConsistency(size, T, proof, root, ref.checkpoint.rootHash);
        if (!r.ok)
          alarm(
            "split-view",
            c.source,
            `checkpoint of size ${size} is not consistent with ${ref.source} at size ${T} (${r.failure.code})`,
          );
      } catch (error) {
        problems.push(`${c.source}: consistency with ${ref.source}: ${describe(error)}`);
      }
    }
    const split = alarms.filter((a) => a.kind === "split-view").length > splitBefore;
    if (!split && !unchecked && T > 0) trusted.set(origin, ref);
    if (!split && !unchecked && (before === undefined || T >= before.size)) {
      state.origins[origin] = {
        size: T,
        rootHash: encodeBase64(ref.checkpoint.rootHash),
        note: ref.note,
        source: ref.source,
      };
    }
  }

  // 4. Stale witnesses: behind the largest tree known by more than maxLag, or behind and old.
  for (const r of reports) {
    if (r.type !== "witness" || !r.ok || r.size === undefined) continue;
    const known = Math.max(largestLog.get(r.origin) ?? 0, state.origins[r.origin]?.size ?? 0);
    const lag = known - r.size;
    if (lag <= 0) continue;
    const at = witnessTimes.get(`${r.source} ${r.origin}`);
    const age = at === undefined ? undefined : now - at;
    if (lag > maxLag)
      alarm(
        "stale-witness",
        r.source,
        `cosigned ${r.origin} up to size ${r.size}, ${lag} entries behind the log (size ${known}; at most ${maxLag} allowed)`,
      );
    else if (age === undefined || age > maxAge)
      alarm(
        "stale-witness",
        r.source,
        `behind the log of ${r.origin} (size ${r.size} of ${known}) and its latest cosignature is ${age === undefined ? "absent" : `${age} s old`} (at most ${maxAge} s allowed)`,
      );
  }

  // 5. The chain: batch count against the log's size, role changes since the last round.
  let chainInfo: RoundResult["chain"];
  if (options.chain !== undefined) {
    const chain = options.chain;
    try {
      const block = await chain.blockNumber();
      const batchCount = await chain.batchCount(block);
      chainInfo = { block, batchCount };
      if (state.chain?.contract.toLowerCase() !== chain.contract.toLowerCase())
        state.chain = {
          contract: chain.contract,
          nextBlock: options.rolesFromBlock ?? block + 1,
        };
      const cs = state.chain;
      const logSize = Math.max(0, ...origins.map((o) => largestLog.get(o) ?? -1));
      if (origins.every((o) => !largestLog.has(o))) {
        problems.push("chain: no log checkpoint read: the log's size not compared with the chain");
      } else if (logSize > batchCount) {
        alarm(
          "chain-mismatch",
          "chain",
          `the log has ${logSize} entries, the ledger ${batchCount} batches at block ${block}`,
        );
        delete cs.behindSince;
      } else if (logSize < batchCount) {
        if (cs.behindSince?.logSize !== logSize) cs.behindSince = { logSize, at: now };
        const late = now - cs.behindSince.at;
        if (late >= (options.staleLogAfterSeconds ?? 600))
          alarm(
            "stale-log",
            "chain",
            `the ledger has ${batchCount} batches at block ${block}; the log has stayed at ${logSize} entries for ${late} s`,
          );
      } else {
        delete cs.behindSince;
      }
      // The log's entries against the ledger's batches, a bounded number per round.
      const checked = (cs.entriesChecked ??= {});
      const chainId = trusted.size > 0 ? await chain.chainId() : 0;
      for (const [origin, ref] of trusted) {
        const from = checked[origin] ?? 0;
        const to = Math.min(ref.checkpoint.size, batchCount, from + maxEntries);
        if (to <= from) continue;
        const { entries, firstMismatch } = await ref.tree!.entries(from, to);
        let next = from;
        for (let i = from; i < to; i++) {
          if (firstMismatch === i) {
            alarm("split-view", ref.source, `entry ${i} does not hash to leaf ${i} of its tiles`);
            break;
          }
          const facts = await chain.batch(i + 1, block);
          const wrong = entryMismatch(entries[i - from]!, {
            ...facts,
            chainId,
            contract: chain.contract.toLowerCase(),
            batchId: i + 1,
          });
          if (wrong !== undefined) {
            alarm("chain-mismatch", ref.source, `entry ${i} (batch ${i + 1}): ${wrong}`);
            break;
          }
          next = i + 1;
        }
        checked[origin] = next;
      }
      if (cs.nextBlock <= block) {
        for (const e of await chain.roleEvents(cs.nextBlock, block)) {
          alarm(
            "role-change",
            "chain",
            `${e.type} ${e.role} ${e.type === "RoleGranted" ? "to" : "from"} ${e.account} by ${e.sender} at block ${e.blockNumber}`,
          );
        }
        cs.nextBlock = block + 1;
      }
    } catch (error) {
      problems.push(`chain: ${describe(error)}`);
    }
  }

  const latest: RoundResult["latest"] = {};
  for (const [origin, l] of Object.entries(state.origins))
    latest[origin] = { size: l.size, rootHash: l.rootHash };
  reports.sort((a, b) => a.source.localeCompare(b.source));
  return {
    at: new Date(now * 1000).toISOString(),
    status: alarms.length > 0 ? "alarm" : problems.length > 0 ? "unchecked" : "healthy",
    alarms,
    problems,
    sources: reports,
    latest,
    ...(chainInfo === undefined ? {} : { chain: chainInfo }),
  };
}
