/**
 * Offline verification of a receipt (v1 or v2) or a person proof by its log bundle
 * (docs/spec/log-bundle-v1.md) against a trust policy (docs/spec/trust-policy-v1.md): no chain,
 * no server, no network. Pure and browser-safe.
 */
import { encodeBase64 } from "./base64.ts";
import { parseLedgerLogEntry, type LedgerLogEntry } from "./ledger-log-entry.ts";
import { logBundleEntryBytes, readLogBundle } from "./log-bundle.ts";
import { hashLeaf, verifyInclusion } from "./rfc6962.ts";
import { cosignatureTimestamp } from "./signed-note.ts";
import { verifyCheckpointPolicy, type TrustPolicy } from "./tlog-policy.ts";
import { parseTlogProof, type TlogProof } from "./tlog-proof.ts";
import { verifyDocument, type VerifyDocumentResult } from "./verify-document.ts";
import type { Check } from "./verify-receipt.ts";

/** What the witnessed log established (present when the checkpoint and the inclusion verified). */
export interface LogWitness {
  /** The log's origin line, e.g. `sso.example/ledger-log`. */
  origin: string;
  /** The checkpoint's tree size and the entry's index in it. */
  size: number;
  index: number;
  /** The policy's witnesses whose cosignatures verified, by policy name, with their POSIX timestamps. */
  cosigners: { name: string; timestamp: number }[];
  /** The policy's quorum: its name, how many of how many it requires (a group's k of n). */
  quorum: { name: string; required: number; of: number };
  /** The earliest timestamp among the cosigners: the checkpoint existed by then (POSIX seconds). */
  checkpointTime?: number;
}

export interface VerifyDocumentWithPolicyOptions {
  policy: TrustPolicy;
  /** A person proof's trusted VRF public key (the trust policy does not name one). */
  vrfPublicKey?: string;
}

export type VerifyDocumentWithPolicyResult = VerifyDocumentResult & { log?: LogWitness };

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const SCHEME_OF: Record<string, string> = {
  "shafaf-receipt/1": "shafaf-tree/1",
  "shafaf-receipt/2": "shafaf-tree/2",
  "shafaf-person-proof/1": "shafaf-tree/2",
};

