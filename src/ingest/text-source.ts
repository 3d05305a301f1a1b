/**
 * Text files as people save them: UTF-8 with or without a BOM, or Windows-1256 (Excel in a
 * Persian locale). Detects the encoding by validating the whole file as UTF-8 (fast, native) and,
 * when it is not, checking that its bytes are plausible Persian cp1256; then streams the decoded
 * text in chunks while hashing the raw bytes for the manifest.
 */
import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import { cp1256Plausibility, foldArabicLetters } from "./cp1256.ts";
import type { Sha256Tap } from "./source-info.ts";
import { type SourceEncoding } from "./source-info.ts";

export type TextEncodingOption = "utf8" | "cp1256" | "auto";

const CHUNK = 1 << 20;
const BOM = [0xef, 0xbb, 0xbf] as const;

/** What detection found. `problem` is set when the file is neither UTF-8 nor cp1256 text. */
export interface DetectedEncoding {
  encoding: SourceEncoding;
  problem?: { byteOffset: number; message: string };
}

/** How many bytes at the end of `bytes` start a UTF-8 sequence that continues in the next chunk. */
function incompleteTail(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const b = bytes[n - back]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return need > back ? back : 0;
  }
  return 0;
}

/**
 * Detects a text file's encoding. `forced` skips detection (a BOM is still recognised).
 * Minimum plausibility for cp1256: 90 % of the high bytes must be Persian letters or punctuation.
 *
 * @example
 * await detectTextEncoding("premiums.csv") // { encoding: "utf-8-bom" }
 */
export async function detectTextEncoding(
  path: string,
  forced: TextEncodingOption = "auto",
): Promise<DetectedEncoding> {
  let offset = 0;
  let carry: Uint8Array = new Uint8Array(0);
  let bom = false;
  let utf16 = false;
  let invalidAt: number | undefined;
  let sample: Uint8Array | undefined;
  for await (const raw of createReadStream(path, { highWaterMark: CHUNK })) {
    const chunk = raw as Buffer;
    if (offset === 0) {
      bom = BOM.every((b, i) => chunk[i] === b);
      utf16 = (chunk[0] === 0xff && chunk[1] === 0xfe) || (chunk[0] === 0xfe && chunk[1] === 0xff);
    }
    if (forced !== "auto") break;
    const data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    const tail = incompleteTail(data);
    const body = data.subarray(0, data.length - tail);
    if (!isUtf8(body)) {
      invalidAt = offset;
      sample = body;
      break;
    }
    carry = data.slice(data.length - tail);
    offset += chunk.length;
  }
  if (bom) return { encoding: "utf-8-bom" };
  if (utf16) {
    return {
      encoding: "utf-8",
      problem: {
        byteOffset: 0,
        message: 'the file is UTF-16 (Excel\'s "Unicode Text"), which is not supported',
      },
    };
  }
  if (forced === "utf8") return { encoding: "utf-8" };
  if (forced === "cp1256") return { encoding: "cp1256" };
  if (invalidAt === undefined && carry.length === 0) return { encoding: "utf-8" };
  const plausibility = sample === undefined ? 0 : (cp1256Plausibility(sample) ?? 0);
  if (plausibility >= 0.9) return { encoding: "cp1256" };
  return {
    encoding: "utf-8",
    problem: {
      byteOffset: invalidAt ?? offset,
      message: "the file is neither UTF-8 nor Persian Windows-1256 text",
    },
  };
}

/**
 * Streams a text file decoded as `encoding`, without the BOM, in chunks of about 1 MiB, feeding
 * every raw byte to `tap`. cp1256 text has Arabic yeh and kaf folded to Persian
 * (`foldArabicLetters`): Windows writes Persian yeh as Arabic yeh in that code page.
 */
export async function* decodeTextFile(
  path: string,
  encoding: SourceEncoding,
  tap?: Sha256Tap,
): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding === "cp1256" ? "windows-1256" : "utf-8", {
    ignoreBOM: false,
  });
  const fold = encoding === "cp1256" ? foldArabicLetters : (t: string) => t;
  for await (const raw of createReadStream(path, { highWaterMark: CHUNK })) {
    const chunk = raw as Buffer;
    tap?.update(chunk);
    const text = fold(decoder.decode(chunk, { stream: true }));
    if (text.length > 0) yield text;
  }
  const rest = fold(decoder.decode());
  if (rest.length > 0) yield rest;
}
