/**
 * test/vectors/mirror-1.json (docs/spec/mirror-v1.md): a small `shafaf-mirror/1` site — three
 * batches, their ledger log (tiles and entry bundle written by the real tiled log) with a
 * checkpoint signed by the log key and cosigned by four witnesses at fixed times, and the 3-of-4
 * trust policy — and named corruptions, each as changes over the valid site (a path's new bytes,
 * or null for a deleted file) with the checks `verifyMirror` fails. The portal's files are left
 * out: the checks do not read them. Deterministic: keys derive from fixed labels, times are fixed.
 */
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { sha256 } from "@noble/hashes/sha2.js";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { ledgerLogEntry, type LedgerLogBatch } from "../../src/core/ledger-log-entry.ts";
import { MIRROR_FORMAT, type MirrorManifest } from "../../src/core/mirror-layout.ts";
import { merkleTreeHash } from "../../src/core/rfc6962.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  type NoteSigner,
} from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { verifyMirror } from "../../src/mirror/verify-mirror.ts";

const seedOf = (label: string) =>
  sha256(new TextEncoder().encode(`shafaf/mirror-vectors/v1/${label}`));
const hex32 = (label: string) => `0x${Buffer.from(seedOf(label)).toString("hex")}`;
const ORIGIN = "sso.example/ledger-log";
/** 2026-01-01T00:00:00Z; witness k cosigns at T0 + 10 + k. */
const T0 = 1_767_225_600;
const WITNESSES = ["auditors", "audit-court", "employers", "workers"] as const;
const CHAIN_ID = 31337;
const CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3";

type Files = Record<string, Uint8Array>;
const utf8 = (s: string) => new TextEncoder().encode(s);
const jsonBytes = (v: unknown) => utf8(JSON.stringify(v) + "\n");

function batchOf(batchId: number): LedgerLogBatch {
  return {
    chainId: CHAIN_ID,
    contract: CONTRACT,
    batchId,
    scheme: "shafaf-tree/1",
    kind: batchId % 2 === 1 ? "premium" : "pension",
    period: "1403-07",
    root: hex32(`root ${batchId}`),
    manifestHash: hex32(`manifest ${batchId}`),
    idempotencyKey: hex32(`key ${batchId}`),
    recordCount: 100 * batchId,
    total: String(1_000_000_000 * batchId),
    supersedes: null,
    txHash: hex32(`tx ${batchId}`),
  };
}

/** The public view of a batch, as the API projects it (the members the checks read, and more). */
function viewOf(b: LedgerLogBatch): Record<string, unknown> {
  return {
    batchId: b.batchId,
    kind: b.kind,
    period: b.period,
    root: b.root,
    recordCount: b.recordCount,
    total: b.total,
    manifestHash: b.manifestHash,
    idempotencyKey: b.idempotencyKey,
    txHash: b.txHash,
    blockNumber: 10 + b.batchId,
    anchoredAt: T0 + b.batchId,
    supersedes: b.supersedes,
    supersededBy: null,
    status: "anchored",
    attestations: [],
    scheme: b.scheme,
  };
}

function manifestOf(files: Files, log: MirrorManifest["log"], batches: number): Uint8Array {
  const manifest: MirrorManifest = {
    format: MIRROR_FORMAT,
    chain: {
      chainId: CHAIN_ID,
      contract: CONTRACT,
      lastIndexedBlock: 20,
      lastIndexedHash: hex32("block 20"),
    },
    log,
    batches,
    files: Object.keys(files)
      .filter((p) => p !== "mirror.json")
      .sort()
      .map((p) => ({
        path: p,
        size: files[p]!.length,
        sha256: createHash("sha256").update(files[p]!).digest("hex"),
      })),
  };
  return utf8(JSON.stringify(manifest, null, 1) + "\n");
}

async function filesUnder(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, child)));
    else out.push(child);
  }
  return out;
}

