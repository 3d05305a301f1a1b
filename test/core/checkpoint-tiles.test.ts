import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { formatCheckpoint, parseCheckpoint } from "../../src/core/checkpoint.ts";
import { parseTilePath, tileCounts, tilePath } from "../../src/core/tile-path.ts";

const dir = path.resolve(import.meta.dirname, "../vectors/c2sp");
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- vector files are read as plain JSON
const load = (f: string): any => JSON.parse(readFileSync(path.join(dir, f), "utf8"));
const formats = load("formats-checkpoint.json");
const spec = load("c2sp-spec-examples.json");

describe("checkpoint (c2sp.org/tlog-checkpoint)", () => {
  it("writes the transparency-dev/formats Marshal vectors byte for byte (any hash length there; 32 bytes here)", () => {
    for (const c of formats.marshal) {
      const hash = new TextEncoder().encode(c.hashText);
      // formats' tests use short text as the hash; Shafaf's writer insists on 32 bytes, so compare the line format.
      expect(`${c.origin}\n${c.size}\n${Buffer.from(hash).toString("base64")}\n`).to.equal(c.want);
    }
    const root = new Uint8Array(32).fill(9);
    const text = formatCheckpoint({ origin: "Log", size: 123, rootHash: root, extensions: [] });
    expect(text).to.equal(`Log\n123\n${Buffer.from(root).toString("base64")}\n`);
    expect(parseCheckpoint(text)).to.deep.equal({
      origin: "Log",
      size: 123,
      rootHash: root,
      extensions: [],
    });
  });

  it("rejects every body the formats package rejects, and those the spec forbids that it accepts", () => {
    for (const c of formats.unmarshal) {
      if (c.wantErr) {
        expect(() => parseCheckpoint(c.m), c.desc).to.throw(/malformed checkpoint/);
        continue;
      }
      // The formats vectors use 7- and 37-byte "hashes": the spec's root is a SHA-256 hash, so Shafaf refuses them.
      expect(() => parseCheckpoint(c.m), c.desc).to.throw(/malformed checkpoint/);
    }
    const root = Buffer.alloc(32, 1).toString("base64");
    expect(
      parseCheckpoint(`Log\n9944\n${root}\nHere's some associated data.\n`).extensions,
    ).to.deep.equal(["Here's some associated data."]);
    expect(parseCheckpoint(`Log\n9944\n${root}\nlots\nof\nlines\n`).extensions).to.deep.equal([
      "lots",
      "of",
      "lines",
    ]);
    // "valid with trailing newlines" in formats: empty extension lines, which the spec forbids.
    expect(() => parseCheckpoint(`Log\n9944\n${root}\n\n\n\n`)).to.throw(/malformed checkpoint/);
    expect(() => parseCheckpoint(`Log\n09944\n${root}\n`)).to.throw(/malformed checkpoint/);
    expect(() => parseCheckpoint(`Log\n9007199254740992\n${root}\n`)).to.throw(
      /malformed checkpoint/,
    );
  });
});

describe("tile-path (c2sp.org/tlog-tiles)", () => {
  it("encodes the spec's example index and partial tiles", () => {
    for (const t of spec.tilePaths)
      expect(tilePath({ level: t.level, index: t.index, width: 256 })).to.equal(t.want);
    expect(tilePath({ level: 0, index: 0, width: 256 })).to.equal("tile/0/000");
    expect(tilePath({ level: "entries", index: 1000, width: 5 })).to.equal(
      "tile/entries/x001/000.p/5",
    );
    expect(tilePath({ level: 2, index: 1234067, width: 17 })).to.equal("tile/2/x001/x234/067.p/17");
  });

  it("parses exactly the paths it writes", () => {
    for (const p of [
      "tile/0/x001/x234/067",
      "tile/entries/000.p/5",
      "tile/63/999",
      "tile/1/x001/000.p/255",
    ]) {
      const a = parseTilePath(p);
      expect(a, p).to.not.equal(undefined);
      expect(tilePath(a!)).to.equal(p);
    }
    for (const p of [
      "tile/64/000",
      "tile/00/000",
      "tile/0/1",
      "tile/0/x000/001",
      "tile/0/000.p/0",
      "tile/0/000.p/256",
      "tile/0/001/002",
      "tile/0/000.p/05",
      "tile/0/../000",
    ]) {
      expect(parseTilePath(p), p).to.equal(undefined);
    }
  });

  it("counts the tiles of the spec's examples (sizes 70,000 and 256)", () => {
    expect(tileCounts(spec.partialTiles.size)).to.deep.equal(spec.partialTiles.levels);
    expect(tileCounts(spec.partialTiles256.size)).to.deep.equal(spec.partialTiles256.levels);
  });
});
