/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit parsed JSON documents field by field */
import { expect } from "chai";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { keccak256, SigningKey, toUtf8Bytes, getBytes } from "ethers";
import { command } from "../../src/cli/commands/network.ts";
import {
  buildNetwork,
  generateTrialKeys,
  TRIAL_KEYSTORE_PASSWORD,
  TRIAL_WARNING_FILE,
  type NetworkOptions,
} from "../../src/network/build-network.ts";
import { loadKeystore } from "../../src/chain/keystore.ts";
import { checkNetwork, formatFinding } from "../../src/network/check-network.ts";
import { checkQbftGenesis } from "../../src/network/genesis.ts";
import { parseInstitutions } from "../../src/network/institutions.ts";
import { parseToml } from "../../src/network/toml.ts";
import { writeNetwork } from "../../src/network/write-network.ts";

/**
 * Golden files: test/golden/network/four-institutions/ holds the network generated from
 * test/golden/network/institutions.json with GOLDEN_OPTIONS. To regenerate after an intended change:
 *   SHAFAF_UPDATE_GOLDEN=1 npx hardhat test mocha test/network/network.test.ts
 * and review the diff before committing.
 */
const GOLDEN = path.join(import.meta.dirname, "../golden/network");
const GOLDEN_DIR = path.join(GOLDEN, "four-institutions");
const INSTITUTIONS = path.join(GOLDEN, "institutions.json");
const GOLDEN_OPTIONS: NetworkOptions = {
  validators: 4,
  chainId: 1403,
  blockPeriodSeconds: 2,
  epochLength: 30000,
  requestTimeoutSeconds: 4,
};
const UPDATE = process.env.SHAFAF_UPDATE_GOLDEN === "1";

async function goldenNetwork() {
  return buildNetwork(
    parseInstitutions(await readFile(INSTITUTIONS, "utf8"), INSTITUTIONS),
    GOLDEN_OPTIONS,
  );
}

async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/** Writes the golden network into a fresh temp folder and returns it. */
async function freshNetwork(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "shafaf-network-"));
  await writeNetwork(dir, (await goldenNetwork()).files);
  return dir;
}

async function capture(
  run: () => Promise<number>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = (chunk: string | Uint8Array) => (out.push(String(chunk)), true);
  process.stderr.write = (chunk: string | Uint8Array) => (err.push(String(chunk)), true);
  try {
    const code = await run();
    return { code, stdout: out.join(""), stderr: err.join("") };
  } finally {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
  }
}

