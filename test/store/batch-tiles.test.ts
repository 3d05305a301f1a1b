/**
 * Batch tiles on disk (batch-tiles-v1.md): written from an in-memory tree into a real temp
 * folder, read back through core's tile tree, every proof is the in-memory tree's, byte for byte;
 * private files are 0600 in 0700 folders; public ones fold to the province roots.
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { buildSumTree, type SumTree } from "../../src/core/build-sum-tree.ts";
import {
  createTileSumTree,
  provincePublishesTiles,
  sumTileEntryBytes,
  sumTreeEdge,
  sumTreeTiles,
  verifyProvinceTiles,
} from "../../src/core/sum-tiles.ts";
import { sortLeaves, type LeafColumns } from "../../src/core/fold-sum-tree.ts";
import { bytesToHex, hexToBytes } from "../../src/core/hex.ts";
import { randomBytes } from "node:crypto";
import { readBatchArtifact } from "../../src/store/batch-artifact.ts";
import { dataKeyOf, ENCRYPTED_FILE_HEADER_BYTES, isSealed } from "../../src/store/private-store.ts";
import { sealDataDirectory } from "../../src/store/seal-data-dir.ts";
import { loadArtifactColumns } from "../../src/store/sum-tree-artifact.ts";
import { pipelineBatch, writeSyntheticPremiumCsv } from "../audit/synthetic-batch.ts";
import {
  ensureBatchTiles,
  listPublicBatchTiles,
  openBatchTiles,
  readPublicBatchFile,
  tiledProvinces,
  writeBatchTiles,
  writeBatchTilesOfColumns,
  type BatchTilesDescriptor,
} from "../../src/store/batch-tiles.ts";

/** A premium tree with `sizes[p]` leaves in province p; every 7th person has two records. */
function tree(sizes: number[]): { tree: SumTree; keys: Uint8Array; commitments: Uint8Array } {
  const n = sizes.reduce((a, b) => a + b, 0);
  const keys = new Uint8Array(32 * n);
  const commitments = new Uint8Array(32 * n);
  const provinces: string[] = [];
  const amounts = new BigUint64Array(3 * n);
  let i = 0;
  sizes.forEach((size, p) => {
    for (let j = 0; j < size; j++, i++) {
      const person = j % 7 === 1 ? j - 1 : j;
      const v = new DataView(keys.buffer, 32 * i, 32);
      v.setUint32(0, (person * 2654435761) >>> 0);
      v.setUint32(4, p);
      v.setUint32(8, person);
      new DataView(commitments.buffer, 32 * i, 32).setUint32(0, (i * 40503 + 7) >>> 0);
      commitments[32 * i + 31] = i & 0xff;
      provinces.push(`IR-${String(p * 3 + 1).padStart(2, "0")}`);
      amounts[3 * i] = BigInt(1_000_000 + i);
      amounts[3 * i + 1] = BigInt(i % 31);
      amounts[3 * i + 2] = BigInt(70_000 + i);
    }
  });
  return {
    tree: buildSumTree("premium", { keys, commitments, provinces, amounts }),
    keys,
    commitments,
  };
}

/** Every file under the artifact's tiles folder, by relative path. */
async function tileFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, "tiles", rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) await walk(r);
      else out.set(r, await readFile(path.join(dir, "tiles", r)));
    }
  };
  await walk("");
  return out;
}

