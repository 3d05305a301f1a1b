/**
 * The log bundle (docs/spec/log-bundle-v1.md): the optional `log` member of a receipt (v1 or v2)
 * or a person proof that makes it verifiable with no network — the batch's ledger log entry and a
 * c2sp.org/tlog-proof@v1 of it, whose tail is the checkpoint cosigned by the witnesses.
 *
 *     "log": { "format": "shafaf-log-bundle/1", "entry": "<entry bytes>", "proof": "<tlog-proof>" }
 */
import { InvalidInputError } from "./errors.ts";

export const LOG_BUNDLE_FORMAT = "shafaf-log-bundle/1";

/** The largest entry (docs/spec/log-entry-v1.md: 637 bytes) and proof a reader accepts, with room. */
export const MAX_LOG_BUNDLE_ENTRY = 4096;
export const MAX_LOG_BUNDLE_PROOF = 65536;

export interface LogBundle {
  format: typeof LOG_BUNDLE_FORMAT;
  /** The ledger log entry's bytes (ASCII canonical JSON), as a string. */
  entry: string;
  /** The c2sp.org/tlog-proof@v1 text of the entry at index batchId − 1; it ends with the cosigned checkpoint. */
  proof: string;
}

/**
 * The bundle of an entry and its proof. The entry must be ASCII (every log-entry-v1 entry is),
 * so that the JSON string's characters are the entry's bytes.
 *
 * @example
 * const receiptWithLog = { ...receipt, log: buildLogBundle(log.entry(7), log.tlogProof(7, size, note)) };
 */
export function buildLogBundle(entry: Uint8Array, proof: string): LogBundle {
  if (entry.some((b) => b > 0x7e || b < 0x20))
    throw new InvalidInputError("a log entry in a bundle is printable ASCII", {
      code: "core.log-bundle.entry",
      details: "docs/spec/log-entry-v1.md entries are canonical JSON of ASCII values",
    });
  return { format: LOG_BUNDLE_FORMAT, entry: String.fromCharCode(...entry), proof };
}

/**
 * The bundle's members with their types checked, or a message naming the first bad member.
 * Never throws.
 */
export function readLogBundle(value: unknown): LogBundle | string {
  try {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return "log must be an object { format, entry, proof }";
    const o = value as Record<string, unknown>;
    const extra = Object.keys(o).find((k) => k !== "format" && k !== "entry" && k !== "proof");
    if (extra !== undefined)
      return `log has an unknown member ${JSON.stringify(extra).slice(0, 40)}`;
    if (o.format !== LOG_BUNDLE_FORMAT)
      return `log.format must be ${LOG_BUNDLE_FORMAT} (a newer Shafaf may know ${String(o.format).slice(0, 40)})`;
    if (typeof o.entry !== "string" || o.entry.length > MAX_LOG_BUNDLE_ENTRY)
      return `log.entry must be a string of at most ${MAX_LOG_BUNDLE_ENTRY} characters`;
    if (!/^[\u0020-\u007e]*$/.test(o.entry)) return "log.entry must be printable ASCII";
    if (typeof o.proof !== "string" || o.proof.length > MAX_LOG_BUNDLE_PROOF)
      return `log.proof must be a string of at most ${MAX_LOG_BUNDLE_PROOF} characters`;
    return { format: LOG_BUNDLE_FORMAT, entry: o.entry, proof: o.proof };
  } catch {
    return "log could not be read";
  }
}

/** The entry's bytes (the string's characters, each one ASCII byte). */
export function logBundleEntryBytes(bundle: LogBundle): Uint8Array {
  return Uint8Array.from(bundle.entry, (c) => c.charCodeAt(0));
}
