/**
 * The ledger log: an append-only RFC 6962 SHA-256 log whose entries are byte strings (for the
 * anchor pipeline: one canonical batch summary per anchored batch, in anchoring order), kept on
 * disk in the c2sp.org/tlog-tiles layout under `dir` (`tile/<L>/<N>[.p/<W>]`,
 * `tile/entries/<N>[.p/<W>]`, `checkpoint`) so that the directory can be served as it is.
 *
 * Invariants: tiles and bundles are written (durably) before `state.json` names the new size,
 * and the checkpoint is written last; full tiles and partial tiles of a published size are
 * never rewritten with other content. One process appends at a time (the caller serializes
 * `append` calls; an in-process queue does it here).
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { formatCheckpoint } from "../core/checkpoint.ts";
import { bundleEntry } from "../core/entry-bundle.ts";
import { InvalidInputError, InvariantError } from "../core/errors.ts";
import {
  consistencyProof,
  hashLeaf,
  inclusionProof,
  rootHash,
  verifyConsistency,
  verifyInclusion,
  type NodeHashSource,
} from "../core/rfc6962.ts";
import { signNote, type NoteSigner } from "../core/signed-note.ts";
import { hashTileRange, tileNodeSource, tileWidth } from "../core/tile-node-source.ts";
import { TILE_WIDTH, tilePath } from "../core/tile-path.ts";
import { formatTlogProof } from "../core/tlog-proof.ts";
import { writeFileAtomic } from "./atomic-file.ts";

const STATE_FORMAT = "shafaf-tiled-log/1";
/** Entries are uint16-length-prefixed in bundles (tlog-tiles). */
export const MAX_ENTRY_BYTES = 0xffff;

export interface TiledLogOptions {
  /** The directory served as the log prefix. */
  dir: string;
  /** The checkpoint origin line, e.g. `sso.example/ledger-log`. */
  origin: string;
  /** The log's Ed25519 note signer; its key name must be the origin. */
  signer: NoteSigner;
}

