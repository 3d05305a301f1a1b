import { expect } from "chai";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { startDevChain, type DevChain } from "../../src/chain/dev-chain.ts";
import { createArtifactManifestSource } from "../../src/indexer/artifact-manifest-source.ts";
import { openIndexStore } from "../../src/store/index-store.ts";
import { anchor, deployFixture } from "./ledger-fixture.ts";

const root = path.resolve(import.meta.dirname, "../..");

function shafaf(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("shafaf index", function () {
  this.timeout(120_000);
  let chain: DevChain;
  let dir: string;

  before(async function () {
    chain = await startDevChain();
  });
  after(async function () {
    await chain?.stop();
  });
  beforeEach(async function () {
    dir = await mkdtemp(path.join(tmpdir(), "shafaf-index-cli-"));
  });
  afterEach(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  it("--once catches up, checks manifests from the data dir, and --reindex rebuilds the same views", async function () {
    const f = await deployFixture(chain.url);
    const manifest = toUtf8Bytes(
      JSON.stringify({ byProvince: { "IR-07": { count: 12, total: "4200" } } }),
    );
    await mkdir(path.join(dir, "batches", "job-1"), { recursive: true });
    await writeFile(path.join(dir, "batches", "job-1", "manifest.json"), manifest);
    await anchor(f, { manifestHash: keccak256(manifest), recordCount: 12, total: 4200n });
    await anchor(f, { kind: 1 });

    const args = [
      "index",
      "--rpc",
      chain.url,
      "--contract",
      f.address,
      "--data-dir",
      dir,
      "--once",
    ];
    const first = await shafaf([...args, "--json"]);
    expect(first.code, first.stderr).to.equal(0);
    const summary = JSON.parse(first.stdout) as Record<string, unknown>;
    expect(summary).to.include({ batchCount: 2, chainId: 31337 });
    expect((summary.headCheck as { status: string }).status).to.equal("ok");

    let store = await openIndexStore(path.join(dir, "index"));
    const views = (await store.dump()).filter(([k]) => !k.startsWith("!blocks!"));
    expect((await store.getBatch(1))!.manifest).to.deep.equal({
      status: "verified",
      byProvince: { "IR-07": { count: 12, total: "4200" } },
    });
    expect((await store.getBatch(2))!.manifest.status).to.equal("missing");
    await store.close();

    const again = await shafaf([...args, "--reindex"]);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.match(/to block \d+ .*2 batch\(es\); head check ok/);
    expect(again.stderr).to.match(/cleared/);
    store = await openIndexStore(path.join(dir, "index"));
    expect((await store.dump()).filter(([k]) => !k.startsWith("!blocks!"))).to.deep.equal(views);
    await store.close();
  });

  it("exits 1 with a fix when the index belongs to another contract", async function () {
    const f = await deployFixture(chain.url);
    const g = await deployFixture(chain.url);
    const base = ["index", "--rpc", chain.url, "--data-dir", dir, "--once"];
    expect((await shafaf([...base, "--contract", f.address])).code).to.equal(0);
    const other = await shafaf([...base, "--contract", g.address]);
    expect(other.code).to.equal(1);
    expect(other.stderr)
      .to.match(/the index holds contract/)
      .and.match(/--reindex/);
  });

  for (const [what, args, pattern] of [
    ["no --rpc", ["--contract", "0x" + "11".repeat(20)], /--rpc URL is required/],
    [
      "a bad address",
      ["--rpc", "http://127.0.0.1:1", "--contract", "0x1234"],
      /--contract must be/,
    ],
    [
      "a negative confirmation count",
      ["--rpc", "http://127.0.0.1:1", "--contract", "0x" + "11".repeat(20), "--confirmations=-1"],
      /--confirmations must be a whole number/,
    ],
    ["an unknown option", ["--frobnicate"], /Unknown option/],
  ] as const) {
    it(`exits 64 on ${what}`, async function () {
      const { command } = await import("../../src/cli/commands/index.ts");
      const writes: string[] = [];
      const original = process.stderr.write.bind(process.stderr);
      process.stderr.write = (chunk: string) => {
        writes.push(String(chunk));
        return true;
      };
      let code: number;
      try {
        code = await command.run(["--data-dir", dir, ...args]);
      } finally {
        process.stderr.write = original;
      }
      expect(code).to.equal(64);
      expect(writes.join(""))
        .to.match(pattern)
        .and.match(/usage: shafaf index/);
    });
  }
});

describe("createArtifactManifestSource", function () {
  it("finds manifests by hash, picks up new jobs after the rescan interval, and ignores the rest", async function () {
    const dir = await mkdtemp(path.join(tmpdir(), "shafaf-manifests-"));
    try {
      const a = toUtf8Bytes('{"a":1}');
      const b = toUtf8Bytes('{"b":2}');
      await mkdir(path.join(dir, "job-a"));
      await writeFile(path.join(dir, "job-a", "manifest.json"), a);
      await mkdir(path.join(dir, "not-a-job"));
      const source = createArtifactManifestSource(dir, { rescanMs: 0 });
      expect(await source(1, keccak256(a))).to.deep.equal(a);
      expect(await source(2, keccak256(b))).to.equal(undefined);
      await mkdir(path.join(dir, "job-b"));
      await writeFile(path.join(dir, "job-b", "manifest.json"), b);
      expect(await source(2, keccak256(b).toUpperCase().replace("0X", "0x"))).to.deep.equal(b);
      const missing = createArtifactManifestSource(path.join(dir, "nope"));
      expect(await missing(1, keccak256(a))).to.equal(undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
