/**
 * A c2sp.org/tlog-witness witness: `add-checkpoint` checks a log's new checkpoint against the
 * latest one it cosigned for that origin and returns a timestamped Ed25519 cosignature
 * (cosignature/v1). The checks and status codes are the spec's, in its order:
 *
 * - 400 malformed request, or old size > checkpoint size;
 * - 404 unknown origin; 403 no valid signature by the log's key (or a bad one);
 * - 409 old size ≠ the size last cosigned (body: that size, `text/x.tlog.size`);
 * - 422 size 0 with a root other than the empty tree's, a proof with old size 0, equal sizes with
 *   other roots, or a consistency proof that does not verify;
 * - 422 also when a `ledgerCheck` (the witness told to follow the ledger contract) refuses the
 *   checkpoint: more entries than the ledger has batches, or another root at a size the ledger
 *   recorded (not stored as evidence: the chain may only be behind);
 * - 200 the cosignature line, after the new state is durable.
 *
 * The check against the stored state and the update of it run in one per-origin critical
 * section, so two racing submissions cannot roll the witness back (the spec's race).
 */
import { decodeBase64, encodeBase64 } from "../core/base64.ts";
import { parseCheckpoint, parseTreeSize, type Checkpoint } from "../core/checkpoint.ts";
import { EMPTY_ROOT, HASH_SIZE, verifyConsistency } from "../core/rfc6962.ts";
import {
  formatSignatureLines,
  openNote,
  parseNote,
  signNote,
  type NoteSigner,
  type NoteVerifier,
} from "../core/signed-note.ts";
import type { WitnessStore } from "./witness-store.ts";

/** An HTTP answer, independent of the server library. */
export interface WitnessResponse {
  status: 200 | 400 | 403 | 404 | 409 | 422;
  contentType: string;
  body: string;
}

export interface WitnessOptions {
  /** The witness's cosigner (cosignature/v1). */
  cosigner: NoteSigner;
  /** Log keys the witness trusts; a log is known by its key name, which is its origin. */
  logs: readonly NoteVerifier[];
  store: WitnessStore;
  /**
   * Consulted before cosigning a checkpoint that passed every log check: undefined to cosign, or
   * the reason to refuse it (422). `shafaf witness --rpc … --contract …` compares the checkpoint
   * with the ledger at a finalized block. A throw (the chain unreadable) also refuses.
   */
  ledgerCheck?: (checkpoint: { size: number; rootHash: Uint8Array }) => Promise<string | undefined>;
}

export interface Witness {
  addCheckpoint(body: string): Promise<WitnessResponse>;
  /** The latest cosigned checkpoint of the origin whose SHA-256 is `originHash` (monitoring). */
  checkpointByOriginHash(originHash: string): Promise<string | undefined>;
}

const TEXT = "text/plain; charset=utf-8";
const MAX_PROOF_LINES = 63;

