import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

/** The encodings a source can be read in (recorded in the manifest). */
export type SourceEncoding = "utf-8" | "utf-8-bom" | "cp1256" | "iran-system";
export type SourceFormat = "csv" | "jsonl" | "sso-dbf";
export type SsoLayout = "v6" | "v2.7" | "wide";

/**
 * What the manifest records about one source file, so that a batch can be recomputed
 * deterministically years later: which bytes (sha256), read how (format, layout, encoding).
 * A DBF inside a zip is listed on its own: `name` is the zip, `entry` the member path, `sha256`
 * the member's (uncompressed) bytes, and `containerSha256` the zip file's.
 */
export interface SourceInfo {
  /** The file name as given (base name; for a folder input, `folder/relative/path`). */
  name: string;
  entry?: string;
  /** Lower-case hex SHA-256 of the file's bytes. */
  sha256: string;
  containerSha256?: string;
  format: SourceFormat;
  /** DBF only. */
  layout?: SsoLayout;
  encoding: SourceEncoding;
  /** Data rows (CSV, JSON Lines) or live records (DBF) read from the file. */
  records: number;
  /** DBF only: records marked deleted and skipped. */
  deletedRecords?: number;
}

/** Hashes bytes as they stream past, so that a file is read once for both rows and its hash. */
export class Sha256Tap {
  readonly #hash: Hash = createHash("sha256");
  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
  }
  /** The hex digest; call once, after the last chunk. */
  digest(): string {
    return this.#hash.digest("hex");
  }
}

/**
 * SHA-256 of a whole file, streamed.
 *
 * @example
 * await sha256File("premiums.csv") // "9f86d0…"
 */
export async function sha256File(path: string): Promise<string> {
  const tap = new Sha256Tap();
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    tap.update(chunk as Buffer);
  }
  return tap.digest();
}
