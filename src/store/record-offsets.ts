/**
 * `records.idx` (format `shafaf-record-offsets/1`, docs/spec/record-offsets-v1.md): where each
 * line of a batch artifact's `records.jsonl` starts, so that one record is read with one `pread`
 * instead of a scan. Little-endian:
 *
 *   bytes 0–7    "SHAFAFRO"
 *   bytes 8–11   version (1)
 *   bytes 12–15  n, the number of records
 *   then n + 1   uint64 offsets: line i is bytes [offset i, offset i+1) of records.jsonl, its
 *                trailing "\n" included; offset 0 is 0 and offset n is the file's length.
 */
import { open } from "node:fs/promises";

const MAGIC = [0x53, 0x48, 0x41, 0x46, 0x41, 0x46, 0x52, 0x4f]; // "SHAFAFRO"
export const RECORD_OFFSETS_VERSION = 1;
const HEADER = 16;

/** Line offsets then the file length (n + 1 values) → `records.idx` bytes. */
export function encodeRecordOffsets(offsets: Float64Array): Uint8Array {
  const n = offsets.length - 1;
  const out = new Uint8Array(HEADER + 8 * (n + 1));
  out.set(MAGIC, 0);
  const view = new DataView(out.buffer);
  view.setUint32(8, RECORD_OFFSETS_VERSION, true);
  view.setUint32(12, n, true);
  for (let i = 0; i <= n; i++) view.setBigUint64(HEADER + 8 * i, BigInt(offsets[i]!), true);
  return out;
}

/**
 * Reads `records.idx` and checks it against what the descriptor says: `recordCount` records
 * and a records.jsonl of `fileBytes` bytes; offsets start at 0 and strictly increase.
 * Throws RangeError naming the failed check.
 */
export function decodeRecordOffsets(
  bytes: Uint8Array,
  recordCount: number,
  fileBytes: number,
): Float64Array {
  const fail = (what: string): never => {
    throw new RangeError(`not a valid shafaf-record-offsets/1 file: ${what}`);
  };
  if (bytes.length < HEADER) fail(`too short (${bytes.length} bytes)`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== MAGIC[i]) fail("bad magic (expected SHAFAFRO)");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== RECORD_OFFSETS_VERSION) fail(`unsupported version ${version}`);
  const n = view.getUint32(12, true);
  if (n !== recordCount) fail(`${n} records, the artifact has ${recordCount}`);
  if (bytes.length !== HEADER + 8 * (n + 1)) fail(`length ${bytes.length} for ${n} records`);
  const offsets = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) {
    const v = view.getBigUint64(HEADER + 8 * i, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`offset ${i} too large`);
    offsets[i] = Number(v);
    if (i > 0 && offsets[i]! <= offsets[i - 1]!) fail(`offset ${i} does not increase`);
  }
  if (offsets[0] !== 0) fail("the first offset is not 0");
  if (offsets[n] !== fileBytes) fail(`the last offset is not the file length ${fileBytes}`);
  return offsets;
}

/**
 * The offsets of an artifact written before `records.idx` existed, found by one scan of
 * records.jsonl (≈ 1 s per 300 MB); the caller caches them.
 */
export async function scanRecordOffsets(file: string, recordCount: number): Promise<Float64Array> {
  const offsets = new Float64Array(recordCount + 1);
  const fh = await open(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    let position = 0;
    let line = 1; // offsets[0] = 0
    for (;;) {
      const { bytesRead } = await fh.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) break;
      let from = 0;
      for (;;) {
        const nl = buffer.indexOf(0x0a, from);
        if (nl < 0 || nl >= bytesRead) break;
        if (line > recordCount) {
          throw new RangeError(`records.jsonl has more than ${recordCount} lines`);
        }
        offsets[line++] = position + nl + 1;
        from = nl + 1;
      }
      position += bytesRead;
    }
    if (line !== recordCount + 1) {
      throw new RangeError(`records.jsonl has ${line - 1} lines, the artifact ${recordCount}`);
    }
    if (offsets[recordCount] !== position)
      throw new RangeError("records.jsonl does not end in \\n");
    return offsets;
  } finally {
    await fh.close();
  }
}
