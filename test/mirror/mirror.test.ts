/**
 * `shafaf mirror export` / `verify` over the real API (the real index store filled by the real
 * indexer, the real app on 127.0.0.1:0) with a real tiled ledger log cosigned 3 of 4: every
 * public answer lands at its static path byte for byte; the mirror verifies under the policy;
 * a changed file, a forged batch view (with mirror.json rewritten to match), a missing tile and
 * another log's policy each fail by name; no personal data (IDs, names, receipt codes, the
 * dispute report's values) reaches any file; the export is idempotent, public (0644) and never
 * overwrites a folder that is not a mirror; `--data-dir` (the API in-process over a stopped
 * server's stores, its published audit report and log) gives a mirror that verifies.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { ledgerLogEntry } from "../../src/core/ledger-log-entry.ts";
import type { MirrorManifest } from "../../src/core/mirror-layout.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { indexedLogBatches } from "../../src/cli/ledger-log-follower.ts";
import { main } from "../../src/cli/main.ts";
import { createLogRouter } from "../../src/log/log-routes.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { openIndexStore } from "../../src/store/index-store.ts";
import { exportMirror, type MirrorSource } from "../../src/mirror/export-mirror.ts";
import { verifyMirror } from "../../src/mirror/verify-mirror.ts";
import { makeDataset, serveDataset, writeStores, type Served } from "../api/api-fixture.ts";
import { buildOnce } from "../web/portal-server.ts";

const ORIGIN = "sso.example/ledger-log";

/** The site over HTTP, as `shafaf mirror export --from` reads it. */
function httpSource(url: string): MirrorSource {
  return {
    async get(p) {
      const res = await fetch(url + p);
      if (res.status === 404) return undefined;
      if (!res.ok) throw new Error(`GET ${p}: ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    },
  };
}

async function allFiles(dir: string, rel = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const child = rel === "" ? e.name : `${rel}/${e.name}`;
    if (e.isDirectory()) out.push(...(await allFiles(dir, child)));
    else out.push(child);
  }
  return out;
}

/** Personal data found in the site's text files: IDs as whole tokens, names, receipt codes. */
async function leaksIn(site: string, dataset: Served["dataset"]): Promise<string[]> {
  const text = (
    await Promise.all(
      (await allFiles(site))
        .filter((f) => !/\.(woff2|js|css)$/.test(f))
        .map((f) => readFile(path.join(site, f), "utf8")),
    )
  ).join("\n");
  const leaks: string[] = [];
  for (const p of dataset.people) {
    for (const id of [p.nationalId, p.insuranceNo])
      if (new RegExp(`(?<![0-9A-Za-z])${id}(?![0-9A-Za-z])`).test(text)) leaks.push(id);
    for (const name of [p.firstName, p.lastName]) if (text.includes(name)) leaks.push(name);
  }
  for (const b of dataset.batches)
    for (const r of b.receipts) if (text.includes(r.code)) leaks.push(`code ${r.code}`);
  return leaks;
}

function policyFor(logSeed: Uint8Array, witnessSeeds: Uint8Array[]): string {
  const names = witnessSeeds.map((_, i) => `w${i}`);
  return [
    `log ${formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed))}`,
    ...witnessSeeds.map(
      (seed, i) =>
        `witness w${i} ${formatVerifierKey(`w${i}.example/witness`, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed))}`,
    ),
    `group institutions 3 ${names.join(" ")}`,
    "quorum institutions",
    "",
  ].join("\n");
}

describe("shafaf mirror", function () {
  this.timeout(120_000);
  let s: Served;
  let work: string;
  let site: string;
  let webRoot: string;
  /** Every indexed batch id (the dataset's and the v2 ones the indexer read). */
  let indexed: number[];
  const logSeed = randomBytes(32);
  const witnessSeeds = [0, 1, 2, 3].map(() => randomBytes(32));
  const policyText = policyFor(logSeed, witnessSeeds);
  const policy = parseTrustPolicy(policyText);

  before(async function () {
    webRoot = (await buildOnce()).outDir;
    work = mkdtempSync(path.join(tmpdir(), "shafaf-mirror-"));
    const logDir = path.join(work, "log");
    const log = await openTiledLog({
      dir: logDir,
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
    s = await serveDataset(
      { logRouter: createLogRouter({ dir: logDir }), trustPolicy: policyText },
      { v2: true },
    );
    const batches = (await indexedLogBatches(s.index)).sort((a, b) => a.batchId - b.batchId);
    indexed = batches.map((b) => b.batchId);
    await log.append(batches.map(ledgerLogEntry));
    const text = formatCheckpoint({
      origin: ORIGIN,
      size: log.size(),
      rootHash: log.rootHash(),
      extensions: [],
    });
    const cosigners = witnessSeeds.map((seed, i) =>
      cosignatureV1Signer(`w${i}.example/witness`, seed),
    );
    await log.publishCheckpoint(signNote(text, [ed25519NoteSigner(ORIGIN, logSeed), ...cosigners]));
    site = path.join(work, "site");
    await exportMirror({ source: httpSource(s.url), out: site, webRoot });
  });
  after(async function () {
    await s?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  describe("export", function () {
    it("writes each public answer at its static path, byte for byte", async function () {
      const ids = indexed;
      const pairs: [string, string][] = [
        ["/api/v1/stats", "api/v1/stats.json"],
        ["/api/v1/chain", "api/v1/chain.json"],
        ["/api/v1/vrf-keys", "api/v1/vrf-keys.json"],
        ["/log/checkpoint", "log/checkpoint"],
        ["/trust-policy.txt", "trust-policy.txt"],
        ...ids.map((id): [string, string] => [
          `/api/v1/batches/${id}`,
          `api/v1/batches/${id}.json`,
        ]),
        [
          "/api/v1/batches/2/attestations/1/findings",
          "api/v1/batches/2/attestations/1/findings.json",
        ],
      ];
      for (const [url, file] of pairs) {
        const served = Buffer.from(await (await fetch(s.url + url)).arrayBuffer());
        expect(readFileSync(path.join(site, file)).equals(served), file).to.equal(true);
      }
      const list = JSON.parse(readFileSync(path.join(site, "api/v1/batches.json"), "utf8")) as {
        items: { batchId: number }[];
      };
      expect(list.items.map((b) => b.batchId).sort()).to.deep.equal([...ids].sort());
      const findings = JSON.parse(
        readFileSync(path.join(site, "api/v1/batches/2/attestations/1/findings.json"), "utf8"),
      ) as { report: string };
      expect(findings.report).to.equal("published");
      expect(readFileSync(path.join(site, "index.html"), "utf8")).to.include(
        '<meta name="shafaf-mirror" content="shafaf-mirror/1" />',
      );
    });

    it("lists every file with its SHA-256 in mirror.json, and makes them public (0644)", async function () {
      const manifest = JSON.parse(
        readFileSync(path.join(site, "mirror.json"), "utf8"),
      ) as MirrorManifest;
      const files = (await allFiles(site)).filter((f) => f !== "mirror.json").sort();
      expect(manifest.files.map((f) => f.path)).to.deep.equal(files);
      for (const f of manifest.files) {
        const bytes = readFileSync(path.join(site, f.path));
        expect(createHash("sha256").update(bytes).digest("hex")).to.equal(f.sha256);
        expect(statSync(path.join(site, f.path)).mode & 0o777).to.equal(0o644);
      }
      expect(manifest.log?.size).to.equal(indexed.length);
      expect(manifest.batches).to.equal(indexed.length);
    });

    it("publishes no personal data: no ID, name or receipt code, and no value of the dispute report", async function () {
      const leaks = await leaksIn(site, s.dataset);
      expect(leaks).to.deep.equal([]);
      expect(existsSync(path.join(site, "api/v1/receipts"))).to.equal(false);
    });

    it("is idempotent and refuses to replace a folder that is not a mirror", async function () {
      const before = readFileSync(path.join(site, "mirror.json"));
      await exportMirror({ source: httpSource(s.url), out: site, webRoot });
      expect(readFileSync(path.join(site, "mirror.json")).equals(before)).to.equal(true);
      const foreign = path.join(work, "foreign");
      await exportMirror({ source: httpSource(s.url), out: path.join(foreign, "x"), webRoot });
      writeFileSync(path.join(foreign, "keep.txt"), "mine");
      let error: unknown;
      try {
        await exportMirror({ source: httpSource(s.url), out: foreign, webRoot });
      } catch (e) {
        error = e;
      }
      expect(error).to.have.property("code", "mirror.out-not-mirror");
      expect(readFileSync(path.join(foreign, "keep.txt"), "utf8")).to.equal("mine");
    });
  });

  describe("incremental export", function () {
    it("writes nothing on a second export with nothing new, repairs a damaged tile, removes stale files, and undoes a failed run's new files", async function () {
      const manifest = JSON.parse(
        readFileSync(path.join(site, "mirror.json"), "utf8"),
      ) as MirrorManifest;
      // Timed beside first exports of the same site into new folders: medians of 5 (printed).
      const median = (xs: number[]) => xs.sort((a, b) => a - b)[2]!;
      const firsts: number[] = [];
      const agains: number[] = [];
      let again!: Awaited<ReturnType<typeof exportMirror>>;
      for (let i = 0; i < 5; i++) {
        let started = performance.now();
        await exportMirror({
          source: httpSource(s.url),
          out: path.join(work, `site-first-${i}`),
          webRoot,
        });
        firsts.push(performance.now() - started);
        started = performance.now();
        again = await exportMirror({ source: httpSource(s.url), out: site, webRoot });
        agains.push(performance.now() - started);
      }
      console.log(
        `      export (median of 5): first ${median(firsts).toFixed(0)} ms, again with nothing new ` +
          `${median(agains).toFixed(0)} ms (${again.kept} files kept, ${again.written} written)`,
      );
      expect(again).to.deep.include({ written: 0, removed: 0, kept: manifest.files.length + 1 });
      const tile = manifest.files.find((f) => f.path.startsWith("log/tile/"))!.path;
      writeFileSync(path.join(site, tile), "damaged");
      writeFileSync(path.join(site, "api/v1/stats.json.mirror-tmp"), "a killed run's temporary");
      writeFileSync(path.join(site, "api/v1/gone.json"), "{}");
      // A run that fails half way (the site stops answering after the tiles) removes the files
      // it added: here a missing tile it wrote again, so the folder is as the failed run found it.
      const tile2 = manifest.files.filter((f) => f.path.startsWith("log/tile/")).at(-1).path;
      expect(tile2).to.not.equal(tile);
      rmSync(path.join(site, tile2));
      const failing: MirrorSource = {
        get: async (p) => {
          if (p === "/trust-policy.txt") throw new Error("site went away");
          return httpSource(s.url).get(p);
        },
      };
      let failed: unknown;
      try {
        await exportMirror({ source: failing, out: site, webRoot });
      } catch (e) {
        failed = e;
      }
      expect(String(failed)).to.include("site went away");
      expect(existsSync(path.join(site, tile2))).to.equal(false);
      // The damaged tile it overwrote stays repaired (a tile's right bytes are always right).
      const sha = createHash("sha256")
        .update(readFileSync(path.join(site, tile)))
        .digest("hex");
      expect(sha).to.equal(manifest.files.find((f) => f.path === tile)!.sha256);
      const repaired = await exportMirror({ source: httpSource(s.url), out: site, webRoot });
      expect(repaired).to.deep.include({ written: 1, removed: 2 });
      expect(existsSync(path.join(site, "api/v1/gone.json"))).to.equal(false);
      const r = await verifyMirror({ dir: site, policy });
      expect(r.ok, JSON.stringify(r.checks.filter((c) => !c.ok))).to.equal(true);
    });
  });

  it("exports from a stopped server's data directory (--data-dir: the API in-process), which verifies", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "shafaf-mirror-datadir-"));
    try {
      const { dataset, history } = await makeDataset({ v2: true });
      const { index, ledger } = await writeStores(dir, dataset, history);
      const log = await openTiledLog({
        dir: path.join(dir, "log"),
        origin: ORIGIN,
        signer: ed25519NoteSigner(ORIGIN, logSeed),
      });
      await log.append(
        (await indexedLogBatches(index)).sort((a, b) => a.batchId - b.batchId).map(ledgerLogEntry),
      );
      const note = formatCheckpoint({
        origin: ORIGIN,
        size: log.size(),
        rootHash: log.rootHash(),
        extensions: [],
      });
      await log.publishCheckpoint(
        signNote(note, [
          ed25519NoteSigner(ORIGIN, logSeed),
          ...witnessSeeds.map((seed, i) => cosignatureV1Signer(`w${i}.example/witness`, seed)),
        ]),
      );
      await index.close();
      await ledger.close();
      // The auditor's report, published beside the stores as `shafaf serve` finds it.
      await mkdir(path.join(dir, "audits"));
      await writeFile(path.join(dir, "audits", "batch-2.json"), dataset.disputeReport);
      const policyFile = path.join(dir, "policy.txt");
      await writeFile(policyFile, policyText);
      const out = path.join(dir, "site");
      const write = process.stdout.write.bind(process.stdout);
      const umask = process.umask();
      process.stdout.write = () => true;
      try {
        expect(
          await main(["mirror", "export", "--data-dir", dir, "--policy", policyFile, "--out", out]),
        ).to.equal(0);
      } finally {
        process.stdout.write = write;
        process.umask(umask);
      }
      const r = await verifyMirror({ dir: out, policy });
      expect(
        r.checks.filter((c) => !c.ok),
        JSON.stringify(r.checks),
      ).to.deep.equal([]);
      const findings = JSON.parse(
        readFileSync(path.join(out, "api/v1/batches/2/attestations/1/findings.json"), "utf8"),
      ) as { report: string };
      expect(findings.report).to.equal("published");
      expect(readFileSync(path.join(out, "trust-policy.txt"), "utf8")).to.equal(policyText);
      expect(await leaksIn(out, dataset)).to.deep.equal([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says what is wrong, never exporting half: a data directory in use, a site that does not answer", async function () {
    const dir = mkdtempSync(path.join(tmpdir(), "shafaf-mirror-busy-"));
    const index = await openIndexStore(path.join(dir, "index"));
    const write = process.stderr.write.bind(process.stderr);
    const out = process.stdout.write.bind(process.stdout);
    const umask = process.umask();
    let stderr = "";
    process.stderr.write = (chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    };
    process.stdout.write = () => true;
    try {
      const site = path.join(dir, "site");
      expect(await main(["mirror", "export", "--data-dir", dir, "--out", site])).to.equal(64);
      expect(stderr).to.include("is in use").and.include("--from URL");
      stderr = "";
      expect(
        await main(["mirror", "export", "--from", "http://127.0.0.1:9", "--out", site]),
      ).to.equal(1);
      expect(stderr).to.include("GET http://127.0.0.1:9/api/v1/chain: no answer");
      expect(existsSync(site)).to.equal(false);
      expect((await readdir(dir)).filter((n) => n.startsWith("site"))).to.deep.equal([]);
    } finally {
      process.stderr.write = write;
      process.stdout.write = out;
      process.umask(umask);
      await index.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("verify", function () {
    /** A copy of the site to tamper with. */
    async function copySite(name: string): Promise<string> {
      const out = path.join(work, name);
      for (const f of await allFiles(site)) {
        const dest = path.join(out, f);
        await import("node:fs/promises").then(async (fs) => {
          await fs.mkdir(path.dirname(dest), { recursive: true });
          await fs.copyFile(path.join(site, f), dest);
        });
      }
      return out;
    }
    const failed = (r: Awaited<ReturnType<typeof verifyMirror>>) =>
      r.checks.filter((c) => !c.ok).map((c) => c.name);

    it("accepts the exported mirror under the policy", async function () {
      const r = await verifyMirror({ dir: site, policy });
      expect(failed(r), JSON.stringify(r.checks)).to.deep.equal([]);
      expect(r).to.include({ ok: true, logSize: indexed.length });
      expect(r.batches).to.equal(indexed.length);
    });

    it("names a changed file", async function () {
      const dir = await copySite("changed");
      const f = path.join(dir, "api/v1/stats.json");
      await writeFile(f, readFileSync(f, "utf8").replace(/"total":"\d/, '"total":"9'));
      const r = await verifyMirror({ dir, policy });
      expect(failed(r)).to.deep.equal(["files"]);
      expect(r.checks.find((c) => c.name === "files")?.detail).to.include("api/v1/stats.json");
    });

    it("catches a forged batch root even when mirror.json is rewritten to match", async function () {
      const dir = await copySite("forged");
      const rel = "api/v1/batches/1.json";
      const view = JSON.parse(readFileSync(path.join(dir, rel), "utf8")) as { root: string };
      view.root = `0x${"ab".repeat(32)}`;
      const forged = Buffer.from(JSON.stringify(view) + "\n");
      await writeFile(path.join(dir, rel), forged);
      const manifest = JSON.parse(
        readFileSync(path.join(dir, "mirror.json"), "utf8"),
      ) as MirrorManifest;
      const entry = manifest.files.find((f) => f.path === rel)!;
      entry.sha256 = createHash("sha256").update(forged).digest("hex");
      entry.size = forged.length;
      await writeFile(path.join(dir, "mirror.json"), JSON.stringify(manifest));
      const r = await verifyMirror({ dir, policy });
      expect(failed(r)).to.deep.equal(["batches"]);
      expect(r.checks.find((c) => c.name === "batches")?.detail).to.include("batch 1: root");
    });

    it("fails a missing tile, and another log's policy", async function () {
      const dir = await copySite("no-tile");
      const manifest = JSON.parse(
        readFileSync(path.join(dir, "mirror.json"), "utf8"),
      ) as MirrorManifest;
      const tile = manifest.files.find((f) => f.path.startsWith("log/tile/0/"))!.path;
      rmSync(path.join(dir, tile));
      expect(failed(await verifyMirror({ dir, policy }))).to.include.members(["files", "tiles"]);
      const other = parseTrustPolicy(policyFor(randomBytes(32), witnessSeeds));
      expect(failed(await verifyMirror({ dir: site, policy: other }))).to.deep.equal([
        "checkpoint",
      ]);
    });

    it("runs from the command line: export --from, verify --policy (exit 0), and exit 1 on a bad mirror", async function () {
      const out = path.join(work, "cli-site");
      const policyFile = path.join(work, "policy.txt");
      await writeFile(policyFile, policyText);
      const write = process.stdout.write.bind(process.stdout);
      const umask = process.umask();
      process.stdout.write = () => true;
      try {
        expect(await main(["mirror", "export", "--from", s.url, "--out", out])).to.equal(0);
        expect(await main(["mirror", "verify", out, "--policy", policyFile])).to.equal(0);
        await writeFile(path.join(out, "trust-policy.txt"), "changed");
        expect(await main(["mirror", "verify", out, "--policy", policyFile])).to.equal(1);
      } finally {
        process.stdout.write = write;
        process.umask(umask);
      }
    });
  });
});
