/**
 * Persian (U+06F0–U+06F9) and Arabic-Indic (U+0660–U+0669) digits to ASCII `0`–`9`; every other
 * character is kept. Use before parsing any number, ID or date typed by a person.
 *
 * @example
 * normalizeDigits("۱۴۰۳-۰۷") // "1403-07"
 * normalizeDigits("٠٠١٢٣٤٥٦٧٩") // "0012345679"
 */
export function normalizeDigits(text: string): string {
  // Most input is ASCII: return it as is without running the replacement.
  let i = 0;
  while (i < text.length && text.charCodeAt(i) < 0x0660) i++;
  if (i === text.length) return text;
  return text.replace(/[\u06F0-\u06F9\u0660-\u0669]/g, (c) => {
    const code = c.charCodeAt(0);
    return String.fromCharCode(48 + (code >= 0x06f0 ? code - 0x06f0 : code - 0x0660));
  });
}

/** ASCII digits to Persian digits, for display. */
export function toPersianDigits(text: string): string {
  return text.replace(/[0-9]/g, (c) => String.fromCharCode(0x06f0 + c.charCodeAt(0) - 48));
}
