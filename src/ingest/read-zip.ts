/**
 * A zip reader for untrusted archives (employers' uploads): the central directory is read with a
 * loop (no recursion, whatever the member count), only the members asked for are read, and each is
 * inflated in small slices under three bounds checked before and while inflating: its declared size,
 * an absolute size cap, and a compression-ratio cap.
 *
 * Memory: at most one 64 KiB read buffer, one 4 KiB input slice and what that slice can inflate to
 * (deflate's ratio is at most 1032:1, so ≤ 4.1 MiB) are held at a time, whatever the member's size.
 */
import { open, type FileHandle } from "node:fs/promises";
import { crc32 } from "node:zlib";
import { Inflate } from "fflate";
import { InvalidInputError } from "../core/errors.ts";

/** One file of the archive, as its central-directory entry describes it. */
export interface ZipMember {
  /** Path inside the archive (`/`-separated). */
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  /** Size once inflated, as the entry declares it; inflating more is an error. */
  size: number;
  crc32: number;
  encrypted: boolean;
  /** Offset of the member's local header in the file. */
  localOffset: number;
}

/** Bounds on what one archive may make the reader inflate. */
export interface ZipLimits {
  /** Largest inflated member (default 256 MiB: ≈ 570,000 worker records of the v6 layout). */
  maxMemberBytes: number;
  /** Largest inflated size ÷ compressed size (default 200), checked above `ratioFloorBytes`. */
  maxRatio: number;
  /** Members smaller than this are not held to `maxRatio` (default 1 MiB). */
  ratioFloorBytes: number;
  /** Most members a central directory may list (default 65,535, the non-zip64 limit). */
  maxMembers: number;
  /** Most bytes inflated from one archive, all members read together (default 1 GiB). */
  maxTotalBytes: number;
}

export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = {
  maxMemberBytes: 256 << 20,
  maxRatio: 200,
  ratioFloorBytes: 1 << 20,
  maxMembers: 65_535,
  maxTotalBytes: 1 << 30,
};

/**
 * The archive is not a zip this reader can read, or a member breaks a limit. `code` is
 * `zip.format` (damaged or unsupported archive) or `zip.limit` (a bound of {@link ZipLimits});
 * `member` names the member when there is one. Messages hold names and sizes only.
 */
export class ZipReadError extends InvalidInputError {
  override name = "ZipReadError";
  readonly member: string | undefined;
  constructor(
    shortMessage: string,
    options: { code: "zip.format" | "zip.limit"; member?: string; hint: string },
  ) {
    super(shortMessage, { code: options.code, rule: options.code, details: options.hint });
    this.member = options.member;
  }
}

/** An open archive: its members, and a way to stream one of them. Close it when done. */
export interface ZipArchive {
  readonly members: readonly ZipMember[];
  /**
   * The member's inflated bytes in order, in pieces of at most ≈ 4.1 MiB. Throws
   * `ZipReadError` before reading anything when the declared sizes break a limit, and while
   * inflating when the bytes exceed the declared size or fail the CRC-32 check.
   */
  read(member: ZipMember): AsyncGenerator<Uint8Array>;
  close(): Promise<void>;
}

const EOCD_SIG = 0x06054b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const READ_CHUNK = 64 << 10;
const INFLATE_SLICE = 4 << 10;

function formatError(message: string, member?: string): ZipReadError {
  return new ZipReadError(message, {
    code: "zip.format",
    ...(member !== undefined ? { member } : {}),
    hint: "re-create the zip (Windows: Send to › Compressed folder), or unpack it and give the folder",
  });
}

/**
 * Opens `file` and reads its central directory. Throws `ZipReadError` (`zip.format`) for a file
 * that is not a single-disk, non-zip64 zip, or whose directory is damaged.
 *
 * @example
 * const zip = await openZip("lists.zip");
 * try {
 *   for (const m of zip.members) if (m.name.endsWith(".DBF")) for await (const b of zip.read(m)) use(b);
 * } finally { await zip.close(); }
 */
