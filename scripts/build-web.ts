/**
 * `npm run build:web`: builds the portal into `src/web/dist/` (or the folder given as the first
 * argument) and prints each file with its size. The build itself is `buildWeb()` in
 * `src/cli/build-web.ts`, which the API server and `npm start` call directly.
 */
import path from "node:path";
import { buildWeb } from "../src/cli/build-web.ts";

const outDir = process.argv[2] === undefined ? undefined : path.resolve(process.argv[2]);
const started = performance.now();
const result = await buildWeb(outDir === undefined ? {} : { outDir });
const ms = Math.round(performance.now() - started);
for (const file of result.files) {
  process.stdout.write(`${file.path.padEnd(40)} ${String(file.bytes).padStart(9)} bytes\n`);
}
process.stdout.write(`built ${result.outDir} in ${ms} ms\n`);
