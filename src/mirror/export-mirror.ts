/**
 * Writes everything public about the ledger as plain static files (docs/spec/mirror-v1.md): the
 * public API's answers at fixed file paths, the ledger log's checkpoint and tiles as they are
 * served, the trust policy, the built portal (switched to its static mode) and a `mirror.json`
 * manifest with the SHA-256 of every file. Every API answer is read through `source` — the API
 * itself, in-process or over HTTP — so small cells are suppressed exactly as the API suppresses
 * them and nothing the API does not serve publicly can reach the mirror. Receipts are personal:
 * the export never asks for one.
 *
 * Incremental (docs/spec/mirror-v1.md, "Incremental export"): a file already in `out` with the
 * same bytes is left alone; an immutable file (a tile, a batch's tiles.json, an attestation's
 * findings) is written as soon as it is read; every other file (the index files that name
 * others: listings, batch views, the portal, `log/checkpoint`) is written after all of them, and
 * `mirror.json` last. Each write is a temporary file renamed over its path, so a reader of the
 * live folder sees whole files only, and never a checkpoint or `mirror.json` naming a file not
 * yet there. Files no longer exported (and temporaries of a killed run) are removed after
 * `mirror.json`. The same ledger state gives the same bytes.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import {
  chmod,
  mkdir,
  readdir,
  readFile,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from "node:fs/promises";
import path from "node:path";
import { parseCheckpoint } from "../core/checkpoint.ts";
import { InvalidInputError, InvariantError, ShafafError } from "../core/errors.ts";
import type { PublicBatch, PublicBatchesPage } from "../core/public-views.ts";
import { parseNote } from "../core/signed-note.ts";
import { tileCounts, tilePath, TILE_WIDTH } from "../core/tile-path.ts";
import {
  mirrorApiFile,
  MIRROR_FORMAT,
  MIRROR_MANIFEST,
  MIRROR_META,
  type MirrorManifest,
} from "../core/mirror-layout.ts";

/**
 * The site could not be read (down, or an answer other than 200 or 404): retryable when the
 * server, not the question, failed (no answer, 429, 5xx).
 */
export class MirrorSourceError extends ShafafError {
  override name = "MirrorSourceError";
  constructor(sitePath: string, status: number | undefined, cause?: unknown) {
    super(
      status === undefined ? `GET ${sitePath}: no answer` : `GET ${sitePath} answered ${status}`,
      {
        code: "mirror.source",
        retryable: status === undefined || status === 429 || status >= 500,
        details:
          status === 503
            ? "the site is not ready (its indexer has written nothing yet, or it is shutting down); retry shortly"
            : "check the site's address, and that it is a Shafaf API (shafaf serve)",
        ...(cause === undefined ? {} : { cause }),
      },
    );
  }
}

/** Reads one public path of a Shafaf site (`/api/v1/stats`, `/log/checkpoint`). */
export interface MirrorSource {
  /** The body of a 200 answer, undefined on 404; any other answer throws {@link MirrorSourceError}. */
  get(sitePath: string): Promise<Uint8Array | undefined>;
}

export interface ExportMirrorOptions {
  source: MirrorSource;
  /** The site folder: created, or replaced when it holds an earlier mirror. */
  out: string;
  /** The built portal (src/web/dist); its files are copied and index.html gets the mirror tag. */
  webRoot: string;
}

export interface ExportMirrorResult {
  out: string;
  files: number;
  bytes: number;
  batches: number;
  /** The log's size at the exported checkpoint; undefined when the site serves no log. */
  logSize: number | undefined;
  /** Files written by this run (new or changed), mirror.json included. */
  written: number;
  /** Files already in `out` with the same bytes, left alone. */
  kept: number;
  /** Files of an earlier export no longer exported (and stale temporaries), removed. */
  removed: number;
}

/** API pages are read this many items at a time (the API's maximum for /batches). */
const PAGE = 100;
const EVENTS_PAGE = 200;

const json = (bytes: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(bytes));