export async function openZip(file: string, limits: Partial<ZipLimits> = {}): Promise<ZipArchive> {
  const lim = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const fh = await open(file, "r");
  try {
    const members = await readDirectory(fh, lim);
    const total = { bytes: 0 };
    return {
      members,
      read: (member) => readMember(fh, member, lim, total),
      close: () => fh.close(),
    };
  } catch (error) {
    await fh.close();
    throw error;
  }
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

async function readDirectory(fh: FileHandle, lim: ZipLimits): Promise<ZipMember[]> {
  const { size: fileSize } = await fh.stat();
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT);
  const tail = await readAt(fh, fileSize - tailLength, tailLength);
  let at = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (
      tail.readUInt32LE(i) === EOCD_SIG &&
      i + EOCD_SIZE + tail.readUInt16LE(i + 20) <= tail.length
    ) {
      at = i;
      break;
    }
  }
  if (at < 0)
    throw formatError("the file is not a zip, or its end (the central directory) is missing");
  const disk = tail.readUInt16LE(at + 4);
  const cdDisk = tail.readUInt16LE(at + 6);
  const count = tail.readUInt16LE(at + 10);
  const cdSize = tail.readUInt32LE(at + 12);
  const cdOffset = tail.readUInt32LE(at + 16);
  if (disk !== 0 || cdDisk !== 0) throw formatError("a zip split over several files is not read");
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw formatError("zip64 archives (over 65,535 files or 4 GiB) are not read");
  }
  if (count > lim.maxMembers) {
    throw new ZipReadError(`the zip lists ${count} files; at most ${lim.maxMembers} are read`, {
      code: "zip.limit",
      hint: "zip only the DSKKAR00.DBF/DSKWOR00.DBF folders",
    });
  }
  const eocdOffset = fileSize - tailLength + at;
  if (cdOffset + cdSize > eocdOffset)
    throw formatError("the central directory lies outside the file");
  const cd = await readAt(fh, cdOffset, cdSize);
  const members: ZipMember[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > cd.length || cd.readUInt32LE(p) !== CEN_SIG) {
      throw formatError(`central-directory entry ${n + 1} of ${count} is damaged`);
    }
    const flags = cd.readUInt16LE(p + 8);
    const nameLength = cd.readUInt16LE(p + 28);
    const extraLength = cd.readUInt16LE(p + 30);
    const commentLength = cd.readUInt16LE(p + 32);
    const next = p + 46 + nameLength + extraLength + commentLength;
    if (next > cd.length)
      throw formatError(`central-directory entry ${n + 1} of ${count} is damaged`);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLength);
    const member: ZipMember = {
      name: nameBytes.toString(flags & 0x800 ? "utf8" : "latin1"),
      method: cd.readUInt16LE(p + 10),
      crc32: cd.readUInt32LE(p + 16),
      compressedSize: cd.readUInt32LE(p + 20),
      size: cd.readUInt32LE(p + 24),
      encrypted: (flags & 1) !== 0,
      localOffset: cd.readUInt32LE(p + 42),
    };
    if (
      member.compressedSize === 0xffffffff ||
      member.size === 0xffffffff ||
      member.localOffset === 0xffffffff
    ) {
      throw formatError("zip64 archives (over 65,535 files or 4 GiB) are not read", member.name);
    }
    members.push(member);
    p = next;
  }
  return members;
}

