import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";

export type { SourceEncoding, SourceFormat, SourceInfo, SsoLayout } from "../core/source-info.ts";

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
