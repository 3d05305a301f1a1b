/**
 * Log bundles (docs/spec/log-bundle-v1.md) read from a tiled ledger log: batch N's entry and a
 * tlog-proof of it in the tree of the log's served (cosigned) checkpoint, for the API and
 * `shafaf receipts export` to attach to receipts. A bundle leaves only when its checkpoint meets
 * the trust policy (when one is given) and its inclusion proof verifies (STYLE habit 5).
 */
import { parseCheckpoint, type Checkpoint } from "../core/checkpoint.ts";
import { InvariantError } from "../core/errors.ts";
import { parseLedgerLogEntry } from "../core/ledger-log-entry.ts";
import { buildLogBundle, type LogBundle } from "../core/log-bundle.ts";
import { hashLeaf, verifyInclusion } from "../core/rfc6962.ts";
import { parseNote, type NoteSigner } from "../core/signed-note.ts";
import { verifyCheckpointPolicy, type TrustPolicy } from "../core/tlog-policy.ts";
import { parseTlogProof } from "../core/tlog-proof.ts";
import { openTiledLog, type TiledLog } from "./tiled-log.ts";

/** A batch's bundle and the batch root its entry names (for the caller to compare), or why none. */
export type LogBundleLookup =
  | { ok: true; bundle: LogBundle; root: string }
  | { ok: false; reason: "no-checkpoint" | "not-logged-yet" | "below-quorum"; detail: string };

export type LogBundleOf = (batchId: number) => Promise<LogBundleLookup>;

export interface LogBundleSourceOptions {
  log: Pick<TiledLog, "checkpoint" | "entry" | "tlogProof">;
  /** When given, a checkpoint that does not satisfy it (e.g. a witness is down) yields no bundle. */
  policy?: TrustPolicy;
}

/**
 * The bundle of a batch from the log's current checkpoint; bundles are memoized per checkpoint.
 * Throws InvariantError when the log contradicts itself (an entry that is not its batch's, or a
 * proof that does not verify): that is a broken log, not a missing bundle.
 *
 * @example
 * const bundleOf = createLogBundleSource({ log, policy });
 * const found = await bundleOf(7);
 * if (found.ok) receipt = { ...receipt, log: found.bundle };
 */
export function createLogBundleSource(options: LogBundleSourceOptions): LogBundleOf {
  const { log, policy } = options;
  let memo: { note: string; checkpoint?: Checkpoint; problem?: string } | undefined;
  const bundles = new Map<number, { bundle: LogBundle; root: string }>();
  return async (batchId) => {
    const note = await log.checkpoint();
    if (note === undefined)
      return { ok: false, reason: "no-checkpoint", detail: "the log has no checkpoint yet" };
    if (memo?.note !== note) {
      bundles.clear();
      if (policy === undefined) memo = { note, checkpoint: parseCheckpoint(parseNote(note).text) };
      else {
        const checked = verifyCheckpointPolicy(note, policy);
        memo = checked.ok
          ? { note, checkpoint: checked.checkpoint }
          : { note, problem: `${checked.code}: ${checked.message}` };
      }
    }
    if (memo.checkpoint === undefined)
      return { ok: false, reason: "below-quorum", detail: memo.problem ?? "" };
    const { size, rootHash } = memo.checkpoint;
    if (batchId > size)
      return {
        ok: false,
        reason: "not-logged-yet",
        detail: `batch ${batchId} is not in the checkpoint of size ${size} yet`,
      };
    const hit = bundles.get(batchId);
    if (hit !== undefined) return { ok: true, ...hit };
    const entry = log.entry(batchId - 1);
    const parsed = parseLedgerLogEntry(entry);
    const proof = log.tlogProof(batchId - 1, size, note);
    const inclusion = verifyInclusion(
      batchId - 1,
      size,
      hashLeaf(entry),
      parseTlogProof(proof).inclusionProof,
      rootHash,
    );
    if (parsed.batchId !== batchId || !inclusion.ok)
      throw new InvariantError(
        `the ledger log's entry ${batchId - 1} does not prove batch ${batchId}`,
        {
          code: "log.bundle",
          details:
            parsed.batchId !== batchId
              ? `the entry names batch ${parsed.batchId}`
              : "its inclusion proof does not lead to the checkpoint's root",
        },
      );
    const found = { bundle: buildLogBundle(entry, proof), root: parsed.root };
    bundles.set(batchId, found);
    return { ok: true, ...found };
  };
}

/** A signer for opening a log read-only: it names the origin and refuses to sign. */
function readOnly(origin: string): NoteSigner {
  return {
    name: origin,
    keyId: 0,
    sign() {
      throw new InvariantError("a log opened for its bundles signs nothing", {
        code: "log.read-only",
      });
    },
  };
}

/**
 * Opens a log directory read-only (its origin from the checkpoint note the caller read from it)
 * for {@link createLogBundleSource}; it refuses to sign.
 *
 * @example
 * const log = await openLogForBundles("data/log", await readFile("data/log/checkpoint", "utf8"));
 */
export async function openLogForBundles(dir: string, checkpointNote: string): Promise<TiledLog> {
  const { origin } = parseCheckpoint(parseNote(checkpointNote).text);
  return openTiledLog({ dir, origin, signer: readOnly(origin) });
}
