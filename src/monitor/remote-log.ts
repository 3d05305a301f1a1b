/**
 * What a monitor reads over HTTP: a log's checkpoint and hash tiles (c2sp.org/tlog-tiles, under a
 * prefix such as `http://127.0.0.1:8080/log` — the API, or a static mirror of the log directory)
 * and a witness's latest cosigned checkpoint (c2sp.org/tlog-witness monitoring path
 * `<prefix>/<sha256(origin) hex>/checkpoint`). Proofs are computed from the tiles with the same
 * RFC 6962 code the log uses; no endpoint beyond the static ones is needed.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { ShafafError } from "../core/errors.ts";
import { parseEntryBundle } from "../core/entry-bundle.ts";
import { hashLeaf, type NodeHashSource } from "../core/rfc6962.ts";
import { tileNodeSource, tileWidth } from "../core/tile-node-source.ts";
import { TILE_WIDTH, tilePath } from "../core/tile-path.ts";

/** A source could not be read (down, timed out, an HTTP error, a tile of the wrong length). */
export class SourceReadError extends ShafafError {
  override name = "SourceReadError";
  constructor(shortMessage: string, cause?: unknown) {
    super(shortMessage, {
      code: "monitor.read",
      retryable: true,
      ...(cause === undefined ? {} : { cause }),
    });
  }
}

/** Most tiles one proof computation may fetch (a proof needs a few per tile level). */
const MAX_TILE_FETCHES = 256;

async function get(url: string, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(timeoutMs), cache: "no-store" });
  } catch (error) {
    throw new SourceReadError(`GET ${url}: ${(error as Error).message}`, error);
  }
}

/**
 * The text at `url`, or undefined on a 404. Any other failure is a {@link SourceReadError}.
 *
 * @example
 * const note = await fetchText("http://127.0.0.1:8080/log/checkpoint", 10_000);
 */
export async function fetchText(url: string, timeoutMs: number): Promise<string | undefined> {
  const res = await get(url, timeoutMs);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new SourceReadError(`GET ${url}: HTTP ${res.status}`);
  return await res.text();
}

/** The witness monitoring URL of `origin` under the witness prefix `witnessUrl`. */
export function witnessCheckpointUrl(witnessUrl: string, origin: string): string {
  const hash = Buffer.from(sha256(new TextEncoder().encode(origin))).toString("hex");
  return `${witnessUrl.replace(/\/$/, "")}/${hash}/checkpoint`;
}

/** Thrown through the proof code when a tile is not fetched yet; caught by `run`, never escapes. */
class MissingTile extends Error {
  constructor(
    readonly level: number,
    readonly index: number,
  ) {
    super(`tile ${level}/${index} not fetched yet`);
  }
}

/** The hash tiles of one tree size of a remote log, fetched on demand and kept. */
export interface RemoteTree {
  readonly size: number;
  /**
   * Runs `compute` over the tree's complete-subtree hashes, fetching the tiles it needs. `compute`
   * must be a pure function of the hashes (it is re-run after each missing tile is fetched).
   */
  run<T>(compute: (node: NodeHashSource) => T): Promise<T>;
  /**
   * Entries `[from, to)` from the entry bundles, each checked against the tree: the leaf hash of
   * entry i must be hash i of the level-0 tiles. `firstMismatch` is the first entry that is not.
   */
  entries(from: number, to: number): Promise<{ entries: Uint8Array[]; firstMismatch?: number }>;
}

/**
 * The tiles of the tree of `size` leaves under the log prefix `logUrl`.
 *
 * @example
 * const tree = remoteTree("http://127.0.0.1:8080/log", 12, 10_000);
 * const proof = await tree.run((node) => consistencyProof(10, 12, node));
 */
export function remoteTree(logUrl: string, size: number, timeoutMs: number): RemoteTree {
  const prefix = logUrl.replace(/\/$/, "");
  const tiles = new Map<string, Uint8Array>();
  const node = tileNodeSource(
    (level, index) => {
      const tile = tiles.get(`${level}/${index}`);
      if (tile === undefined) throw new MissingTile(level, index);
      return tile;
    },
    () => `the tiles of ${prefix} at size ${size}`,
  );
  const fetchTile = async (level: number, index: number) => {
    const width = tileWidth(level, index, size);
    if (width <= 0)
      throw new SourceReadError(`tile ${level}/${index} is beyond the tree of size ${size}`);
    const url = `${prefix}/${tilePath({ level, index, width })}`;
    const res = await get(url, timeoutMs);
    if (res.status !== 200) throw new SourceReadError(`GET ${url}: HTTP ${res.status}`);
    const data = new Uint8Array(await res.arrayBuffer());
    if (data.length !== width * 32)
      throw new SourceReadError(
        `GET ${url}: ${data.length} bytes, a tile of width ${width} has ${width * 32}`,
      );
    tiles.set(`${level}/${index}`, data);
  };
  const run = async <T>(compute: (node: NodeHashSource) => T): Promise<T> => {
    for (let fetches = 0; ; fetches++) {
      try {
        return compute(node);
      } catch (error) {
        if (!(error instanceof MissingTile) || fetches >= MAX_TILE_FETCHES) throw error;
        await fetchTile(error.level, error.index);
      }
    }
  };
  return {
    size,
    run,
    async entries(from, to) {
      if (!(Number.isSafeInteger(from) && from >= 0 && from <= to && to <= size))
        throw new RangeError(`entries ${from}..${to} are not in the tree of size ${size}`);
      const entries: Uint8Array[] = [];
      for (let b = Math.floor(from / TILE_WIDTH); b * TILE_WIDTH < to; b++) {
        const width = tileWidth(0, b, size);
        const url = `${prefix}/${tilePath({ level: "entries", index: b, width })}`;
        const res = await get(url, timeoutMs);
        if (res.status !== 200) throw new SourceReadError(`GET ${url}: HTTP ${res.status}`);
        let bundle: Uint8Array[];
        try {
          bundle = parseEntryBundle(new Uint8Array(await res.arrayBuffer()));
        } catch (error) {
          throw new SourceReadError(`GET ${url}: ${(error as Error).message}`, error);
        }
        if (bundle.length !== width)
          throw new SourceReadError(`GET ${url}: ${bundle.length} entries, want ${width}`);
        const lo = Math.max(from, b * TILE_WIDTH);
        const hi = Math.min(to, (b + 1) * TILE_WIDTH);
        for (let i = lo; i < hi; i++) entries.push(bundle[i - b * TILE_WIDTH]!);
      }
      const firstMismatch = await run((node) => {
        for (let i = from; i < to; i++) {
          const want = node(0, i);
          const got = hashLeaf(entries[i - from]!);
          if (!got.every((x, k) => x === want[k])) return i;
        }
        return undefined;
      });
      return firstMismatch === undefined ? { entries } : { entries, firstMismatch };
    },
  };
}
