/**
 * `npm run bench`: runs every benchmark in scripts/bench/ (or the ones named on the command line,
 * e.g. `npm run bench -- tree`), each in a fresh process so that peak-memory figures are its own.
 * Each benchmark prints its figures beside a reference measured in the same run.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";

const dir = path.join(import.meta.dirname, "bench");
const wanted = process.argv.slice(2);
const all = readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -3))
  .sort();
const chosen = wanted.length > 0 ? all.filter((b) => wanted.includes(b)) : all;
if (chosen.length === 0) {
  console.error(`no benchmark matches ${wanted.join(", ")}; available: ${all.join(", ")}`);
  process.exit(64);
}
let failed = 0;
for (const name of chosen) {
  console.log(`\n## bench: ${name}\n`);
  const r = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", path.join(dir, `${name}.ts`)],
    {
      stdio: "inherit",
    },
  );
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