/** A claimed value as shown in a failed check (JSON for anything that is not a string). */
function text(v: unknown): string {
  return typeof v === "string" ? v : (JSON.stringify(v) ?? "undefined");
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** The quorum's "k of n" as the policy states it (a witness is 1 of 1, `none` 0 of 0). */
function quorumOf(policy: TrustPolicy): LogWitness["quorum"] {
  const group = policy.groups.find((g) => g.name === policy.quorum);
  if (group !== undefined)
    return { name: group.name, required: group.threshold, of: group.members.length };
  return policy.quorum === "none"
    ? { name: "none", required: 0, of: 0 }
    : { name: policy.quorum, required: 1, of: 1 };
}

/** The batch facts a document claims, read defensively (undefined members are not compared). */
function claimsOf(doc: Record<string, unknown>): {
  batchId?: unknown;
  kind?: unknown;
  period?: unknown;
  txHash?: unknown;
} {
  const record = isObj(doc.record) ? doc.record : undefined;
  const context = isObj(doc.context) ? doc.context : undefined;
  const proof = isObj(doc.proof) ? doc.proof : undefined;
  const anchor = isObj(doc.anchor) ? doc.anchor : undefined;
  const kind = record?.kind ?? context?.kind ?? proof?.kind;
  const period = record?.period ?? context?.period;
  return {
    batchId: doc.batchId,
    ...(kind === undefined ? {} : { kind }),
    ...(period === undefined ? {} : { period }),
    ...(anchor === undefined ? {} : { txHash: anchor.txHash }),
  };
}

/**
 * Verifies a document offline by its log bundle: the bundle's entry is in the log (tlog-proof at
 * index batchId − 1), the checkpoint is signed by the policy's log key and cosigned by a quorum of
 * its witnesses, the entry names the document's batch, scheme, kind and period (and anchoring
 * transaction for v1), and the document's own proof leads to the entry's root on the entry's
 * chain and contract. Never throws; computes before it compares; every check is named
 * (`log-bundle`, `log-entry`, `log-proof`, `log-signature`, `log-cosignature`, `log-quorum`,
 * `log-size`, `log-index`, `log-inclusion`, `log-batch`, `log-scheme`, `log-kind-period`,
 * `log-anchor`, then the document's checks with `anchored-root`, `chain`, `contract` against the
 * entry). A document without a bundle is `inconclusive` at `log-bundle`.
 *
 * @example
 * const r = await verifyDocumentWithPolicy(JSON.parse(text), { policy: parseTrustPolicy(policyText) });
 * if (r.status === "verified") console.log(r.log?.cosigners.map((c) => c.name));
 */
export async function verifyDocumentWithPolicy(
  doc: unknown,
  options: VerifyDocumentWithPolicyOptions,
): Promise<VerifyDocumentWithPolicyResult> {
  const checks: Check[] = [];
  const pass = (name: string, detail: string) =>
    checks.push({ name, ok: true, outcome: "pass", detail });
  const fail = (name: string, detail: string, expected?: string, computed?: string) =>
    checks.push({
      name,
      ok: false,
      outcome: "fail",
      detail,
      ...(expected === undefined ? {} : { expected: clip(expected) }),
      ...(computed === undefined ? {} : { computed: clip(computed) }),
    });
  const status = (all: readonly Check[]): VerifyDocumentResult["status"] =>
    all.some((c) => c.outcome === "fail")
      ? "failed"
      : all.some((c) => c.outcome === "inconclusive")
        ? "inconclusive"
        : "verified";
  const done = (inner?: VerifyDocumentResult, log?: LogWitness): VerifyDocumentWithPolicyResult => {
    const all = [...checks, ...(inner?.checks ?? [])];
    return {
      status: status(all),
      ...(inner?.format === undefined ? {} : { format: inner.format }),
      checks: all,
      ...(inner?.person === undefined || status(all) !== "verified"
        ? {}
        : { person: inner.person }),
      ...(log === undefined || status(all) !== "verified" ? {} : { log }),
    };
  };

  try {
    const o = isObj(doc) ? doc : undefined;
    const scheme = o === undefined ? undefined : SCHEME_OF[String(o.format)];
    if (o === undefined || scheme === undefined) {
      // Not a document this verifier knows: core's verifier names the format check.
      return done(await verifyDocument(doc, { root: "" }));
    }
    if (!("log" in o)) {
      checks.push({
        name: "log-bundle",
        ok: false,
        outcome: "inconclusive",
        detail:
          "the document carries no log bundle: nothing to check against the trust policy offline (ask for a receipt with its log proof, or verify against the chain)",
      });
      return done(await verifyDocument(doc, { root: "" }).then(withoutTrustChecks));
    }
    const bundle = readLogBundle(o.log);
    if (typeof bundle === "string") {
      fail("log-bundle", bundle);
      return done();
    }
    pass("log-bundle", "a shafaf-log-bundle/1");

    // ── the entry ──
    const entryBytes = logBundleEntryBytes(bundle);
    let entry: LedgerLogEntry;
    try {
      entry = parseLedgerLogEntry(entryBytes);
    } catch (error) {
      fail(
        "log-entry",
        `the log entry is not a shafaf-log-entry/1: ${(error as Error).message}`.slice(0, 300),
      );
      return done();
    }
    pass("log-entry", `the log entry of batch ${entry.batchId}`);

    // ── the proof: checkpoint (log key, cosignatures, quorum), then inclusion ──
    let proof: TlogProof;
    try {
      proof = parseTlogProof(bundle.proof);
    } catch (error) {
      fail("log-proof", (error as Error).message);
      return done();
    }
    pass("log-proof", `a c2sp.org/tlog-proof@v1 of index ${proof.index}`);
    const cp = verifyCheckpointPolicy(proof.checkpoint, options.policy);
    const quorum = quorumOf(options.policy);
    if (!cp.ok) {
      const name = { log: "log-signature", cosignature: "log-cosignature", quorum: "log-quorum" }[
        cp.code
      ];
      if (cp.code === "quorum")
        fail(
          name,
          `the checkpoint's cosigners do not meet the policy's quorum: ${cp.message}`,
          `${quorum.required} of ${quorum.of} (${quorum.name})`,
          `${cp.cosigners?.length ?? 0} [${(cp.cosigners ?? []).join(", ")}]`,
        );
      else if (cp.code === "cosignature")
        fail(
          name,
          `a signature on the checkpoint by a key of the policy is invalid: ${cp.message}`,
        );
      else
        fail(
          name,
          `the checkpoint is not signed by a log key of the policy: ${cp.message}`,
          options.policy.logs.map((l) => l.verifier.name).join(", "),
        );
      return done();
    }
    const { checkpoint } = cp;
    pass(
      "log-signature",
      `the checkpoint of ${checkpoint.origin} (size ${checkpoint.size}) is signed by the policy's log key`,
    );
    const cosigners = options.policy.witnesses
      .filter((w) => cp.cosigners.includes(w.name))
      .map((w) => {
        const sig = cp.signatures.find(
          (s) => s.name === w.verifier.name && s.keyId === w.verifier.keyId,
        );
        return {
          name: w.name,
          timestamp: sig === undefined ? 0 : (cosignatureTimestamp(sig) ?? 0),
        };
      });
    pass(
      "log-quorum",
      `cosigned by ${cosigners.map((c) => c.name).join(", ") || "no witness"}: ${quorum.required} of ${quorum.of} required (${quorum.name})`,
    );
    const expectedIndex = entry.batchId - 1;
    if (proof.index >= checkpoint.size) {
      fail(
        "log-size",
        `the checkpoint (size ${checkpoint.size}) predates entry ${proof.index}: a stale or rolled-back checkpoint cannot include it`,
        `size > ${proof.index}`,
        String(checkpoint.size),
      );
      return done();
    }
    pass("log-size", `entry ${proof.index} is within the checkpoint's size ${checkpoint.size}`);
    if (proof.index === expectedIndex)
      pass(
        "log-index",
        `batch ${entry.batchId} is entry ${expectedIndex} (entry i is batch i + 1)`,
      );
    else
      fail(
        "log-index",
        `the proof is for another index than batch ${entry.batchId}'s entry`,
        String(expectedIndex),
        String(proof.index),
      );
    const inc = verifyInclusion(
      proof.index,
      checkpoint.size,
      hashLeaf(entryBytes),
      proof.inclusionProof,
      checkpoint.rootHash,
    );
    if (inc.ok)
      pass(
        "log-inclusion",
        `the entry is at index ${proof.index} of the tree of size ${checkpoint.size}`,
      );
    else if (inc.failure.code === "root-mismatch")
      fail(
        "log-inclusion",
        "the proof does not lead from the entry to the checkpoint's root",
        encodeBase64(inc.failure.expected),
        encodeBase64(inc.failure.calculated),
      );
    else fail("log-inclusion", `${inc.failure.code}: ${inc.failure.message}`);

    // ── the entry names this document's batch ──
    const claims = claimsOf(o);
    const same = (name: string, what: string, want: unknown, got: unknown) => {
      if (want === got) pass(name, `the entry's ${what} matches the document's`);
      else fail(name, `the entry's ${what} differs from the document's`, text(want), text(got));
    };
    same("log-batch", "batch id", entry.batchId, claims.batchId);
    same("log-scheme", "tree scheme", entry.scheme, scheme);
    if (claims.kind !== undefined || claims.period !== undefined)
      same(
        "log-kind-period",
        "kind and period",
        `${entry.kind} ${entry.period}`,
        `${text(claims.kind ?? entry.kind)} ${text(claims.period ?? entry.period)}`,
      );
    if (claims.txHash !== undefined)
      same(
        "log-anchor",
        "anchoring transaction",
        entry.txHash,
        typeof claims.txHash === "string" ? claims.txHash.toLowerCase() : claims.txHash,
      );

    // ── the document's own proof against the entry's root, chain and contract ──
    const inner = await verifyDocument(doc, {
      root: entry.root,
      chainId: entry.chainId,
      contract: entry.contract,
      ...(options.vrfPublicKey === undefined ? {} : { vrfPublicKey: options.vrfPublicKey }),
    });
    const times = cosigners.map((c) => c.timestamp).filter((t) => t > 0);
    return done(inner, {
      origin: checkpoint.origin,
      size: checkpoint.size,
      index: proof.index,
      cosigners,
      quorum,
      ...(times.length === 0 ? {} : { checkpointTime: Math.min(...times) }),
    });
  } catch (e) {
    checks.push({
      name: "internal",
      ok: false,
      outcome: "inconclusive",
      detail: `verification could not run here: ${e instanceof Error ? e.name : "error"}`,
    });
    return done();
  }
}

/** Without a bundle nothing is trusted: keep the document's own checks, not the empty-root ones. */
function withoutTrustChecks(r: VerifyDocumentResult): VerifyDocumentResult {
  const checks = r.checks.filter((c) => c.name !== "anchored-root" || c.outcome === "pass");
  return { ...r, checks };
}

/**
 * One result from two verifications of the same document (offline by the policy, and against the
 * chain): every check of the first, then the second's checks that are not a repeated pass; the
 * status is the worse of the two (failed, then inconclusive).
 *
 * @example
 * const both = combineVerifications(await verifyDocumentWithPolicy(doc, { policy }), onChain);
 */
export function combineVerifications<T extends VerifyDocumentWithPolicyResult>(
  offline: T,
  onChain: VerifyDocumentResult,
): T {
  const passed = new Set(offline.checks.filter((c) => c.outcome === "pass").map((c) => c.name));
  const checks = [
    ...offline.checks,
    ...onChain.checks.filter((c) => c.outcome !== "pass" || !passed.has(c.name)),
  ];
  const rank = { verified: 0, inconclusive: 1, failed: 2 } as const;
  const status = rank[onChain.status] > rank[offline.status] ? onChain.status : offline.status;
  const out = { ...offline, checks, status };
  if (status !== "verified") {
    delete out.log;
    delete out.person;
  }
  return out;
}
