import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { command as verifyCommand } from "../../src/cli/commands/verify.ts";
import { runCommand } from "../audit/helpers.ts";

interface Vectors {
  root: string;
  vrfPublicKey: string;
  cases: {
    name: string;
    document: unknown;
    status: string;
    trust: { root: string; vrfPublicKey?: string };
  }[];
}
const root = path.resolve(import.meta.dirname, "../..");
const load = async (name: string) =>
  JSON.parse(await readFile(path.join(root, "test/vectors", name), "utf8")) as Vectors;

describe("shafaf verify (v1 and v2 receipts, person proofs)", () => {
  let dir: string;
  let persons: Vectors;
  let receipts: Vectors;
  const file = async (name: string, doc: unknown) => {
    const f = path.join(dir, `${name}.json`);
    await writeFile(f, JSON.stringify(doc));
    return f;
  };
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "shafaf-verify-docs-"));
    persons = await load("person-proof-1.json");
    receipts = await load("receipt-v2.json");
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("exits 0, 1 or 2 as every person-proof vector's status says, offline with --root and --vrf-key", async () => {
    for (const c of persons.cases) {
      const trust = c.trust;
      const args = [await file(c.name, c.document), "--root", trust.root];
      if (trust.vrfPublicKey !== undefined) args.push("--vrf-key", trust.vrfPublicKey.slice(2));
      const run = await runCommand(verifyCommand, args);
      expect(run.code, `${c.name}: ${run.stdout}`).to.equal(
        { verified: 0, failed: 1, inconclusive: 2 }[c.status],
      );
    }
  });

  it("says what a verified person proof establishes, and names the failed check with both values", async () => {
    const ok = await runCommand(verifyCommand, [
      await file("range", persons.cases.find((c) => c.name === "valid-range")!.document),
      "--root",
      persons.root,
      "--vrf-key",
      persons.vrfPublicKey,
    ]);
    expect(ok.stdout).to.include("VERIFIED: these are all of this person's records");
    const absent = await runCommand(verifyCommand, [
      await file("absent", persons.cases.find((c) => c.name === "valid-absence")!.document),
      "--root",
      persons.root,
      "--vrf-key",
      persons.vrfPublicKey,
    ]);
    expect(absent.stdout).to.include("VERIFIED: this person has no record");
    const wrongKey = persons.cases.find((c) => c.name === "wrong-vrf-key-trusted")!;
    const bad = await runCommand(verifyCommand, [
      await file("wk", wrongKey.document),
      "--root",
      wrongKey.trust.root,
      "--vrf-key",
      persons.vrfPublicKey,
      "--json",
    ]);
    expect(bad.code).to.equal(1);
    const result = JSON.parse(bad.stdout) as {
      checks: { name: string; outcome: string; expected?: string; computed?: string }[];
    };
    const vrf = result.checks.find((c) => c.outcome === "fail")!;
    expect(vrf.name).to.equal("vrf-key");
    expect(vrf.expected).to.equal(persons.vrfPublicKey);
    expect(vrf.computed)
      .to.match(/^0x[0-9a-f]{64}$/)
      .and.not.equal(vrf.expected);
  });

  it("refuses a malformed --vrf-key with exit 64", async () => {
    const run = await runCommand(verifyCommand, [
      await file("r", receipts.cases[0]!.document),
      "--root",
      receipts.root,
      "--vrf-key",
      "abc",
    ]);
    expect(run.code).to.equal(64);
  });

  it("as a real process: a v2 receipt and the golden v1 receipt verify (exit 0), a corrupted v2 receipt fails (exit 1)", async function () {
    this.timeout(60_000);
    const v1 = JSON.parse(
      await readFile(path.join(root, "test/vectors/receipts-1.json"), "utf8"),
    ) as {
      cases: { receipt: unknown; trust: { root: string } }[];
    };
    const run = async (doc: unknown, r: string) => {
      try {
        await promisify(execFile)(
          process.execPath,
          [
            "--import",
            "tsx",
            "src/cli/main.ts",
            "verify",
            await file(`p${Math.random()}`, doc),
            "--root",
            r,
          ],
          { cwd: root },
        );
        return 0;
      } catch (e) {
        return (e as { code: number }).code;
      }
    };
    expect(
      await run(receipts.cases.find((c) => c.name === "valid-0")!.document, receipts.root),
    ).to.equal(0);
    expect(await run(v1.cases[0]!.receipt, v1.cases[0]!.trust.root)).to.equal(0);
    expect(
      await run(receipts.cases.find((c) => c.name === "flipped-salt")!.document, receipts.root),
    ).to.equal(1);
  });
});
