/**
 * The batch manifest, `shafaf-manifest/1`: canonical JSON (keys sorted at every level, no
 * whitespace, amounts as decimal strings) whose keccak256 is the on-chain `manifestHash`.
 * Canonical means: the same batch facts always give the same bytes, so that an auditor who
 * rebuilds the manifest from the artifact gets the hash on chain.
 */
import { bytesToHex } from "./hex.ts";
import { keccak256 } from "./keccak.ts";
import { recordKindRules } from "./kinds/record-kinds.ts";
import type { RecordKind } from "./record.ts";
import type { SourceInfo } from "./source-info.ts";

export const MANIFEST_FORMAT = "shafaf-manifest/1";
/** The manifest of a `shafaf-tree/2` batch (docs/spec/manifest-v2.md). */
export const MANIFEST_V2_FORMAT = "shafaf-manifest/2";

/** A province subtree of a `shafaf-tree/2` batch, as its manifest lists it. */
export interface ManifestProvince {
  code: string;
  /** Leaves in the subtree. */
  size: number;
  /** The subtree root hash, 0x-hex. */
  root: string;
  /** The subtree's lanes, decimal strings, in the kind's lane order. */
  lanes: string[];
}

/** What a `shafaf-manifest/2` adds: the tree scheme, the VRF key, the lanes and the provinces. */
export interface ManifestTreeV2 {
  scheme: "shafaf-tree/2";
  /** keccak256 of the registered VRF public key the batch's person keys derive from. */
  vrfKeyId: string;
  /** The lane names of the kind (tree-v2.md §4), in order. */
  laneNames: string[];
  /** The batch root's lanes (the batch totals), decimal strings. */
  lanes: string[];
  /** The province subtrees in tree order (codes ascending). */
  provinces: ManifestProvince[];
}

export interface ManifestCell {
  count: number;
  /** Σ amounts, decimal string (Rials). */
  total: string;
}

export interface Manifest extends Partial<ManifestTreeV2> {
  format: typeof MANIFEST_FORMAT | typeof MANIFEST_V2_FORMAT;
  kind: RecordKind;
  period: string;
  recordCount: number;
  total: string;
  byProvince: Record<string, ManifestCell>;
  /** Kinds with a `category` rule only (pensions: retirement, disability, survivors). */
  byCategory?: Record<string, ManifestCell>;
  sources: SourceInfo[];
  rulesVersion: string;
  /** `shafaf-manifest/1` (a `shafaf-tree/1` batch) only: the v1 leaf's ABI types. */
  leafEncoding?: readonly string[];
  supersedes: number | null;
  reason: string | null;
  /** Distinct people (subject pseudonyms) in the batch: what small-cell suppression counts. */
  people?: number;
  /** Kinds with an `onTime` rule only (pensions: payments made by their due date, and after it). */
  timeliness?: { onTime: number; late: number };
  /**
   * Employers' lists read but left out of this batch (per-list mode), by label, with their row
   * count and the rules they broke. Absent when none was.
   */
  quarantined?: { list: string; rows: number; rules: string[] }[];
  /** Discrepancies that refused nothing (a header total off by a Rial). Absent when none. */
  findings?: { file: string; line?: number; field: string; rule: string; list?: string }[];
  /** The unemployment coverage rules SSO lists were read with; absent without SSO lists. */
  coverageRules?: string;
}

export interface ManifestInput {
  kind: RecordKind;
  period: string;
  recordCount: number;
  total: bigint;
  byProvince: ReadonlyMap<string, { count: number; total: bigint }>;
  byCategory?: ReadonlyMap<string, { count: number; total: bigint }>;
  sources: readonly SourceInfo[];
  rulesVersion: string;
  /** A `shafaf-tree/1` batch: the v1 leaf encoding. Ignored when `tree` is given. */
  leafEncoding: readonly string[];
  supersedes: number | null;
  reason: string | null;
  /** A `shafaf-tree/2` batch: makes the manifest a `shafaf-manifest/2`. */
  tree?: {
    vrfKeyId: string;
    laneNames: readonly string[];
    lanes: readonly bigint[];
    provinces: readonly { code: string; size: number; root: string; lanes: readonly bigint[] }[];
  };
  people?: number;
  timeliness?: { onTime: number; late: number };
  quarantined?: { list: string; rows: number; rules: string[] }[];
  findings?: { file: string; line?: number; field: string; rule: string; list?: string }[];
  /** The unemployment coverage rules SSO lists were read with (`CoverageRules.version`). */
  coverageRules?: string;
}