export interface MirrorVectorCase {
  name: string;
  description: string;
  /** Path → base64 of its new bytes, or null: the file is deleted. Applied over `site`. */
  changes: Record<string, string | null>;
  /** The policy to verify with, when not the vectors' `policy`. */
  policy?: string;
  expect: { ok: boolean; failedChecks: string[] };
}

export async function mirrorVectors(): Promise<{
  format: string;
  description: string;
  policy: string;
  site: Record<string, string>;
  cases: MirrorVectorCase[];
}> {
  const logSeed = seedOf("log");
  const logSigner = ed25519NoteSigner(ORIGIN, logSeed);
  const witnesses = WITNESSES.map((short, k) => {
    const name = `${short}.example/witness`;
    const seed = seedOf(`witness ${short}`);
    return {
      short,
      signer: cosignatureV1Signer(name, seed, () => T0 + 10 + k),
      vkey: formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed)),
    };
  });
  const policyWith = (logVkey: string) =>
    [
      `log ${logVkey}`,
      ...witnesses.map((w) => `witness ${w.short} ${w.vkey}`),
      `group institutions 3 ${witnesses.map((w) => w.short).join(" ")}`,
      "quorum institutions",
      "",
    ].join("\n");
  const policy = policyWith(formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed)));
  const otherPolicy = policyWith(
    formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(seedOf("another log"))),
  );

  const batches = [1, 2, 3].map(batchOf);
  const dir = await mkdtemp(path.join(tmpdir(), "shafaf-mirror-vectors-"));
  const site: Files = {};
  let note: (cosigners: readonly NoteSigner[]) => string;
  try {
    const log = await openTiledLog({ dir, origin: ORIGIN, signer: logSigner });
    await log.append(batches.map(ledgerLogEntry));
    const text = formatCheckpoint({
      origin: ORIGIN,
      size: log.size(),
      rootHash: log.rootHash(),
      extensions: [],
    });
    note = (cosigners) => signNote(text, [logSigner, ...cosigners]);
    for (const rel of await filesUnder(dir))
      if (rel.startsWith("tile/")) site[`log/${rel}`] = await readFile(path.join(dir, rel));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  site["log/checkpoint"] = utf8(note(witnesses.map((w) => w.signer)));
  const views = batches.map(viewOf);
  site["api/v1/chain.json"] = jsonBytes({ chainId: CHAIN_ID, contract: CONTRACT });
  site["api/v1/batches.json"] = jsonBytes({ items: [...views].reverse(), nextCursor: null });
  for (const v of views) site[`api/v1/batches/${String(v.batchId)}.json`] = jsonBytes(v);
  site["trust-policy.txt"] = utf8(policy);
  const logFacts: MirrorManifest["log"] = {
    origin: ORIGIN,
    size: batches.length,
    rootHash: Buffer.from(merkleTreeHash(batches.map(ledgerLogEntry))).toString("base64"),
  };
  site["mirror.json"] = manifestOf(site, logFacts, batches.length);

  /** The site with `over` applied and, when `rehash`, mirror.json rewritten to match (a forger). */
  const changed = (
    over: Record<string, Uint8Array | null>,
    rehash: boolean,
  ): Record<string, Uint8Array | null> => {
    if (!rehash) return over;
    const files: Files = { ...site };
    for (const [p, b] of Object.entries(over)) {
      if (b === null) delete files[p];
      else files[p] = b;
    }
    return { ...over, "mirror.json": manifestOf(files, logFacts, batches.length) };
  };
  const forgedView = { ...views[0]!, root: hex32("forged root") };
  const extraView = viewOf(batchOf(4));
  const firstTile = Object.keys(site).find((p) => p.startsWith("log/tile/0/"))!;
  const raw: {
    name: string;
    description: string;
    changes: Record<string, Uint8Array | null>;
    policy?: string;
  }[] = [
    { name: "valid", description: "the site as exported", changes: {} },
    {
      name: "changed-file",
      description: "a batch file changed after export, mirror.json not updated",
      changes: {
        "api/v1/batches/2.json": jsonBytes({ ...views[1]!, recordCount: 201 }),
      },
    },
    {
      name: "unlisted-file",
      description: "a file mirror.json does not list",
      changes: { "extra.html": utf8("<p>not listed</p>\n") },
    },
    {
      name: "missing-tile",
      description: "the level-0 hash tile deleted",
      changes: { [firstTile]: null },
    },
    {
      name: "forged-root-rehashed",
      description:
        "batch 1's root forged in its file and its list item, mirror.json rewritten to match",
      changes: changed(
        {
          "api/v1/batches/1.json": jsonBytes(forgedView),
          "api/v1/batches.json": jsonBytes({
            items: [views[2], views[1], forgedView],
            nextCursor: null,
          }),
        },
        true,
      ),
    },
    {
      name: "unlogged-batch-rehashed",
      description: "a batch 4 the log does not hold, added consistently with mirror.json",
      changes: changed(
        {
          "api/v1/batches/4.json": jsonBytes(extraView),
          "api/v1/batches.json": jsonBytes({
            items: [extraView, ...[...views].reverse()],
            nextCursor: null,
          }),
        },
        true,
      ),
    },
    {
      name: "quorum-not-met-rehashed",
      description: "the checkpoint cosigned by 2 of 4 witnesses, mirror.json rewritten to match",
      changes: changed(
        { "log/checkpoint": utf8(note(witnesses.slice(0, 2).map((w) => w.signer))) },
        true,
      ),
    },
    {
      name: "another-logs-policy",
      description: "verified with a policy naming another log key",
      changes: {},
      policy: otherPolicy,
    },
    {
      name: "unknown-format",
      description: "mirror.json names another format",
      changes: {
        "mirror.json": utf8(
          new TextDecoder().decode(site["mirror.json"]).replace(MIRROR_FORMAT, "shafaf-mirror/2"),
        ),
      },
    },
    {
      name: "path-escape",
      description: "mirror.json lists a path outside the site",
      changes: {
        "mirror.json": utf8(
          new TextDecoder()
            .decode(site["mirror.json"])
            .replace('"path": "api/v1/chain.json"', '"path": "../api/v1/chain.json"'),
        ),
      },
    },
  ];

  // Each case's verdict is what the verifier gives on the materialized site.
  const cases: MirrorVectorCase[] = [];
  for (const c of raw) {
    const work = await mkdtemp(path.join(tmpdir(), "shafaf-mirror-case-"));
    try {
      await materialize(work, site, c.changes);
      const r = await verifyMirror({ dir: work, policy: parseTrustPolicy(c.policy ?? policy) });
      cases.push({
        name: c.name,
        description: c.description,
        changes: Object.fromEntries(
          Object.entries(c.changes).map(([p, b]) => [
            p,
            b === null ? null : Buffer.from(b).toString("base64"),
          ]),
        ),
        ...(c.policy === undefined ? {} : { policy: c.policy }),
        expect: { ok: r.ok, failedChecks: r.checks.filter((k) => !k.ok).map((k) => k.name) },
      });
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  return {
    format: "shafaf-vectors/1",
    description:
      "A shafaf-mirror/1 site (docs/spec/mirror-v1.md; files base64) and corruptions as changes over it, with what verifyMirror gives. Generated by scripts/vectors/mirror.ts; do not edit.",
    policy,
    site: Object.fromEntries(
      Object.entries(site)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([p, b]) => [p, Buffer.from(b).toString("base64")]),
    ),
    cases,
  };
}

/** Writes `site` with `changes` applied (null deletes) into `dir`. */
export async function materialize(
  dir: string,
  site: Record<string, Uint8Array>,
  changes: Record<string, Uint8Array | null>,
): Promise<void> {
  const files: Record<string, Uint8Array> = { ...site };
  for (const [p, b] of Object.entries(changes)) {
    if (b === null) delete files[p];
    else files[p] = b;
  }
  for (const [p, b] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p), b);
  }
}
