/**
 * Checks a static mirror someone else made (docs/spec/mirror-v1.md "Verifying"): every file
 * against `mirror.json`'s SHA-256 and nothing unlisted; the log's checkpoint against a trust
 * policy (its log key and witness quorum); the hash tiles and the entry bundles against the
 * checkpoint's root; and every batch the mirror shows against its ledger log entry (batch id,
 * root, manifest hash and the other committed facts), on the chain and contract the log names.
 * What passes is what the witnesses cosigned; the API's other views (status, attestations,
 * statistics) are shown as exported and are checked only against the chain, not here.
 */
import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { parseEntryBundle } from "../core/entry-bundle.ts";
import { parseLedgerLogEntry, type LedgerLogEntry } from "../core/ledger-log-entry.ts";
import {
  mirrorApiFile,
  MIRROR_FORMAT,
  MIRROR_MANIFEST,
  type MirrorManifest,
} from "../core/mirror-layout.ts";
import type { PublicBatch } from "../core/public-views.ts";
import { merkleTreeHash, rootHash } from "../core/rfc6962.ts";
import { tileNodeSource, tileWidth } from "../core/tile-node-source.ts";
import { tileCounts, tilePath, TILE_WIDTH } from "../core/tile-path.ts";
import { verifyCheckpointPolicy, type TrustPolicy } from "../core/tlog-policy.ts";
import { hexToBytes, bytesToHex } from "../core/hex.ts";
import {
  BATCH_TILES_FORMAT,
  type BatchTilesDescriptor,
  batchPublishesTiles,
  provincePublishesTiles,
  sumTreeRootOfProvinces,
  verifyProvinceTiles,
} from "../core/sum-tiles.ts";

export interface MirrorCheck {
  name: "manifest" | "files" | "checkpoint" | "tiles" | "entries" | "batches" | "batch-tiles";
  ok: boolean;
  /** What was checked, or the first problems found (paths and batch ids, never personal data). */
  detail: string;
}

export interface VerifyMirrorResult {
  ok: boolean;
  checks: MirrorCheck[];
  /** The log size and batches verified, when the checks got that far. */
  logSize?: number;
  batches?: number;
}

export interface VerifyMirrorOptions {
  /** The site folder. */
  dir: string;
  /** The policy the checkpoint must satisfy (the reader's own copy, not the mirror's). */
  policy: TrustPolicy;
}

const MAX_LISTED_PROBLEMS = 5;

function summary(problems: readonly string[], okDetail: string): { ok: boolean; detail: string } {
  if (problems.length === 0) return { ok: true, detail: okDetail };
  const shown = problems.slice(0, MAX_LISTED_PROBLEMS).join("; ");
  const more =
    problems.length > MAX_LISTED_PROBLEMS
      ? ` (+${problems.length - MAX_LISTED_PROBLEMS} more)`
      : "";
  return { ok: false, detail: shown + more };
}

async function listFiles(dir: string): Promise<string[]> {
  // Every entry that is not a folder, as a `/`-separated path under `dir`.
  return (await readdir(dir, { withFileTypes: true, recursive: true }))
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
}

/** A listed path that stays inside the site: relative, no `.`/`..` segments, no backslash. */
function safePath(p: unknown): p is string {
  return (
    typeof p === "string" &&
    p !== "" &&
    !p.startsWith("/") &&
    !p.includes("\\") &&
    p.split("/").every((seg) => seg !== "" && seg !== "." && seg !== "..")
  );
}

/**
 * Never throws on a hostile or broken mirror: every failure is a check with `ok: false`.
 *
 * @example
 * const policy = parseTrustPolicy(await readFile("trust-policy.txt", "utf8"));
 * const r = await verifyMirror({ dir: "site", policy });
 * if (!r.ok) console.log(r.checks.filter((c) => !c.ok));
 */
