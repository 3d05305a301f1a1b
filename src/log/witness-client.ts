/**
 * The log's side of c2sp.org/tlog-witness: submit a signed checkpoint to each witness with a
 * consistency proof from the size that witness last cosigned, learn that size from a 409, and
 * keep only cosignatures that verify under the witness's configured key.
 */
import { encodeBase64 } from "../core/base64.ts";
import { parseTreeSize } from "../core/checkpoint.ts";
import { openNote, parseNote, type NoteSignature, type NoteVerifier } from "../core/signed-note.ts";

export interface WitnessEndpoint {
  /** The policy's name for the witness. */
  name: string;
  /** Submission prefix, e.g. `http://127.0.0.1:7380` (`/add-checkpoint` is appended). */
  url: string;
  /** The witness's cosignature/v1 verifier. */
  verifier: NoteVerifier;
}

export type AddCheckpointResult =
  | { status: 200; signatures: NoteSignature[] }
  | { status: 409; size: number }
  | { status: number; message: string };

/** The add-checkpoint request body: `old N`, proof lines, an empty line, the note. */
export function formatAddCheckpointBody(
  oldSize: number,
  proof: readonly Uint8Array[],
  note: string,
): string {
  return `old ${oldSize}\n${proof.map((h) => encodeBase64(h) + "\n").join("")}\n${note}`;
}

/**
 * One add-checkpoint call. A 200 answer counts only if its cosignature lines verify under
 * `witness.verifier` over the checkpoint text.
 */
export async function addCheckpoint(
  witness: WitnessEndpoint,
  oldSize: number,
  proof: readonly Uint8Array[],
  note: string,
  signal?: AbortSignal,
): Promise<AddCheckpointResult> {
  const res = await fetch(`${witness.url.replace(/\/$/, "")}/add-checkpoint`, {
    method: "POST",
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: formatAddCheckpointBody(oldSize, proof, note),
    ...(signal === undefined ? {} : { signal }),
  });
  const text = await res.text();
  if (res.status === 409) {
    const size = parseTreeSize(text.trim());
    return size === undefined
      ? { status: 409, message: "409 without a size" }
      : { status: 409, size };
  }
  if (res.status !== 200) return { status: res.status, message: text.trim().slice(0, 200) };
  const { text: body } = parseNote(note);
  const opened = openNote(body + "\n" + text, [witness.verifier]);
  if (!opened.ok)
    return {
      status: 502,
      message: `the witness's answer does not verify: ${opened.failure.message}`,
    };
  return { status: 200, signatures: opened.verified };
}

export interface CosignOutcome {
  name: string;
  ok: boolean;
  /** Milliseconds from the first request to the cosignature (or the failure). */
  ms: number;
  detail: string;
}

/**
 * Asks every witness in parallel to cosign `note` (the log-signed checkpoint of `size`), retrying
 * once with the size a 409 names. `proofFrom(oldSize)` gives the consistency proof from `oldSize`
 * to `size`; `knownSizes` (witness name → size it last cosigned) is read and updated. Resolves
 * with the note carrying every verified cosignature after the log's signature.
 *
 * @example
 * const { note: cosigned } = await cosignCheckpoint({ note, size, witnesses, knownSizes, proofFrom: (m) => log.consistencyProof(m, size) });
 */
export async function cosignCheckpoint(options: {
  note: string;
  size: number;
  witnesses: readonly WitnessEndpoint[];
  knownSizes: Map<string, number>;
  proofFrom: (oldSize: number) => Uint8Array[];
  timeoutMs?: number;
}): Promise<{ note: string; outcomes: CosignOutcome[] }> {
  const { note, size, knownSizes, proofFrom } = options;
  const proofOf = (old: number) => (old === 0 || old > size ? [] : proofFrom(old));
  const outcomes = await Promise.all(
    options.witnesses.map(async (w): Promise<CosignOutcome & { signatures: NoteSignature[] }> => {
      const start = performance.now();
      const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
      try {
        let old = knownSizes.get(w.name) ?? 0;
        let r = await addCheckpoint(w, old, proofOf(old), note, signal);
        if (r.status === 409 && "size" in r && r.size <= size) {
          old = r.size;
          r = await addCheckpoint(w, old, proofOf(old), note, signal);
        }
        const ms = performance.now() - start;
        if (r.status === 200 && "signatures" in r) {
          knownSizes.set(w.name, size);
          return { name: w.name, ok: true, ms, detail: "cosigned", signatures: r.signatures };
        }
        return {
          name: w.name,
          ok: false,
          ms,
          detail: `HTTP ${r.status}: ${"message" in r ? r.message : `witness is at size ${(r as { size: number }).size}`}`,
          signatures: [],
        };
      } catch (error) {
        return {
          name: w.name,
          ok: false,
          ms: performance.now() - start,
          detail: (error as Error).message,
          signatures: [],
        };
      }
    }),
  );
  const cosignatures = outcomes.flatMap((o) => o.signatures);
  const lines = cosignatures.map((s) => `\u2014 ${s.name} ${s.base64}\n`).join("");
  return { note: note + lines, outcomes: outcomes.map(({ signatures: _s, ...o }) => o) };
}