describe("batch tiles (shafaf-batch-tiles/1)", function () {
  this.timeout(120_000);
  let work: string;
  before(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-tiles-"));
  });
  after(async () => {
    await rm(work, { recursive: true, force: true });
  });

  async function written(sizes: number[], name: string) {
    const built = tree(sizes);
    const dir = path.join(work, name);
    await import("node:fs/promises").then((f) => f.mkdir(dir, { recursive: true }));
    const d = await writeBatchTiles(dir, built.tree, built.keys);
    const reader = openBatchTiles(dir, d);
    const byLine = (line: number) => built.commitments.subarray(32 * line, 32 * line + 32);
    const tiled = createTileSumTree({
      kind: "premium",
      provinces: tiledProvinces(d),
      readTile: (p, level, index, width) => reader.readTile(p, level, index, width),
      leafKey: (i) => reader.leafKey(i),
      leafCommitment: (i) => byLine(reader.leafLine(i)),
    });
    // as the API reads them: key runs in place in leaves.bin (36-byte entries)
    const tiledRun = createTileSumTree({
      kind: "premium",
      provinces: tiledProvinces(d),
      readTile: (p, level, index, width) => reader.readTile(p, level, index, width),
      leafKey: (i) => reader.leafKey(i),
      leafKeyRun: (from, count) => ({ bytes: reader.leafRun(from, count), stride: 36 }),
      leafCommitment: (i) => byLine(reader.leafLine(i)),
    });
    return { ...built, dir, d, reader, tiled, tiledRun };
  }

  it("gives every inclusion and person proof of the in-memory tree (sizes around tile edges)", async function () {
    const w = await written([1, 255, 256, 257, 265, 513, 1000], "edges");
    expect(w.tiled.root).to.equal(w.tree.root);
    for (let i = 0; i < w.tree.size; i += 1) {
      expect(w.tiled.inclusionProof(i, 7), `leaf ${i}`).to.deep.equal(w.tree.inclusionProof(i, 7));
      const line = w.reader.leafLine(i);
      expect(w.tree.inputIndex!(i)).to.equal(line);
      expect(w.reader.lineLeaf(line)).to.equal(i);
    }
    for (let i = 0; i < w.tree.size; i += 37) {
      const key = w.keys.subarray(32 * i, 32 * i + 32);
      expect(w.tiled.personProof(key, 7)).to.deep.equal(w.tree.personProof(key, 7));
      expect(w.tiledRun.personProof(key, 7)).to.deep.equal(w.tree.personProof(key, 7));
    }
    const absent = new Uint8Array(32).fill(0x7f);
    expect(w.tiled.personProof(absent, 7)).to.deep.equal(w.tree.personProof(absent, 7));
    expect(w.tiledRun.personProof(absent, 7)).to.deep.equal(w.tree.personProof(absent, 7));
    // a province of one record: tiles.json would list its totals, so nothing is published
    expect(await readPublicBatchFile(w.dir, "tiles.json")).to.equal(undefined);
    expect(await readPublicBatchFile(w.dir, "IR-07/tile/1/000.p/1")).to.equal(undefined);
    expect(await listPublicBatchTiles(w.dir)).to.include("IR-07/tile/1/000.p/1");
    w.reader.close();
  });

  it("handles a province above one level-1 tile (70,000 leaves: tile levels 0, 1, 2)", async function () {
    const w = await written([70_000, 3], "big");
    for (const i of [0, 1, 255, 256, 65_535, 65_536, 65_537, 69_999, 70_000, 70_002])
      expect(w.tiled.inclusionProof(i, 1), `leaf ${i}`).to.deep.equal(w.tree.inclusionProof(i, 1));
    w.reader.close();
  });

  it("keeps its cached leaves.bin and lines.bin blocks within the bound and answers as uncached", async function () {
    const w = await written([70_000, 3], "cache-bound");
    const bound = 5 * 36 * 256 + 100; // five leaf blocks
    const small = openBatchTiles(w.dir, w.d, undefined, { cacheBytes: bound });
    const none = openBatchTiles(w.dir, w.d, undefined, { cacheBytes: 0 });
    let most = 0;
    for (let i = 0; i < 70_003; i += 997) {
      expect(small.leafKey(i), `key ${i}`).to.deep.equal(none.leafKey(i));
      expect(small.leafLine(i), `line of ${i}`).to.equal(none.leafLine(i));
      expect(small.lineLeaf(i), `leaf of line ${i}`).to.equal(none.lineLeaf(i));
      // a run across a block edge
      const from = Math.max(0, Math.min(i - 3, 70_003 - 300));
      expect(small.leafKeys(from, 300)).to.deep.equal(none.leafKeys(from, 300));
      expect(small.leafRun(from, 300)).to.deep.equal(none.leafRun(from, 300));
      expect(small.leafRun(from, 300).subarray(0, 32)).to.deep.equal(small.leafKey(from));
      most = Math.max(most, small.cachedBytes);
    }
    expect(most).to.be.above(0).and.at.most(bound);
    expect(none.cachedBytes).to.equal(0);
    // the blocks are not handed out: altering a key returned leaves the next read intact
    const key = small.leafKey(41);
    const copy = key.slice();
    key.fill(0);
    expect(small.leafKey(41)).to.deep.equal(copy);
    small.close();
    none.close();
    expect(small.cachedBytes).to.equal(0);
    w.reader.close();
  });

  describe("ensureBatchTiles with the tree the anchor job built", function () {
    /** The columns with their reads of keys counted (a writer that folds them reads keys). */
    const counted = (
      c: LeafColumns,
    ): { built: { columns: LeafColumns; order: Uint32Array }; reads: () => number } => {
      let reads = 0;
      const columns = {
        ...c,
        get keys() {
          reads++;
          return c.keys;
        },
      };
      return { built: { columns, order: sortLeaves(c) }, reads: () => reads };
    };

    it("writes the tiles from columns that fit the artifact, the same bytes as from the artifact", async function () {
      const csv = path.join(work, "built-a.csv");
      await writeSyntheticPremiumCsv(csv, 700);
      const { dir } = await pipelineBatch({ csv, dataDir: path.join(work, "built-a") });
      const artifact = (await readBatchArtifact(dir!))!;
      const given = counted(await loadArtifactColumns(artifact));
      await ensureBatchTiles(artifact, given.built);
      expect(given.reads()).to.be.above(0);
      const fromBuilt = await tileFiles(dir!);
      await rm(path.join(dir!, "tiles"), { recursive: true });
      await ensureBatchTiles(artifact);
      expect(await tileFiles(dir!)).to.deep.equal(fromBuilt);
    });

    it("renames the tiles the pipeline staged while folding the root: the same bytes as from the artifact", async function () {
      const csv = path.join(work, "staged-a.csv");
      // 5 provinces of 600 leaves: public levels, partial tiles and right edges.
      await writeSyntheticPremiumCsv(csv, 3_000);
      const { dir, staged, root } = await pipelineBatch({
        csv,
        dataDir: path.join(work, "staged-a"),
      });
      expect(staged).to.match(/^tiles\.tmp-/);
      expect(await readdir(dir!)).to.include(staged);
      const artifact = (await readBatchArtifact(dir!))!;
      const d = await ensureBatchTiles(artifact, { staged: staged! });
      expect(d.root).to.equal(root);
      expect(await readdir(dir!)).not.to.include(staged);
      const adopted = await tileFiles(dir!);
      await rm(path.join(dir!, "tiles"), { recursive: true });
      await ensureBatchTiles(artifact);
      expect(await tileFiles(dir!)).to.deep.equal(adopted);
    });

    it("shafaf data encrypt leaves no plain staged tiles (a job killed before anchoring left them in its artifact)", async function () {
      const csv = path.join(work, "staged-seal.csv");
      await writeSyntheticPremiumCsv(csv, 300);
      const dataDir = path.join(work, "staged-seal");
      const { dir, staged, root } = await pipelineBatch({ csv, dataDir });
      // The state of a job killed after its artifact was committed, before it anchored: the
      // plain tiles staged by the fold (private/leaves.bin: keys and amounts) in the artifact.
      expect(await readdir(dir!)).to.include(staged);
      const key = dataKeyOf(randomBytes(32));
      await sealDataDirectory(dataDir, key);
      const plain: string[] = [];
      const walk = async (rel: string): Promise<void> => {
        for (const e of await readdir(path.join(dir!, rel), { withFileTypes: true })) {
          const r = path.join(rel, e.name);
          if (e.isDirectory()) await walk(r);
          else if (r.split(path.sep).includes("private")) {
            const bytes = await readFile(path.join(dir!, r));
            if (!isSealed(bytes.subarray(0, ENCRYPTED_FILE_HEADER_BYTES))) plain.push(r);
          }
        }
      };
      await walk("");
      expect(plain).to.deep.equal([]);
      // The resumed job still gets its tiles (written sealed from the sealed artifact).
      const artifact = (await readBatchArtifact(dir!, { dataKey: key }))!;
      expect((await ensureBatchTiles(artifact, { staged: staged! })).root).to.equal(root);
    });

    it("writes the tiles from the artifact when the staged folder is gone or names another root, and removes it", async function () {
      const csvA = path.join(work, "staged-b.csv");
      const csvB = path.join(work, "staged-c.csv");
      await writeSyntheticPremiumCsv(csvA, 300);
      await writeSyntheticPremiumCsv(csvB, 400);
      const a = await pipelineBatch({ csv: csvA, dataDir: path.join(work, "staged-b") });
      const b = await pipelineBatch({ csv: csvB, dataDir: path.join(work, "staged-c") });
      // b's artifact given a's staged tiles (another root): not adopted.
      await rename(path.join(a.dir!, a.staged!), path.join(b.dir!, "tiles.tmp-other"));
      const artifact = (await readBatchArtifact(b.dir!))!;
      const d = await ensureBatchTiles(artifact, { staged: "tiles.tmp-other" });
      expect(d.root).to.equal(b.root);
      const names = await readdir(b.dir!);
      expect(names.filter((n) => n.startsWith("tiles.tmp-"))).to.deep.equal([]);
      const written = await tileFiles(b.dir!);
      await rm(path.join(b.dir!, "tiles"), { recursive: true });
      expect((await ensureBatchTiles(artifact, { staged: "tiles.tmp-gone" })).root).to.equal(
        b.root,
      );
      expect(await tileFiles(b.dir!)).to.deep.equal(written);
    });

    it("reads the artifact when the columns given are another batch's", async function () {
      const csvA = path.join(work, "other-a.csv");
      const csvB = path.join(work, "other-b.csv");
      await writeSyntheticPremiumCsv(csvA, 400);
      await writeSyntheticPremiumCsv(csvB, 500);
      const a = await pipelineBatch({ csv: csvA, dataDir: path.join(work, "other-a") });
      const b = await pipelineBatch({ csv: csvB, dataDir: path.join(work, "other-b") });
      const other = counted(await loadArtifactColumns((await readBatchArtifact(a.dir!))!));
      const d = await ensureBatchTiles((await readBatchArtifact(b.dir!))!, other.built);
      expect(other.reads()).to.equal(0);
      expect(d.root).to.equal(b.root);
    });
  });

  describe("the streaming writer (writeBatchTilesOfColumns)", function () {
    /**
     * The files the in-memory writer made before the streaming one (reference model): every tile
     * cut from the whole tree (`sumTreeTiles`), the right edges (`sumTreeEdge`), and the leaf index
     * from the tree's input order.
     */
    function inMemoryFiles(t: SumTree, keys: Uint8Array): Map<string, Buffer> {
      const out = new Map<string, Buffer>();
      for (const tile of sumTreeTiles(t))
        out.set(path.join(tile.public ? "public" : "private", tile.path), Buffer.from(tile.bytes));
      const leaves = Buffer.alloc(36 * t.size);
      const lines = Buffer.alloc(4 * t.size);
      for (let i = 0; i < t.size; i++) {
        const line = t.inputIndex!(i);
        leaves.set(keys.subarray(32 * line, 32 * line + 32), 36 * i);
        leaves.writeUInt32BE(line, 36 * i + 32);
        lines.writeUInt32BE(i, 4 * line);
      }
      out.set(path.join("private", "leaves.bin"), leaves);
      out.set(path.join("private", "lines.bin"), lines);
      const descriptor = {
        format: "shafaf-batch-tiles/1",
        scheme: "shafaf-tree/2",
        kind: t.kind,
        root: t.root,
        lanes: t.lanes.map(String),
        entryBytes: sumTileEntryBytes(t.kind),
        provinces: t.provinces.map((p) => {
          const edge = sumTreeEdge(t, p.index);
          return {
            code: p.code,
            size: p.size,
            root: p.root,
            lanes: p.lanes.map(String),
            public: provincePublishesTiles(p.size),
            edge:
              edge === undefined
                ? null
                : { hash: bytesToHex(edge.hash), lanes: edge.lanes.map(String) },
          };
        }),
      };
      out.set("tiles.json", Buffer.from(JSON.stringify(descriptor, null, 2) + "\n"));
      return out;
    }

    it("writes the in-memory tree's files byte for byte: 4 provinces, one above 2^16 leaves, partial last tiles", async function () {
      // 65,536 + 300 + 17: two chunks, the second with a partial level-0 and level-1 tile, a
      // level-2 tile and a right edge; 300: partial tiles and an edge in its only chunk; 5: a
      // private province; 768: full tiles only.
      const sizes = [65_536 + 317, 300, 5, 768];
      const built = tree(sizes);
      const n = built.tree.size;
      const codes = sizes.map((_, p) => `IR-${String(p * 3 + 1).padStart(2, "0")}`);
      const province = new Uint16Array(n);
      const amounts = new BigUint64Array(3 * n);
      let i = 0;
      sizes.forEach((size, p) => {
        for (let j = 0; j < size; j++, i++) {
          province[i] = p;
          amounts.set([BigInt(1_000_000 + i), BigInt(i % 31), BigInt(70_000 + i)], 3 * i);
        }
      });
      const columns: LeafColumns = {
        kind: "premium",
        count: n,
        keys: built.keys,
        commitments: built.commitments,
        amounts,
        province,
        codes,
        line: undefined,
      };
      const dir = path.join(work, "streamed");
      await mkdir(dir);
      const d = await writeBatchTilesOfColumns(dir, columns, sortLeaves(columns));
      expect(d?.root).to.equal(built.tree.root);
      const got = await tileFiles(dir);
      const want = inMemoryFiles(built.tree, built.keys);
      expect([...got.keys()].sort()).to.deep.equal([...want.keys()].sort());
      for (const [file, bytes] of want) expect(got.get(file)!.equals(bytes), file).to.equal(true);
      expect([...got.keys()]).to.include.members([
        "public/IR-01/tile/2/000.p/1",
        "public/IR-01/tile/1/000",
        "public/IR-01/tile/1/001.p/1",
        "private/IR-01/tile/0/257.p/61",
      ]);
      // And through writeBatchTiles (a tree built in memory): the same files.
      const viaTree = path.join(work, "via-tree");
      await mkdir(viaTree);
      await writeBatchTiles(viaTree, built.tree, built.keys);
      expect(await tileFiles(viaTree)).to.deep.equal(got);
    });

    it("writes nothing when the columns do not fold to the root expected", async function () {
      const built = tree([40]);
      const columns: LeafColumns = {
        kind: "premium",
        count: 40,
        keys: built.keys,
        commitments: built.commitments,
        amounts: new BigUint64Array(3 * 40),
        province: new Uint16Array(40),
        codes: ["IR-01"],
        line: undefined,
      };
      const dir = path.join(work, "wrong-root");
      await mkdir(dir);
      const d = await writeBatchTilesOfColumns(
        dir,
        columns,
        sortLeaves(columns),
        undefined,
        built.tree.root,
      );
      expect(d).to.equal(undefined);
      expect(await readdir(dir)).to.deep.equal([]);
    });
  });

  it("keeps level 0 and the leaf index private (0600 in 0700) and publishes levels ≥ 1 only", async function () {
    const w = await written([300, 100, 260], "modes");
    const pub = await listPublicBatchTiles(w.dir);
    // 300 leaves: one full level-1 tile? no: 1 entry, partial; 260: remainder 4 < 10, private.
    expect(pub).to.deep.equal(["IR-01/tile/1/000.p/1"]);
    const priv = path.join(w.dir, "tiles", "private");
    const walk = async (d: string): Promise<void> => {
      expect((await stat(d)).mode & 0o777, d).to.equal(0o700);
      for (const e of await readdir(d, { withFileTypes: true })) {
        const f = path.join(d, e.name);
        if (e.isDirectory()) await walk(f);
        else expect((await stat(f)).mode & 0o777, f).to.equal(0o600);
      }
    };
    await walk(priv);
    expect((await readdir(priv)).sort()).to.deep.equal([
      "IR-01",
      "IR-04",
      "IR-07",
      "leaves.bin",
      "lines.bin",
    ]);
    const d = JSON.parse(
      await readFile(path.join(w.dir, "tiles", "tiles.json"), "utf8"),
    ) as BatchTilesDescriptor;
    expect(d.provinces.map((p) => [p.code, p.public, p.edge !== null])).to.deep.equal([
      ["IR-01", true, true],
      ["IR-04", false, false],
      ["IR-07", false, false],
    ]);
    const p0 = d.provinces[0]!;
    const ok = verifyProvinceTiles({
      kind: "premium",
      size: p0.size,
      root: p0.root,
      lanes: p0.lanes.map(BigInt),
      edge: { hash: hexToBytes(p0.edge!.hash), lanes: p0.edge!.lanes.map(BigInt) },
      readTile: (level, index, width) =>
        readFileSync(
          path.join(
            w.dir,
            "tiles",
            "public",
            "IR-01",
            `tile/${level}/${String(index).padStart(3, "0")}${width === 256 ? "" : `.p/${width}`}`,
          ),
        ),
    });
    expect(ok.ok).to.equal(true);
    expect(await readPublicBatchFile(w.dir, "IR-01/tile/1/000.p/1")).to.deep.equal(
      new Uint8Array(readFileSync(path.join(w.dir, "tiles/public/IR-01/tile/1/000.p/1"))),
    );
    w.reader.close();
  });
});
