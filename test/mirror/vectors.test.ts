/**
 * `verifyMirror` against the committed vectors (test/vectors/mirror-1.json, docs/spec/mirror-v1.md):
 * each case's site is written to a temp folder and verified; the verdict and the failed checks
 * are the committed ones, and those are pinned here by name so that regenerating the vectors
 * cannot quietly accept a weaker verifier.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { verifyMirror } from "../../src/mirror/verify-mirror.ts";
import { materialize, type MirrorVectorCase } from "../../scripts/vectors/mirror.ts";

const vectors = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../vectors/mirror-1.json"), "utf8"),
) as { policy: string; site: Record<string, string>; cases: MirrorVectorCase[] };

/** What each named corruption must fail; `valid` fails nothing. */
const PINNED: Record<string, string[]> = {
  valid: [],
  "changed-file": ["files", "batches"],
  "unlisted-file": ["files"],
  "missing-tile": ["files", "tiles"],
  "forged-root-rehashed": ["batches"],
  "unlogged-batch-rehashed": ["batches"],
  "quorum-not-met-rehashed": ["checkpoint"],
  "another-logs-policy": ["checkpoint"],
  "unknown-format": ["manifest"],
  "path-escape": ["files", "batches"],
};

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, "base64"));

describe("verifyMirror against test/vectors/mirror-1.json", function () {
  it("holds every pinned case", function () {
    expect(vectors.cases.map((c) => c.name).sort()).to.deep.equal(Object.keys(PINNED).sort());
  });
  for (const c of vectors.cases) {
    it(`${c.name}: ${c.description}`, async function () {
      const dir = mkdtempSync(path.join(tmpdir(), "shafaf-mirror-vector-"));
      try {
        const site = Object.fromEntries(
          Object.entries(vectors.site).map(([p, b]) => [p, bytes(b)]),
        );
        const changes = Object.fromEntries(
          Object.entries(c.changes).map(([p, b]) => [p, b === null ? null : bytes(b)]),
        );
        await materialize(dir, site, changes);
        const r = await verifyMirror({
          dir,
          policy: parseTrustPolicy(c.policy ?? vectors.policy),
        });
        const failed = r.checks.filter((k) => !k.ok).map((k) => k.name);
        expect(failed, JSON.stringify(r.checks)).to.deep.equal(c.expect.failedChecks);
        expect(failed).to.deep.equal(PINNED[c.name]);
        expect(r.ok)
          .to.equal(c.expect.ok)
          .and.equal(failed.length === 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
