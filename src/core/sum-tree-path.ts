/**
 * The number of siblings a proof of the consecutive leaves `lo..hi` of a tree of `size` leaves
 * carries (RFC 6962 shape, built level by level: pair neighbours, promote an unpaired last node).
 * Verifiers check a proof's length against it before hashing anything.
 *
 * @example
 * siblingCount(7, 6, 6) // 2: leaf 6 is promoted once, then meets (4,5) and (0..3)
 */
export function siblingCount(size: number, lo: number, hi: number): number {
  let count = size;
  let a = lo;
  let b = hi;
  let n = 0;
  while (count > 1) {
    if (a % 2 === 1) n++;
    if (b % 2 === 0 && b + 1 < count) n++;
    a >>= 1;
    b >>= 1;
    count = (count + 1) >> 1;
  }
  return n;
}
