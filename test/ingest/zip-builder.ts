/**
 * Builds zip files byte by byte for hostile-input tests: members whose directory entries may lie
 * about their sizes, and deflate bombs made from zeros without ever holding the inflated bytes.
 */
import { crc32, createDeflateRaw } from "node:zlib";

export interface RawZipMember {
  name: string;
  /** The member's bytes as stored in the zip (already deflated when `method` is 8). */
  data: Uint8Array;
  method: 0 | 8;
  /** Inflated size written in the headers (may lie). */
  size: number;
  crc32: number;
}

/** A zip of `members` in order: local headers and data, then the central directory. */
export function buildZip(members: readonly RawZipMember[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name, "utf8");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(m.method, 8);
    local.writeUInt32LE(m.crc32 >>> 0, 14);
    local.writeUInt32LE(m.data.length, 18);
    local.writeUInt32LE(m.size, 22);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, Buffer.from(m.data));
    const cen = Buffer.alloc(46);
    cen.writeUInt32LE(0x02014b50, 0);
    cen.writeUInt16LE(20, 4);
    cen.writeUInt16LE(20, 6);
    cen.writeUInt16LE(0x800, 8);
    cen.writeUInt16LE(m.method, 10);
    cen.writeUInt32LE(m.crc32 >>> 0, 16);
    cen.writeUInt32LE(m.data.length, 20);
    cen.writeUInt32LE(m.size, 24);
    cen.writeUInt16LE(name.length, 28);
    cen.writeUInt32LE(offset, 42);
    central.push(cen, name);
    offset += 30 + name.length + m.data.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cd, end]);
}

/** A member holding `bytes` deflated, with honest sizes and CRC. */
export async function deflatedMember(name: string, bytes: Uint8Array): Promise<RawZipMember> {
  return {
    name,
    data: await deflateChunks([bytes]),
    method: 8,
    size: bytes.length,
    crc32: crc32(bytes),
  };
}

/**
 * A deflated member of `prefix` followed by zeros up to `size` bytes (1 GiB deflates to ≈ 1 MiB),
 * made in 16 MiB steps: the inflated bytes are never held at once.
 */
export async function zeroBombMember(
  name: string,
  prefix: Uint8Array,
  size: number,
): Promise<RawZipMember> {
  const step = new Uint8Array(16 << 20);
  const chunks: Uint8Array[] = [prefix];
  let crc = crc32(prefix);
  let left = size - prefix.length;
  while (left > 0) {
    const piece = step.subarray(0, Math.min(step.length, left));
    crc = crc32(piece, crc);
    chunks.push(piece);
    left -= piece.length;
  }
  return { name, data: await deflateChunks(chunks), method: 8, size, crc32: crc };
}

async function deflateChunks(chunks: readonly Uint8Array[]): Promise<Uint8Array> {
  const z = createDeflateRaw({ level: 9 });
  const out: Buffer[] = [];
  z.on("data", (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    z.on("end", resolve);
    z.on("error", reject);
  });
  for (const c of chunks) {
    if (!z.write(c)) await new Promise((r) => z.once("drain", r));
  }
  z.end();
  await done;
  return Buffer.concat(out);
}
