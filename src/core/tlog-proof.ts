/**
 * Offline proofs of logging (c2sp.org/tlog-proof@v1): an entry's index, its RFC 6962 inclusion
 * proof and the cosigned checkpoint, verifiable against a trust policy with no network.
 *
 *     c2sp.org/tlog-proof@v1\n[extra <base64>\n]index <n>\n<base64 hash>\n…\n\n<checkpoint note>
 */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { parseTreeSize } from "./checkpoint.ts";
import { InvalidInputError } from "./errors.ts";
import { HASH_SIZE, verifyInclusion } from "./rfc6962.ts";
import { verifyCheckpointPolicy, type TrustPolicy } from "./tlog-policy.ts";

export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";

export interface TlogProof {
  /** Opaque, unauthenticated application data (absent when the line is omitted). */
  extra?: Uint8Array;
  index: number;
  inclusionProof: Uint8Array[];
  /** The signed (and usually cosigned) checkpoint note, verbatim. */
  checkpoint: string;
}

/** A malformed tlog-proof; `code` is `core.tlog-proof.format`. */
export class TlogProofFormatError extends InvalidInputError {
  override name = "TlogProofFormatError";
  constructor(line: number, message: string) {
    super(`tlog-proof line ${line}: ${message}`, { code: "core.tlog-proof.format" });
  }
}

/**
 * The proof text.
 *
 * @example
 * formatTlogProof({ index: 5, inclusionProof: [h1, h2], checkpoint: note });
 */
export function formatTlogProof(p: TlogProof): string {
  let out = TLOG_PROOF_HEADER + "\n";
  if (p.extra !== undefined) out += `extra ${encodeBase64(p.extra)}\n`;
  out += `index ${p.index}\n`;
  for (const h of p.inclusionProof) out += encodeBase64(h) + "\n";
  return out + "\n" + p.checkpoint;
}

/** Parses a proof text; throws {@link TlogProofFormatError} naming the line. */
export function parseTlogProof(text: string): TlogProof {
  const blank = text.indexOf("\n\n");
  if (blank < 0) throw new TlogProofFormatError(1, "no blank line before the checkpoint");
  const lines = text.slice(0, blank).split("\n");
  const checkpoint = text.slice(blank + 2);
  if (lines[0] !== TLOG_PROOF_HEADER)
    throw new TlogProofFormatError(1, `the first line is ${TLOG_PROOF_HEADER}`);
  let at = 1;
  let extra: Uint8Array | undefined;
  if (lines[at]?.startsWith("extra ")) {
    extra = decodeBase64(lines[at]!.slice("extra ".length));
    if (extra === undefined)
      throw new TlogProofFormatError(at + 1, "extra data is not canonical base64");
    at++;
  }
  const indexLine = lines[at];
  const index =
    indexLine?.startsWith("index ") === true
      ? parseTreeSize(indexLine.slice("index ".length))
      : undefined;
  if (index === undefined)
    throw new TlogProofFormatError(at + 1, "expected: index <decimal, no leading zeros>");
  at++;
  const inclusionProof: Uint8Array[] = [];
  for (; at < lines.length; at++) {
    const h = decodeBase64(lines[at]!);
    if (h?.length !== HASH_SIZE)
      throw new TlogProofFormatError(at + 1, "each proof line is the base64 of a 32-byte hash");
    inclusionProof.push(h);
  }
  if (inclusionProof.length > 63)
    throw new TlogProofFormatError(at, "an inclusion proof has at most 63 hashes");
  return { ...(extra === undefined ? {} : { extra }), index, inclusionProof, checkpoint };
}

/** One named check, as in verify-receipt.ts. */
export interface ProofCheck {
  name: "format" | "checkpoint" | "inclusion";
  ok: boolean;
  detail: string;
  expected?: string;
  computed?: string;
}

export interface VerifyTlogProofResult {
  status: "verified" | "failed";
  checks: ProofCheck[];
  /** Set when the checkpoint passed: its origin, size and the policy's witnesses that cosigned it. */
  origin?: string;
  size?: number;
  cosigners?: string[];
}

/**
 * Verifies a tlog-proof for the entry whose RFC 6962 leaf hash is `leafHash`, against `policy`
 * (log key for the origin, witness cosignatures meeting the quorum), then the inclusion proof
 * against the checkpoint's root. No network; never throws.
 *
 * @example
 * const r = verifyTlogProof(text, hashLeaf(entry), policy);
 * if (r.status !== "verified") console.log(r.checks.filter((c) => !c.ok));
 */
export function verifyTlogProof(
  text: string,
  leafHash: Uint8Array,
  policy: TrustPolicy,
): VerifyTlogProofResult {
  const checks: ProofCheck[] = [];
  let proof: TlogProof;
  try {
    proof = parseTlogProof(text);
    checks.push({
      name: "format",
      ok: true,
      detail: `${TLOG_PROOF_HEADER}, index ${proof.index}, ${proof.inclusionProof.length} proof hash(es)`,
    });
  } catch (error) {
    checks.push({ name: "format", ok: false, detail: (error as Error).message });
    return { status: "failed", checks };
  }
  const cp = verifyCheckpointPolicy(proof.checkpoint, policy);
  if (!cp.ok) {
    checks.push({ name: "checkpoint", ok: false, detail: `${cp.code}: ${cp.message}` });
    return { status: "failed", checks };
  }
  checks.push({
    name: "checkpoint",
    ok: true,
    detail: `${cp.checkpoint.origin} size ${cp.checkpoint.size}, signed by the log, cosigned by ${cp.cosigners.length} witness(es) [${cp.cosigners.join(", ")}], quorum ${policy.quorum} met`,
  });
  const inc = verifyInclusion(
    proof.index,
    cp.checkpoint.size,
    leafHash,
    proof.inclusionProof,
    cp.checkpoint.rootHash,
  );
  if (inc.ok) {
    checks.push({
      name: "inclusion",
      ok: true,
      detail: `entry ${proof.index} is in the tree of size ${cp.checkpoint.size}`,
    });
  } else if (inc.failure.code === "root-mismatch") {
    checks.push({
      name: "inclusion",
      ok: false,
      detail: inc.failure.message,
      expected: encodeBase64(inc.failure.expected),
      computed: encodeBase64(inc.failure.calculated),
    });
  } else {
    checks.push({
      name: "inclusion",
      ok: false,
      detail: `${inc.failure.code}: ${inc.failure.message}`,
    });
  }
  return {
    status: checks.every((c) => c.ok) ? "verified" : "failed",
    checks,
    origin: cp.checkpoint.origin,
    size: cp.checkpoint.size,
    cosigners: cp.cosigners,
  };
}
