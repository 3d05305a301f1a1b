/**
 * The QR code of a printed certificate (`shafaf-certificate-qr/1`,
 * docs/spec/certificate-qr-v1.md). A certificate (`shafaf-person-proof/1`, 3–9 KB) does not fit a
 * QR code a phone reads from paper, so the QR carries what the certificate is about (batch, kind,
 * month, range or absence) and a digest that binds the printout to the file: SHA-256 of the
 * certificate's canonical JSON (RFC 8785 for the JSON the certificates use). Pure, browser-safe.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { InvalidInputError } from "./errors.ts";
import { CROCKFORD_ALPHABET, crockfordText } from "./crockford.ts";

export const CERTIFICATE_QR_PREFIX = "SHAFAF-CERT/1";

/** What a certificate's QR says. */
export interface CertificateQr {
  batchId: number;
  kind: "premium" | "pension";
  /** YYYY-MM. */
  period: string;
  type: "range" | "absence";
  /** SHA-256 of the certificate's canonical JSON, 32 bytes. */
  digest: Uint8Array;
}

/**
 * The canonical JSON of a parsed JSON value (RFC 8785 for values without non-integer numbers:
 * object members sorted by their names' UTF-16 code units, no white space, strings escaped as
 * ECMAScript's JSON.stringify does, integers in decimal).
 *
 * @throws {InvalidInputError} `core.certificate-qr.number` for a number that is not a safe integer.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string")
    return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value))
      throw new InvalidInputError("a certificate holds integers only", {
        code: "core.certificate-qr.number",
      });
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  throw new InvalidInputError("not a JSON value", { code: "core.certificate-qr.json" });
}

/** SHA-256 of the certificate's canonical JSON. */
export function certificateDigest(certificate: unknown): Uint8Array {
  return sha256(new TextEncoder().encode(canonicalJson(certificate)));
}

/** The digest as people compare it: 52 Crockford base32 characters in groups of four. */
export function formatDigest(digest: Uint8Array): string {
  return crockfordText(digest)
    .match(/.{1,4}/g)!
    .join(" ");
}

/** Reads what a certificate's QR needs from a `shafaf-person-proof/1`. */
export function certificateQrOf(certificate: unknown): CertificateQr {
  const c = certificate as {
    format?: unknown;
    batchId?: unknown;
    context?: { kind?: unknown; period?: unknown };
    proof?: { type?: unknown; kind?: unknown };
  };
  const kind = c.context?.kind ?? c.proof?.kind;
  const period = c.context?.period;
  const type = c.proof?.type;
  if (
    c.format !== "shafaf-person-proof/1" ||
    typeof c.batchId !== "number" ||
    !Number.isSafeInteger(c.batchId) ||
    c.batchId < 0 ||
    (kind !== "premium" && kind !== "pension") ||
    typeof period !== "string" ||
    !/^\d{4}-(0[1-9]|1[0-2])$/.test(period) ||
    (type !== "range" && type !== "absence")
  )
    throw new InvalidInputError("not a certificate with a kind and month", {
      details: "a certificate is a shafaf-person-proof/1 with context { kind, period }",
      code: "core.certificate-qr.certificate",
    });
  return { batchId: c.batchId, kind, period, type, digest: certificateDigest(certificate) };
}

/**
 * The QR's text, in the QR alphanumeric character set:
 * `SHAFAF-CERT/1:<batch>:<PREMIUM|PENSION>:<YYYY-MM>:<RANGE|ABSENCE>:<52 base32 characters>`.
 *
 * @example
 * formatCertificateQr(certificateQrOf(cert)) // "SHAFAF-CERT/1:7:PREMIUM:1403-07:ABSENCE:…"
 */
export function formatCertificateQr(qr: CertificateQr): string {
  return [
    CERTIFICATE_QR_PREFIX,
    String(qr.batchId),
    qr.kind.toUpperCase(),
    qr.period,
    qr.type.toUpperCase(),
    crockfordText(qr.digest),
  ].join(":");
}

/**
 * Reads a certificate QR's text (scanned or pasted).
 *
 * @throws {InvalidInputError} `core.certificate-qr.format` naming the first field that is wrong.
 */
export function parseCertificateQr(text: string): CertificateQr {
  const fail = (field: string) =>
    new InvalidInputError(`not a certificate QR code (${field})`, {
      details: `expected ${CERTIFICATE_QR_PREFIX}:<batch>:<PREMIUM|PENSION>:<YYYY-MM>:<RANGE|ABSENCE>:<digest>`,
      code: "core.certificate-qr.format",
      field,
    });
  const parts = text.trim().split(":");
  if (parts.length !== 6 || parts[0] !== CERTIFICATE_QR_PREFIX) throw fail("prefix");
  const [, batch, kind, period, type, digest] = parts as [string, ...string[]];
  if (!/^(0|[1-9]\d{0,15})$/.test(batch!) || !Number.isSafeInteger(Number(batch)))
    throw fail("batch");
  if (kind !== "PREMIUM" && kind !== "PENSION") throw fail("kind");
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period!)) throw fail("period");
  if (type !== "RANGE" && type !== "ABSENCE") throw fail("type");
  if (!/^[0-9A-HJKMNP-TV-Z]{51}[0G]$/.test(digest!)) throw fail("digest");
  const bytes = new Uint8Array(32);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (const ch of digest!) {
    acc = (acc << 5) | CROCKFORD_ALPHABET.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[n++] = (acc >> bits) & 0xff;
    }
    acc &= (1 << bits) - 1;
  }
  return {
    batchId: Number(batch),
    kind: kind === "PREMIUM" ? "premium" : "pension",
    period: period!,
    type: type === "RANGE" ? "range" : "absence",
    digest: bytes,
  };
}
