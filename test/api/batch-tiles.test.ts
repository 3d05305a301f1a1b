/**
 * `GET /api/v1/batches/{id}/tiles…` on a real app bound to 127.0.0.1, reading tiles written by the
 * real writer into a temp folder: tiles.json and public tiles come back byte for byte with the
 * immutable cache header, fold to the province roots with the public verifier, and level 0,
 * private provinces, malformed paths and other batches are 404 without touching private files.
 */
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { createApp } from "../../src/api/create-app.ts";
import { buildSumTree } from "../../src/core/build-sum-tree.ts";
import { hexToBytes } from "../../src/core/hex.ts";
import { verifyProvinceTiles } from "../../src/core/sum-tiles.ts";
import {
  readPublicBatchFile,
  writeBatchTiles,
  type BatchTilesDescriptor,
} from "../../src/store/batch-tiles.ts";
import { exportBatchTiles } from "../../src/mirror/export-mirror.ts";
import { verifyMirrorBatchTiles } from "../../src/mirror/verify-mirror.ts";
import { verifyWithCore } from "./api-fixture.ts";
import { call } from "./http.ts";

describe("batch tiles over HTTP (GET /api/v1/batches/{id}/tiles…)", function () {
  this.timeout(60_000);
  let work: string;
  let server: Server;
  let url: string;
  let root: string;
  const sizes: [string, number][] = [
    ["IR-07", 600],
    ["IR-23", 40],
  ];

  before(async function () {
    work = await mkdtemp(path.join(os.tmpdir(), "shafaf-tiles-api-"));
    const n = sizes.reduce((s, [, k]) => s + k, 0);
    const keys = new Uint8Array(32 * n).map((_, b) => (b * 131 + (b >> 5) * 7) & 0xff);
    const commitments = new Uint8Array(32 * n).map((_, b) => (b * 17 + 3) & 0xff);
    const provinces = sizes.flatMap(([code, k]) => Array<string>(k).fill(code));
    const amounts = new BigUint64Array(3 * n).map((_, j) => BigInt(1000 + j));
    const tree = buildSumTree("premium", { keys, commitments, provinces, amounts });
    await mkdir(path.join(work, "b3"));
    await writeBatchTiles(path.join(work, "b3"), tree, keys);
    root = tree.root;
    const { app } = createApp({
      index: {} as never,
      ledger: {
        getPublicBatchFile: (id: number, file: string) =>
          id === 3 ? readPublicBatchFile(path.join(work, "b3"), file) : Promise.resolve(undefined),
      } as never,
      verify: verifyWithCore,
      apiKeys: [],
      log: { info() {}, warn() {}, error() {} },
    });
    server = app.listen(0, "127.0.0.1");
    await new Promise((r) => server.once("listening", r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async function () {
    await new Promise((r) => server?.close(r));
    await rm(work, { recursive: true, force: true });
  });

  it("serves tiles.json and every public tile byte for byte, immutable, and they fold to the roots", async function () {
    const d = await call(`${url}/api/v1/batches/3/tiles`);
    expect(d.status).to.equal(200);
    expect(d.headers.get("cache-control")).to.equal("public, max-age=31536000, immutable");
    const desc = d.json as BatchTilesDescriptor;
    expect(desc.format).to.equal("shafaf-batch-tiles/1");
    const p = desc.provinces[0]!;
    expect([p.code, p.public, desc.provinces[1]!.public]).to.deep.equal(["IR-07", true, false]);
    const fetched = new Map<string, Uint8Array>();
    const r = verifyProvinceTiles({
      kind: "premium",
      size: p.size,
      root: p.root,
      lanes: p.lanes.map(BigInt),
      edge: { hash: hexToBytes(p.edge!.hash), lanes: p.edge!.lanes.map(BigInt) },
      readTile: (level, index, width) => {
        const b = fetched.get(`${level}/${index}/${width}`);
        if (b === undefined) throw new RangeError("not fetched");
        return b;
      },
    });
    // 600 leaves: level 1 has 2 entries (tile/1/000.p/2), nothing above
    expect(r.ok).to.equal(false);
    const t = await fetch(`${url}/api/v1/batches/3/tiles/IR-07/tile/1/000.p/2`);
    expect(t.status).to.equal(200);
    expect(t.headers.get("content-type")).to.equal("application/octet-stream");
    expect(t.headers.get("cache-control")).to.equal("public, max-age=31536000, immutable");
    const bytes = new Uint8Array(await t.arrayBuffer());
    expect(bytes).to.deep.equal(
      new Uint8Array(await readFile(path.join(work, "b3/tiles/public/IR-07/tile/1/000.p/2"))),
    );
    fetched.set("1/0/2", bytes);
    const ok = verifyProvinceTiles({
      kind: "premium",
      size: p.size,
      root: p.root,
      lanes: p.lanes.map(BigInt),
      edge: { hash: hexToBytes(p.edge!.hash), lanes: p.edge!.lanes.map(BigInt) },
      readTile: (level, index, width) => fetched.get(`${level}/${index}/${width}`)!,
    });
    expect(ok.ok).to.equal(true);
  });

  it("never serves level 0, a private province, another batch or a malformed path", async function () {
    for (const [p, status] of [
      ["/api/v1/batches/3/tiles/IR-07/tile/0/000", 400],
      ["/api/v1/batches/3/tiles/IR-07/tile/0/002.p/88", 400],
      ["/api/v1/batches/3/tiles/IR-23/tile/1/000.p/1", 404],
      ["/api/v1/batches/3/tiles/IR-07/tile/1/000", 404],
      ["/api/v1/batches/4/tiles/IR-07/tile/1/000.p/2", 404],
      ["/api/v1/batches/4/tiles", 404],
      ["/api/v1/batches/3/tiles/IR-07/tile/1/0000.p/2", 400],
      ["/api/v1/batches/3/tiles/..%2Fprivate/tile/1/000", 400],
    ] as const) {
      const r = await call(url + p);
      expect(r.status, p).to.equal(status);
      expect(r.headers.get("content-type"), p).to.match(/application\/problem\+json/);
    }
    // the store's own guard: private files are unreachable whatever path it is given
    for (const f of ["IR-07/tile/0/000", "../private/leaves.bin", "IR-23/tile/1/000.p/1", "x"])
      expect(await readPublicBatchFile(path.join(work, "b3"), f), f).to.equal(undefined);
  });

  it("mirror export copies tiles.json and the public tiles; mirror verify folds them to the logged root and refuses a leak or a change", async function () {
    const files = new Map<string, Uint8Array>();
    const asked: string[] = [];
    await exportBatchTiles(
      3,
      {
        async get(p) {
          asked.push(p);
          const r = await fetch(url + p);
          if (r.status === 404) return undefined;
          return new Uint8Array(await r.arrayBuffer());
        },
      },
      (rel, bytes) => {
        files.set(rel, bytes);
        return Promise.resolve();
      },
    );
    expect([...files.keys()].sort()).to.deep.equal([
      "api/v1/batches/3/tiles.json",
      "api/v1/batches/3/tiles/IR-07/tile/1/000.p/2",
    ]);
    expect(asked.some((p) => p.includes("/tile/0/"))).to.equal(false);
    const logged = new Map([[3, root]]);
    const ok = verifyMirrorBatchTiles(files, logged);
    expect(ok?.ok, ok?.detail).to.equal(true);
    expect(ok?.detail).to.equal("1 public tiles of 1 batches fold to their logged roots");

    const level0 = new Uint8Array(
      await readFile(path.join(work, "b3/tiles/private/IR-07/tile/0/000")),
    );
    const leaked = new Map(files).set("api/v1/batches/3/tiles/IR-07/tile/0/000", level0);
    expect(verifyMirrorBatchTiles(leaked, logged)?.detail).to.match(
      /tile\/0\/000 is not a public tile of its batch/,
    );
    const tile = files.get("api/v1/batches/3/tiles/IR-07/tile/1/000.p/2")!.slice();
    tile[40]! ^= 1;
    const changed = new Map(files).set("api/v1/batches/3/tiles/IR-07/tile/1/000.p/2", tile);
    expect(verifyMirrorBatchTiles(changed, logged)?.detail).to.equal(
      "batch 3 IR-07: the tiles do not fold to the province root",
    );
    expect(verifyMirrorBatchTiles(files, new Map([[3, "0x" + "00".repeat(32)]]))?.ok).to.equal(
      false,
    );
    expect(verifyMirrorBatchTiles(new Map(), logged)).to.equal(undefined);
    // a tiles.json listing a province of fewer than 10 persons is a leak
    const desc = JSON.parse(new TextDecoder().decode(files.get("api/v1/batches/3/tiles.json"))) as {
      provinces: { lanes: string[] }[];
    };
    desc.provinces[1]!.lanes[1] = "9";
    const small = new Map(files).set(
      "api/v1/batches/3/tiles.json",
      new TextEncoder().encode(JSON.stringify(desc)),
    );
    expect(verifyMirrorBatchTiles(small, logged)?.detail).to.match(/fewer than 10 persons/);
  });
});