/**
 * JSON with object keys sorted by UTF-16 code unit at every level and no whitespace. Only plain
 * objects, arrays, strings, finite numbers, booleans and null are allowed (no bigint: write
 * amounts as decimal strings first).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string")
    return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("canonicalJson: non-finite number");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return "[" + value.map(canonicalJson).join(",") + "]";
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return (
      "{" + entries.map(([key, v]) => JSON.stringify(key) + ":" + canonicalJson(v)).join(",") + "}"
    );
  }
  throw new TypeError(`canonicalJson: cannot encode a ${typeof value}`);
}

function cells(
  map: ReadonlyMap<string, { count: number; total: bigint }>,
): Record<string, ManifestCell> {
  const out: Record<string, ManifestCell> = {};
  for (const [key, cell] of [...map].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[key] = { count: cell.count, total: cell.total.toString() };
  }
  return out;
}

/**
 * Builds the manifest, its canonical bytes and their keccak256 (the on-chain manifestHash).
 *
 * @example
 * const { bytes, hash } = buildManifest({ kind: "premium", period: "1403-07", … });
 */
export function buildManifest(input: ManifestInput): {
  manifest: Manifest;
  bytes: Uint8Array;
  hash: string;
} {
  const rules = recordKindRules(input.kind);
  const tree = input.tree;
  const manifest: Manifest = {
    format: tree === undefined ? MANIFEST_FORMAT : MANIFEST_V2_FORMAT,
    kind: input.kind,
    period: input.period,
    recordCount: input.recordCount,
    total: input.total.toString(),
    byProvince: cells(input.byProvince),
    ...(rules.category !== undefined ? { byCategory: cells(input.byCategory ?? new Map()) } : {}),
    sources: input.sources.map((s) => ({ ...s })),
    rulesVersion: input.rulesVersion,
    ...(tree === undefined
      ? { leafEncoding: [...input.leafEncoding] }
      : {
          scheme: "shafaf-tree/2" as const,
          vrfKeyId: tree.vrfKeyId.toLowerCase(),
          laneNames: [...tree.laneNames],
          lanes: tree.lanes.map(String),
          provinces: tree.provinces.map((p) => ({
            code: p.code,
            size: p.size,
            root: p.root.toLowerCase(),
            lanes: p.lanes.map(String),
          })),
        }),
    supersedes: input.supersedes,
    reason: input.reason,
    ...(input.people !== undefined ? { people: input.people } : {}),
    ...(rules.onTime !== undefined && input.timeliness !== undefined
      ? { timeliness: { ...input.timeliness } }
      : {}),
    ...(input.quarantined !== undefined && input.quarantined.length > 0
      ? { quarantined: input.quarantined.map((q) => ({ ...q, rules: [...q.rules] })) }
      : {}),
    ...(input.findings !== undefined && input.findings.length > 0
      ? { findings: input.findings.map((f) => ({ ...f })) }
      : {}),
    ...(input.coverageRules !== undefined ? { coverageRules: input.coverageRules } : {}),
  };
  const bytes = new TextEncoder().encode(canonicalJson(manifest));
  return { manifest, bytes, hash: manifestHash(bytes) };
}

/**
 * The on-chain `manifestHash` of a manifest's canonical bytes: keccak256, 0x-prefixed lower-case
 * hex. Every reader that checks a manifest against the chain (indexer, audit, artifact) uses this.
 *
 * @example
 * manifestHash(bytes) === batch.manifestHash
 */
export function manifestHash(bytes: Uint8Array): string {
  return bytesToHex(keccak256(bytes));
}
