import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { openCheckpoint } from "../../src/core/checkpoint.ts";
import {
  hashLeaf,
  memoryNodeSource,
  merkleTreeHash,
  consistencyProof,
  inclusionProof,
  rootHash,
} from "../../src/core/rfc6962.ts";
import {
  ed25519NoteSigner,
  ed25519NoteVerifier,
  ed25519PublicKey,
} from "../../src/core/signed-note.ts";
import { tilePath } from "../../src/core/tile-path.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";

const ORIGIN = "sso.example/ledger-log";
const seed = new Uint8Array(32).fill(3);
const enc = new TextEncoder();
const entry = (i: number) => enc.encode(`entry ${i}`);

describe("tiled log (c2sp.org/tlog-tiles on disk)", function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-log-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes full and partial tiles and bundles as the spec lays them out, and the same roots and proofs as memory", async () => {
    const log = await openTiledLog({
      dir,
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, seed),
    });
    const all = Array.from({ length: 66_000 }, (_, i) => entry(i));
    // Appended in uneven batches, so that partial tiles are extended across calls.
    for (const [a, b] of [
      [0, 1],
      [1, 300],
      [300, 65_535],
      [65_535, 65_536],
      [65_536, 66_000],
    ] as const)
      await log.append(all.slice(a, b));
    expect(log.size()).to.equal(66_000);
    const has = (p: string) => existsSync(path.join(dir, p));
    // 66,000 = 257 full level-0 tiles + 208; level 1: 1 full + 1 partial of 1; level 2: partial of 1.
    expect(has(tilePath({ level: 0, index: 256, width: 256 }))).to.equal(true);
    expect(has(tilePath({ level: 0, index: 257, width: 208 }))).to.equal(true);
    expect(has(tilePath({ level: "entries", index: 257, width: 208 }))).to.equal(true);
    expect(has(tilePath({ level: 1, index: 0, width: 256 }))).to.equal(true);
    expect(has(tilePath({ level: 1, index: 1, width: 1 }))).to.equal(true);
    expect(has(tilePath({ level: 2, index: 0, width: 1 }))).to.equal(true);
    // Partial tiles of earlier sizes stay (a checkpoint may name them).
    expect(has(tilePath({ level: 0, index: 1, width: 44 }))).to.equal(true);
    expect(
      readFileSync(path.join(dir, tilePath({ level: 0, index: 0, width: 256 }))),
    ).to.have.length(8192);

    const leafHashes = all.map(hashLeaf);
    const mem = memoryNodeSource(leafHashes);
    expect(log.rootHash()).to.deep.equal(rootHash(66_000, mem));
    expect(log.rootHash(70)).to.deep.equal(merkleTreeHash(all.slice(0, 70)));
    for (const [i, n] of [
      [0, 66_000],
      [65_999, 66_000],
      [12_345, 66_000],
      [300, 301],
      [65_535, 65_536],
    ] as const) {
      expect(log.inclusionProof(i, n), `${i}/${n}`).to.deep.equal(inclusionProof(i, n, mem));
    }
    for (const [m, n] of [
      [1, 66_000],
      [256, 66_000],
      [65_536, 66_000],
      [300, 65_535],
    ] as const) {
      expect(log.consistencyProof(m, n), `${m}→${n}`).to.deep.equal(consistencyProof(m, n, mem));
    }
    expect(log.entry(65_999)).to.deep.equal(all[65_999]);
    expect(log.entry(256)).to.deep.equal(all[256]);
  });

  it("signs a checkpoint that verifies with the log key, and reopens at the same size", async () => {
    const signer = ed25519NoteSigner(ORIGIN, seed);
    const log = await openTiledLog({ dir, origin: ORIGIN, signer });
    await log.append([entry(0), entry(1), entry(2)]);
    const note = await log.signCheckpoint();
    const opened = openCheckpoint(note, {
      logVerifiers: [ed25519NoteVerifier(ORIGIN, ed25519PublicKey(seed))],
      origin: ORIGIN,
    });
    expect(opened.ok && opened.checkpoint.size).to.equal(3);
    expect(await log.checkpoint()).to.equal(note);
    const again = await openTiledLog({ dir, origin: ORIGIN, signer });
    expect(again.size()).to.equal(3);
    await again.append([entry(3)]);
    expect(again.rootHash()).to.deep.equal(merkleTreeHash([0, 1, 2, 3].map(entry)));
  });

  it("refuses an entry over 65,535 bytes and a key not named after the origin", async () => {
    const log = await openTiledLog({
      dir,
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, seed),
    });
    let error: unknown;
    try {
      await log.append([new Uint8Array(65_536)]);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).to.equal("log.entry-size");
    expect(log.size()).to.equal(0);
    try {
      await openTiledLog({
        dir,
        origin: ORIGIN,
        signer: ed25519NoteSigner("other.example/log", seed),
      });
      expect.fail("should refuse");
    } catch (e) {
      expect((e as { code?: string }).code).to.equal("log.origin");
    }
  });
});
