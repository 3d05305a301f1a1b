import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { bundleEntry, parseEntryBundle } from "../../src/core/entry-bundle.ts";
import { ed25519NoteSigner } from "../../src/core/signed-note.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";

describe("entry bundles (tlog-tiles tile/entries)", function () {
  const enc = new TextEncoder();
  const entries = [enc.encode("a"), new Uint8Array(0), enc.encode("x".repeat(300))];
  let dir: string;
  let bundle: Uint8Array;
  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-bundle-"));
    const origin = "sso.example/ledger-log";
    const log = await openTiledLog({
      dir,
      origin,
      signer: ed25519NoteSigner(origin, new Uint8Array(32).fill(3)),
    });
    await log.append(entries);
    bundle = new Uint8Array(await readFile(path.join(dir, "tile/entries/000.p/3")));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads back every entry of a bundle the tiled log wrote, one by one and all at once", function () {
    expect(parseEntryBundle(bundle)).to.deep.equal(entries);
    entries.forEach((e, i) => expect(bundleEntry(bundle, i)).to.deep.equal(e));
    expect(bundle.length).to.equal(2 + 1 + 2 + 0 + 2 + 300);
  });

  it("refuses a truncated entry, a dangling length byte, and an entry beyond the bundle", function () {
    expect(() => parseEntryBundle(bundle.subarray(0, bundle.length - 1))).to.throw(
      /entry 2 at offset 5 has 300 bytes, 299 remain/,
    );
    const dangling = new Uint8Array([...bundle, 0]);
    expect(() => parseEntryBundle(dangling)).to.throw(/1 byte left at offset 307/);
    expect(() => bundleEntry(bundle, 3)).to.throw(/no entry 3/);
    expect(() => bundleEntry(bundle.subarray(0, 100), 2)).to.throw(/has 300 bytes, 93 remain/);
  });
});
