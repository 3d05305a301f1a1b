/**
 * Entry bundles of c2sp.org/tlog-tiles (`tile/entries/<N>[.p/<W>]`): up to 256 entries, each a
 * big-endian uint16 length and that many bytes, nothing before, between or after.
 */
import { InvalidInputError } from "./errors.ts";

/**
 * Entry `i` of a bundle, walking the length prefixes before it (no copies but the entry). A bundle
 * too short for it is an `InvalidInputError` (code `log.bundle`).
 *
 * @example
 * const entry = bundleEntry(bundle, index % 256);
 */
export function bundleEntry(bundle: Uint8Array, i: number): Uint8Array {
  let at = 0;
  for (let k = 0; ; k++) {
    if (at + 2 > bundle.length)
      throw new InvalidInputError(`entry bundle: no entry ${k} (${bundle.length} bytes)`, {
        code: "log.bundle",
      });
    const len = (bundle[at]! << 8) | bundle[at + 1]!;
    if (k === i) {
      if (at + 2 + len > bundle.length)
        throw new InvalidInputError(
          `entry bundle: entry ${k} at offset ${at} has ${len} bytes, ${bundle.length - at - 2} remain`,
          { code: "log.bundle" },
        );
      return bundle.slice(at + 2, at + 2 + len);
    }
    at += 2 + len;
  }
}

/**
 * The entries of a bundle, in order. A truncated entry or trailing bytes are an
 * `InvalidInputError` (code `log.bundle`) saying where.
 *
 * @example
 * const entries = parseEntryBundle(await (await fetch(`${prefix}/tile/entries/000.p/3`)).bytes());
 */
export function parseEntryBundle(bundle: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bundle.length) {
    if (at + 2 > bundle.length)
      throw new InvalidInputError(`entry bundle: 1 byte left at offset ${at}, a length has 2`, {
        code: "log.bundle",
      });
    const len = (bundle[at]! << 8) | bundle[at + 1]!;
    if (at + 2 + len > bundle.length)
      throw new InvalidInputError(
        `entry bundle: entry ${out.length} at offset ${at} has ${len} bytes, ${bundle.length - at - 2} remain`,
        { code: "log.bundle" },
      );
    out.push(bundle.slice(at + 2, at + 2 + len));
    at += 2 + len;
  }
  return out;
}