export async function verifyMirror(options: VerifyMirrorOptions): Promise<VerifyMirrorResult> {
  const checks: MirrorCheck[] = [];
  const done = (extra: Partial<VerifyMirrorResult> = {}): VerifyMirrorResult => ({
    ok: checks.every((c) => c.ok),
    checks,
    ...extra,
  });
  const { dir } = options;

  // 1. The manifest.
  let manifest: MirrorManifest;
  try {
    manifest = JSON.parse(
      await readFile(path.join(dir, MIRROR_MANIFEST), "utf8"),
    ) as MirrorManifest;
    if (manifest.format !== MIRROR_FORMAT || !Array.isArray(manifest.files))
      throw new Error(`format is ${JSON.stringify(manifest.format)}, expected ${MIRROR_FORMAT}`);
  } catch (error) {
    checks.push({
      name: "manifest",
      ok: false,
      detail: `${MIRROR_MANIFEST}: ${(error as Error).message}`,
    });
    return done();
  }
  checks.push({
    name: "manifest",
    ok: true,
    detail: `${MIRROR_FORMAT}, ${manifest.files.length} files`,
  });

  // 2. Every file: listed once, present, with its size and hash; nothing unlisted.
  const files = new Map<string, Uint8Array>();
  const problems: string[] = [];
  for (const f of manifest.files) {
    if (!safePath(f.path) || files.has(f.path)) {
      problems.push(`listed path ${JSON.stringify(f.path)} is unsafe or listed twice`);
      continue;
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path.join(dir, f.path));
    } catch {
      problems.push(`${f.path} is missing`);
      continue;
    }
    const sha = createHash("sha256").update(bytes).digest("hex");
    if (bytes.length !== f.size || sha !== f.sha256)
      problems.push(
        `${f.path}: sha256 ${sha} (${bytes.length} bytes), mirror.json says ${f.sha256} (${f.size})`,
      );
    else files.set(f.path, bytes);
  }
  for (const p of await listFiles(dir))
    if (p !== MIRROR_MANIFEST && !manifest.files.some((f) => f.path === p))
      problems.push(`${p} is not listed in mirror.json`);
  checks.push({ name: "files", ...summary(problems, `${files.size} files match their SHA-256`) });

  const text = (p: string) => {
    const b = files.get(p);
    return b === undefined ? undefined : new TextDecoder().decode(b);
  };
  const jsonOf = <T>(p: string): T | undefined => {
    const t = text(p);
    try {
      return t === undefined ? undefined : (JSON.parse(t) as T);
    } catch {
      return undefined;
    }
  };

  // 3. The checkpoint under the reader's policy, and the manifest's account of it.
  const note = text("log/checkpoint");
  if (note === undefined) {
    checks.push({
      name: "checkpoint",
      ok: false,
      detail: "the mirror has no log/checkpoint (or it failed its hash)",
    });
    return done();
  }
  const opened = verifyCheckpointPolicy(note, options.policy);
  if (!opened.ok) {
    checks.push({ name: "checkpoint", ok: false, detail: `${opened.code}: ${opened.message}` });
    return done();
  }
  const { size, origin } = opened.checkpoint;
  const root = opened.checkpoint.rootHash;
  const rootB64 = Buffer.from(root).toString("base64");
  const agrees =
    manifest.log !== null &&
    manifest.log.size === size &&
    manifest.log.origin === origin &&
    manifest.log.rootHash === rootB64;
  checks.push({
    name: "checkpoint",
    ok: agrees,
    detail: agrees
      ? `${origin} size ${size}, cosigned by ${opened.cosigners.join(", ") || "no witness"} (quorum met)`
      : `mirror.json's log (${JSON.stringify(manifest.log)}) is not the checkpoint's (${origin} ${size} ${rootB64})`,
  });

  // 4. The hash tiles give the checkpoint's root.
  const tileOf = (level: number | "entries", index: number, width: number) =>
    files.get(`log/${tilePath({ level, index, width })}`);
  try {
    const node = tileNodeSource(
      (level, index) => {
        const width = tileWidth(level, index, size);
        const tile = width > 0 ? tileOf(level, index, width) : undefined;
        if (tile === undefined || tile.length !== width * 32)
          throw new Error(
            `tile ${level}/${index} (width ${width}) is missing or not ${width * 32} bytes`,
          );
        return tile;
      },
      () => `the mirror's tiles of size ${size}`,
    );
    const computed = rootHash(size, node);
    const same = Buffer.from(computed).equals(Buffer.from(root));
    checks.push({
      name: "tiles",
      ok: same,
      detail: same
        ? `the tiles hash to the checkpoint's root`
        : `the tiles hash to ${Buffer.from(computed).toString("base64")}, the checkpoint says ${rootB64}`,
    });
  } catch (error) {
    checks.push({ name: "tiles", ok: false, detail: (error as Error).message });
  }

  // 5. The entry bundles give the checkpoint's root: the entries below are the logged ones.
  const entries: Uint8Array[] = [];
  try {
    const level0 = tileCounts(size)[0]!;
    const widths = [
      ...Array.from({ length: level0.full }, () => TILE_WIDTH),
      ...(level0.partialWidth > 0 ? [level0.partialWidth] : []),
    ];
    for (const [index, width] of widths.entries()) {
      const bundle = tileOf("entries", index, width);
      if (bundle === undefined)
        throw new Error(`entry bundle ${index} (width ${width}) is missing`);
      const got = parseEntryBundle(bundle);
      if (got.length !== width)
        throw new Error(`entry bundle ${index} holds ${got.length} entries, not ${width}`);
      entries.push(...got);
    }
    const same = Buffer.from(merkleTreeHash(entries)).equals(Buffer.from(root));
    checks.push({
      name: "entries",
      ok: same,
      detail: same
        ? `${entries.length} entries hash to the checkpoint's root`
        : "the entry bundles do not hash to the checkpoint's root",
    });
    if (!same) return done({ logSize: size });
  } catch (error) {
    checks.push({ name: "entries", ok: false, detail: (error as Error).message });
    return done({ logSize: size });
  }

  // 6. Every batch shown agrees with its log entry, on the chain and contract the log names.
  const batchProblems: string[] = [];
  const logged = new Map<number, LedgerLogEntry>();
  for (const [i, bytes] of entries.entries()) {
    try {
      const e = parseLedgerLogEntry(bytes);
      logged.set(e.batchId, e);
    } catch (error) {
      batchProblems.push(`log entry ${i}: ${(error as Error).message}`);
    }
  }
  const chain = jsonOf<{ chainId?: unknown; contract?: unknown }>(mirrorApiFile("/chain"));
  const list = jsonOf<{ items?: PublicBatch[] }>(mirrorApiFile("/batches"));
  if (chain === undefined || list === undefined || !Array.isArray(list.items)) {
    batchProblems.push("api/v1/chain.json or api/v1/batches.json is missing or not JSON");
  } else {
    const contract = String(chain.contract).toLowerCase();
    const facts = [
      "root",
      "manifestHash",
      "idempotencyKey",
      "kind",
      "period",
      "recordCount",
      "total",
      "supersedes",
      "txHash",
    ] as const;
    const shown = new Set<number>();
    for (const item of list.items) {
      const id = item.batchId;
      shown.add(id);
      const view = jsonOf<PublicBatch>(mirrorApiFile(`/batches/${String(id)}`));
      if (view === undefined) {
        batchProblems.push(`batch ${id}: api/v1/batches/${id}.json is missing`);
        continue;
      }
      if (JSON.stringify(view) !== JSON.stringify(item))
        batchProblems.push(`batch ${id}: its file and its item in batches.json differ`);
      const entry = logged.get(id);
      if (entry === undefined) {
        batchProblems.push(`batch ${id} is not in the log at size ${size}`);
        continue;
      }
      if (entry.chainId !== chain.chainId || entry.contract !== contract)
        batchProblems.push(
          `batch ${id}: logged on chain ${entry.chainId} ${entry.contract}, the mirror's chain is ${String(chain.chainId)} ${contract}`,
        );
      for (const k of facts) {
        const a = typeof entry[k] === "string" ? entry[k].toLowerCase() : entry[k];
        const b = typeof view[k] === "string" ? view[k].toLowerCase() : view[k];
        if (a !== b)
          batchProblems.push(
            `batch ${id}: ${k} is ${JSON.stringify(view[k])}, the log says ${JSON.stringify(entry[k])}`,
          );
      }
    }
    for (const id of logged.keys())
      if (!shown.has(id)) batchProblems.push(`logged batch ${id} is not in api/v1/batches.json`);
    checks.push({
      name: "batches",
      ...summary(batchProblems, `${shown.size} batches agree with their log entries`),
    });
    const tiles = verifyMirrorBatchTiles(
      files,
      new Map([...logged].map(([id, e]) => [id, e.root])),
    );
    if (tiles !== undefined) checks.push(tiles);
    return done({ logSize: size, batches: shown.size });
  }
  checks.push({ name: "batches", ...summary(batchProblems, "") });
  return done({ logSize: size });
}

