import { KECCAK_WASM_BASE64 } from "./keccak-wasm.ts";

/** The functions exported by `assembly/keccak.as` (pointers and lengths are byte offsets). */
export interface KeccakExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  keccakMany(input: number, len: number, count: number, output: number): void;
  leafHashMany(input: number, len: number, count: number, output: number): void;
  fillNodes(tree: number, from: number, to: number): void;
  nodeHash(a: number, b: number, out: number): void;
  placeLeaves(tree: number, src: number, order: number, n: number): void;
  sumNodeMany(
    src: number,
    pairs: number,
    rec: number,
    lanes: number,
    dst: number,
    scratch: number,
  ): number;
  sumLeafMany(
    kc: number,
    seqs: number,
    n: number,
    rec: number,
    lanes: number,
    records: number,
    scratch: number,
  ): void;
}

/**
 * One WebAssembly instance with its own linear memory. `reserve(n)` guarantees that
 * `[base, base + n)` exists and returns `base`; growing the memory detaches earlier views of it,
 * so callers MUST take `bytes()` again after every `reserve`.
 */
export interface KeccakEngine {
  readonly exports: KeccakExports;
  readonly base: number;
  reserve(bytes: number): number;
  bytes(): Uint8Array;
}

let compiled: WebAssembly.Module | undefined;

/** The compiled keccak module (compiled once; cloneable to workers). */
export function keccakModule(): WebAssembly.Module {
  if (compiled === undefined) {
    const bin = atob(KECCAK_WASM_BASE64);
    const bytes = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    // Synchronous compilation is allowed for modules this small (3 KB) on browsers' main threads.
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/**
 * A fresh keccak engine. Trees own one each (their nodes live in its memory, freed with it);
 * one-off hashing shares {@link sharedEngine}.
 *
 * @example
 * const e = createKeccakEngine();
 * const p = e.reserve(64);
 */
export function createKeccakEngine(): KeccakEngine {
  const instance = new WebAssembly.Instance(keccakModule(), {});
  const exports = instance.exports as unknown as KeccakExports;
  const base = (exports.heapBase() + 31) & ~31;
  return {
    exports,
    base,
    reserve(bytes: number): number {
      const need = base + bytes;
      const have = exports.memory.buffer.byteLength;
      if (need > have) exports.memory.grow(Math.ceil((need - have) / 65536));
      return base;
    },
    bytes: () => new Uint8Array(exports.memory.buffer),
  };
}

let shared: KeccakEngine | undefined;
/** The engine for small one-off hashes. Keeps at most ~1 MiB (see {@link CHUNK}). */
export function sharedEngine(): KeccakEngine {
  shared ??= createKeccakEngine();
  return shared;
}

/** Input bytes handed to WebAssembly per call by the batch functions. */
const CHUNK = 1 << 20;

/**
 * Keccak-256 (Ethereum's, not NIST SHA3-256) of `data`.
 *
 * @example
 * bytesToHex(keccak256(new Uint8Array())) // "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
 */
export function keccak256(data: Uint8Array): Uint8Array {
  const e = data.length <= CHUNK ? sharedEngine() : createKeccakEngine();
  const p = e.reserve(data.length + 64);
  const out = p + ((data.length + 31) & ~31);
  e.bytes().set(data, p);
  e.exports.keccakMany(p, data.length, 1, out);
  return e.bytes().slice(out, out + 32);
}

function many(
  fn: "keccakMany" | "leafHashMany",
  messages: Uint8Array,
  len: number,
  output?: Uint8Array,
): Uint8Array {
  if (len <= 0 || messages.length % len !== 0) {
    throw new RangeError(`${fn}: input length ${messages.length} is not a multiple of ${len}`);
  }
  const count = messages.length / len;
  const out = output ?? new Uint8Array(count * 32);
  if (out.length < count * 32) throw new RangeError(`${fn}: output too small`);
  const e = sharedEngine();
  const per = Math.max(1, Math.floor(CHUNK / len));
  const p = e.reserve(per * len + per * 32);
  const q = p + per * len;
  for (let i = 0; i < count; i += per) {
    const k = Math.min(per, count - i);
    const mem = e.bytes();
    mem.set(messages.subarray(i * len, (i + k) * len), p);
    e.exports[fn](p, len, k, q);
    out.set(mem.subarray(q, q + k * 32), i * 32);
  }
  return out;
}

/**
 * Keccak-256 of each of the `messages.length / len` messages of `len` bytes laid end to end;
 * returns the digests end to end (32 bytes each). One WebAssembly call per MiB of input.
 */
export function keccak256Many(messages: Uint8Array, len: number, output?: Uint8Array): Uint8Array {
  return many("keccakMany", messages, len, output);
}

/**
 * OpenZeppelin standard-v1 leaf hashes, `keccak256(keccak256(m))`, of messages of `len` bytes
 * laid end to end (each message is the `abi.encode` of one leaf's values).
 */
export function doubleKeccak256Many(
  messages: Uint8Array,
  len: number,
  output?: Uint8Array,
): Uint8Array {
  return many("leafHashMany", messages, len, output);
}

/** The OpenZeppelin node hash: keccak256 of the two 32-byte words in ascending order. */
export function nodeHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  const e = sharedEngine();
  const p = e.reserve(96);
  const mem = e.bytes();
  mem.set(a, p);
  mem.set(b, p + 32);
  e.exports.nodeHash(p, p + 32, p + 64);
  return mem.slice(p + 64, p + 96);
}
