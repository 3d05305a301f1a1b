/**
 * `npm run bench -- monitor`: the time of one `shafaf monitor` round (runMonitorRound) against a
 * log served over HTTP by the project's log router and 4 real witnesses on 127.0.0.1 (all in this
 * process): a steady round (nothing new: 5 checkpoints read and verified, roots compared) and a
 * round after the log grew by one entry (tiles fetched, 5 consistency proofs computed and
 * verified), beside a reference measured in the same run: one loopback HTTP round trip.
 *
 * Env: BENCH_MONITOR_ROUNDS (default 50), BENCH_MONITOR_PREFILL (log entries, default 100000).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import express from "express";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  noteVerifier,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { createLogRouter } from "../../src/log/log-routes.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { cosignCheckpoint, type WitnessEndpoint } from "../../src/log/witness-client.ts";
import { runMonitorRound } from "../../src/monitor/monitor-round.ts";
import { emptyMonitorState } from "../../src/monitor/monitor-state.ts";
import { createWitness } from "../../src/witness/witness.ts";
import { createWitnessApp } from "../../src/witness/witness-app.ts";
import { openWitnessStore, type WitnessStore } from "../../src/witness/witness-store.ts";

const ROUNDS = Number(process.env.BENCH_MONITOR_ROUNDS ?? 50);
const PREFILL = Number(process.env.BENCH_MONITOR_PREFILL ?? 100_000);
const ORIGIN = "sso.example/ledger-log";
const enc = new TextEncoder();

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function listen(
  handler: Parameters<typeof createServer>[1],
): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-bench-monitor-"));
  const servers: Server[] = [];
  const stores: WitnessStore[] = [];
  try {
    const logSeed = new Uint8Array(32).fill(1);
    const logVkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
    const endpoints: WitnessEndpoint[] = [];
    const lines = [`log ${logVkey}`];
    for (let i = 1; i <= 4; i++) {
      const seed = new Uint8Array(32).fill(10 + i);
      const name = `auditor-${i}.example/witness`;
      const store = await openWitnessStore(path.join(dir, `w${i}`));
      stores.push(store);
      const witness = createWitness({
        cosigner: cosignatureV1Signer(name, seed),
        logs: [noteVerifier(logVkey)],
        store,
      });
      const { server, url } = await listen(createWitnessApp({ witness }));
      servers.push(server);
      const vkey = formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed));
      endpoints.push({ name: `w${i}`, url, verifier: noteVerifier(vkey) });
      lines.push(`witness w${i} ${vkey} ${url}`);
    }
    const policy = parseTrustPolicy(
      [...lines, "group auditors 3 w1 w2 w3 w4", "quorum auditors", ""].join("\n"),
    );
    const log = await openTiledLog({
      dir: path.join(dir, "log"),
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
    await log.append(
      Array.from({ length: PREFILL }, (_, i) => enc.encode(`shafaf-log-entry batch ${i + 1}`)),
    );
    const knownSizes = new Map<string, number>();
    const grow = async () => {
      const note = await log.signCheckpoint();
      const r = await cosignCheckpoint({
        note,
        size: log.size(),
        witnesses: endpoints,
        knownSizes,
        proofFrom: (m) => log.consistencyProof(m),
      });
      await log.publishCheckpoint(r.note);
    };
    await grow();
    const app = express();
    app.use("/log", createLogRouter({ dir: log.dir }));
    const served = await listen(app);
    servers.push(served.server);
    const options = {
      policy,
      logs: [`${served.url}/log`],
      witnesses: endpoints.map((e) => ({ name: e.name, url: e.url })),
    };
    const state = emptyMonitorState();
    const first = await runMonitorRound(options, state);
    if (first.status !== "healthy") throw new Error(JSON.stringify(first));

    const noop = await listen((_req, res) => res.end("ok\n"));
    servers.push(noop.server);
    const rtt: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await (await fetch(noop.url)).text();
      rtt.push(performance.now() - t);
    }
    const steady: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      const r = await runMonitorRound(options, state);
      steady.push(performance.now() - t);
      if (r.status !== "healthy") throw new Error(JSON.stringify(r));
    }
    const grown: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await log.append([enc.encode(`shafaf-log-entry batch ${log.size() + 1}`)]);
      await grow();
      const t = performance.now();
      const r = await runMonitorRound(options, state);
      grown.push(performance.now() - t);
      if (r.status !== "healthy") throw new Error(JSON.stringify(r));
    }
    console.log(
      `node ${process.version}; log of ${PREFILL} entries served on 127.0.0.1; 4 witnesses; ${ROUNDS} rounds each`,
    );
    console.log("");
    console.log("what                                                  median      p95");
    console.log(
      `monitor round, nothing new (5 checkpoints verified)   ${fmt(quantile(steady, 0.5)).padEnd(11)} ${fmt(quantile(steady, 0.95))}`,
    );
    console.log(
      `monitor round, log grew by 1 (tiles + 5 proofs)       ${fmt(quantile(grown, 0.5)).padEnd(11)} ${fmt(quantile(grown, 0.95))}`,
    );
    console.log(
      `reference: loopback HTTP round trip (no-op)           ${fmt(quantile(rtt, 0.5)).padEnd(11)} ${fmt(quantile(rtt, 0.95))}`,
    );
  } finally {
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const s of stores) await s.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
