/**
 * The demo's witnessed ledger log: the organization's log key and four witnesses, one per
 * institution of the demo's governance (auditors, parliament's audit court, the employers' and the
 * workers' representatives), each a real c2sp.org/tlog-witness server on 127.0.0.1 with its own
 * key and LevelDB store. The keys are made fresh for each start (the embedded chain is new each
 * start, so is its log); the trust policy a verifier needs is written to `<dir>/trust-policy.txt`.
 * Given the chain, the demo's admin records that policy's SHA-256 on the ledger and gives
 * LOG_ROLE to development account 3, which then records every new checkpoint on the ledger.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  noteVerifier,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../core/signed-note.ts";
import { Contract, id } from "ethers";
import { setTrustPolicy } from "../chain/set-trust-policy.ts";
import { connectSigner, type ConnectedSigner } from "../chain/signer.ts";
import { LEDGER_ABI } from "../core/ledger-abi.ts";
import { trustPolicyHash } from "../core/tlog-policy.ts";
import { openTiledLog, type TiledLog } from "../log/tiled-log.ts";
import type { WitnessEndpoint } from "../log/witness-client.ts";
import { createWitness } from "../witness/witness.ts";
import { createWitnessApp } from "../witness/witness-app.ts";
import { openWitnessStore, type WitnessStore } from "../witness/witness-store.ts";
import { DEMO_ACCOUNTS } from "./demo.ts";
import { logCheckpointRecorder, type LogCheckpointRecorder } from "./ledger-log-follower.ts";

export const DEMO_LOG_ORIGIN = "sso.example/ledger-log";
const DEMO_WITNESSES = [
  "auditors.example/witness",
  "audit-court.example/witness",
  "employers.example/witness",
  "workers.example/witness",
] as const;
/** The development account that holds LOG_ROLE in the demo and records the log's checkpoints. */
export const DEMO_LOG_ACCOUNT = "dev:3";

export interface DemoLog {
  log: TiledLog;
  witnesses: WitnessEndpoint[];
  /** The c2sp.org/tlog-policy file: the log key, the four witnesses, quorum 3 of 4. */
  policyFile: string;
  /** Given the chain: records each new checkpoint on the ledger as DEMO_LOG_ACCOUNT. */
  recordOnChain?: LogCheckpointRecorder;
  /** Given the chain: the policy's SHA-256, recorded on the ledger (trustPolicy()). */
  policyHash?: string;
  close(): Promise<void>;
}

/**
 * @example
 * const demoLog = await startDemoLog({ dir: path.join(runDir, "ledger-log") });
 * await startServeStack({ …, ledgerLog: demoLog });
 */
export async function startDemoLog(options: {
  dir: string;
  /** The demo's chain and ledger: the policy is recorded there and the log's checkpoints too. */
  chain?: { url: string; contract: string };
}): Promise<DemoLog> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const logSeed = randomBytes(32);
  const logVkey = formatVerifierKey(DEMO_LOG_ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
  const servers: Server[] = [];
  const stores: WitnessStore[] = [];
  const signers: ConnectedSigner[] = [];
  const close = async () => {
    for (const s of signers.splice(0)) s.provider.destroy();
    for (const s of servers.splice(0))
      await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const s of stores.splice(0)) await s.close();
  };
  try {
    const witnesses: WitnessEndpoint[] = [];
    const lines = [`log ${logVkey}`];
    for (const [i, name] of DEMO_WITNESSES.entries()) {
      const seed = randomBytes(32);
      const store = await openWitnessStore(path.join(options.dir, `witness-${i + 1}`));
      stores.push(store);
      const witness = createWitness({
        cosigner: cosignatureV1Signer(name, seed),
        logs: [noteVerifier(logVkey)],
        store,
      });
      const server = createServer(createWitnessApp({ witness }));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
      servers.push(server);
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const vkey = formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed));
      const short = name.slice(0, name.indexOf("."));
      witnesses.push({ name: short, url, verifier: noteVerifier(vkey) });
      lines.push(`witness ${short} ${vkey} ${url}`);
    }
    lines.push(`group institutions 3 ${witnesses.map((w) => w.name).join(" ")}`);
    lines.push("quorum institutions");
    const policyFile = path.join(options.dir, "trust-policy.txt");
    await writeFile(policyFile, lines.join("\n") + "\n");
    const log = await openTiledLog({
      dir: path.join(options.dir, "log"),
      origin: DEMO_LOG_ORIGIN,
      signer: ed25519NoteSigner(DEMO_LOG_ORIGIN, logSeed),
    });
    if (options.chain === undefined) return { log, witnesses, policyFile, close };
    const { url, contract } = options.chain;
    const admin = await connectSigner({ rpcUrl: url, spec: { dev: DEMO_ACCOUNTS.admin } });
    signers.push(admin);
    const recorder = await connectSigner({ rpcUrl: url, spec: { dev: DEMO_LOG_ACCOUNT } });
    signers.push(recorder);
    const ledger = new Contract(contract, LEDGER_ABI, admin.wallet);
    const granted = (await ledger.getFunction("grantRole")(id("LOG_ROLE"), recorder.address)) as {
      wait(): Promise<unknown>;
    };
    await granted.wait();
    const policyHash = trustPolicyHash(await readFile(policyFile), policyFile);
    await setTrustPolicy({ wallet: admin.wallet, address: contract, policyHash });
    const recordOnChain = logCheckpointRecorder({
      wallet: recorder.wallet,
      address: contract,
      chainId: recorder.chainId,
      rpcUrl: url,
    });
    return { log, witnesses, policyFile, recordOnChain, policyHash, close };
  } catch (error) {
    await close();
    throw error;
  }
}
