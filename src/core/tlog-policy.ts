/**
 * Trust policies in the c2sp.org/tlog-policy text format: which logs, which witnesses, and the
 * quorum of cosignatures a checkpoint needs (e.g. `group sso-auditors 3 w1 w2 w3 w4` then
 * `quorum sso-auditors`). Shafaf's use of it is written in docs/spec/trust-policy-v1.md.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { openCheckpoint, type Checkpoint } from "./checkpoint.ts";
import { InvalidInputError } from "./errors.ts";
import { bytesToHex, type Hex } from "./hex.ts";
import {
  noteVerifier,
  parseNote,
  parseVerifierKey,
  SIG_TYPE_ED25519,
  type NoteSignature,
  type NoteVerifier,
} from "./signed-note.ts";

export interface PolicyLog {
  vkey: string;
  verifier: NoteVerifier;
  url?: string;
}

export interface PolicyWitness {
  name: string;
  vkey: string;
  /** Verifies cosignature/v1 (type 0x04; a 0x01 key is converted). */
  verifier: NoteVerifier;
  url?: string;
}

export interface PolicyGroup {
  name: string;
  threshold: number;
  members: string[];
}

/** A parsed policy. `quorum` names a witness, a group, or `none`. */
export interface TrustPolicy {
  logs: PolicyLog[];
  witnesses: PolicyWitness[];
  groups: PolicyGroup[];
  quorum: string;
}

/** A bad policy file; the message names the line. */
export class PolicyFormatError extends InvalidInputError {
  override name = "PolicyFormatError";
  constructor(line: number, message: string, source = "policy") {
    super(`${source}:${line}: ${message}`, {
      code: "core.policy.format",
      details: "see docs/spec/trust-policy-v1.md (c2sp.org/tlog-policy)",
    });
  }
}

function sameKey(a: NoteVerifier, b: NoteVerifier): boolean {
  return (
    a.publicKey.length === b.publicKey.length && a.publicKey.every((x, i) => x === b.publicKey[i])
  );
}

/**
 * Parses a tlog-policy file. Throws {@link PolicyFormatError} naming `source:line`.
 *
 * @example
 * const policy = parseTrustPolicy(readFileSync("trust-policy.txt", "utf8"), "trust-policy.txt");
 */
export function parseTrustPolicy(text: string, source = "policy"): TrustPolicy {
  const policy: TrustPolicy = { logs: [], witnesses: [], groups: [], quorum: "" };
  const names = new Set<string>();
  let quorumLine = 0;
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const n = i + 1;
    const err = (m: string) => new PolicyFormatError(n, m, source);
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(raw))
      throw err("control characters other than tab and newline are not allowed");
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    const [keyword, ...args] = line.split(/[ \t]+/) as [string, ...string[]];
    const vkeyOf = (text: string, role: "signer" | "cosigner") => {
      try {
        return noteVerifier(parseVerifierKey(text), role);
      } catch (error) {
        throw err(`bad verifier key: ${(error as InvalidInputError).shortMessage}`);
      }
    };
    switch (keyword) {
      case "log": {
        if (args.length < 1 || args.length > 2) throw err("expected: log <vkey> [<url>]");
        const k = parseVerifierKeySafe(args[0]!, err);
        if (k.type !== SIG_TYPE_ED25519) throw err("a log key is an Ed25519 note key (type 0x01)");
        const verifier = vkeyOf(args[0]!, "signer");
        if (policy.logs.some((l) => sameKey(l.verifier, verifier))) throw err("duplicate log key");
        policy.logs.push({
          vkey: args[0]!,
          verifier,
          ...(args[1] === undefined ? {} : { url: args[1] }),
        });
        return;
      }
      case "witness": {
        if (args.length < 2 || args.length > 3)
          throw err("expected: witness <name> <vkey> [<url>]");
        const name = args[0]!;
        if (name === "none" || names.has(name))
          throw err(`the name ${JSON.stringify(name)} is already defined`);
        const verifier = vkeyOf(args[1]!, "cosigner");
        if (policy.witnesses.some((w) => sameKey(w.verifier, verifier)))
          throw err("duplicate witness key");
        names.add(name);
        policy.witnesses.push({
          name,
          vkey: args[1]!,
          verifier,
          ...(args[2] === undefined ? {} : { url: args[2] }),
        });
        return;
      }
      case "group": {
        if (args.length < 3) throw err("expected: group <name> all|any|<k> <member>...");
        const [name, k, ...members] = args as [string, string, ...string[]];
        if (name === "none" || names.has(name))
          throw err(`the name ${JSON.stringify(name)} is already defined`);
        const seen = new Set<string>();
        for (const m of members) {
          if (!names.has(m))
            throw err(`${JSON.stringify(m)} is not a witness or group defined above`);
          if (seen.has(m)) throw err(`${JSON.stringify(m)} is listed twice`);
          seen.add(m);
        }
        const threshold =
          k === "all"
            ? members.length
            : k === "any"
              ? 1
              : /^[1-9][0-9]*$/.test(k)
                ? Number(k)
                : NaN;
        if (!(threshold >= 1 && threshold <= members.length))
          throw err(`threshold ${k} is not all, any, or 1–${members.length}`);
        names.add(name);
        policy.groups.push({ name, threshold, members });
        return;
      }
      case "quorum": {
        if (args.length !== 1) throw err("expected: quorum <name>");
        if (quorumLine !== 0) throw err(`a second quorum line (the first is line ${quorumLine})`);
        if (args[0] !== "none" && !names.has(args[0]!))
          throw err(`${JSON.stringify(args[0])} is not a witness or group defined above`);
        policy.quorum = args[0]!;
        quorumLine = n;
        return;
      }
      default:
        throw err(`unknown keyword ${JSON.stringify(keyword)} (log, witness, group, quorum)`);
    }
  });
  if (quorumLine === 0)
    throw new PolicyFormatError(lines.length, "the policy has no quorum line", source);
  return policy;
}