describe("network kit", function () {
  const temps: string[] = [];
  after(async function () {
    for (const dir of temps) await rm(dir, { recursive: true, force: true });
  });
  async function temp(): Promise<string> {
    const dir = await freshNetwork();
    temps.push(dir);
    return dir;
  }

  describe("buildNetwork (golden)", function () {
    it("generates exactly the golden files, byte for byte", async function () {
      const { files } = await goldenNetwork();
      if (UPDATE) {
        await rm(GOLDEN_DIR, { recursive: true, force: true });
        await writeNetwork(GOLDEN_DIR, files);
      }
      expect(await listFiles(GOLDEN_DIR)).to.deep.equal([...files.keys()].sort());
      for (const [rel, content] of files) {
        expect(
          content,
          `${rel} drifted from test/golden/network/four-institutions (SHAFAF_UPDATE_GOLDEN=1 to regenerate)`,
        ).to.equal(await readFile(path.join(GOLDEN_DIR, rel), "utf8"));
      }
    });

    it("is deterministic and independent of the institutions' order for the genesis", async function () {
      const a = await goldenNetwork();
      const b = await goldenNetwork();
      expect([...a.files]).to.deep.equal([...b.files]);
      const parsed = parseInstitutions(await readFile(INSTITUTIONS, "utf8"), INSTITUTIONS);
      const reversed = buildNetwork(
        { ...parsed, institutions: [...parsed.institutions].reverse() },
        GOLDEN_OPTIONS,
      );
      expect(reversed.files.get("genesis.json")).to.equal(a.files.get("genesis.json"));
    });

    it("puts the institutions' node addresses in extraData and their enodes in static nodes and the allowlist", async function () {
      const { files, validators } = await goldenNetwork();
      const summary = checkQbftGenesis(JSON.parse(files.get("genesis.json")!));
      expect(summary.findings).to.deep.equal([]);
      expect([...summary.validators].sort()).to.deep.equal(validators.map((v) => v.address).sort());
      const enodes = JSON.parse(files.get("static-nodes.json")!) as string[];
      expect(enodes).to.deep.equal(validators.map((v) => v.enode));
      const perms = parseToml(files.get("permissions_config.toml")!, "permissions_config.toml");
      expect(perms.values.get("nodes-allowlist")).to.deep.equal(enodes);
      const inst = JSON.parse(await readFile(INSTITUTIONS, "utf8"));
      const accounts = inst.institutions.flatMap((i: any) =>
        [...i.accounts.anchorer, ...i.accounts.auditor, ...i.accounts.governance].map((a: string) =>
          a.toLowerCase(),
        ),
      );
      expect([...(perms.values.get("accounts-allowlist") as string[])].sort()).to.deep.equal(
        accounts.sort(),
      );
    });

    it("writes each node's Besu config with free gas, permissioning and the RPC APIs Shafaf needs", async function () {
      const { files } = await goldenNetwork();
      const config = parseToml(files.get("nodes/ministry/config.toml")!, "config.toml").values;
      expect(config.get("min-gas-price")).to.equal(0);
      expect(config.get("rpc-http-api")).to.deep.equal(["ETH", "NET", "QBFT", "WEB3"]);
      expect(config.get("permissions-nodes-config-file-enabled")).to.equal(true);
      expect(config.get("permissions-accounts-config-file-enabled")).to.equal(true);
      expect(config.get("p2p-host")).to.equal("172.16.239.13");
      expect(config.get("rpc-http-port")).to.equal(8547);
      expect(config.get("static-nodes-file")).to.equal("/etc/besu/static-nodes.json");
      expect(config.get("discovery-enabled")).to.equal(false);
    });

    it("skips the trial compose file when the hosts cannot share one Docker network, and says why", async function () {
      const parsed = parseInstitutions(await readFile(INSTITUTIONS, "utf8"), INSTITUTIONS);
      const spread = parsed.institutions.map((inst, i) => ({
        ...inst,
        validator: { ...inst.validator!, host: `10.${i}.0.5` },
      }));
      const built = buildNetwork({ ...parsed, institutions: spread }, GOLDEN_OPTIONS);
      expect(built.files.has("docker-compose.yml")).to.equal(false);
      expect(built.composeSkipped).to.match(/not in one \/24/);
      expect(built.files.has("systemd/besu-sso.service")).to.equal(true);
    });

    it("carries Persian institution names into comments and the README, and the files still check", async function () {
      const doc = JSON.parse(await readFile(INSTITUTIONS, "utf8"));
      doc.institutions[0].name = "سازمان تأمین اجتماعی";
      const built = buildNetwork(parseInstitutions(JSON.stringify(doc), "fa.json"), GOLDEN_OPTIONS);
      expect(built.files.get("README.md")).to.include("| sso | سازمان تأمین اجتماعی |");
      expect(built.files.get("nodes/sso/config.toml")).to.match(
        /^# Besu QBFT validator of سازمان تأمین اجتماعی \(sso\)/,
      );
      const dir = await mkdtemp(path.join(tmpdir(), "shafaf-fa-"));
      temps.push(dir);
      await writeNetwork(dir, built.files);
      expect((await checkNetwork(dir)).findings.map(formatFinding)).to.deep.equal([]);
    });

    it("refuses a validator count that does not match, and reserved chain ids", async function () {
      const parsed = parseInstitutions(await readFile(INSTITUTIONS, "utf8"), INSTITUTIONS);
      expect(() => buildNetwork(parsed, { ...GOLDEN_OPTIONS, validators: 5 })).to.throw(
        /--validators 5 does not match the 4 institution\(s\) with a validator/,
      );
      expect(() => buildNetwork(parsed, { ...GOLDEN_OPTIONS, chainId: 31337 })).to.throw(
        /--chain-id 31337/,
      );
      expect(() => buildNetwork(parsed, { ...GOLDEN_OPTIONS, blockPeriodSeconds: 0 })).to.throw(
        /--block-period/,
      );
      expect(() =>
        buildNetwork(parsed, { ...GOLDEN_OPTIONS, besuImage: "besu:1\n    privileged: true" }),
      ).to.throw(/--besu-image/);
    });
  });

  describe("generateTrialKeys", function () {
    it("fills missing node keys and accounts with throwaway keys that match their enodes, next to a warning", async function () {
      const example = await readFile(
        path.join(import.meta.dirname, "../../network/institutions.example.json"),
        "utf8",
      );
      let n = 0;
      const seeded = () => getBytes(keccak256(toUtf8Bytes(`trial ${n++}`)));
      const trial = generateTrialKeys(
        parseInstitutions(example, "example", { allowMissingKeys: true }),
        seeded,
      );
      expect(trial.keyFiles.get(TRIAL_WARNING_FILE)).to.match(
        /^WARNING: THROWAWAY KEYS FOR A LOCAL TRIAL ONLY/,
      );
      const built = buildNetwork(trial.file, GOLDEN_OPTIONS);
      for (const v of built.validators) {
        const key = trial.keyFiles.get(`nodes/${v.institution}/key`)!.trim();
        expect(v.enode).to.include(new SigningKey(key).publicKey.slice(4));
      }
      expect([...trial.keyFiles.keys()].filter((k) => k.startsWith("trial-keys/"))).to.have.length(
        12,
      );
      const dir = await mkdtemp(path.join(tmpdir(), "shafaf-trial-"));
      temps.push(dir);
      await writeNetwork(dir, new Map([...built.files, ...trial.keyFiles]));
      const result = await checkNetwork(dir);
      expect(result.findings.map(formatFinding)).to.deep.equal([]);
      // The trial governance account of sso is a keystore Shafaf's --keystore reads, and it is allowlisted.
      const wallet = await loadKeystore(
        path.join(dir, "trial-keys/sso-governance.json"),
        TRIAL_KEYSTORE_PASSWORD,
      );
      const allowlist = parseToml(
        await readFile(path.join(dir, "permissions_config.toml"), "utf8"),
        "p",
      ).values.get("accounts-allowlist") as string[];
      expect(allowlist).to.include(wallet.address.toLowerCase());
      expect(trial.file.institutions[0]!.accounts.governance).to.deep.equal([wallet.address]);
    });
  });

  describe("checkNetwork", function () {
    it("finds nothing wrong in a freshly generated network", async function () {
      const result = await checkNetwork(await temp());
      expect(result.findings.map(formatFinding)).to.deep.equal([]);
      expect(result.ok).to.equal(true);
      expect(result.nodes).to.deep.equal(["audit-court", "central-bank", "ministry", "sso"]);
      expect(result.validators).to.have.length(4);
    });

    it("reports a node whose permissions file differs from the others", async function () {
      const dir = await temp();
      const file = path.join(dir, "nodes/ministry/permissions_config.toml");
      await writeFile(
        file,
        (await readFile(file, "utf8")).replace(
          'accounts-allowlist=["',
          'accounts-allowlist=["0x00000000000000000000000000000000000000aa","',
        ),
      );
      const result = await checkNetwork(dir);
      expect(result.ok).to.equal(false);
      expect(result.findings.map(formatFinding)).to.deep.equal([
        "error: nodes/ministry/permissions_config.toml: differs from the top-level permissions_config.toml; every node MUST carry the same file (copy it again)",
      ]);
    });

    it("reports a genesis validator missing from static nodes and a static node missing from the allowlist", async function () {
      const dir = await temp();
      const nodes = JSON.parse(
        await readFile(path.join(dir, "static-nodes.json"), "utf8"),
      ) as string[];
      await writeFile(path.join(dir, "static-nodes.json"), JSON.stringify(nodes.slice(1)));
      const perms = await readFile(path.join(dir, "permissions_config.toml"), "utf8");
      await writeFile(
        path.join(dir, "permissions_config.toml"),
        perms.replace(`"${nodes[2]}",`, ""),
      );
      const messages = (await checkNetwork(dir)).findings.map(formatFinding).join("\n");
      expect(messages).to.match(
        /error: static-nodes\.json: 0x[0-9a-fA-F]{40}: genesis validator 0x[0-9a-fA-F]{40} has no enode here, so no node dials it/,
      );
      expect(messages).to.match(
        /error: permissions_config\.toml: nodes-allowlist: static node 0x[0-9a-fA-F]{40} at 172\.16\.239\.13:30303 is not on nodes-allowlist/,
      );
      expect(messages).to.match(
        /error: nodes\/sso\/config\.toml:\d+: p2p-port: this node \(172\.16\.239\.11:30303\) is not in static-nodes\.json/,
      );
    });

    it("names file:line:key for a node config that would drop free transactions or hide the QBFT API", async function () {
      const dir = await temp();
      const file = path.join(dir, "nodes/sso/config.toml");
      const original = await readFile(file, "utf8");
      const edited = original
        .replace("min-gas-price=0", "min-gas-price=1000")
        .replace(
          'rpc-http-api=["ETH","NET","QBFT","WEB3"]',
          'rpc-http-api=["ETH","NET","WEB3","ADMIN"]',
        );
      await writeFile(file, edited);
      const lineOf = (key: string) =>
        edited.split("\n").findIndex((l) => l.startsWith(key + "=")) + 1;
      const messages = (await checkNetwork(dir)).findings.map(formatFinding);
      expect(messages).to.include(
        `error: nodes/sso/config.toml:${lineOf("min-gas-price")}: min-gas-price: must be 0: free gas needs min-gas-price=0 on every node, or zero-price transactions are silently dropped`,
      );
      expect(messages).to.include(
        `error: nodes/sso/config.toml:${lineOf("rpc-http-api")}: rpc-http-api: lacks QBFT (the indexer needs QBFT for qbft_getValidatorsByBlockNumber)`,
      );
      expect(messages).to.include(
        `warning: nodes/sso/config.toml:${lineOf("rpc-http-api")}: rpc-http-api: exposes ADMIN; enable them only on an authenticated, private endpoint`,
      );
    });

    it("reports a node key that belongs to another node, an empty accounts allowlist and a broken genesis", async function () {
      const dir = await temp();
      await writeFile(
        path.join(dir, "nodes/sso/key"),
        keccak256(toUtf8Bytes("someone else")) + "\n",
      );
      for (const rel of [
        "permissions_config.toml",
        ...["sso", "audit-court", "ministry", "central-bank"].map(
          (n) => `nodes/${n}/permissions_config.toml`,
        ),
      ]) {
        const file = path.join(dir, rel);
        await writeFile(
          file,
          (await readFile(file, "utf8")).replace(
            /accounts-allowlist=\[[^\]]*\]/,
            "accounts-allowlist=[]",
          ),
        );
      }
      const genesis = JSON.parse(await readFile(path.join(dir, "genesis.json"), "utf8"));
      genesis.config.qbft.epochlength = 0;
      await writeFile(path.join(dir, "genesis.json"), JSON.stringify(genesis));
      const messages = (await checkNetwork(dir)).findings.map(formatFinding).join("\n");
      expect(messages).to.include("error: nodes/sso/key: belongs to another node");
      expect(messages).to.match(
        /error: permissions_config\.toml:\d+: accounts-allowlist: accounts-allowlist is empty/,
      );
      expect(messages).to.include(
        "error: genesis.json: config.qbft.epochlength: must be a positive integer",
      );
      expect(messages).to.include(
        "error: nodes/sso/genesis.json: differs from the top-level genesis.json",
      );
    });

    it("reports missing files and unparsable ones without throwing", async function () {
      const dir = await temp();
      await rm(path.join(dir, "static-nodes.json"));
      await writeFile(path.join(dir, "genesis.json"), "{ not json");
      await writeFile(path.join(dir, "nodes/sso/config.toml"), "p2p-port=30303\n[section]\n");
      const messages = (await checkNetwork(dir)).findings.map(formatFinding);
      expect(messages).to.include("error: static-nodes.json: is missing");
      expect(messages.some((m) => m.startsWith("error: genesis.json: is not valid JSON"))).to.equal(
        true,
      );
      expect(messages).to.include("error: nodes/sso/config.toml: line 2: expected key=value");
      const empty = await mkdtemp(path.join(tmpdir(), "shafaf-empty-"));
      temps.push(empty);
      expect((await checkNetwork(empty)).findings.map(formatFinding)).to.include(
        "error: nodes/: has no node folder (nodes/<id>/config.toml)",
      );
    });
  });

  describe("shafaf network (CLI)", function () {
    it("init writes a network, checks it, and refuses to overwrite it", async function () {
      const out = path.join(await mkdtemp(path.join(tmpdir(), "shafaf-cli-")), "net");
      temps.push(path.dirname(out));
      const first = await capture(() =>
        command.run(["init", "--validators", "4", "--institutions", INSTITUTIONS, "--out", out]),
      );
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.match(/^wrote 26 files to /);
      expect(first.stdout).to.include("network check: ok");
      for (const [rel, content] of (await goldenNetwork()).files)
        expect(await readFile(path.join(out, rel), "utf8"), rel).to.equal(content);
      const again = await capture(() =>
        command.run(["init", "--validators", "4", "--institutions", INSTITUTIONS, "--out", out]),
      );
      expect(again.code).to.equal(64);
      expect(again.stderr).to.include("already holds a network (genesis.json exists)");
      const check = await capture(() => command.run(["check", out]));
      expect(check.code).to.equal(0);
      expect(check.stdout).to.include("4 genesis validator(s), 4 node folder(s): ok");
    });

    it("init --generate writes throwaway keys with mode 0600 and a loud warning", async function () {
      const out = await mkdtemp(path.join(tmpdir(), "shafaf-gen-"));
      temps.push(out);
      const example = path.join(import.meta.dirname, "../../network/institutions.example.json");
      const run = await capture(() =>
        command.run([
          "init",
          "--validators",
          "4",
          "--institutions",
          example,
          "--out",
          out,
          "--generate",
          "--force",
        ]),
      );
      expect(run.code, run.stdout + run.stderr).to.equal(0);
      expect(run.stderr).to.include("THROWAWAY private key(s)");
      expect((await stat(path.join(out, "nodes/sso/key"))).mode & 0o777).to.equal(0o600);
      expect(await readFile(path.join(out, TRIAL_WARNING_FILE), "utf8")).to.include(
        "NEVER USE THIS NETWORK FOR REAL RECORDS",
      );
    });

    it("exits 64 with a clear message on usage errors and bad institutions files", async function () {
      const cases: [string[], RegExp][] = [
        [[], /missing sub-command/],
        [["launch"], /unknown sub-command "launch"/],
        [
          ["init", "--institutions", INSTITUTIONS, "--out", "/tmp/x"],
          /init needs --validators, --institutions and --out/,
        ],
        [
          ["init", "--validators", "four", "--institutions", INSTITUTIONS, "--out", "/tmp/x"],
          /--validators must be a positive integer, got "four"/,
        ],
        [
          ["init", "--validators", "4", "--institutions", "/nonexistent.json", "--out", "/tmp/x"],
          /cannot read \/nonexistent\.json \(ENOENT\)/,
        ],
        [
          ["init", "--validators", "3", "--institutions", INSTITUTIONS, "--out", "/tmp/x"],
          /--validators 3 does not match/,
        ],
        [["init", "--bogus"], /Unknown option '--bogus'/],
        [["check"], /check needs exactly one network folder/],
      ];
      for (const [argv, pattern] of cases) {
        const run = await capture(() => command.run(argv));
        expect(run.code, argv.join(" ")).to.equal(64);
        expect(run.stderr, argv.join(" ")).to.match(pattern);
      }
    });

    it("check exits 1 and lists what is wrong", async function () {
      const dir = await temp();
      await writeFile(path.join(dir, "nodes/central-bank/static-nodes.json"), "[]\n");
      const run = await capture(() => command.run(["check", dir]));
      expect(run.code).to.equal(1);
      expect(run.stdout).to.include(
        "error: nodes/central-bank/static-nodes.json: differs from the top-level static-nodes.json",
      );
      expect(run.stdout).to.match(/FAILED\n$/);
    });
  });
});
