/**
 * `loadArtifact` compiles again when a Solidity source is newer than the compiled artifact (a
 * `git pull` without `npm install`), instead of deploying old bytecode that reverts later.
 */
import { expect } from "chai";
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { sourcesNewerThan } from "../../src/chain/artifact.ts";

describe("compiled artifacts older than their sources", function () {
  it("are noticed by modification time, in nested folders too", function () {
    const root = mkdtempSync(path.join(tmpdir(), "shafaf-artifact-"));
    try {
      mkdirSync(path.join(root, "contracts", "governance"), { recursive: true });
      const source = path.join(root, "contracts", "governance", "C.sol");
      const artifact = path.join(root, "C.json");
      writeFileSync(source, "// c\n");
      writeFileSync(artifact, "{}");
      const t = Date.now() / 1000;
      utimesSync(source, t - 100, t - 100);
      utimesSync(artifact, t - 50, t - 50);
      expect(sourcesNewerThan(root, artifact)).to.equal(false);
      utimesSync(source, t, t);
      expect(sourcesNewerThan(root, artifact)).to.equal(true);
      writeFileSync(path.join(root, "contracts", "notes.txt"), "x"); // only .sol files count
      utimesSync(source, t - 100, t - 100);
      expect(sourcesNewerThan(root, artifact)).to.equal(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
