/**
 * Windows-1256 (Arabic, as Excel and Windows save Persian text in a Persian locale): decoding
 * through the WHATWG decoder Node ships, and a per-byte test of whether a byte can be part of
 * Persian text in that code page (letters, ZWNJ, Persian punctuation) — the basis of detection.
 */

const decoder = new TextDecoder("windows-1256");

/** Decodes cp1256 bytes (every byte decodes). */
export function decodeCp1256(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/**
 * Persian yeh (U+06CC) is not in cp1256: Windows writes it as Arabic yeh (0xED), and Persian
 * keyboards on old systems typed Arabic kaf. In Persian text both fold back to the Persian letters.
 */
export function foldArabicLetters(text: string): string {
  return text.replace(/[\u064A\u0649]/g, "\u06CC").replace(/\u0643/g, "\u06A9");
}

/** Decodes cp1256 Persian text: `decodeCp1256` then `foldArabicLetters`. */
export function decodeCp1256Persian(bytes: Uint8Array): string {
  return foldArabicLetters(decoder.decode(bytes));
}

/** 256 flags: can this byte occur in Persian text written in cp1256? */
const TEXT_BYTE: Uint8Array = (() => {
  const flags = new Uint8Array(256);
  for (let b = 0; b < 256; b++) {
    if (b < 0x80) {
      flags[b] = 1;
      continue;
    }
    const ch = decoder.decode(Uint8Array.of(b));
    // Arabic-script letters and punctuation (U+060C–U+06FF), ZWNJ, no-break space.
    flags[b] = /^[\u060C-\u06FF\u200C\u00A0]$/u.test(ch) ? 1 : 0;
  }
  return flags;
})();

/** Whether `byte` can be part of Persian text in cp1256 (false for Latin accents, symbols). */
export function isCp1256TextByte(byte: number): boolean {
  return TEXT_BYTE[byte] === 1;
}

/**
 * How much the high bytes (≥ 0x80) of `bytes` look like Persian cp1256 text, in [0, 1];
 * `undefined` when there are no high bytes.
 */
export function cp1256Plausibility(bytes: Uint8Array): number | undefined {
  let high = 0;
  let good = 0;
  for (const b of bytes) {
    if (b < 0x80) continue;
    high++;
    good += TEXT_BYTE[b]!;
  }
  return high === 0 ? undefined : good / high;
}
