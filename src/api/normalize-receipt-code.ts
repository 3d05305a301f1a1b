/**
 * A receipt code as typed or read aloud, reduced to its canonical form: Persian (۰–۹) and Arabic
 * (٠–٩) digits become ASCII, spaces, dashes, ZWNJ and other separators go, letters become upper
 * case. Returns undefined when what is left is not 8–64 characters of [0-9A-Z] — such a text
 * cannot be any receipt's code, and says so without a store lookup.
 *
 * @example
 * normalizeReceiptCode("ab12-cd34 ef56") // "AB12CD34EF56"
 */
export function normalizeReceiptCode(text: string): string | undefined {
  const ascii = text
    .replace(/[\u06F0-\u06F9]/g, (d) => String(d.charCodeAt(0) - 0x06f0))
    .replace(/[\u0660-\u0669]/g, (d) => String(d.charCodeAt(0) - 0x0660))
    .replace(/\s|\u200C|\u200D|[\u2010-\u2015_.-]/g, "")
    .toUpperCase();
  return /^[0-9A-Z]{8,64}$/.test(ascii) ? ascii : undefined;
}