function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * Exports the mirror. Throws `InvalidInputError` (code `mirror.out-not-mirror`) when `out` exists,
 * is not empty and is not a mirror (nothing is deleted), and `InvariantError` when the source
 * lacks what every Shafaf site serves (`/api/v1/chain`).
 *
 * @example
 * await exportMirror({ source: httpSource("http://127.0.0.1:8080"), out: "site", webRoot });
 */
export async function exportMirror(options: ExportMirrorOptions): Promise<ExportMirrorResult> {
  const out = path.resolve(options.out);
  await refuseForeignFolder(out);
  if (existsSync(path.join(out, MIRROR_MANIFEST))) {
    // An earlier mirror: updated in place, only what changed. A failed run removes the files it
    // added (before its mirror.json, nothing names them), so the old mirror stays as it was.
    const created: string[] = [];
    try {
      const result = await writeSite(out, options, created);
      await chmod(out, 0o755);
      return { ...result, out };
    } catch (error) {
      for (const rel of created) await rm(path.join(out, rel), { force: true });
      throw error;
    }
  }
  // A first export is built in a sibling folder and moved in whole: a failed one leaves nothing.
  const tmp = `${out}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true });
  try {
    const result = await writeSite(tmp, options);
    await chmod(tmp, 0o755);
    if (existsSync(out)) await rmdir(out); // empty (refuseForeignFolder)
    await rename(tmp, out);
    return { ...result, out };
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** A file that never changes once exported: written first, and never rewritten when present. */
export function isImmutableMirrorFile(rel: string): boolean {
  return (
    /^log\/tile\//.test(rel) ||
    /^api\/v1\/batches\/[0-9]+\/tiles(\.json|\/)/.test(rel) ||
    /^api\/v1\/batches\/[0-9]+\/attestations\/[0-9]+\/findings\.json$/.test(rel)
  );
}

/**
 * The order of the deferred (mutable) files: views of one batch first, then the files that name
 * others (listings, the portal's index.html, the log's checkpoint); mirror.json comes after all.
 */
function mutableRank(rel: string): number {
  if (rel === "log/checkpoint") return 3;
  if (
    rel === "index.html" ||
    /^api\/v1\/(batches|events|stats|chain|vrf-keys)\.json$/.test(rel) ||
    rel === "trust-policy.txt"
  )
    return 2;
  return 1;
}

const TEMP_SUFFIX = ".mirror-tmp";

/** Whether `file` holds exactly `bytes` (size first, then the bytes). */
async function sameBytes(file: string, bytes: Uint8Array): Promise<boolean> {
  try {
    if ((await stat(file)).size !== bytes.length) return false;
    return Buffer.from(await readFile(file)).equals(bytes);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return false;
    throw error;
  }
}

/** Writes `bytes` at `file` through a temporary file renamed over it (0644, folders 0755). */
async function replaceFile(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o755 });
  const tmp = file + TEMP_SUFFIX;
  await writeFile(tmp, bytes, { mode: 0o644 });
  await chmod(tmp, 0o644);
  await rename(tmp, file);
}

/** Removes every file under `dir` not in `keep` (relative paths), then empty folders. */
async function prune(dir: string, keep: ReadonlySet<string>, rel = ""): Promise<number> {
  let removed = 0;
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) {
      removed += await prune(dir, keep, child);
      if ((await readdir(path.join(dir, child))).length === 0) await rmdir(path.join(dir, child));
    } else if (!keep.has(child)) {
      await rm(path.join(dir, child), { force: true });
      removed++;
    }
  }
  return removed;
}

async function refuseForeignFolder(out: string): Promise<void> {
  if (!existsSync(out)) return;
  if (!(await stat(out)).isDirectory() || existsSync(path.join(out, MIRROR_MANIFEST))) return;
  if ((await readdir(out)).length === 0) return;
  throw new InvalidInputError(`${out} exists and is not a Shafaf mirror (it has no mirror.json)`, {
    code: "mirror.out-not-mirror",
    field: "--out",
    details: "give a new or empty folder, or the folder of an earlier export; nothing was deleted",
  });
}

async function writeSite(
  dir: string,
  options: ExportMirrorOptions,
  created: string[] = [],
): Promise<Omit<ExportMirrorResult, "out">> {
  const files = new Map<string, { size: number; sha256: string }>();
  const deferred: { rel: string; bytes: Uint8Array }[] = [];
  let written = 0;
  let kept = 0;
  const place = async (rel: string, bytes: Uint8Array) => {
    const file = path.join(dir, rel);
    if (await sameBytes(file, bytes)) kept++;
    else {
      if (!existsSync(file)) created.push(rel);
      await replaceFile(file, bytes);
      written++;
    }
  };
  const put = async (rel: string, bytes: Uint8Array) => {
    if (files.has(rel) || rel === MIRROR_MANIFEST || rel.endsWith(TEMP_SUFFIX))
      throw new InvariantError(`the mirror would hold ${rel} twice or under a reserved name`, {
        code: "mirror.duplicate-file",
      });
    files.set(rel, { size: bytes.length, sha256: sha256Hex(bytes) });
    if (isImmutableMirrorFile(rel)) await place(rel, bytes);
    else deferred.push({ rel, bytes });
  };
  const putJson = (rel: string, value: unknown) =>
    put(rel, new TextEncoder().encode(JSON.stringify(value) + "\n"));
  const need = async (sitePath: string): Promise<Uint8Array> => {
    const bytes = await options.source.get(sitePath);
    if (bytes === undefined)
      throw new InvariantError(`the site answered 404 for ${sitePath}`, {
        code: "mirror.source-missing",
        details: "export from a Shafaf API whose indexer has caught up (shafaf serve)",
      });
    return bytes;
  };

  /** `GET /api/v1<apiPath>` written at its static file. */
  const copyApi = async (apiPath: string): Promise<Uint8Array> => {
    const bytes = await need(`/api/v1${apiPath}`);
    await put(mirrorApiFile(apiPath), bytes);
    return bytes;
  };
  const chain = json(await copyApi("/chain")) as MirrorManifest["chain"];
  await copyApi("/stats");
  await copyApi("/vrf-keys");
  await put("api/v1/openapi.json", await need("/api/v1/openapi.json"));

  const batches: PublicBatch[] = [];
  for (let cursor: string | null | undefined = undefined; ;) {
    const qs = `limit=${PAGE}${cursor == null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page = json(await need(`/api/v1/batches?${qs}`)) as PublicBatchesPage;
    batches.push(...page.items);
    cursor = page.nextCursor;
    if (cursor == null) break;
  }
  await putJson(mirrorApiFile("/batches"), { items: batches, nextCursor: null });
  for (const b of batches) {
    await copyApi(`/batches/${b.batchId}`);
    for (let i = 0; i < b.attestations.length; i++)
      await copyApi(`/batches/${b.batchId}/attestations/${i}/findings`);
    await exportBatchTiles(b.batchId, options.source, put);
  }
  const events: unknown[] = [];
  for (let cursor: string | null | undefined = undefined; ;) {
    const qs = `limit=${EVENTS_PAGE}${cursor == null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`;
    const page = json(await need(`/api/v1/events?${qs}`)) as {
      items: unknown[];
      nextCursor: string | null;
    };
    events.push(...page.items);
    cursor = page.nextCursor;
    if (cursor == null) break;
  }
  await putJson(mirrorApiFile("/events"), { items: events, nextCursor: null });

  let log: MirrorManifest["log"] = null;
  const note = await options.source.get("/log/checkpoint");
  if (note !== undefined) {
    const checkpoint = parseCheckpoint(parseNote(note).text);
    // The tiles first, the checkpoint that names them last (a reader never sees a dangling one).
    for (const { level, full, partialWidth } of tileCounts(checkpoint.size)) {
      const widths = [
        ...Array.from({ length: full }, () => TILE_WIDTH),
        ...(partialWidth > 0 ? [partialWidth] : []),
      ];
      for (const [index, width] of widths.entries()) {
        for (const kind of level === 0 ? (["entries", 0] as const) : [level]) {
          const rel = `log/${tilePath({ level: kind, index, width })}`;
          await put(rel, await need(`/${rel}`));
        }
      }
    }
    await put("log/checkpoint", note);
    log = {
      origin: checkpoint.origin,
      size: checkpoint.size,
      rootHash: Buffer.from(checkpoint.rootHash).toString("base64"),
    };
  }
  const policy = await options.source.get("/trust-policy.txt");
  if (policy !== undefined) await put("trust-policy.txt", policy);

  await copyPortal(options.webRoot, dir, put);

  // Immutable files are all in place: the files that name them now, the checkpoint after them.
  deferred.sort((a, b) => mutableRank(a.rel) - mutableRank(b.rel));
  for (const { rel, bytes } of deferred) await place(rel, bytes);

  const listed = [...files.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([p, f]) => ({ path: p, size: f.size, sha256: f.sha256 }));
  const manifest: MirrorManifest = {
    format: MIRROR_FORMAT,
    chain: {
      chainId: chain.chainId,
      contract: chain.contract,
      lastIndexedBlock: chain.lastIndexedBlock,
      lastIndexedHash: chain.lastIndexedHash,
    },
    log,
    batches: batches.length,
    files: listed,
  };
  await place(MIRROR_MANIFEST, new TextEncoder().encode(JSON.stringify(manifest, null, 1) + "\n"));
  const removed = await prune(dir, new Set([...files.keys(), MIRROR_MANIFEST]));
  return {
    written,
    kept,
    removed,
    files: listed.length + 1,
    bytes: listed.reduce((s, f) => s + f.size, 0),
    batches: batches.length,
    logSize: log?.size,
  };
}

