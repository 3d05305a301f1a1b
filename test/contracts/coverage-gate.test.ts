import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { isGated, parseLcov } from "../../scripts/coverage-gate.ts";

const run = promisify(execFile);
const gate = path.resolve(import.meta.dirname, "../../scripts/coverage-gate.ts");

const lcov = (file: string, hits: number[]): string =>
  ["TN:", `SF:${file}`, ...hits.map((h, i) => `DA:${i + 1},${h}`), "end_of_record"].join("\n");

async function gateExit(text: string): Promise<{ code: number; stdout: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "shafaf-gate-"));
  try {
    await writeFile(path.join(dir, "lcov.info"), text);
    try {
      const { stdout } = await run(process.execPath, [
        "--import",
        "tsx",
        gate,
        "--lcov",
        path.join(dir, "lcov.info"),
      ]);
      return { code: 0, stdout };
    } catch (error) {
      const e = error as { code: number; stdout: string };
      return { code: e.code, stdout: e.stdout };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("coverage gate", function () {
  it("merges sections of the same file: a line is covered if any run hit it", function () {
    const text = [lcov("contracts/A.sol", [0, 1, 0]), lcov("contracts/A.sol", [1, 0, 0])].join(
      "\n",
    );
    expect(parseLcov(text)).to.deep.equal([
      { file: "contracts/A.sol", linesFound: 3, linesHit: 2, uncovered: [3] },
    ]);
  });

  it("measures contracts/ but not the harnesses in contracts/mocks/", function () {
    expect(isGated("contracts/TransparencyLedger.sol")).to.equal(true);
    expect(isGated("contracts/governance/ShafafCouncil.sol")).to.equal(true);
    expect(isGated("contracts/mocks/LedgerHandler.sol")).to.equal(false);
    expect(isGated("test/contracts/TransparencyLedger.t.sol")).to.equal(false);
  });

  it("passes at 95 % and fails below it, ignoring mocks", async function () {
    const ninetyFive = Array.from({ length: 20 }, (_, i) => (i === 0 ? 0 : 1));
    const pass = await gateExit(
      [lcov("contracts/A.sol", ninetyFive), lcov("contracts/mocks/M.sol", [0, 0, 0])].join("\n"),
    );
    expect(pass.code).to.equal(0);
    expect(pass.stdout).to.contain("95.00 %");
    const fail = await gateExit(lcov("contracts/A.sol", [...ninetyFive.slice(1), 0, 0]));
    expect(fail.code).to.equal(1);
    expect(fail.stdout).to.contain("FAIL");
  });

  it("fails when nothing of contracts/ was measured", async function () {
    expect((await gateExit(lcov("contracts/mocks/M.sol", [1]))).code).to.equal(1);
    expect((await gateExit("")).code).to.equal(1);
  });
});
