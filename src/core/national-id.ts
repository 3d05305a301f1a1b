import { normalizeDigits } from "./digits.ts";

/** Why a national ID was rejected. Stable strings: they become `RecordIssue.rule` suffixes. */
export type NationalIdProblem = "format" | "repdigit" | "checksum";

export type NationalIdResult =
  { ok: true; nationalId: string } | { ok: false; problem: NationalIdProblem };

/**
 * Checks an Iranian national ID (کد ملی): 10 digits after Persian/Arabic digit normalisation,
 * not one of the ten repdigits, and the mod-11 check digit of DOMAIN.md
 * (S = Σ d_i·(11−i), i = 1..9; r = S mod 11; d10 = r if r < 2 else 11 − r).
 * Whitespace around the value is ignored; nothing else is (no padding of short IDs).
 *
 * @example
 * checkNationalId("۰۰۱۲۳۴۵۶۷۹") // { ok: true, nationalId: "0012345679" }
 * checkNationalId("0012345678") // { ok: false, problem: "checksum" }
 */
export function checkNationalId(text: string): NationalIdResult {
  const id = normalizeDigits(text.trim());
  // `^[0-9]{10}$`, then "ten equal digits", by char codes (this runs twice for every row).
  if (id.length !== 10) return { ok: false, problem: "format" };
  let same = true;
  for (let i = 0; i < 10; i++) {
    const c = id.charCodeAt(i);
    if (c < 48 || c > 57) return { ok: false, problem: "format" };
    if (c !== id.charCodeAt(0)) same = false;
  }
  if (same) return { ok: false, problem: "repdigit" };
  let s = 0;
  for (let i = 0; i < 9; i++) s += (id.charCodeAt(i) - 48) * (10 - i);
  const r = s % 11;
  const check = id.charCodeAt(9) - 48;
  const ok = r < 2 ? check === r : check === 11 - r;
  return ok ? { ok: true, nationalId: id } : { ok: false, problem: "checksum" };
}

/** True when `text` is a valid national ID (see {@link checkNationalId}). */
export function isValidNationalId(text: string): boolean {
  return checkNationalId(text).ok;
}

/**
 * Masks a national ID for messages and logs: keeps the first and the last digit only
 * (`0012345679` → `0********9`). Never log an unmasked ID.
 */
export function maskNationalId(text: string): string {
  const t = normalizeDigits(text.trim());
  if (t.length <= 2) return "*".repeat(t.length);
  return t[0] + "*".repeat(t.length - 2) + t[t.length - 1];
}