/** The portal's files, with index.html tagged so that its API client reads the static layout. */
async function copyPortal(
  webRoot: string,
  dir: string,
  put: (rel: string, bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  if (!existsSync(path.join(webRoot, "index.html")))
    throw new InvariantError(`the portal is not built in ${webRoot}`, {
      code: "mirror.no-portal",
      details: "run `npm run build:web` first",
    });
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(webRoot, rel), { withFileTypes: true })) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(child);
      else if (e.isFile()) {
        let bytes: Uint8Array = await readFile(path.join(webRoot, child));
        if (child === "index.html") bytes = tagIndexHtml(bytes);
        await put(child, bytes);
      }
    }
  };
  await walk("");
}

function tagIndexHtml(bytes: Uint8Array): Uint8Array {
  const html = new TextDecoder().decode(bytes);
  const tag = `<meta name="${MIRROR_META}" content="${MIRROR_FORMAT}" />`;
  if (!html.includes("<head>"))
    throw new InvariantError("the portal's index.html has no <head>", { code: "mirror.no-portal" });
  return new TextEncoder().encode(html.replace("<head>", `<head>\n    ${tag}`));
}

/**
 * A `shafaf-tree/2` batch's public tiles (docs/spec/batch-tiles-v1.md §7), when the site serves
 * them (it anchored the batch): `tiles.json` at `api/v1/batches/<id>/tiles.json` and each tile of
 * level ≥ 1 of each public province at its API path. Level 0 is never asked for.
 *
 * @throws {InvariantError} (`mirror.source-missing`) when a tile tiles.json lists is not served.
 * @example
 * await exportBatchTiles(7, httpSource(url), (rel, bytes) => writeFile(path.join(out, rel), bytes));
 */
export async function exportBatchTiles(
  batchId: number,
  source: MirrorSource,
  put: (rel: string, bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  const base = `/batches/${batchId}/tiles`;
  const descriptor = await source.get(`/api/v1${base}`);
  if (descriptor === undefined) return;
  await put(mirrorApiFile(base), descriptor);
  const d = json(descriptor) as { provinces: { code: string; size: number; public: boolean }[] };
  for (const p of d.provinces) {
    if (!p.public) continue;
    for (const { level, full, partialWidth } of tileCounts(p.size)) {
      if (level === 0) continue;
      const count = full + (partialWidth > 0 ? 1 : 0);
      for (let index = 0; index < count; index++) {
        const rel = `api/v1${base}/${p.code}/${tilePath({ level, index, width: index < full ? TILE_WIDTH : partialWidth })}`;
        const bytes = await source.get(`/${rel}`);
        if (bytes === undefined)
          throw new InvariantError(`the site answered 404 for /${rel}`, {
            code: "mirror.source-missing",
            details: "the site lists the tile in tiles.json but does not serve it",
          });
        await put(rel, bytes);
      }
    }
  }
}