export interface TiledLog {
  readonly origin: string;
  readonly dir: string;
  /** Number of entries appended (and durable). */
  size(): number;
  /** Appends entries in order; resolves with the index of the first one and the new size. */
  append(entries: readonly Uint8Array[]): Promise<{ firstIndex: number; size: number }>;
  /** Complete-subtree hashes read from the tiles. */
  node: NodeHashSource;
  rootHash(size?: number): Uint8Array;
  inclusionProof(index: number, size?: number): Uint8Array[];
  consistencyProof(size1: number, size2?: number): Uint8Array[];
  /** The entry's bytes, read from its bundle. */
  entry(index: number): Uint8Array;
  /** Signs a checkpoint of the current size and writes it to `checkpoint`; returns the note. */
  signCheckpoint(): Promise<string>;
  /** Replaces `checkpoint` with `note` (the same checkpoint with cosignatures added). */
  publishCheckpoint(note: string): Promise<void>;
  /** The served checkpoint note, if any. */
  checkpoint(): Promise<string | undefined>;
  /** A c2sp.org/tlog-proof of entry `index` in the tree that `checkpointNote` (of `size`) signs. */
  tlogProof(index: number, size: number, checkpointNote: string, extra?: Uint8Array): string;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Opens (or creates) the log in `dir`.
 *
 * @example
 * const log = await openTiledLog({ dir: "data/log", origin: "sso.example/ledger-log", signer });
 * await log.append([summaryBytes]);
 * const note = await log.signCheckpoint();
 */
export async function openTiledLog(options: TiledLogOptions): Promise<TiledLog> {
  const { dir, origin, signer } = options;
  if (signer.name !== origin) {
    throw new InvalidInputError("the log key's name is not the log's origin", {
      details: `key ${signer.name}, origin ${origin}: the policy's log vkey is matched by name to the origin line`,
      code: "log.origin",
    });
  }
  const stateFile = path.join(dir, "state.json");
  let size = 0;
  try {
    const state = JSON.parse(await readFile(stateFile, "utf8")) as {
      format: string;
      origin: string;
      size: number;
    };
    if (
      state.format !== STATE_FORMAT ||
      state.origin !== origin ||
      !Number.isSafeInteger(state.size)
    ) {
      throw new InvariantError(`${stateFile} is not a ${STATE_FORMAT} state of ${origin}`, {
        code: "log.state",
      });
    }
    size = state.size;
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }

  /** Latest version of each tile read or written: key `L/N`, or `entries/N`. */
  const cache = new Map<string, Uint8Array>();
  const readTile = (level: number | "entries", index: number, treeSize: number): Uint8Array => {
    const key = `${level}/${index}`;
    const hit = cache.get(key);
    if (hit !== undefined) return hit;
    const width = tileWidth(level === "entries" ? 0 : level, index, treeSize);
    if (width <= 0) return new Uint8Array(0);
    const data = new Uint8Array(readFileSync(path.join(dir, tilePath({ level, index, width }))));
    cache.set(key, data);
    return data;
  };

  const node: NodeHashSource = tileNodeSource(
    (tileLevel, tileIndex) => readTile(tileLevel, tileIndex, size),
    () => `the log of size ${size}`,
  );

  const writeTile = async (
    level: number | "entries",
    index: number,
    data: Uint8Array,
    width: number,
  ) => {
    cache.set(`${level}/${index}`, data);
    await writeFileAtomic(path.join(dir, tilePath({ level, index, width })), data);
  };

  let queue: Promise<unknown> = Promise.resolve();
  const serialize = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task);
    queue = run.catch(() => undefined);
    return run;
  };

  const append = (entries: readonly Uint8Array[]) =>
    serialize(async () => {
      entries.forEach((e, i) => {
        if (e.length > MAX_ENTRY_BYTES) {
          throw new InvalidInputError(`entry ${i} has ${e.length} bytes`, {
            details: `a log entry has at most ${MAX_ENTRY_BYTES} bytes; log a summary that commits to the data`,
            code: "log.entry-size",
          });
        }
      });
      const oldSize = size;
      const newSize = oldSize + entries.length;
      // Entry bundles and level-0 hashes.
      let bundleIndex = Math.floor(oldSize / TILE_WIDTH);
      let bundle =
        oldSize % TILE_WIDTH === 0 ? new Uint8Array(0) : readTile("entries", bundleIndex, oldSize);
      let tile = oldSize % TILE_WIDTH === 0 ? new Uint8Array(0) : readTile(0, bundleIndex, oldSize);
      const flush = async (count: number) => {
        await writeTile("entries", bundleIndex, bundle, count);
        await writeTile(0, bundleIndex, tile, count);
      };
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        const prefixed = new Uint8Array(2 + e.length);
        prefixed[0] = e.length >> 8;
        prefixed[1] = e.length & 0xff;
        prefixed.set(e, 2);
        bundle = concat(bundle, prefixed);
        tile = concat(tile, hashLeaf(e));
        const at = oldSize + i + 1;
        if (at % TILE_WIDTH === 0) {
          await flush(TILE_WIDTH);
          bundleIndex++;
          bundle = new Uint8Array(0);
          tile = new Uint8Array(0);
        }
      }
      if (newSize % TILE_WIDTH !== 0 && newSize > oldSize) await flush(newSize % TILE_WIDTH);
      // Higher levels: each hash is the root of a full tile one level below.
      for (let level = 1; Math.floor(newSize / TILE_WIDTH ** level) > 0; level++) {
        const before = Math.floor(oldSize / TILE_WIDTH ** level);
        const after = Math.floor(newSize / TILE_WIDTH ** level);
        if (after === before) continue;
        let t = Math.floor(before / TILE_WIDTH);
        let data = before % TILE_WIDTH === 0 ? new Uint8Array(0) : readTile(level, t, oldSize);
        for (let j = before; j < after; j++) {
          data = concat(data, hashTileRange(readTile(level - 1, j, newSize), 0, TILE_WIDTH));
          if ((j + 1) % TILE_WIDTH === 0) {
            await writeTile(level, t, data, TILE_WIDTH);
            t++;
            data = new Uint8Array(0);
          }
        }
        if (after % TILE_WIDTH !== 0) await writeTile(level, t, data, after % TILE_WIDTH);
      }
      await writeFileAtomic(
        stateFile,
        JSON.stringify({ format: STATE_FORMAT, origin, size: newSize }) + "\n",
      );
      size = newSize;
      return { firstIndex: oldSize, size: newSize };
    });

  const log: TiledLog = {
    origin,
    dir,
    size: () => size,
    append,
    node,
    rootHash: (s = size) => rootHash(s, node),
    inclusionProof(index, s = size) {
      const proof = inclusionProof(index, s, node);
      // Every proof handed out is verified before it leaves (STYLE.md habit 5).
      const check = verifyInclusion(index, s, node(0, index), proof, rootHash(s, node));
      if (!check.ok)
        throw new InvariantError(
          `inclusion proof of ${index} in ${s} does not verify: ${check.failure.message}`,
          { code: "log.proof" },
        );
      return proof;
    },
    consistencyProof(size1, size2 = size) {
      const proof = consistencyProof(size1, size2, node);
      const check = verifyConsistency(
        size1,
        size2,
        proof,
        rootHash(size1, node),
        rootHash(size2, node),
      );
      if (!check.ok)
        throw new InvariantError(
          `consistency proof ${size1}→${size2} does not verify: ${check.failure.message}`,
          { code: "log.proof" },
        );
      return proof;
    },
    entry(index) {
      if (!(Number.isSafeInteger(index) && index >= 0 && index < size))
        throw new RangeError(`entry ${index} is not in the log of size ${size}`);
      const bundle = readTile("entries", Math.floor(index / TILE_WIDTH), size);
      return bundleEntry(bundle, index % TILE_WIDTH);
    },
    async signCheckpoint() {
      const s = size;
      const note = signNote(
        formatCheckpoint({ origin, size: s, rootHash: rootHash(s, node), extensions: [] }),
        [signer],
      );
      await writeFileAtomic(path.join(dir, "checkpoint"), note);
      return note;
    },
    async publishCheckpoint(note) {
      await writeFileAtomic(path.join(dir, "checkpoint"), note);
    },
    async checkpoint() {
      try {
        return await readFile(path.join(dir, "checkpoint"), "utf8");
      } catch (error) {
        if ((error as { code?: string }).code === "ENOENT") return undefined;
        throw error;
      }
    },
    tlogProof(index, s, checkpointNote, extra) {
      return formatTlogProof({
        ...(extra === undefined ? {} : { extra }),
        index,
        inclusionProof: log.inclusionProof(index, s),
        checkpoint: checkpointNote,
      });
    },
  };
  return log;
}
