/**
 * Tile and entry-bundle paths of c2sp.org/tlog-tiles, written once (Tessera's
 * `api/layout/paths.go`): `tile/<L>/<N>[.p/<W>]` and `tile/entries/<N>[.p/<W>]`, with the index
 * N in zero-padded 3-digit path elements, all but the last prefixed by `x`
 * (1234067 → `x001/x234/067`). Full tiles hold 256 hashes; a partial tile's width W is 1–255.
 */

/** Hashes in a full tile (and entries in a full bundle). */
export const TILE_WIDTH = 256;
/** Tree levels one tile spans. */
export const TILE_HEIGHT = 8;

/** Tile coordinates: `level` 0–63 (`"entries"` for entry bundles), `index`, `width` 1–256. */
export interface TileAddress {
  level: number | "entries";
  index: number;
  /** 256 for a full tile, 1–255 for a partial one. */
  width: number;
}

/** `x001/x234/067` for 1234067. */
export function encodeTileIndex(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0)
    throw new RangeError(`tile index ${index} is not a non-negative integer`);
  let n = index;
  const parts = [String(n % 1000).padStart(3, "0")];
  n = Math.floor(n / 1000);
  while (n > 0) {
    parts.unshift("x" + String(n % 1000).padStart(3, "0"));
    n = Math.floor(n / 1000);
  }
  return parts.join("/");
}

/**
 * The path of a tile or entry bundle, relative to the log prefix.
 *
 * @example
 * tilePath({ level: 0, index: 1234067, width: 256 }); // "tile/0/x001/x234/067"
 * tilePath({ level: "entries", index: 0, width: 5 }); // "tile/entries/000.p/5"
 */
export function tilePath(t: TileAddress): string {
  if (t.level !== "entries" && !(Number.isInteger(t.level) && t.level >= 0 && t.level <= 63)) {
    throw new RangeError(`tile level ${t.level} is not 0–63`);
  }
  if (!(Number.isInteger(t.width) && t.width >= 1 && t.width <= TILE_WIDTH))
    throw new RangeError(`tile width ${t.width} is not 1–256`);
  const base = `tile/${t.level}/${encodeTileIndex(t.index)}`;
  return t.width === TILE_WIDTH ? base : `${base}.p/${t.width}`;
}

/**
 * The address of a tile path (relative to the log prefix), or `undefined` when it is not exactly
 * a path {@link tilePath} writes (so that one resource has one name).
 */
export function parseTilePath(path: string): TileAddress | undefined {
  const m =
    /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*)([0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/.exec(
      path,
    );
  if (m === null) return undefined;
  const level = m[1] === "entries" ? "entries" : Number(m[1]);
  if (level !== "entries" && level > 63) return undefined;
  const groups = [
    ...(m[2] ?? "")
      .split("/")
      .filter((g) => g !== "")
      .map((g) => g.slice(1)),
    m[3]!,
  ];
  if (groups.length > 1 && groups[0] === "000") return undefined;
  const index = Number(groups.join(""));
  const width = m[4] === undefined ? TILE_WIDTH : Number(m[4]);
  if (!Number.isSafeInteger(index) || (m[4] !== undefined && width >= TILE_WIDTH)) return undefined;
  return { level, index, width };
}

/**
 * The tiles of a tree of `size` leaves at each level: how many are full and the width of the
 * partial one (0 when none). Level 0 also describes the entry bundles.
 *
 * @example
 * tileCounts(70000); // [{level:0, full:273, partialWidth:112}, {level:1, full:1, partialWidth:17}, {level:2, full:0, partialWidth:1}]
 */
export function tileCounts(size: number): { level: number; full: number; partialWidth: number }[] {
  const out: { level: number; full: number; partialWidth: number }[] = [];
  for (
    let level = 0, span = 1;
    level === 0 || Math.floor(size / span) > 0;
    level++, span *= TILE_WIDTH
  ) {
    const hashes = Math.floor(size / span);
    out.push({ level, full: Math.floor(hashes / TILE_WIDTH), partialWidth: hashes % TILE_WIDTH });
  }
  return out;
}
