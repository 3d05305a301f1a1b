/**
 * `shafaf verify FILE --policy POLICY`: receipts v1 and v2 and person proofs verified by their log
 * bundle against a trust policy with no network — every vector's exit code, the cosigners and the
 * checkpoint's time in the verdict line, and a run in a process that has no network at all (a
 * fresh network namespace with no interface up) and in which opening any socket aborts.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { command as verifyCommand } from "../../src/cli/commands/verify.ts";
import { runCommand } from "../audit/helpers.ts";

interface BundleVectors {
  policy: string;
  cases: {
    name: string;
    document: Record<string, unknown>;
    vrfPublicKey?: string;
    expect: { status: "verified" | "failed" | "inconclusive"; failedChecks: string[] };
  }[];
}

const root = path.resolve(import.meta.dirname, "../..");
const EXIT = { verified: 0, failed: 1, inconclusive: 2 } as const;
/** Refuses every way a Node process reaches the network: a socket, a DNS lookup, fetch. */
const DENY_NETWORK = `data:text/javascript,${encodeURIComponent(`
import net from "node:net";
import dns from "node:dns";
const deny = (what) => { process.stderr.write("NETWORK USED: " + what + "\\n"); process.exit(99); };
net.Socket.prototype.connect = function () { deny("socket"); };
dns.lookup = () => deny("dns");
globalThis.fetch = () => deny("fetch");
`)}`;

describe("shafaf verify --policy (offline, by the log bundle)", function () {
  this.timeout(120_000);
  let dir: string;
  let vectors: BundleVectors;
  let policyFile: string;
  const file = async (name: string, doc: unknown) => {
    const f = path.join(dir, `${name}.json`);
    await writeFile(f, JSON.stringify(doc));
    return f;
  };
  const byName = (name: string) => vectors.cases.find((c) => c.name === name)!;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "shafaf-verify-policy-"));
    vectors = JSON.parse(
      await readFile(path.join(root, "test/vectors/log-bundle-1.json"), "utf8"),
    ) as BundleVectors;
    policyFile = path.join(dir, "trust-policy.txt");
    await writeFile(policyFile, vectors.policy);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("exits 0, 1 or 2 as every log-bundle vector's status says, naming the failed check", async () => {
    for (const c of vectors.cases) {
      const args = [await file(c.name, c.document), "--policy", policyFile, "--json"];
      if (c.vrfPublicKey !== undefined) args.push("--vrf-key", c.vrfPublicKey);
      const run = await runCommand(verifyCommand, args);
      expect(run.code, `${c.name}: ${run.stdout}${run.stderr}`).to.equal(EXIT[c.expect.status]);
      const result = JSON.parse(run.stdout) as { checks: { name: string; outcome: string }[] };
      expect(
        result.checks.filter((x) => x.outcome === "fail").map((x) => x.name),
        c.name,
      ).to.deep.equal(c.expect.failedChecks);
    }
  });

  it("names the cosigners, the quorum and the checkpoint's time when verified", async () => {
    const run = await runCommand(verifyCommand, [
      await file("v1-3of4", byName("v1-quorum-exactly").document),
      "--policy",
      policyFile,
    ]);
    expect(run.code).to.equal(0);
    expect(run.stdout).to.include(
      "VERIFIED: this record is in the anchored batch: cosigned by auditors, audit-court, employers (3 of 4 required), checkpoint of 2026-01-01 00:00:10 UTC",
    );
    const bad = await runCommand(verifyCommand, [
      await file("q", byName("quorum-not-met").document),
      "--policy",
      policyFile,
    ]);
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.match(/✗ log-quorum: .*quorum institutions not met/);
    expect(bad.stdout).to.include("expected  3 of 4 (institutions)");
  });

  it("runs with no network at all: a fresh network namespace, and any socket aborts", async function () {
    try {
      await promisify(execFile)("unshare", ["-rn", "true"]);
    } catch {
      this.skip(); // no user namespaces here: the in-process socket guard below still runs
    }
    for (const name of ["v1-valid", "v2-valid"]) {
      const { stdout } = await promisify(execFile)(
        "unshare",
        [
          "-rn",
          process.execPath,
          "--import",
          "tsx",
          "--import",
          DENY_NETWORK,
          "src/cli/main.ts",
          "verify",
          await file(`net-${name}`, byName(name).document),
          "--policy",
          policyFile,
        ],
        { cwd: root },
      );
      expect(stdout, name).to.include(
        "cosigned by auditors, audit-court, employers, workers (3 of 4 required), checkpoint of 2026-01-01 00:00:10 UTC",
      );
    }
  });

  it("the socket guard itself works: a run that reads the chain is stopped by it", async () => {
    const run = promisify(execFile)(
      process.execPath,
      [
        "--import",
        "tsx",
        "--import",
        DENY_NETWORK,
        "src/cli/main.ts",
        "verify",
        await file("guard", byName("v1-valid").document),
        "--rpc",
        "http://127.0.0.1:9",
      ],
      { cwd: root },
    );
    const error = await run.then(
      () => undefined,
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(error?.code).to.equal(99);
    expect(error?.stderr).to.include("NETWORK USED");
  });

  it("with --rpc as well, checks the chain too: an unreachable node leaves it inconclusive", async () => {
    const run = await runCommand(verifyCommand, [
      await file("both", byName("v1-valid").document),
      "--policy",
      policyFile,
      "--rpc",
      "http://127.0.0.1:9",
      "--timeout-ms",
      "2000",
      "--json",
    ]);
    expect(run.code).to.equal(2);
    const result = JSON.parse(run.stdout) as { checks: { name: string; outcome: string }[] };
    const outcome = (n: string) => result.checks.find((c) => c.name === n)?.outcome;
    expect(outcome("log-quorum")).to.equal("pass");
    expect(outcome("log-inclusion")).to.equal("pass");
    expect(result.checks.some((c) => c.outcome === "inconclusive")).to.equal(true);
  });

  it("with --rpc as well, a document without a bundle is left to the chain (no log-bundle check)", async () => {
    const run = await runCommand(verifyCommand, [
      await file("plain", byName("v1-no-bundle").document),
      "--policy",
      policyFile,
      "--rpc",
      "http://127.0.0.1:9",
      "--timeout-ms",
      "2000",
      "--json",
    ]);
    const result = JSON.parse(run.stdout) as { checks: { name: string }[] };
    expect(result.checks.map((c) => c.name)).to.not.include("log-bundle");
    expect(result.checks.map((c) => c.name)).to.include("chain-read");
    const alone = await runCommand(verifyCommand, [
      await file("plain2", byName("v1-no-bundle").document),
      "--policy",
      policyFile,
    ]);
    expect(alone.code).to.equal(2);
    expect(alone.stdout).to.include("? log-bundle: the document carries no log bundle");
  });

  it("refuses --root with --policy, and names an unreadable policy file", async () => {
    const doc = await file("usage", byName("v1-valid").document);
    const both = await runCommand(verifyCommand, [doc, "--policy", policyFile, "--root", "0x00"]);
    expect(both.code).to.equal(64);
    const missing = await runCommand(verifyCommand, [doc, "--policy", path.join(dir, "nope")]);
    expect(missing.code).to.not.equal(0);
    expect(missing.stderr).to.include("cannot read the trust policy");
    await writeFile(path.join(dir, "bad-policy"), "log nonsense\n");
    const bad = await runCommand(verifyCommand, [doc, "--policy", path.join(dir, "bad-policy")]);
    expect(bad.code).to.not.equal(0);
    expect(bad.stderr).to.include("bad-policy:1");
  });
});
