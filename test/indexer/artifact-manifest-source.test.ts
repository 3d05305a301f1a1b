import { expect } from "chai";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { manifestHash } from "../../src/core/manifest.ts";
import { createArtifactManifestSource } from "../../src/indexer/artifact-manifest-source.ts";

describe("the artifact manifest source (manifests read from <data-dir>/batches)", function () {
  let dir: string;
  const manifests = Array.from({ length: 5 }, (_, i) =>
    new TextEncoder().encode(JSON.stringify({ format: "test", batch: i })),
  );

  beforeEach(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "shafaf-manifests-"));
    for (const [i, bytes] of manifests.entries()) {
      await mkdir(path.join(dir, `job-${i}`));
      await writeFile(path.join(dir, `job-${i}`, "manifest.json"), bytes);
    }
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("answers every caller that asks while the first scan is under way (the indexer asks several at once)", async function () {
    const source = createArtifactManifestSource(dir);
    const got = await Promise.all(manifests.map(async (m, i) => source(i + 1, manifestHash(m))));
    for (const [i, bytes] of got.entries())
      expect(bytes, `manifest ${i}`).to.deep.equal(manifests[i]);
  });

  it("does not rescan for an unknown hash within rescanMs, and finds a manifest written later after it", async function () {
    const source = createArtifactManifestSource(dir, { rescanMs: 60_000 });
    expect(await source(1, manifestHash(manifests[0]!))).to.deep.equal(manifests[0]);
    const late = new TextEncoder().encode(JSON.stringify({ format: "test", batch: "late" }));
    await mkdir(path.join(dir, "job-late"));
    await writeFile(path.join(dir, "job-late", "manifest.json"), late);
    expect(await source(9, manifestHash(late))).to.equal(undefined);
    const eager = createArtifactManifestSource(dir, { rescanMs: 0 });
    expect(await eager(9, manifestHash(late))).to.deep.equal(late);
  });
});
