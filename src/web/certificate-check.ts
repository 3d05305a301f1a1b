/**
 * «بررسی گواهی» / "Check a certificate": a `shafaf-person-proof/1` file (a missing month's
 * certificate or the certificate of what was recorded), verified in this browser by core's
 * `verifyDocument` against the chain this site names: the batch's root, kind, month, supersession
 * and the VRF public key registered for it are read with `getBatchV2` / `getVrfKey` over the
 * site's published JSON-RPC URL, the chain id is the RPC's own. The file is read locally, never
 * uploaded. With the text of a printed certificate's QR code (docs/spec/certificate-qr-v1.md),
 * it also says whether the file is the one that was printed. Never throws.
 */
import {
  certificateDigest,
  formatDigest,
  parseCertificateQr,
  type CertificateQr,
} from "../core/certificate-qr.ts";
import { bytesToHex } from "../core/hex.ts";
import { PERSON_PROOF_FORMAT, type PersonProof } from "../core/person-proof.ts";
import type { OnChainBatchV2 } from "../core/verify-document.ts";
import { verifyDocument } from "../core/verify-document.ts";
import { getChainInfo } from "./api-client.ts";
import {
  ChainReadError,
  readChainBatch,
  readChainBatchV2,
  readChainId,
  readVrfPublicKey,
} from "./chain-batch.ts";
import { t } from "./i18n.ts";
import type { MessageKey } from "./messages.ts";
import { checkText, type ShownCheck } from "./receipt-check.ts";

/** Larger files are refused before reading (a certificate is a few kilobytes). */
export const MAX_CERTIFICATE_BYTES = 4 * 1024 * 1024;

/** Why a file was refused before any check: it is not a certificate at all. */
export type CertificateRefusal = "too-large" | "not-json" | "receipt" | "not-certificate";

export type CertificateOutcome =
  | { status: "refused"; why: CertificateRefusal }
  | {
      status: "verified" | "failed" | "inconclusive";
      checks: ShownCheck[];
      /** The certificate as read (what it claims; established only when verified). */
      doc: PersonProof;
      type: "range" | "absence" | undefined;
      /** The batch's anchoring time (unix seconds) as read from the chain. */
      anchoredAt?: number;
      /** The file's digest in groups (what the printout's QR carries). */
      digest: string;
      /** With the printout's QR text: whether this file is the printed one. */
      printout?: "match" | "mismatch";
    };

/** Reads a batch as core's verifier wants it, from the chain at `rpcUrl`. */
function chainReader(rpcUrl: string, contract: string, seen: { anchoredAt?: number }) {
  return {
    async readBatch(batchId: number): Promise<OnChainBatchV2 | undefined> {
      const chainId = await readChainId(rpcUrl);
      const base = { chainId, contract, batchId, confirmations: 0, disputes: 0 };
      try {
        const b = await readChainBatchV2(rpcUrl, contract, BigInt(batchId));
        if (b === undefined) {
          // A shafaf-tree/1 batch: the certificate names the wrong scheme, and says so by name.
          const v1 = await readChainBatch(rpcUrl, contract, BigInt(batchId));
          return {
            ...base,
            root: v1.root,
            supersededBy: Number(v1.supersededBy),
            scheme: "shafaf-tree/1",
          };
        }
        seen.anchoredAt = Number(b.anchoredAt);
        const pk = await readVrfPublicKey(rpcUrl, contract, b.vrfKeyId);
        return {
          ...base,
          root: b.root,
          supersededBy: Number(b.supersededBy),
          kind: b.kind,
          period: b.period,
          scheme: "shafaf-tree/2",
          ...(pk === undefined ? {} : { vrfPublicKey: pk }),
        };
      } catch (error) {
        if (error instanceof ChainReadError && error.unknownBatch) return undefined;
        throw error;
      }
    },
  };
}

/** Person-proof checks in words (the receipt's words serve the checks both share). */
const CERT_CHECKS: Readonly<Record<string, MessageKey>> = {
  vrf: "certCheckVrf",
  "vrf-key": "certCheckVrfKey",
  "person-key": "certCheckPersonKey",
  records: "certCheckRecords",
  "record-person": "certCheckRecordPerson",
  scheme: "certCheckScheme",
  "anchored-scheme": "certCheckScheme",
  context: "certCheckContext",
};

function shown(c: { name: string; outcome: string; detail: string }): ShownCheck {
  const key = c.name.startsWith("tree.") ? "certCheckTree" : CERT_CHECKS[c.name];
  return {
    name: c.name,
    ok: c.outcome === "pass" ? true : c.outcome === "fail" ? false : null,
    text: key === undefined ? checkText(c.name) : t(key),
    detail: c.detail,
  };
}

/** Reads the QR text of a printout; `undefined` when empty, an Error naming the field when bad. */
export function readPrintoutQr(text: string): CertificateQr | undefined | Error {
  if (text.trim() === "") return undefined;
  try {
    return parseCertificateQr(text);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * @example
 * const r = await checkCertificate(await file.text(), qrText);
 * r.status // "verified" | "failed" | "inconclusive" | "refused"
 */
export async function checkCertificate(
  text: string,
  printout?: CertificateQr,
): Promise<CertificateOutcome> {
  if (text.length > MAX_CERTIFICATE_BYTES) return { status: "refused", why: "too-large" };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { status: "refused", why: "not-json" };
  }
  const format =
    typeof doc === "object" && doc !== null ? (doc as { format?: unknown }).format : undefined;
  if (typeof format === "string" && format.startsWith("shafaf-receipt/"))
    return { status: "refused", why: "receipt" };
  if (format !== PERSON_PROOF_FORMAT) return { status: "refused", why: "not-certificate" };
  const cert = doc as PersonProof;
  let digest: Uint8Array | undefined;
  try {
    digest = certificateDigest(cert);
  } catch {
    digest = undefined;
  }
  const checks: ShownCheck[] = [];
  const seen: { anchoredAt?: number } = {};
  let status: "verified" | "failed" | "inconclusive";
  try {
    const info = await getChainInfo();
    if (info.rpcUrl === undefined) {
      checks.push({ ...shown({ name: "chain-read", outcome: "inconclusive", detail: "" }) });
      status = "inconclusive";
    } else {
      const r = await verifyDocument(cert, chainReader(info.rpcUrl, info.contract, seen));
      checks.push(...r.checks.map(shown));
      status = r.status;
    }
  } catch (error) {
    checks.push(
      shown({
        name: "chain-read",
        outcome: "inconclusive",
        detail: error instanceof Error ? error.message : String(error),
      }),
    );
    status = "inconclusive";
  }
  const type = (cert.proof as { type?: unknown } | undefined)?.type;
  return {
    status,
    checks,
    doc: cert,
    type: type === "range" || type === "absence" ? type : undefined,
    ...(seen.anchoredAt === undefined ? {} : { anchoredAt: seen.anchoredAt }),
    digest: digest === undefined ? "" : formatDigest(digest),
    ...(printout === undefined
      ? {}
      : {
          printout:
            digest !== undefined &&
            bytesToHex(digest) === bytesToHex(printout.digest) &&
            printout.batchId === cert.batchId
              ? "match"
              : "mismatch",
        }),
  };
}
