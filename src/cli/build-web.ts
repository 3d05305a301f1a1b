/**
 * Builds the transparency portal (the browser sources in `src/web`) into a folder of static files
 * (`index.html`, `app.js`, `app.css`, `fonts/`, and `history-worker.js`, the history page's Web
 * Worker). Runs offline: esbuild bundles the TypeScript and
 * the CSS, and copies the Vazirmatn font from the `vazirmatn` npm package. A Node build tool, so it
 * lives with the composition root that runs it (`npm start`, `shafaf serve`) rather than in the
 * browser layer; `npm run build:web` (scripts/build-web.ts) is its command-line entry.
 */
import path from "node:path";
import { build, type BuildOptions } from "esbuild";

export interface BuildWebOptions {
  /** Output folder (default `src/web/dist`). Existing files with the same names are overwritten. */
  outDir?: string;
  /** Minify the JavaScript and CSS (default true). */
  minify?: boolean;
}

export interface BuildWebResult {
  /** Absolute path of the output folder; serve it as the web root. */
  outDir: string;
  /** Every file written, relative to `outDir`, with its size in bytes. */
  files: { path: string; bytes: number }[];
}

/** The portal's sources. */
const SOURCE_DIR = path.resolve(import.meta.dirname, "../web");

/**
 * Bundles the portal. Fast (well under a second) and deterministic for the same sources.
 *
 * @example
 * const { outDir } = await buildWeb();
 * createApp({ …, webRoot: outDir });
 */
export async function buildWeb(options: BuildWebOptions = {}): Promise<BuildWebResult> {
  const outDir = options.outDir ?? `${SOURCE_DIR}/dist`;
  // What the app and the history's worker are both built with (offline, into the same folder).
  const shared = {
    bundle: true,
    platform: "browser",
    target: ["es2022", "chrome100", "firefox100", "safari15.4"],
    minify: options.minify ?? true,
    legalComments: "none",
    charset: "utf8",
    outdir: outDir,
    write: true,
    metafile: true as const,
    logLevel: "silent",
  } satisfies BuildOptions;
  const result = await build({
    absWorkingDir: SOURCE_DIR,
    entryPoints: [
      { in: `${SOURCE_DIR}/main.ts`, out: "app" },
      { in: `${SOURCE_DIR}/styles.css`, out: "app" },
      { in: `${SOURCE_DIR}/index.html`, out: "index" },
    ],
    loader: { ".html": "copy", ".woff2": "file" },
    assetNames: "fonts/[name]",
    ...shared,
    format: "esm",
  });
  // The history page's Web Worker (src/web/history-worker.ts), beside app.js: a classic script
  // (iife), so that it starts in every browser the portal targets, module workers or not.
  const worker = await build({
    absWorkingDir: SOURCE_DIR,
    entryPoints: [{ in: `${SOURCE_DIR}/history-worker.ts`, out: "history-worker" }],
    ...shared,
    format: "iife",
  });
  // Metafile keys are relative to absWorkingDir; every output sits under the folder of app.js.
  const outputs = [
    ...Object.entries(result.metafile.outputs),
    ...Object.entries(worker.metafile.outputs),
  ];
  const appKey = outputs.map(([key]) => key).find((key) => key.endsWith("app.js")) ?? "app.js";
  const prefix = appKey.slice(0, -"app.js".length);
  const files = outputs.map(([key, output]) => ({
    path: key.startsWith(prefix) ? key.slice(prefix.length) : key,
    bytes: output.bytes,
  }));
  return { outDir, files };
}
