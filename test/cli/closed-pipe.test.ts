import { spawn } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import { writeSsoList } from "../../src/ingest/write-sso-list.ts";
import { LIST_HEADER, tempDir, worker } from "../ingest/helpers.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** Runs a command, reads its first stdout chunk, closes the pipe (as `| head -1` does). */
async function firstChunkThenClose(
  args: readonly string[],
): Promise<{ first: string; code: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  const first = await new Promise<string>((resolve) =>
    child.stdout.once("data", (c: Buffer) => {
      child.stdout.destroy();
      resolve(c.toString("utf8"));
    }),
  );
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { first, code, stderr };
}

describe("a command whose stdout reader goes away (shafaf dbf read … | head -1)", function () {
  this.timeout(120_000);
  let dir: string;
  let cleanup: () => void;
  before(async function () {
    ({ dir, cleanup } = tempDir());
    // ≈ 1.3 MB of CSV: far more than a pipe holds, so writes go on after the pipe is closed.
    const workers = Array.from({ length: 6000 }, (_, i) => worker(i + 1, 100_000_000n));
    await writeSsoList(dir, { header: LIST_HEADER, workers }, { layout: "v6" });
  });
  after(function () {
    cleanup();
  });

  for (const [how, entry] of [
    ["bin/shafaf.js", ["bin/shafaf.js"]],
    ["src/cli/main.ts", ["--import", "tsx", "src/cli/main.ts"]],
  ] as const) {
    it(`ends with status 0 and no stack trace (${how})`, async function () {
      const r = await firstChunkThenClose([...entry, "dbf", "read", dir, "--province", "IR-23"]);
      expect(r.first).to.match(/^record_id,period,national_id/);
      expect(r.stderr).to.not.match(/EPIPE|Error|at /);
      expect(r.code).to.equal(0);
    });
  }
});
