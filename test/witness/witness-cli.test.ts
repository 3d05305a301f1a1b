import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { loadNoteKeystore } from "../../src/chain/note-keystore.ts";
import { noteVerifier, openNote } from "../../src/core/signed-note.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { formatAddCheckpointBody } from "../../src/log/witness-client.ts";

const bin = path.resolve(import.meta.dirname, "../../bin/shafaf.js");
const PASSWORD = "correct horse battery";
const env = { ...process.env, SHAFAF_KEYSTORE_PASSWORD: PASSWORD };

function shafaf(cwd: string, ...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd, env, encoding: "utf8" });
}

describe("shafaf keys new-note and shafaf witness (the commands)", function () {
  this.timeout(60_000);
  let dir: string;
  let child: ChildProcess | undefined;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-witness-cli-"));
  });
  after(async () => {
    child?.kill("SIGTERM");
    await rm(dir, { recursive: true, force: true });
  });

  it("makes encrypted note keys that print their verifier keys, refuse to overwrite, and need the password", async () => {
    const log = shafaf(
      dir,
      "keys",
      "new-note",
      "--name",
      "sso.example/ledger-log",
      "--out",
      "log-key.json",
    );
    expect(log.status, log.stderr).to.equal(0);
    expect(log.stdout).to.match(/^sso\.example\/ledger-log\+[0-9a-f]{8}\+A[A-Za-z0-9+/]{43}=?\n$/);
    const w = shafaf(
      dir,
      "keys",
      "new-note",
      "--name",
      "auditor-1.example/witness",
      "--witness",
      "--out",
      "w1.json",
    );
    expect(w.status, w.stderr).to.equal(0);
    expect(w.stdout).to.match(/^auditor-1\.example\/witness\+[0-9a-f]{8}\+B/); // type 0x04
    expect((await stat(path.join(dir, "w1.json"))).mode & 0o777).to.equal(0o600);
    const text = await readFile(path.join(dir, "w1.json"), "utf8");
    expect(text).to.not.include(PASSWORD);
    expect(shafaf(dir, "keys", "new-note", "--name", "x", "--out", "w1.json").status).to.equal(65);
    expect(shafaf(dir, "keys", "new-note", "--name", "x").status).to.equal(64);
    const key = await loadNoteKeystore(path.join(dir, "w1.json"), PASSWORD, "witness");
    expect(key.vkey + "\n").to.equal(w.stdout);
    for (const [pw, role, code] of [
      ["wrong password!", "witness", "chain.note-keystore.decrypt"],
      [PASSWORD, "log", "chain.note-keystore.role"],
    ] as const) {
      try {
        await loadNoteKeystore(path.join(dir, "w1.json"), pw, role);
        expect.fail("should refuse");
      } catch (e) {
        expect((e as { code?: string }).code).to.equal(code);
        expect((e as Error).message).to.not.include(pw);
      }
    }
  });

  it("runs a witness on 127.0.0.1 that cosigns the log's checkpoints from the policy file", async () => {
    const logKey = await loadNoteKeystore(path.join(dir, "log-key.json"), PASSWORD, "log");
    const wKey = await loadNoteKeystore(path.join(dir, "w1.json"), PASSWORD, "witness");
    await writeFile(
      path.join(dir, "policy.txt"),
      `# the logs this witness watches\nlog ${logKey.vkey}\nquorum none\n`,
    );
    const bad = shafaf(dir, "witness", "--key", "w1.json");
    expect(bad.status).to.equal(64);
    child = spawn(
      process.execPath,
      [
        bin,
        "witness",
        "--key",
        "w1.json",
        "--policy",
        "policy.txt",
        "--data-dir",
        "wdata",
        "--port",
        "0",
      ],
      { cwd: dir, env },
    );
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      child!.stdout!.on("data", (b: Buffer) => {
        out += b.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child!.once("exit", (c) => reject(new Error(`witness exited ${c}`)));
    });
    const log = await openTiledLog({
      dir: path.join(dir, "log"),
      origin: "sso.example/ledger-log",
      signer: logKey.signer(),
    });
    await log.append([new TextEncoder().encode("batch 1")]);
    const note = await log.signCheckpoint();
    const res = await fetch(`${url}/add-checkpoint`, {
      method: "POST",
      body: formatAddCheckpointBody(0, [], note),
    });
    expect(res.status).to.equal(200);
    const r = openNote(note + (await res.text()), [noteVerifier(wKey.vkey)]);
    expect(r.ok).to.equal(true);
    const exited = new Promise<number | null>((resolve) => child!.once("exit", resolve));
    child.kill("SIGINT");
    expect(await exited).to.equal(0);
    child = undefined;
  });
});

describe("shafaf verify-proof (offline)", function () {
  this.timeout(60_000);
  it("verifies the committed vectors' proofs, names the failed check of a corrupted one, exits 64 on bad usage", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-verify-proof-"));
    try {
      const v = JSON.parse(
        await readFile(
          path.resolve(import.meta.dirname, "../vectors/c2sp/shafaf-witnessed-1.json"),
          "utf8",
        ),
      );
      await writeFile(path.join(dir, "policy.txt"), v.policy);
      await writeFile(path.join(dir, "entry.bin"), Buffer.from(v.proofs[6].entry, "hex"));
      await writeFile(path.join(dir, "batch-7.tlog-proof"), v.proofs[6].proof);
      const ok = shafaf(
        dir,
        "verify-proof",
        "--policy",
        "policy.txt",
        "--entry",
        "entry.bin",
        "batch-7.tlog-proof",
      );
      expect(ok.status, ok.stderr).to.equal(0);
      expect(ok.stdout).to.match(
        /ok {3}checkpoint: sso\.example\/ledger-log size 11, .*cosigned by 4 witness\(es\) \[w1, w2, w3, w4\]/,
      );
      expect(ok.stdout.trim().split("\n").at(-1)).to.equal("verified");
      const bad = v.corrupted.cases.find(
        (c: { name: string }) => c.name === "two-cosignatures-of-four",
      );
      await writeFile(path.join(dir, "bad.tlog-proof"), bad.proof);
      const failed = shafaf(
        dir,
        "verify-proof",
        "--policy",
        "policy.txt",
        "--leaf-hash",
        v.corrupted.leafHash,
        "--json",
        "bad.tlog-proof",
      );
      expect(failed.status).to.equal(1);
      const result = JSON.parse(failed.stdout);
      expect(result.status).to.equal("failed");
      expect(result.checks.at(-1)).to.deep.include({ name: "checkpoint", ok: false });
      expect(
        shafaf(dir, "verify-proof", "--policy", "policy.txt", "batch-7.tlog-proof").status,
      ).to.equal(64);
      expect(
        shafaf(
          dir,
          "verify-proof",
          "--policy",
          "missing.txt",
          "--entry",
          "entry.bin",
          "batch-7.tlog-proof",
        ).status,
      ).to.equal(65);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