function answer(
  status: WitnessResponse["status"],
  body: string,
  contentType = TEXT,
): WitnessResponse {
  return { status, contentType, body: body.endsWith("\n") ? body : body + "\n" };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The parts of an add-checkpoint body, or the reason it is malformed. */
export function parseAddCheckpointBody(
  body: string,
): { oldSize: number; proof: Uint8Array[]; note: string } | { error: string } {
  const end = body.indexOf("\n\n");
  if (end < 0)
    return { error: "expected: old <size>, proof lines, an empty line, then the checkpoint" };
  const lines = body.slice(0, end).split("\n");
  const first = lines[0]!;
  const oldSize = first.startsWith("old ") ? parseTreeSize(first.slice(4)) : undefined;
  if (oldSize === undefined)
    return { error: "the first line is old <size in decimal, no leading zeros>" };
  if (lines.length - 1 > MAX_PROOF_LINES)
    return { error: `more than ${MAX_PROOF_LINES} consistency proof lines` };
  const proof: Uint8Array[] = [];
  for (let i = 1; i < lines.length; i++) {
    const h = decodeBase64(lines[i]!);
    if (h?.length !== HASH_SIZE)
      return { error: `proof line ${i} is not the base64 of a 32-byte hash` };
    proof.push(h);
  }
  return { oldSize, proof, note: body.slice(end + 2) };
}

/**
 * Builds the witness.
 *
 * @example
 * const witness = createWitness({ cosigner: key.signer(), logs: policy.logs.map((l) => l.verifier), store });
 * const res = await witness.addCheckpoint(requestBody);
 */
export function createWitness(options: WitnessOptions): Witness {
  const { cosigner, logs, store } = options;
  const locks = new Map<string, Promise<unknown>>();
  const exclusive = <T>(origin: string, task: () => Promise<T>): Promise<T> => {
    const run = (locks.get(origin) ?? Promise.resolve()).then(task);
    const tail = run.catch(() => undefined);
    locks.set(origin, tail);
    void tail.then(() => {
      if (locks.get(origin) === tail) locks.delete(origin);
    });
    return run;
  };

  async function addCheckpoint(body: string): Promise<WitnessResponse> {
    const parts = parseAddCheckpointBody(body);
    if ("error" in parts) return answer(400, parts.error);
    let parsedNote;
    try {
      parsedNote = parseNote(parts.note);
    } catch {
      return answer(400, "the checkpoint is not a well-formed signed note");
    }
    const origin = parsedNote.text.slice(0, parsedNote.text.indexOf("\n"));
    const verifiers = logs.filter((v) => v.name === origin);
    if (origin === "" || verifiers.length === 0) return answer(404, "unknown log origin");
    const opened = openNote(parts.note, verifiers);
    if (!opened.ok)
      return answer(403, `checkpoint not signed by the log: ${opened.failure.message}`);
    let checkpoint: Checkpoint;
    try {
      checkpoint = parseCheckpoint(opened.text);
    } catch (error) {
      return answer(400, (error as { details?: string }).details ?? "malformed checkpoint");
    }
    if (parts.oldSize > checkpoint.size)
      return answer(
        400,
        `old size ${parts.oldSize} is larger than the checkpoint size ${checkpoint.size}`,
      );

    return exclusive(origin, async () => {
      const state = await store.get(origin);
      const latest = state?.size ?? 0;
      if (parts.oldSize !== latest) return answer(409, `${latest}`, "text/x.tlog.size");
      const inconsistent = async (reason: string) => {
        await store.putEvidence(origin, body, reason);
        return answer(422, reason);
      };
      if (checkpoint.size === 0 && !equalBytes(checkpoint.rootHash, EMPTY_ROOT))
        return inconsistent("a checkpoint of size 0 has the empty tree's root");
      if (parts.oldSize === 0) {
        if (parts.proof.length > 0)
          return inconsistent("old size 0 takes an empty consistency proof");
      } else {
        const oldRoot = decodeBase64(state!.rootHash)!;
        const r = verifyConsistency(
          parts.oldSize,
          checkpoint.size,
          parts.proof,
          oldRoot,
          checkpoint.rootHash,
        );
        if (!r.ok) {
          return inconsistent(
            parts.oldSize === checkpoint.size
              ? "same size as the cosigned checkpoint, but another root hash"
              : `not consistent with the cosigned checkpoint of size ${parts.oldSize}: ${r.failure.message}`,
          );
        }
      }
      if (options.ledgerCheck !== undefined) {
        let refused: string | undefined;
        try {
          refused = await options.ledgerCheck(checkpoint);
        } catch {
          refused = "the ledger could not be read to check the checkpoint; try again later";
        }
        if (refused !== undefined) return answer(422, refused);
      }
      const cosigned = signNote(opened.text, [cosigner], opened.verified);
      const mine = parseNote(cosigned).signatures.filter(
        (s) => s.name === cosigner.name && s.keyId === cosigner.keyId,
      );
      await store.put({
        origin,
        size: checkpoint.size,
        rootHash: encodeBase64(checkpoint.rootHash),
        note: cosigned,
        cosignedAt: Math.floor(Date.now() / 1000),
      });
      return answer(200, formatSignatureLines(mine));
    });
  }

  return {
    addCheckpoint,
    async checkpointByOriginHash(hash) {
      return (await store.getByOriginHash(hash))?.note;
    },
  };
}
