/**
 * The README's "First time" flow, literally: its ```sh block is extracted from README.md and run
 * line by line by bash, with the real `npx shafaf`, against a real Hardhat node — so the test
 * fails as soon as the README and the commands drift apart. The only change made to the lines is
 * the node's URL (a free port instead of 8545).
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import path from "node:path";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const README_URL = "http://127.0.0.1:8545";

/** The command lines of the first ```sh block after the heading `### First time…`. */
export function firstTimeCommands(readme: string): string[] {
  const at = readme.indexOf("\n### First time");
  if (at < 0) throw new Error("README.md has no '### First time' section");
  const open = readme.indexOf("```sh\n", at);
  const close = readme.indexOf("\n```", open + 6);
  if (open < 0 || close < 0) throw new Error("the 'First time' section has no ```sh block");
  const commands: string[] = [];
  let pending = "";
  for (const line of readme.slice(open + 6, close).split("\n")) {
    const t = line.trim();
    if (pending === "" && (t === "" || t.startsWith("#"))) continue;
    if (t.endsWith("\\")) {
      pending += t.slice(0, -1).trimEnd() + " ";
      continue;
    }
    commands.push(pending + t);
    pending = "";
  }
  return commands;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `lines` with bash in `cwd` (stop at the first failure), as a user's shell would. */
function runBash(lines: readonly string[], cwd: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env["PATH"] ?? ""}`,
  };
  for (const key of Object.keys(env))
    if (/^(npm_|HARDHAT|NODE_OPTIONS$|SHAFAF_)/i.test(key)) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["-euo", "pipefail", "-c", lines.join("\n")], {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the README's first-time flow (literally, with npx, on a real Hardhat node)", function () {
  this.timeout(300_000);
  let chain: DevChain;
  let commands: string[];
  const dirs: string[] = [];

  /** A fresh folder inside the clone (so that `npx shafaf` finds this package) with its examples/. */
  async function cloneLikeFolder(): Promise<string> {
    await mkdir(path.join(ROOT, ".shafaf"), { recursive: true });
    const dir = await mkdtemp(path.join(ROOT, ".shafaf", "readme-flow-"));
    await symlink(path.join(ROOT, "examples"), path.join(dir, "examples"));
    dirs.push(dir);
    return dir;
  }

  before(async function () {
    commands = firstTimeCommands(await readFile(path.join(ROOT, "README.md"), "utf8"));
    chain = await startDevChain();
  });
  after(async function () {
    await chain?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("extracts the README's commands: keys, dev fund, deploy, register-vrf, anchor, receipts, verify, person prove", function () {
    const words = commands.map((c) => /npx shafaf (\w+)/.exec(c)?.[1] ?? c.split(" ")[0]);
    expect(words).to.deep.equal([
      "export",
      "keys",
      "keys",
      "keys",
      "dev",
      "dev",
      "deploy",
      "keys",
      "anchor",
      "receipts",
      "verify",
      "person",
      "verify",
    ]);
    expect(commands.filter((c) => c.includes(README_URL))).to.have.length(7);
  });

  it("goes from nothing to a VERIFIED receipt, exit 0, without one unexplained error", async function () {
    const cwd = await cloneLikeFolder();
    const r = await runBash(
      commands.map((c) => c.replaceAll(README_URL, chain.url)),
      cwd,
    );
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^VERIFIED: this record is in the anchored batch$/m);
    expect(r.stdout).to.match(
      /^VERIFIED: these are all of this person's records in the anchored batch$/m,
    );
    expect(r.stdout).to.match(/^anchored batch 1 \(premium 1403-07\)$/m);
    expect(r.stdout + r.stderr).not.to.match(/could not coalesce|Error:|\n\s+at /);
  });

  it("without the funding step, stops at deploy with the reason and the command that fixes it", async function () {
    const cwd = await cloneLikeFolder();
    const lines = commands
      .filter((c) => !c.includes("shafaf dev fund"))
      .map((c) => c.replaceAll(README_URL, chain.url));
    const r = await runBash(lines, cwd);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(
      /shafaf deploy: deploying the ledger: the account 0x[0-9a-fA-F]{40} has not enough ETH to pay for gas/,
    );
    expect(r.stderr).to.include(`shafaf dev fund --rpc ${chain.url} --to 0x`);
    expect(r.stderr).not.to.match(/could not coalesce/);
  });
});