function parseVerifierKeySafe(text: string, err: (m: string) => Error) {
  try {
    return parseVerifierKey(text);
  } catch (error) {
    throw err(`bad verifier key: ${(error as InvalidInputError).shortMessage}`);
  }
}

/** True when the witnesses in `cosigned` (by policy name) satisfy `name` (witness, group or none). */
export function quorumSatisfied(
  policy: TrustPolicy,
  name: string,
  cosigned: ReadonlySet<string>,
): boolean {
  if (name === "none") return true;
  const group = policy.groups.find((g) => g.name === name);
  if (group === undefined) return cosigned.has(name);
  return (
    group.members.filter((m) => quorumSatisfied(policy, m, cosigned)).length >= group.threshold
  );
}

/** The outcome of {@link verifyCheckpointPolicy}: never an exception. */
export type PolicyCheckResult =
  | {
      ok: true;
      checkpoint: Checkpoint;
      text: string;
      cosigners: string[];
      signatures: NoteSignature[];
    }
  | { ok: false; code: "log" | "cosignature" | "quorum"; message: string; cosigners?: string[] };

/**
 * Verifies a cosigned checkpoint note against a policy: signed by one of its logs (key name =
 * origin), every cosignature by a policy witness valid, and the valid cosigners satisfy the
 * quorum. Signatures by keys the policy does not know are ignored.
 */
export function verifyCheckpointPolicy(note: string, policy: TrustPolicy): PolicyCheckResult {
  const opened = openCheckpoint(note, {
    logVerifiers: policy.logs.map((l) => l.verifier),
    otherVerifiers: policy.witnesses.map((w) => w.verifier),
  });
  if (!opened.ok)
    return {
      ok: false,
      code:
        opened.code === "note" && /invalid signature/.test(opened.message) ? "cosignature" : "log",
      message: opened.message,
    };
  const cosigners = policy.witnesses
    .filter((w) =>
      opened.verified.some((s) => s.name === w.verifier.name && s.keyId === w.verifier.keyId),
    )
    .map((w) => w.name);
  if (!quorumSatisfied(policy, policy.quorum, new Set(cosigners))) {
    return {
      ok: false,
      code: "quorum",
      message: `cosigned by ${cosigners.length} witness(es) [${cosigners.join(", ")}]: quorum ${policy.quorum} not met`,
      cosigners,
    };
  }
  // Keep only the signatures the policy knows (log and witnesses), in note order.
  const known = parseNote(note).signatures.filter((s) =>
    opened.verified.some((v) => v.name === s.name && v.keyId === s.keyId && v.base64 === s.base64),
  );
  return {
    ok: true,
    checkpoint: opened.checkpoint,
    text: opened.text,
    cosigners,
    signatures: known,
  };
}

/**
 * The policy's identity on the ledger (`setTrustPolicy`, docs/spec/trust-policy-v1.md
 * "On the ledger"): SHA-256 of the file's exact bytes, comments and all — the file governance
 * approved, checkable with `sha256sum`. The bytes must first be a valid policy: UTF-8 text that
 * {@link parseTrustPolicy} accepts (so only LF line ends: a CR is a refused control character).
 * Throws {@link PolicyFormatError} naming `source:line` otherwise.
 *
 * @example
 * const hash = trustPolicyHash(readFileSync("trust-policy.txt"), "trust-policy.txt"); // 0x…
 */
export function trustPolicyHash(bytes: Uint8Array, source = "policy"): Hex {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    const loose = new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
    const line = loose.slice(0, loose.indexOf("\ufffd")).split("\n").length;
    throw new PolicyFormatError(line, "is not UTF-8 text", source);
  }
  if (text.startsWith("\ufeff"))
    throw new PolicyFormatError(
      1,
      "starts with a byte-order mark: save the file without one",
      source,
    );
  parseTrustPolicy(text, source);
  return bytesToHex(sha256(bytes));
}