/** Checks a member against the limits from its declared sizes alone (nothing inflated yet). */
export function checkZipMember(member: ZipMember, limits: Partial<ZipLimits> = {}): void {
  const lim = { ...DEFAULT_ZIP_LIMITS, ...limits };
  const name = member.name;
  if (member.encrypted) {
    throw new ZipReadError(`${name} is encrypted`, {
      code: "zip.format",
      member: name,
      hint: "zip the lists without a password",
    });
  }
  if (member.method !== 0 && member.method !== 8) {
    throw new ZipReadError(`${name} uses compression method ${member.method}`, {
      code: "zip.format",
      member: name,
      hint: "re-create the zip with ordinary (deflate) compression",
    });
  }
  if (member.size > lim.maxMemberBytes) {
    throw new ZipReadError(
      `${name} inflates to ${member.size} bytes, more than the ${lim.maxMemberBytes} bytes read per file`,
      {
        code: "zip.limit",
        member: name,
        hint: "a list of this size is not a real list; split the workshop's list, or check where the zip came from",
      },
    );
  }
  const ratio = member.size / Math.max(1, member.compressedSize);
  if (member.size > lim.ratioFloorBytes && ratio > lim.maxRatio) {
    throw new ZipReadError(
      `${name} inflates ${Math.round(ratio)} times (${member.compressedSize} → ${member.size} bytes), more than the ${lim.maxRatio} times allowed`,
      {
        code: "zip.limit",
        member: name,
        hint: "real lists compress far less; this looks like a zip bomb — check where the zip came from",
      },
    );
  }
}

async function* readMember(
  fh: FileHandle,
  member: ZipMember,
  lim: ZipLimits,
  total: { bytes: number },
): AsyncGenerator<Uint8Array> {
  checkZipMember(member, lim);
  if (total.bytes + member.size > lim.maxTotalBytes) {
    throw new ZipReadError(
      `reading ${member.name} would inflate more than ${lim.maxTotalBytes} bytes from this zip`,
      {
        code: "zip.limit",
        member: member.name,
        hint: "split the lists over several zips, or check where the zip came from",
      },
    );
  }
  total.bytes += member.size;
  const name = member.name;
  const local = await readAt(fh, member.localOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== LOC_SIG) {
    throw formatError(`the local header of ${name} is missing or damaged`, name);
  }
  const dataStart = member.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const dataEnd = dataStart + member.compressedSize;
  let produced = 0;
  let crc = 0;
  const pieces: Uint8Array[] = [];
  const take = (data: Uint8Array) => {
    if (data.length === 0) return;
    produced += data.length;
    if (produced > member.size) {
      throw new ZipReadError(
        `${name} inflates to more than the ${member.size} bytes its directory entry declares`,
        {
          code: "zip.limit",
          member: name,
          hint: "the zip is damaged or was made to mislead; re-create it",
        },
      );
    }
    crc = crc32(data, crc);
    pieces.push(data);
  };
  const inflater =
    member.method === 8
      ? new Inflate((data) => {
          take(data);
        })
      : undefined;
  const feed = (slice: Uint8Array, final: boolean) => {
    if (inflater === undefined) take(slice);
    else {
      try {
        inflater.push(slice, final);
      } catch (error) {
        if (error instanceof ZipReadError) throw error;
        throw formatError(`${name} is not valid deflate data`, name);
      }
    }
  };
  for (let pos = dataStart; pos < dataEnd;) {
    const chunk = await readAt(fh, pos, Math.min(READ_CHUNK, dataEnd - pos));
    if (chunk.length === 0) throw formatError(`${name} is cut short (the file ends early)`, name);
    pos += chunk.length;
    for (let i = 0; i < chunk.length; i += INFLATE_SLICE) {
      feed(chunk.subarray(i, i + INFLATE_SLICE), false);
      if (pieces.length > 0) yield* pieces.splice(0);
    }
  }
  if (inflater !== undefined) feed(new Uint8Array(0), true);
  if (pieces.length > 0) yield* pieces.splice(0);
  if (produced !== member.size) {
    throw formatError(
      `${name} inflates to ${produced} bytes, not the ${member.size} its directory entry declares`,
      name,
    );
  }
  if (crc >>> 0 !== member.crc32) throw formatError(`${name} fails its CRC-32 check`, name);
}
