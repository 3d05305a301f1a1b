import { expect } from "chai";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { COMMANDS, main } from "../../src/cli/main.ts";

/** Runs `shafaf …` in this process, capturing what it writes to stdout and stderr. */
async function run(argv: readonly string[]): Promise<{ status: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const writeOut = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  };
  process.stderr.write = (chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  };
  try {
    return { status: await main(argv), out, err };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

/** Commands whose first word is a sub-command, with every sub-command they take. */
const SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = {
  dbf: ["read", "write"],
  dev: ["fund"],
  jobs: ["list", "show", "abandon"],
  keys: ["new", "new-vrf", "show-vrf"],
  network: ["init", "check"],
  receipts: ["export", "show"],
};

describe("the shafaf command line (one parser for every command)", function () {
  this.timeout(60_000);

  it("knows the commands this test walks", function () {
    expect(Object.keys(COMMANDS)).to.have.length.greaterThan(10);
    for (const name of Object.keys(SUBCOMMANDS)) expect(COMMANDS).to.have.property(name);
  });

  for (const name of Object.keys(COMMANDS)) {
    describe(`shafaf ${name}`, function () {
      it("--help prints the usage on stdout and exits 0", async function () {
        const r = await run([name, "--help"]);
        expect(r.status, r.err).to.equal(0);
        expect(r.out).to.match(/^usage:/);
        expect(r.err).to.equal("");
      });

      it("--bogus prints what is wrong and the usage on stderr and exits 64", async function () {
        const r = await run([name, "--bogus"]);
        expect(r.status).to.equal(64);
        expect(r.err).to.match(new RegExp(`^shafaf ${name}: .*bogus`));
        expect(r.err).to.contain("usage:");
        expect(r.out).to.equal("");
      });

      for (const sub of SUBCOMMANDS[name] ?? []) {
        it(`${sub} --help exits 0 and ${sub} --bogus exits 64 with the usage`, async function () {
          const help = await run([name, sub, "-h"]);
          expect(help.status, help.err).to.equal(0);
          expect(help.out).to.match(/^usage:/);
          const bogus = await run([name, sub, "--bogus"]);
          expect(bogus.status).to.equal(64);
          expect(bogus.err).to.match(
            new RegExp(`^shafaf ${name} ${sub}: Unknown option '--bogus'`),
          );
          expect(bogus.err).to.contain("usage:");
        });
      }
    });
  }

  it("exits 64 for a missing sub-command, with the usage", async function () {
    for (const name of Object.keys(SUBCOMMANDS)) {
      const r = await run([name]);
      expect(r.status, name).to.equal(64);
      expect(r.err, name).to.match(new RegExp(`^shafaf ${name}: missing sub-command\\n`));
      expect(r.err, name).to.contain("usage:");
    }
  });

  it("sets the process's exit status through bin/shafaf.js", function () {
    const root = path.resolve(import.meta.dirname, "../..");
    const bogus = spawnSync(process.execPath, ["bin/shafaf.js", "verify", "--bogus"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(bogus.status).to.equal(64);
    expect(bogus.stderr).to.contain("usage: shafaf verify");
    const help = spawnSync(process.execPath, ["bin/shafaf.js", "log", "--help"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(help.status).to.equal(0);
    expect(help.stdout).to.match(/^usage: shafaf log/);
  });
});
