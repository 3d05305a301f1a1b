/**
 * The demo's witnessed ledger log: the organization's log key and four witnesses, one per
 * institution of the demo's governance (auditors, parliament's audit court, the employers' and the
 * workers' representatives), each a real c2sp.org/tlog-witness server on 127.0.0.1 with its own
 * key and LevelDB store — with `processes`, each its own `shafaf witness` process, as an
 * institution runs it (`npm start`). The keys are made fresh for each start (the embedded chain is new each
 * start, so is its log); the trust policy a verifier needs is written to `<dir>/trust-policy.txt`.
 * Given the chain, the demo's admin records that policy's SHA-256 on the ledger and gives
 * LOG_ROLE to development account 3, which then records every new checkpoint on the ledger.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
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
import { KEYSTORE_PASSWORD_ENV } from "../chain/keystore.ts";
import { newNoteKeystore } from "../chain/note-keystore.ts";
import { InvariantError } from "../core/errors.ts";
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
  /**
   * Run each witness as its own `shafaf witness` child process (its key in a note keystore), as
   * `npm start` does; default: in this process (tests).
   */
  processes?: boolean;
  /** The demo's chain and ledger: the policy is recorded there and the log's checkpoints too. */
  chain?: { url: string; contract: string };
}): Promise<DemoLog> {
  await mkdir(options.dir, { recursive: true, mode: 0o700 });
  const logSeed = randomBytes(32);
  const logVkey = formatVerifierKey(DEMO_LOG_ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
  const servers: Server[] = [];
  const stores: WitnessStore[] = [];
  const signers: ConnectedSigner[] = [];
  const children: ChildProcess[] = [];
  const close = async () => {
    for (const s of signers.splice(0)) s.provider.destroy();
    await Promise.all(children.splice(0).map(stopChild));
    for (const s of servers.splice(0))
      await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const s of stores.splice(0)) await s.close();
  };
  try {
    const witnesses: WitnessEndpoint[] = [];
    const lines = [`log ${logVkey}`];
    const started = await Promise.all(
      DEMO_WITNESSES.map(async (name, i) => {
        const seed = randomBytes(32);
        const dir = path.join(options.dir, `witness-${i + 1}`);
        const url =
          options.processes === true
            ? await spawnWitness({ dir, name, seed, logVkey, children, chain: options.chain })
            : await inProcessWitness({ dir, name, seed, logVkey, stores, servers });
        const vkey = formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed));
        return { short: name.slice(0, name.indexOf(".")), vkey, url };
      }),
    );
    for (const { short, vkey, url } of started) {
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

/** One witness served from this process: its own store and HTTP server on 127.0.0.1. */
async function inProcessWitness(w: {
  dir: string;
  name: string;
  seed: Uint8Array;
  logVkey: string;
  stores: WitnessStore[];
  servers: Server[];
}): Promise<string> {
  const store = await openWitnessStore(w.dir);
  w.stores.push(store);
  const witness = createWitness({
    cosigner: cosignatureV1Signer(w.name, w.seed),
    logs: [noteVerifier(w.logVkey)],
    store,
  });
  const server = createServer(createWitnessApp({ witness }));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  w.servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The password of the demo witnesses' keystores (demo only: the keys live for one start). */
const DEMO_WITNESS_PASSWORD = "demo witness key, one start only";

/**
 * One witness as an institution runs it: its key in a note keystore (0600), a policy naming the
 * log it witnesses, and `shafaf witness` in a child process on 127.0.0.1:0. Resolves its URL.
 */
async function spawnWitness(w: {
  dir: string;
  name: string;
  seed: Uint8Array;
  logVkey: string;
  children: ChildProcess[];
  /** The ledger the witness follows (it cosigns only checkpoints that match it). */
  chain?: { url: string; contract: string } | undefined;
}): Promise<string> {
  await mkdir(w.dir, { recursive: true, mode: 0o700 });
  const { json } = await newNoteKeystore({
    name: w.name,
    role: "witness",
    password: DEMO_WITNESS_PASSWORD,
    seed: w.seed,
  });
  const key = path.join(w.dir, "key.json");
  await writeFile(key, json, { mode: 0o600 });
  const policy = path.join(w.dir, "witnessed-logs.txt");
  await writeFile(policy, `log ${w.logVkey}\nquorum none\n`);
  const child = spawn(
    process.execPath,
    [
      ...["--import", "tsx", fileURLToPath(new URL("./main.ts", import.meta.url)), "witness"],
      ...["--key", key, "--policy", policy, "--data-dir", path.join(w.dir, "store")],
      ...["--port", "0"],
      ...(w.chain !== undefined ? ["--rpc", w.chain.url, "--contract", w.chain.contract] : []),
    ],
    {
      env: { ...process.env, [KEYSTORE_PASSWORD_ENV]: DEMO_WITNESS_PASSWORD },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  w.children.push(child);
  return new Promise<string>((resolve, reject) => {
    let out = "";
    let err = "";
    child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m !== null) resolve(m[1]!);
    });
    child.once("exit", (code) =>
      reject(
        new InvariantError(`the demo witness ${w.name} exited (${code}) before listening`, {
          details: err.slice(-2000),
          code: "demo.witness.exit",
        }),
      ),
    );
  });
}

/** Stops a witness process (SIGTERM: it closes its store) and waits for it. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
