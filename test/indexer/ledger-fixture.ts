/**
 * Test helpers for the indexer: a ledger deployed on a running dev chain, anchoring with
 * synthetic roots, and a JSON-RPC proxy that can tamper with a real node's answers at the HTTP
 * boundary. Nothing here touches a network at import time.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Contract, JsonRpcProvider, keccak256, toUtf8Bytes, type TransactionReceipt } from "ethers";
import { loadLedgerArtifact } from "../../src/chain/artifact.ts";
import { deployLedger } from "../../src/chain/deploy-ledger.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { openIndexStore, type WritableIndexStore } from "../../src/store/index-store.ts";

export const ROLES = {
  ANCHORER: keccak256(toUtf8Bytes("ANCHORER_ROLE")),
  AUDITOR: keccak256(toUtf8Bytes("AUDITOR_ROLE")),
  PAUSER: keccak256(toUtf8Bytes("PAUSER_ROLE")),
};

export async function rawRpc(
  url: string,
  method: string,
  params: unknown[] = [],
): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export interface LedgerFixture {
  url: string;
  provider: JsonRpcProvider;
  address: string;
  deployBlock: number;
  /** Connected as: admin (dev 0), anchorer (dev 1), auditors (dev 2, dev 3), pauser (dev 4). */
  admin: Contract;
  anchorer: Contract;
  auditor: Contract;
  auditor2: Contract;
  pauser: Contract;
  accounts: { admin: string; anchorer: string; auditor: string; auditor2: string; pauser: string };
}

/** Deploys a fresh ledger on the chain at `url`, with dev accounts 0–4 in its roles. */
export async function deployFixture(url: string): Promise<LedgerFixture> {
  const provider = new JsonRpcProvider(url, undefined, {
    staticNetwork: true,
    batchMaxCount: 1,
    cacheTimeout: -1,
    pollingInterval: 50,
  });
  const wallets = [0, 1, 2, 3, 4].map((n) => devWallet(n).connect(provider));
  const [w0, w1, w2, w3, w4] = wallets as [
    (typeof wallets)[0],
    (typeof wallets)[0],
    (typeof wallets)[0],
    (typeof wallets)[0],
    (typeof wallets)[0],
  ];
  const deployed = await deployLedger({
    signer: w0,
    admin: w0.address,
    adminDelaySeconds: 0,
    anchorers: [w1.address],
    auditors: [w2.address, w3.address],
    pausers: [w4.address],
  });
  const { abi } = await loadLedgerArtifact();
  const at = (w: (typeof wallets)[0]) => new Contract(deployed.address, abi, w);
  return {
    url,
    provider,
    address: deployed.address,
    deployBlock: deployed.blockNumber,
    admin: at(w0),
    anchorer: at(w1),
    auditor: at(w2),
    auditor2: at(w3),
    pauser: at(w4),
    accounts: {
      admin: w0.address.toLowerCase(),
      anchorer: w1.address.toLowerCase(),
      auditor: w2.address.toLowerCase(),
      auditor2: w3.address.toLowerCase(),
      pauser: w4.address.toLowerCase(),
    },
  };
}

let salt = 0;

export interface AnchorArgs {
  kind?: 0 | 1;
  period?: number;
  recordCount?: number;
  total?: bigint;
  manifestHash?: string;
  supersedes?: number;
  /** Distinguishes otherwise equal batches on two branches of a reorg. */
  tag?: string;
}

/** Anchors a batch with a synthetic root; returns the receipt. */
export async function anchor(f: LedgerFixture, args: AnchorArgs = {}): Promise<TransactionReceipt> {
  const n = ++salt;
  const root = keccak256(toUtf8Bytes(`root ${n} ${args.tag ?? ""} ${Date.now()}`));
  const key = keccak256(toUtf8Bytes(`key ${n} ${args.tag ?? ""} ${Date.now()}`));
  const tx = await f.anchorer.getFunction("anchorBatch")(
    root,
    args.kind ?? 0,
    args.period ?? 140307,
    args.recordCount ?? 12,
    args.total ?? 123_456_789n,
    args.manifestHash ?? keccak256(toUtf8Bytes(`manifest ${n}`)),
    args.supersedes ?? 0,
    key,
  );
  return (await tx.wait()) as TransactionReceipt;
}

export async function send(
  contract: Contract,
  method: string,
  ...args: unknown[]
): Promise<TransactionReceipt> {
  const tx = await contract.getFunction(method)(...args);
  return (await tx.wait()) as TransactionReceipt;
}

/** A temp dir with index stores; `cleanup()` closes them and removes the dir. */
export async function tempStores(): Promise<{
  open(name: string): Promise<WritableIndexStore>;
  cleanup(): Promise<void>;
}> {
  const dir = await mkdtemp(path.join(tmpdir(), "shafaf-indexer-"));
  const stores: WritableIndexStore[] = [];
  return {
    async open(name) {
      const s = await openIndexStore(path.join(dir, name));
      stores.push(s);
      return s;
    },
    async cleanup() {
      for (const s of stores) await s.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every key/value of the views (the recent-block undo bookkeeping depends on commit sizes). */
export async function viewDump(store: WritableIndexStore): Promise<Array<[string, string]>> {
  return (await store.dump()).filter(([k]) => !k.startsWith("!blocks!"));
}

type Rewrite = (
  request: { method: string; params: unknown[] },
  forward: () => Promise<{ result?: unknown; error?: unknown }>,
) => Promise<{ result?: unknown; error?: unknown }>;

/**
 * A JSON-RPC proxy on 127.0.0.1 in front of `upstream` that lets a test rewrite any answer.
 * Counts requests per method.
 */
export async function startProxy(
  upstream: string,
  rewrite: Rewrite,
): Promise<{ url: string; calls: Map<string, number>; close(): Promise<void> }> {
  const calls = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = JSON.parse(await readBody(req)) as {
        id: unknown;
        method: string;
        params?: unknown[];
      };
      calls.set(body.method, (calls.get(body.method) ?? 0) + 1);
      const forward = async () => {
        const r = await fetch(upstream, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return (await r.json()) as { result?: unknown; error?: unknown };
      };
      const answer = await rewrite({ method: body.method, params: body.params ?? [] }, forward);
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ jsonrpc: "2.0", id: body.id, ...answer }));
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (s += c));
    req.on("end", () => resolve(s));
    req.on("error", reject);
  });
}
