/**
 * `npm run bench -- indexer [N]`: how fast the indexer turns ledger events into views.
 *
 * Anchors N batches (default 2,000, each with a verified manifest of 3 provinces) on a fresh
 * development chain, then measures, in the same run and against the same node:
 * - reference: one plain `fetch` + `JSON.parse` of `eth_getLogs` over the whole range (logs/s);
 * - the same with every log decoded by ethers' `Interface.parseLog` (a prebuilt Interface);
 * - `fetchLogs`: the windowed, checked fetch the indexer uses, without block headers (logs/s);
 * - the indexer: `syncOnce()` into an empty LevelDB index store, end to end (events/s);
 * - the indexer's own CPU: `syncOnce()` served the node's recorded answers from memory.
 * Medians of 3 runs. Bounded: one local node, N transactions.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ContractFactory, Interface, keccak256, toUtf8Bytes, type Wallet } from "ethers";
import { loadLedgerArtifact } from "../../src/chain/artifact.ts";
import { startDevChain } from "../../src/chain/dev-chain.ts";
import { fetchLogs } from "../../src/chain/get-logs.ts";
import { createRpc, type Rpc, type RpcCall } from "../../src/chain/rpc.ts";
import { devWallet } from "../../src/chain/signer.ts";
import { createIndexer } from "../../src/indexer/create-indexer.ts";
import { openIndexStore } from "../../src/store/index-store.ts";
import { JsonRpcProvider } from "ethers";

const N = Number(process.argv[2] ?? 2_000);
const RUNS = Number(process.env.RUNS ?? 3);
/** BENCH_INDEXER_PROFILE=FILE: a V8 CPU profile of the last replayed syncOnce, the indexer's own CPU (open in Chrome DevTools). */
const PROFILE = process.env.BENCH_INDEXER_PROFILE;
/** BENCH_INDEXER_TIMELINE=1: print every node request of the last run's syncOnce with its timing. */
const TIMELINE = process.env.BENCH_INDEXER_TIMELINE === "1";

