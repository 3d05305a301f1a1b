/**
 * A small mutation harness for the readers' fuzz suite: fast-check arbitraries of edit lists
 * (bit flips, byte overwrites, insertions of hostile tokens, deletions, truncations,
 * duplications, 32-bit field overwrites) applied to a valid seed file.
 */
import fc from "fast-check";

/** Cases per reader: `FUZZ_RUNS` (`npm run fuzz` sets 2,000), else a CI-sized default. */
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 60);

/** Personal values the seeds hold: none may appear in an issue, an error or a message. */
export const PERSONAL_VALUES = [
  "0012345679",
  "1234567891",
  "2740583311",
  "10000001",
  "10000002",
  "10000003",
  "100000000",
  "7000000",
  "20000000",
] as const;

const enc = (s: string) => Array.from(new TextEncoder().encode(s));

/** Byte strings a hostile file is likely to hold where the reader expects something else. */
const TOKENS: readonly number[][] = [
  ...PERSONAL_VALUES.map(enc),
  enc("\r"),
  enc("\n"),
  enc("\r\n"),
  enc('"'),
  enc('""'),
  enc(","),
  enc(";"),
  enc("\t"),
  [0xef, 0xbb, 0xbf],
  enc("{"),
  enc("}"),
  enc("[]"),
  enc("null"),
  enc("1e999"),
  enc("-1"),
  enc("1.5"),
  enc("9".repeat(40)),
  enc("__proto__"),
  enc("national_id"),
  enc('"__proto__":{}'),
  [0x00],
  [0xff],
  [0x1a],
  [0x0d],
  [0x2a],
  [0x80, 0x85, 0x89],
  [0xc7, 0xe1, 0xed],
  [0xd8, 0x00],
  enc("PK\u0003\u0004"),
  enc("PK\u0001\u0002"),
  enc("PK\u0005\u0006"),
  [0xff, 0xff, 0xff, 0xff],
  [0xff, 0xff],
];

export type Edit =
  | { op: "flip"; at: number; bit: number }
  | { op: "set"; at: number; byte: number }
  | { op: "insert"; at: number; token: number }
  | { op: "delete"; at: number; length: number }
  | { op: "truncate"; at: number }
  | { op: "duplicate"; at: number; length: number }
  | { op: "u32"; at: number; value: number };

/** One edit; positions are fractions of the file's length at the time the edit applies. */
export const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ op: fc.constant("set" as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    token: fc.nat(TOKENS.length - 1),
  }),
  fc.record({
    op: fc.constant("delete" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ op: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    op: fc.constant("duplicate" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 512 }),
  }),
  fc.record({
    op: fc.constant("u32" as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 1, 0xffff, 0xffffffff, 0x7fffffff, 1 << 30), fc.nat()),
  }),
);

/** 1 to 6 edits. */
export const editsArb = fc.array(editArb, { minLength: 1, maxLength: 6 });

/** Applies `edits` to a copy of `seed`. */
export function mutate(seed: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let b = Array.from(seed);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % (b.length + 1);
    switch (e.op) {
      case "flip":
        if (at < b.length) b[at] = b[at]! ^ (1 << e.bit);
        break;
      case "set":
        if (at < b.length) b[at] = e.byte;
        break;
      case "insert":
        b.splice(at, 0, ...TOKENS[e.token]!);
        break;
      case "delete":
        b.splice(at, e.length);
        break;
      case "truncate":
        b = b.slice(0, at);
        break;
      case "duplicate":
        b.splice(at, 0, ...b.slice(at, at + e.length));
        break;
      case "u32":
        for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (e.value >>> (8 * i)) & 0xff;
        break;
    }
  }
  return Uint8Array.from(b);
}
