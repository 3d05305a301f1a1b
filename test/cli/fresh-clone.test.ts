import { expect } from "chai";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { nodeProblem } from "../../src/cli/preflight.ts";
import { startAndWait } from "./helpers.ts";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");

/**
 * The README's promise, literally: a fresh clone, `npm install`, then `npm start` — with none of
 * CI's own steps (no `hardhat build`, no artifacts, no cache of this checkout). This catches every
 * gap of the "works here because CI built it first" kind.
 */
describe("a fresh clone: npm install, then npm start (the README's two commands)", function () {
  this.timeout(900_000);
  let clone: string;
  // npm under the Node that runs the tests (>= 22.13), as a user with Node 22 on PATH has it.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env["PATH"] ?? ""}`,
  };
  // Nothing of the test runner's own process leaks in (npm's variables, Hardhat's, its loaders).
  for (const key of Object.keys(env)) {
    if (/^(npm_|HARDHAT|NODE_OPTIONS$|NODE_PATH$|TS_NODE|TSX)/i.test(key)) delete env[key];
  }

  before(async function () {
    clone = await mkdtemp(path.join(tmpdir(), "shafaf-clone-"));
    await run("git", ["clone", "-q", root, clone]);
  });
  after(async function () {
    await rm(clone, { recursive: true, force: true });
  });

  it("installs (compiling the contracts offline) and starts the demo, which serves the portal and verified receipts", async function () {
    expect(existsSync(path.join(clone, "artifacts")), "a clone has no artifacts").to.equal(false);
    await run("npm", ["install", "--no-audit", "--no-fund"], {
      cwd: clone,
      env,
      maxBuffer: 64 << 20,
    });
    expect(
      existsSync(
        path.join(clone, "artifacts/contracts/TransparencyLedger.sol/TransparencyLedger.json"),
      ),
    ).to.equal(true);

    const started = await startAndWait("npm", ["start", "--", "--scale", "0.02", "--port", "0"], {
      cwd: clone,
      env,
    });
    let stopped = false;
    try {
      const page = await fetch(`${started.url}/`);
      expect(page.status).to.equal(200);
      const code = /^ {4}([0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}-[0-9A-Z]{3}) {3}/m.exec(
        started.out(),
      )?.[1];
      expect(code, started.out()).to.be.a("string");
      const receipt = await fetch(`${started.url}/api/v1/receipts/${code}`);
      expect(receipt.status).to.equal(200);
      stopped = true;
      // npm re-raises the SIGINT it forwarded, so a shell sees 130, as for any Ctrl-C'd npm script.
      expect(await started.stop(), "Ctrl-C ends npm start, without a forced kill").to.be.oneOf([
        0, 130,
      ]);
      expect(started.out()).to.include("stopping");
    } finally {
      if (!stopped) await started.stop();
    }
  });
});

describe("preflight: nodeProblem", function () {
  it("accepts Node 22.13 and later, and names the fix for older ones", function () {
    expect(nodeProblem("22.13.0")).to.equal(undefined);
    expect(nodeProblem("23.1.0")).to.equal(undefined);
    expect(nodeProblem("22.12.9")).to.match(/needs Node\.js >= 22\.13.*this is Node 22\.12\.9/s);
    expect(nodeProblem("20.20.2")).to.match(/rm -rf node_modules && npm install/);
  });
});