/**
 * The batch tiles of a mirror's `files` (path → bytes, already checked against mirror.json),
 * against the roots the log names per batch id (batch-tiles-v1.md §6; `undefined` when the mirror
 * has none). For each
 * `api/v1/batches/<id>/tiles.json`, its provinces give the root the log names for the batch, each
 * public province's tiles fold to its root with its right edge, and no other file lies under the
 * batch's `tiles/` (a level-0 tile or a private province's tile there is a leak and fails).
 */
export function verifyMirrorBatchTiles(
  files: ReadonlyMap<string, Uint8Array>,
  loggedRoots: ReadonlyMap<number, string>,
): MirrorCheck | undefined {
  const problems: string[] = [];
  const expected = new Set<string>();
  let batches = 0;
  for (const [file, bytes] of files) {
    const m = /^api\/v1\/batches\/([1-9][0-9]*)\/tiles\.json$/.exec(file);
    if (m === null) continue;
    batches++;
    const id = Number(m[1]);
    const where = `batch ${id}`;
    try {
      const d = JSON.parse(new TextDecoder().decode(bytes)) as BatchTilesDescriptor;
      if (d.format !== BATCH_TILES_FORMAT) throw new Error(`tiles.json format ${String(d.format)}`);
      const provinces = d.provinces.map((p) => ({ ...p, lanes: p.lanes.map((v) => BigInt(v)) }));
      if (!batchPublishesTiles(provinces)) {
        problems.push(`${where}: tiles.json lists a province of fewer than 10 persons (a leak)`);
        continue;
      }
      const root = bytesToHex(sumTreeRootOfProvinces(d.kind, provinces).hash);
      const logged = loggedRoots.get(id);
      if (logged === undefined || root !== logged.toLowerCase()) {
        problems.push(
          `${where}: tiles.json's provinces give root ${root}, the log says ${logged ?? "nothing"}`,
        );
        continue;
      }
      for (const p of provinces) {
        if (p.public !== provincePublishesTiles(p.size)) {
          problems.push(`${where} ${p.code}: public is ${p.public} for ${p.size} leaves`);
          continue;
        }
        if (!p.public) continue;
        const dir = `api/v1/batches/${id}/tiles/${p.code}/`;
        const r = verifyProvinceTiles({
          kind: d.kind,
          size: p.size,
          root: p.root,
          lanes: p.lanes,
          edge:
            p.edge === null
              ? undefined
              : { hash: hexToBytes(p.edge.hash), lanes: p.edge.lanes.map((v) => BigInt(v)) },
          readTile: (level, index, width) => {
            const rel = dir + tilePath({ level, index, width });
            const b = files.get(rel);
            if (b === undefined) throw new Error(`${rel} is missing`);
            expected.add(rel);
            return b;
          },
        });
        if (!r.ok) problems.push(`${where} ${p.code}: ${r.reason}`);
      }
    } catch (error) {
      problems.push(`${where}: ${(error as Error).message}`);
    }
  }
  for (const file of files.keys())
    if (/^api\/v1\/batches\/[0-9]+\/tiles\//.test(file) && !expected.has(file))
      problems.push(
        `${file} is not a public tile of its batch (level 0 and small provinces are never published)`,
      );
  if (batches === 0 && problems.length === 0) return undefined;
  return {
    name: "batch-tiles",
    ...summary(
      problems,
      `${expected.size} public tiles of ${batches} batches fold to their logged roots`,
    ),
  };
}
