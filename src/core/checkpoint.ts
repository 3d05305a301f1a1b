/**
 * Checkpoints (c2sp.org/tlog-checkpoint@v1.0.0): the note text of a log's signed tree head.
 *
 *     <origin>\n<tree size, decimal, no leading zeros>\n<base64 RFC 6962 root, 32 bytes>\n[<extension line>\n]…
 *
 * Stricter than transparency-dev/formats `log.Checkpoint.Unmarshal` in two places the spec
 * decides: extension lines MUST be non-empty, and the root is a SHA-256 hash (32 bytes).
 */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { InvalidInputError } from "./errors.ts";
import { openNote, type NoteSignature, type NoteVerifier } from "./signed-note.ts";

/** The parsed body of a checkpoint. */
export interface Checkpoint {
  origin: string;
  /** Number of leaves; at most 2^53 − 1 here (JavaScript integers). */
  size: number;
  /** The RFC 6962 root hash (32 bytes). */
  rootHash: Uint8Array;
  /** Opaque extension lines, without their newlines (NOT RECOMMENDED by the spec; Shafaf writes none). */
  extensions: string[];
}

/** A malformed checkpoint body; `code` is `core.checkpoint.<reason>`. */
export class CheckpointFormatError extends InvalidInputError {
  override name = "CheckpointFormatError";
  constructor(reason: string, details: string) {
    super("malformed checkpoint", { code: `core.checkpoint.${reason}`, details });
  }
}

const SIZE = /^(0|[1-9][0-9]*)$/;

/** Parses a decimal tree size with no leading zeros; undefined when not one or beyond 2^53 − 1. */
export function parseTreeSize(text: string): number | undefined {
  if (!SIZE.test(text) || text.length > 16) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * The checkpoint note text.
 *
 * @example
 * formatCheckpoint({ origin: "example.com/log", size: 1, rootHash, extensions: [] });
 * // "example.com/log\n1\n<base64>\n"
 */
export function formatCheckpoint(c: Checkpoint): string {
  if (c.origin === "" || c.origin.includes("\n"))
    throw new CheckpointFormatError("origin", "the origin is one non-empty line");
  if (!Number.isSafeInteger(c.size) || c.size < 0)
    throw new CheckpointFormatError("size", `size ${c.size} is not a non-negative integer`);
  if (c.rootHash.length !== 32)
    throw new CheckpointFormatError("root", "the root hash has 32 bytes");
  for (const e of c.extensions) {
    if (e === "" || e.includes("\n"))
      throw new CheckpointFormatError("extension", "extension lines are non-empty single lines");
  }
  return [c.origin, String(c.size), encodeBase64(c.rootHash), ...c.extensions]
    .map((l) => l + "\n")
    .join("");
}

/**
 * Parses a checkpoint note text (the part of the note before the signatures). Throws
 * {@link CheckpointFormatError} saying which line is wrong.
 *
 * @example
 * const { origin, size, rootHash } = parseCheckpoint(text);
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n"))
    throw new CheckpointFormatError("newline", "every line ends in a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3)
    throw new CheckpointFormatError(
      "lines",
      "a checkpoint has at least three lines: origin, size, root hash",
    );
  const [origin, sizeText, rootText, ...extensions] = lines as [
    string,
    string,
    string,
    ...string[],
  ];
  if (origin === "") throw new CheckpointFormatError("origin", "line 1: the origin is empty");
  const size = parseTreeSize(sizeText);
  if (size === undefined)
    throw new CheckpointFormatError(
      "size",
      "line 2: the tree size is a decimal number with no leading zeros",
    );
  const rootHash = decodeBase64(rootText);
  if (rootHash?.length !== 32)
    throw new CheckpointFormatError("root", "line 3: the root hash is the base64 of 32 bytes");
  extensions.forEach((e, i) => {
    if (e === "")
      throw new CheckpointFormatError(
        "extension",
        `line ${4 + i}: extension lines MUST be non-empty`,
      );
  });
  return { origin, size, rootHash, extensions };
}

/** The outcome of {@link openCheckpoint}: never an exception. */
export type OpenCheckpointResult =
  | {
      ok: true;
      checkpoint: Checkpoint;
      text: string;
      verified: NoteSignature[];
      unverified: NoteSignature[];
    }
  | { ok: false; code: "note" | "body" | "origin" | "no-log-signature"; message: string };

/**
 * Verifies a checkpoint note signed by the log: the note opens with `logVerifiers` (plus any
 * `otherVerifiers`, e.g. witnesses), a verified signature is from a log key whose name is the
 * origin, and the body parses. When `origin` is given, the checkpoint must have it.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  options: {
    logVerifiers: readonly NoteVerifier[];
    otherVerifiers?: readonly NoteVerifier[];
    origin?: string;
  },
): OpenCheckpointResult {
  const opened = openNote(note, [...options.logVerifiers, ...(options.otherVerifiers ?? [])]);
  if (!opened.ok) return { ok: false, code: "note", message: opened.failure.message };
  let checkpoint: Checkpoint;
  try {
    checkpoint = parseCheckpoint(opened.text);
  } catch (error) {
    return {
      ok: false,
      code: "body",
      message: (error as CheckpointFormatError).details ?? "malformed checkpoint",
    };
  }
  if (options.origin !== undefined && checkpoint.origin !== options.origin) {
    return {
      ok: false,
      code: "origin",
      message: `origin ${JSON.stringify(checkpoint.origin)} is not ${JSON.stringify(options.origin)}`,
    };
  }
  const bylog = opened.verified.some((s) =>
    options.logVerifiers.some(
      (v) => v.name === s.name && v.keyId === s.keyId && v.name === checkpoint.origin,
    ),
  );
  if (!bylog)
    return {
      ok: false,
      code: "no-log-signature",
      message: `no verified signature by a log key named ${JSON.stringify(checkpoint.origin)}`,
    };
  return {
    ok: true,
    checkpoint,
    text: opened.text,
    verified: opened.verified,
    unverified: opened.unverified,
  };
}
