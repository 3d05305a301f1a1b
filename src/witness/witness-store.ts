/**
 * The witness's memory: for each log origin, the latest checkpoint it cosigned (size, root, and
 * the note it serves to monitors), in LevelDB (`<data-dir>/witness/`), each update written with
 * `sync` before the cosignature leaves. LevelDB's lock keeps a second process out, so the
 * in-process per-origin queue of witness.ts is the only writer.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { Level } from "level";
import path from "node:path";
import { InvalidInputError } from "../core/errors.ts";

/** What the witness keeps per origin. */
export interface WitnessedState {
  origin: string;
  size: number;
  /** Base64 root hash of the cosigned checkpoint. */
  rootHash: string;
  /** The checkpoint text with the log's verified signature(s) and this witness's cosignature. */
  note: string;
  /** POSIX seconds of the cosignature. */
  cosignedAt: number;
}

export interface WitnessStore {
  get(origin: string): Promise<WitnessedState | undefined>;
  /** Reads by the lowercase hex SHA-256 of the origin (the monitoring path). */
  getByOriginHash(originHash: string): Promise<WitnessedState | undefined>;
  /** Durably replaces the state of `state.origin`. */
  put(state: WitnessedState): Promise<void>;
  /** Keeps a validly signed but inconsistent submission: possible evidence of a misbehaving log. */
  putEvidence(origin: string, body: string, reason: string): Promise<void>;
  listEvidence(origin: string): Promise<{ at: string; reason: string; body: string }[]>;
  close(): Promise<void>;
}

/** classic-level's `sync` write option; `level`'s types omit it. */
const DURABLE = { sync: true } as never;

export function originHash(origin: string): string {
  return Buffer.from(sha256(new TextEncoder().encode(origin))).toString("hex");
}

/**
 * Opens the witness store in `<dataDir>/witness`.
 *
 * @example
 * const store = await openWitnessStore(".shafaf-witness");
 */
export async function openWitnessStore(dataDir: string): Promise<WitnessStore> {
  const db = new Level<string, unknown>(path.join(path.resolve(dataDir), "witness"), {
    valueEncoding: "json",
  });
  try {
    await db.open();
  } catch (error) {
    throw new InvalidInputError(`cannot open the witness state in ${dataDir}`, {
      details: "another witness process may hold it (LevelDB lock); one witness per data directory",
      code: "witness.store.open",
      cause: error,
    });
  }
  let evidenceSeq = 0;
  const get = async (hash: string) => (await db.get(`log!${hash}`)) as WitnessedState | undefined;
  return {
    get: (origin) => get(originHash(origin)),
    getByOriginHash: (hash) =>
      /^[0-9a-f]{64}$/.test(hash) ? get(hash) : Promise.resolve(undefined),
    put: (state) => db.put(`log!${originHash(state.origin)}`, state, DURABLE),
    async putEvidence(origin, body, reason) {
      const at = new Date().toISOString();
      await db.put(
        `evidence!${originHash(origin)}!${at}!${String(evidenceSeq++).padStart(6, "0")}`,
        { at, reason, body },
        DURABLE,
      );
    },
    async listEvidence(origin) {
      const prefix = `evidence!${originHash(origin)}!`;
      const out: { at: string; reason: string; body: string }[] = [];
      for await (const value of db.values({ gte: prefix, lt: prefix + "\uffff" }))
        out.push(value as { at: string; reason: string; body: string });
      return out;
    },
    close: () => db.close(),
  };
}
