import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseTrustPolicy, verifyCheckpointPolicy } from "../../src/core/tlog-policy.ts";
import { bytesToHex, hexToBytes } from "../../src/core/hex.ts";
import { batchPersonKey, personVrfInput } from "../../src/core/person-key.ts";
import { vrfVerify } from "../../src/core/vrf.ts";
import { startAndWait, type Started } from "./helpers.ts";

const root = path.resolve(import.meta.dirname, "../..");

/** Runs `shafaf start` (what `npm start` runs) and waits for it to say it is ready. */
function start(dataDir: string): Promise<Started> {
  return startAndWait(
    process.execPath,
    [
      "--import",
      "tsx",
      "src/cli/main.ts",
      "start",
      "--scale",
      "0.02",
      "--port",
      "0",
      "--data-dir",
      dataDir,
    ],
    { cwd: root },
  );
}

async function json<T>(url: string): Promise<T> {
  const res = await fetch(url);
  expect(res.status, url).to.equal(200);
  return (await res.json()) as T;
}

describe("npm start (shafaf start)", function () {
  this.timeout(600_000);
  let dataDir: string;

  before(async function () {
    dataDir = await mkdtemp(path.join(tmpdir(), "shafaf-start-"));
  });
  after(async function () {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("brings up chain, demo data, audits, indexer, API and portal; Ctrl-C stops it; a second start rebuilds the index for the new chain", async function () {
    const first = await start(dataDir);
    try {
      const out = first.out();
      expect(out).to.match(/26 batches anchored, indexed and served/);
      expect(out).to.match(/audited and attested 20 batches \(19 confirmed, 1 disputed\)/);
      const codes = [
        ...out.matchAll(/^ {4}([0-9A-Z]{4}(?:-[0-9A-Z]{4}){5}-[0-9A-Z]{3}) {3}(.+)$/gm),
      ];
      expect(codes.map((c) => c[2])).to.have.length(5);

      const page = await fetch(`${first.url}/`);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.include("<html");

      const chain = await json<{
        chainId: number;
        batchCount: number;
        headCheck: { status: string };
      }>(`${first.url}/api/v1/chain`);
      expect(chain.chainId).to.equal(31337);
      expect(chain.batchCount).to.equal(26);
      expect(chain.headCheck.status).to.equal("ok");

      const statuses = new Map<string, number>();
      let cursor: string | null = null;
      do {
        const page: { items: { status: string }[]; nextCursor: string | null } = await json(
          `${first.url}/api/v1/batches?limit=50${cursor === null ? "" : `&cursor=${cursor}`}`,
        );
        for (const b of page.items) statuses.set(b.status, (statuses.get(b.status) ?? 0) + 1);
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(Object.fromEntries(statuses)).to.deep.equal({
        superseded: 2,
        disputed: 1,
        attested: 17,
        anchored: 6,
      });

      const stats = await json<{ periods: { period: string; kind: string }[] }>(
        `${first.url}/api/v1/stats`,
      );
      expect(new Set(stats.periods.map((p) => `${p.kind} ${p.period}`)).size).to.equal(24);

      // Every sample code opens a shafaf-receipt/2 (the demo's batches are shafaf-tree/2) that
      // the server verified before sending it, and that POST /verify verifies again.
      for (const [, code] of codes) {
        const receipt = await json<{ format: string; code: string }>(
          `${first.url}/api/v1/receipts/${code}`,
        );
        expect(receipt.format).to.equal("shafaf-receipt/2");
        const checked = await fetch(`${first.url}/api/v1/verify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(receipt),
        });
        const verdict = (await checked.json()) as { status: string };
        expect(verdict.status, code).to.match(/^(verified|inconclusive)$/);
      }

      // The person proofs the demo wrote verify against the chain, as printed.
      const proofs = [...out.matchAll(/^ +(\S+person-proofs\/batch-1-(range|absence)\.json) /gm)];
      expect(proofs.map((m) => m[2])).to.deep.equal(["range", "absence"]);
      const [, demoRpc] = /chain RPC +(\S+)/.exec(out)!;
      for (const [, file, type] of proofs) {
        const v = spawnSync(
          process.execPath,
          [path.join(root, "bin/shafaf.js"), "verify", file!, "--rpc", demoRpc!],
          { encoding: "utf8" },
        );
        expect(v.status, v.stdout + v.stderr).to.equal(0);
        expect(v.stdout).to.match(
          type === "range"
            ? /VERIFIED: these are all of this person's records/
            : /VERIFIED: this person has no record/,
        );
      }

      // My insurance history: the printed one-time code signs the printed demo persons in, and
      // their batch keys get verifiable proofs (the portal's whole flow: test/web/history.test.ts).
      const [, otp] = /my insurance history \(\S+\): one-time code (\d{6})/.exec(out)!;
      const persons = [...out.matchAll(/^ {4}(\d{10}) {3}(a worker|a pensioner)(.*)$/gm)];
      expect(persons.map((m) => m[2])).to.deep.equal(["a worker", "a worker", "a pensioner"]);
      expect(persons[1]![3]).to.match(/month\(s\) not recorded \(1403-\d\d/);
      const login = (personId: string, code: string) =>
        fetch(`${first.url}/api/v1/demo/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ personId, code }),
        });
      expect(
        (await login(persons[0]![1]!, otp === "000000" ? "000001" : "000000")).status,
      ).to.equal(401);
      const signed = await login(persons[1]![1]!, otp!);
      expect(signed.status).to.equal(200);
      const key = (await signed.json()) as {
        personId: string;
        vrfPublicKey: string;
        proof: string;
      };
      const alpha = personVrfInput(key.personId);
      const beta = vrfVerify(hexToBytes(key.vrfPublicKey), hexToBytes(key.proof), alpha);
      expect(beta.valid).to.equal(true);
      const missing = /not recorded \((1403-\d\d)/.exec(persons[1]![3]!)![1]!;
      const batch = (
        await json<{ items: { batchId: number; period: string; supersededBy: number | null }[] }>(
          `${first.url}/api/v1/batches?kind=premium&from=${missing}&to=${missing}`,
        )
      ).items.find((b) => b.supersededBy === null)!;
      const proofRes = await fetch(`${first.url}/api/v1/persons/proof`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          batchId: batch.batchId,
          key: bytesToHex(
            batchPersonKey((beta as { beta: Uint8Array }).beta, {
              kind: "premium",
              period: missing,
            }),
          ),
        }),
      });
      expect(proofRes.status).to.equal(200);
      const material = (await proofRes.json()) as { proof: { type: string }; log?: unknown };
      expect(material.proof.type).to.equal("absence");
      expect(material.log).to.not.equal(undefined);

      // The demo's ledger log: every batch logged, cosigned by the four institutions' witnesses,
      // served at /log, and a batch proven offline with the commands the demo prints.
      expect(out).to.match(
        /ledger log +http:\/\/127\.0\.0\.1:\d+\/log\/checkpoint +\(26 batches, cosigned by 4 of 4 witnesses\)/,
      );
      const policyFile = /trust policy +(\S+)/.exec(out)![1]!;
      const logDir = /log proof --log-dir (\S+)/.exec(out)![1]!;
      const policy = parseTrustPolicy(await readFile(policyFile, "utf8"));
      const served = await (await fetch(`${first.url}/log/checkpoint`)).text();
      const checked = verifyCheckpointPolicy(served, policy);
      expect(checked.ok && checked.checkpoint.size).to.equal(26);
      expect(checked.ok && checked.cosigners).to.have.length(4);
      const cli = (...args: string[]) =>
        spawnSync(process.execPath, [path.join(root, "bin/shafaf.js"), ...args], {
          cwd: dataDir,
          encoding: "utf8",
        });
      const proved = cli("log", "proof", "--log-dir", logDir, "--batch", "3", "--out", "batch-3");
      expect(proved.status, proved.stderr).to.equal(0);
      const verified = cli(
        "verify-proof",
        "--policy",
        policyFile,
        "--entry",
        "batch-3.entry",
        "batch-3.tlog-proof",
      );
      expect(verified.status, verified.stdout + verified.stderr).to.equal(0);
      expect(verified.stdout).to.match(/verified/);
      const wrong = cli("log", "proof", "--log-dir", logDir, "--batch", "4", "--out", "batch-4");
      expect(wrong.status).to.equal(0);
      const mixed = cli(
        "verify-proof",
        "--policy",
        policyFile,
        "--entry",
        "batch-4.entry",
        "batch-3.tlog-proof",
      );
      expect(mixed.status).to.equal(1);

      // The chain holds the log's checkpoint (recorded by the demo's LOG_ROLE account) and the
      // trust policy's hash (recorded by its admin): both compared with the files.
      expect(out).to.match(/recorded on the ledger at size 26 \(logCheckpoint\(\)\)/);
      const [, rpcUrl, contract] = /chain RPC +(\S+) +\(contract (0x[0-9a-fA-F]{40})\)/.exec(out)!;
      const onChain = cli(
        "log",
        "verify",
        "--rpc",
        rpcUrl!,
        "--contract",
        contract!,
        "--log-dir",
        logDir,
      );
      expect(onChain.status, onChain.stdout + onChain.stderr).to.equal(0);
      expect(onChain.stdout).to.contain("OK: the ledger's log checkpoint (size 26");
      const policyOnChain = cli(
        "log",
        "policy",
        policyFile,
        "--rpc",
        rpcUrl!,
        "--contract",
        contract!,
      );
      expect(policyOnChain.status, policyOnChain.stdout + policyOnChain.stderr).to.equal(0);
    } finally {
      first.interrupt();
    }
    expect(await first.exited).to.equal(0);
    expect(first.out()).to.include("stopping");

    const second = await start(dataDir);
    try {
      expect(second.out()).to.include("the index belongs to an earlier chain");
      const chain = await json<{ batchCount: number }>(`${second.url}/api/v1/chain`);
      expect(chain.batchCount).to.equal(26);
    } finally {
      second.interrupt();
    }
    expect(await second.exited).to.equal(0);
  });
});