async function call(url: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const chain = await startDevChain();
try {
  const provider = new JsonRpcProvider(chain.url, undefined, {
    staticNetwork: true,
    batchMaxCount: 1,
  });
  const admin = devWallet(0).connect(provider) as unknown as Wallet;
  const anchorer = devWallet(1);
  const { abi, bytecode } = await loadLedgerArtifact();
  const factory = new ContractFactory(abi, bytecode, admin);
  const ledger = await factory.deploy(admin.address, 0, [anchorer.address], [], []);
  await ledger.waitForDeployment();
  const address = (await ledger.getAddress()).toLowerCase();
  const iface = new Interface(abi);

  // N anchors, signed locally and mined in as few blocks as the gas limit allows
  const manifests = new Map<string, Uint8Array>();
  const started = performance.now();
  await call(chain.url, "evm_setAutomine", [false]);
  let nonce = Number(
    await call(chain.url, "eth_getTransactionCount", [anchorer.address, "latest"]),
  );
  for (let i = 1; i <= N; i++) {
    const manifest = toUtf8Bytes(
      JSON.stringify({
        byProvince: {
          "IR-01": { count: 10 + (i % 7), total: String(1_000_000 * i) },
          "IR-07": { count: 20, total: "5000000" },
          "IR-23": { count: 5 + (i % 3), total: String(77 * i) },
        },
      }),
    );
    const manifestHash = keccak256(manifest);
    manifests.set(manifestHash, manifest);
    const data = iface.encodeFunctionData("anchorBatch", [
      keccak256(toUtf8Bytes(`root ${i}`)),
      i % 2,
      140001 + ((i * 7) % 12) + 100 * Math.floor(i / 1200),
      35 + (i % 9),
      BigInt(i) * 1_000_003n,
      manifestHash,
      0,
      keccak256(toUtf8Bytes(`key ${i}`)),
    ]);
    const raw = await anchorer.signTransaction({
      to: address,
      data,
      nonce: nonce++,
      gasLimit: 300_000,
      maxFeePerGas: 10_000_000_000n,
      maxPriorityFeePerGas: 1n,
      chainId: 31337,
      type: 2,
    });
    await call(chain.url, "eth_sendRawTransaction", [raw]);
  }
  for (;;) {
    await call(chain.url, "evm_mine");
    const pending = (await call(chain.url, "eth_getBlockByNumber", ["pending", false])) as {
      transactions: unknown[];
    };
    if (pending.transactions.length === 0) break;
  }
  await call(chain.url, "evm_setAutomine", [true]);
  const head = Number(await call(chain.url, "eth_blockNumber"));
  const count = Number(await ledger.getFunction("batchCount")());
  if (count !== N) throw new Error(`expected ${N} batches on chain, found ${count}`);
  console.log(
    `setup: ${N} batches anchored in ${head} blocks in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  );

  const batching = createRpc({ url: chain.url });
  /** BENCH_INDEXER_NO_BATCH=1: the indexer's requests one per HTTP request (no JSON-RPC batches). */
  const rpc: Rpc =
    process.env.BENCH_INDEXER_NO_BATCH === "1"
      ? { endpoints: batching.endpoints, request: (m, p, o) => batching.request(m, p, o) }
      : batching;
  /** Every request of the timed sync: method, start and end (ms from the sync's start). */
  const requests: { method: string; start: number; end: number }[] = [];
  let t0 = 0;
  const timed: Rpc = {
    endpoints: rpc.endpoints,
    async request<T>(method: string, params?: readonly unknown[], opts?: object) {
      const start = performance.now() - t0;
      try {
        return await rpc.request<T>(method, params, opts);
      } finally {
        requests.push({ method, start, end: performance.now() - t0 });
      }
    },
  };
  if (rpc.requestBatch !== undefined) {
    const batch = rpc.requestBatch.bind(rpc);
    timed.requestBatch = async <T>(calls: readonly RpcCall[], opts?: object) => {
      const start = performance.now() - t0;
      try {
        return await batch<T>(calls, opts);
      } finally {
        const method = `batch of ${calls.length} ${calls[0]?.method ?? ""}`;
        requests.push({ method, start, end: performance.now() - t0 });
      }
    };
  }
  const cpuMs = (since: NodeJS.CpuUsage): number => {
    const u = process.cpuUsage(since);
    return (u.user + u.system) / 1000;
  };
  const reference: number[] = [];
  const referenceCpu: number[] = [];
  const decodedReference: number[] = [];
  const decodedReferenceCpu: number[] = [];
  const windowed: number[] = [];
  const indexing: number[] = [];
  const indexingCpu: number[] = [];
  let events = 0;
  for (let run = 0; run < RUNS; run++) {
    let t = performance.now();
    let cpu = process.cpuUsage();
    const res = await fetch(chain.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "eth_getLogs",
        params: [{ address, fromBlock: "0x0", toBlock: "0x" + head.toString(16) }],
      }),
    });
    const logs = ((await res.json()) as { result: unknown[] }).result;
    reference.push(logs.length / ((performance.now() - t) / 1000));
    referenceCpu.push(cpuMs(cpu));

    // the same request, each log then decoded with ethers' prebuilt Interface (parseLog)
    t = performance.now();
    cpu = process.cpuUsage();
    const res2 = await fetch(chain.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "eth_getLogs",
        params: [{ address, fromBlock: "0x0", toBlock: "0x" + head.toString(16) }],
      }),
    });
    const logs2 = ((await res2.json()) as { result: { topics: string[]; data: string }[] }).result;
    let parsed = 0;
    for (const l of logs2)
      if (iface.parseLog({ topics: l.topics, data: l.data }) !== null) parsed++;
    if (parsed !== logs2.length)
      throw new Error(`parseLog decoded ${parsed} of ${logs2.length} logs`);
    decodedReference.push(logs2.length / ((performance.now() - t) / 1000));
    decodedReferenceCpu.push(cpuMs(cpu));

    t = performance.now();
    const fetched = await fetchLogs({ rpc, address, fromBlock: 0, toBlock: head });
    windowed.push(fetched.logs.length / ((performance.now() - t) / 1000));

    const dir = await mkdtemp(path.join(tmpdir(), "shafaf-bench-index-"));
    const store = await openIndexStore(dir);
    const last = run === RUNS - 1;
    try {
      requests.length = 0;
      t = t0 = performance.now();
      cpu = process.cpuUsage();
      const indexer = createIndexer({
        rpc: last && TIMELINE ? timed : rpc,
        store,
        address,
        confirmations: 0,
        fromBlock: 0,
        manifestSource: (_id, hash) => manifests.get(hash),
      });
      const r = await indexer.syncOnce();
      indexing.push(r.events / ((performance.now() - t) / 1000));
      indexingCpu.push(cpuMs(cpu));
      events = r.events;
      const info = (await store.getChainInfo())!;
      if (info.batchCount !== N || info.headCheck.status !== "ok") {
        throw new Error(
          `indexer ended with ${info.batchCount} batches, head check ${info.headCheck.status}`,
        );
      }
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  // The indexer's own CPU, without the node or HTTP: one sync records every answer of the node,
  // then syncs into fresh stores are served those answers from memory (a promise each).
  const answers = new Map<string, unknown>();
  const keyOf = (method: string, params: readonly unknown[] = []) =>
    JSON.stringify([method, params]);
  const recording: Rpc = {
    endpoints: rpc.endpoints,
    async request<T>(method: string, params?: readonly unknown[], opts?: object) {
      const result = await rpc.request<T>(method, params, opts);
      answers.set(keyOf(method, params), result);
      return result;
    },
  };
  let unanswered = 0;
  const replay: Rpc = {
    endpoints: rpc.endpoints,
    request<T>(method: string, params?: readonly unknown[], opts?: object) {
      const key = keyOf(method, params);
      if (!answers.has(key)) {
        unanswered++;
        return rpc.request<T>(method, params, opts);
      }
      return Promise.resolve(answers.get(key) as T);
    },
  };
  const ownCpu: number[] = [];
  for (let run = 0; run <= RUNS; run++) {
    const dir = await mkdtemp(path.join(tmpdir(), "shafaf-bench-index-"));
    const store = await openIndexStore(dir);
    const session = run === RUNS && PROFILE !== undefined ? new Session() : undefined;
    try {
      if (session !== undefined) {
        session.connect();
        await session.post("Profiler.enable");
        await session.post("Profiler.setSamplingInterval", { interval: 100 });
        await session.post("Profiler.start");
      }
      const cpu = process.cpuUsage();
      await createIndexer({
        rpc: run === 0 ? recording : replay,
        store,
        address,
        confirmations: 0,
        fromBlock: 0,
        manifestSource: (_id, hash) => manifests.get(hash),
      }).syncOnce();
      if (run > 0) ownCpu.push(cpuMs(cpu));
      if (session !== undefined) {
        const { profile } = await session.post("Profiler.stop");
        await writeFile(PROFILE!, JSON.stringify(profile));
        session.disconnect();
      }
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  const ref = median(reference);
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  console.log(
    `| measurement (${N} batches, ${events} events, median of ${RUNS}) | rate | vs reference | this process's CPU |`,
  );
  console.log("|---|---|---|---|");
  console.log(
    `| reference: one fetch + JSON.parse of eth_getLogs | ${fmt(ref)} logs/s | 1.00 | ${fmt(median(referenceCpu))} ms |`,
  );
  console.log(
    `| reference with decoding: the same + ethers Interface.parseLog per log | ${fmt(median(decodedReference))} logs/s | ${(median(decodedReference) / ref).toFixed(2)} | ${fmt(median(decodedReferenceCpu))} ms |`,
  );
  console.log(
    `| fetchLogs (≤ 5,000-block windows, every log checked) | ${fmt(median(windowed))} logs/s | ${(median(windowed) / ref).toFixed(2)} | |`,
  );
  console.log(
    `| indexer syncOnce (headers, manifests, views, LevelDB) | ${fmt(median(indexing))} events/s | ${(median(indexing) / ref).toFixed(2)} | ${fmt(median(indexingCpu))} ms |`,
  );
  console.log(
    `| indexer syncOnce, node answers replayed from memory (its own CPU only) | | | ${fmt(median(ownCpu))} ms |`,
  );
  if (unanswered > 0) console.log(`(${unanswered} replayed requests went to the node)`);
  console.log(
    `\nindexer vs the reference with decoding: ${(median(indexing) / median(decodedReference)).toFixed(2)}`,
  );
  console.log(
    `\nruns: reference ${reference.map(fmt).join(", ")} logs/s; indexer ${indexing.map(fmt).join(", ")} events/s`,
  );
  if (TIMELINE) {
    console.log(`\nnode requests of the last sync (ms from its start):`);
    for (const q of requests.sort((a, b) => a.start - b.start)) {
      console.log(
        `${q.start.toFixed(1).padStart(8)} → ${q.end.toFixed(1).padStart(8)}  ${q.method}`,
      );
    }
  }
} finally {
  await chain.stop();
}
