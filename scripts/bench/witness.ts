/**
 * `npm run bench -- witness`: the latency of cosigning a checkpoint with 4 witnesses (each a real
 * `createWitnessApp` on 127.0.0.1 with its own LevelDB, in this process) as the log grows one
 * entry per checkpoint, beside two references measured in the same run: one loopback HTTP round
 * trip to a no-op handler, and one Ed25519 sign + verify. Then the size of an offline proof
 * (c2sp.org/tlog-proof with a log signature and 4 cosignatures) at several log sizes, and the
 * time to verify one against a 3-of-4 policy.
 *
 * Env: BENCH_WITNESS_ROUNDS (default 200), BENCH_WITNESS_PREFILL (entries before, default 5000).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { hashLeaf, inclusionProof } from "../../src/core/rfc6962.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  ed25519PublicKey,
  formatVerifierKey,
  noteVerifier,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";
import { parseTrustPolicy } from "../../src/core/tlog-policy.ts";
import { formatTlogProof, verifyTlogProof } from "../../src/core/tlog-proof.ts";
import { openTiledLog } from "../../src/log/tiled-log.ts";
import { cosignCheckpoint, type WitnessEndpoint } from "../../src/log/witness-client.ts";
import { createWitness } from "../../src/witness/witness.ts";
import { createWitnessApp } from "../../src/witness/witness-app.ts";
import { openWitnessStore, type WitnessStore } from "../../src/witness/witness-store.ts";

const ROUNDS = Number(process.env.BENCH_WITNESS_ROUNDS ?? 200);
const PREFILL = Number(process.env.BENCH_WITNESS_PREFILL ?? 5000);
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
  const dir = await mkdtemp(path.join(os.tmpdir(), "shafaf-bench-witness-"));
  const servers: Server[] = [];
  const stores: WitnessStore[] = [];
  try {
    const logSeed = new Uint8Array(32).fill(1);
    const logVkey = formatVerifierKey(ORIGIN, SIG_TYPE_ED25519, ed25519PublicKey(logSeed));
    const endpoints: WitnessEndpoint[] = [];
    const seeds: Uint8Array[] = [];
    for (let i = 1; i <= 4; i++) {
      const seed = new Uint8Array(32).fill(10 + i);
      seeds.push(seed);
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
      endpoints.push({
        name: `w${i}`,
        url,
        verifier: noteVerifier(
          formatVerifierKey(name, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed)),
        ),
      });
    }
    const policy = parseTrustPolicy(
      [
        `log ${logVkey}`,
        ...endpoints.map(
          (e, i) =>
            `witness ${e.name} ${formatVerifierKey(`auditor-${i + 1}.example/witness`, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seeds[i]!))}`,
        ),
        "group auditors 3 w1 w2 w3 w4",
        "quorum auditors",
        "",
      ].join("\n"),
    );

    // References: a loopback round trip to a no-op handler, one Ed25519 sign + verify.
    const noop = await listen((_req, res) => res.end("ok\n"));
    servers.push(noop.server);
    const rtt: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await (await fetch(noop.url, { method: "POST", body: "x" })).text();
      rtt.push(performance.now() - t);
    }
    const signer = ed25519NoteSigner(ORIGIN, logSeed);
    const verifier = ed25519NoteVerifier(ORIGIN, ed25519PublicKey(logSeed));
    const msg = enc.encode(`${ORIGIN}\n12345\n${"A".repeat(43)}=\n`);
    const ed: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      verifier.verify(msg, signer.sign(msg));
      ed.push(performance.now() - t);
    }

    const log = await openTiledLog({ dir: path.join(dir, "log"), origin: ORIGIN, signer });
    await log.append(
      Array.from({ length: PREFILL }, (_, i) =>
        enc.encode(`shafaf-batch-summary/1 batch ${i + 1}`),
      ),
    );
    const knownSizes = new Map<string, number>();
    const total: number[] = [];
    const perWitness: number[] = [];
    let failures = 0;
    let lastNote = "";
    let lastSize = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await log.append([enc.encode(`shafaf-batch-summary/1 batch ${log.size() + 1}`)]);
      const note = await log.signCheckpoint();
      const t = performance.now();
      const { note: cosigned, outcomes } = await cosignCheckpoint({
        note,
        size: log.size(),
        witnesses: endpoints,
        knownSizes,
        proofFrom: (m) => log.consistencyProof(m),
      });
      total.push(performance.now() - t);
      for (const o of outcomes) {
        perWitness.push(o.ms);
        if (!o.ok) failures++;
      }
      lastNote = cosigned;
      lastSize = log.size();
    }
    // One witness alone (no other witness sharing this process's core).
    const alone: number[] = [];
    for (let round = 0; round < Math.min(ROUNDS, 100); round++) {
      await log.append([enc.encode(`shafaf-batch-summary/1 batch ${log.size() + 1}`)]);
      const note = await log.signCheckpoint();
      const t = performance.now();
      await cosignCheckpoint({
        note,
        size: log.size(),
        witnesses: endpoints.slice(0, 1),
        knownSizes,
        proofFrom: (m) => log.consistencyProof(m),
      });
      alone.push(performance.now() - t);
    }
    // A durable LevelDB write (what each witness does before answering).
    const fsyncStore = await openWitnessStore(path.join(dir, "fsync"));
    stores.push(fsyncStore);
    const puts: number[] = [];
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      await fsyncStore.put({ origin: ORIGIN, size: i, rootHash: "", note: "", cosignedAt: i });
      puts.push(performance.now() - t);
    }
    console.log(
      `node ${process.version}; 4 witnesses on 127.0.0.1 in this process; log of ${PREFILL} entries growing by 1 per checkpoint; ${ROUNDS} checkpoints`,
    );
    console.log("");
    console.log("what                                              median      p95");
    console.log(
      `cosign a checkpoint with 4 witnesses (parallel)   ${fmt(quantile(total, 0.5)).padEnd(11)} ${fmt(quantile(total, 0.95))}`,
    );
    console.log(
      `  one witness's add-checkpoint, seen by the log    ${fmt(quantile(perWitness, 0.5)).padEnd(11)} ${fmt(quantile(perWitness, 0.95))}`,
    );
    console.log(
      `one witness alone (the other 3 idle)               ${fmt(quantile(alone, 0.5)).padEnd(11)} ${fmt(quantile(alone, 0.95))}`,
    );
    console.log(
      `reference: one LevelDB put with sync (fsync)       ${fmt(quantile(puts, 0.5)).padEnd(11)} ${fmt(quantile(puts, 0.95))}`,
    );
    console.log(
      `reference: loopback HTTP round trip (no-op)        ${fmt(quantile(rtt, 0.5)).padEnd(11)} ${fmt(quantile(rtt, 0.95))}`,
    );
    console.log(
      `reference: Ed25519 sign + verify (@noble/curves)   ${fmt(quantile(ed, 0.5)).padEnd(11)} ${fmt(quantile(ed, 0.95))}`,
    );
    console.log(`failed cosignatures: ${failures}`);

    // Offline proof sizes: the proof's length depends only on (index, size), so the tree hashes
    // are stand-ins; the checkpoint is really signed and cosigned.
    console.log(
      "\nlog size   proof hashes   tlog-proof bytes (entry 0, the longest path; log signature + 4 cosignatures)",
    );
    const zero = new Uint8Array(32);
    for (const size of [1_000, 10_000, 100_000, 1_000_000]) {
      const text = formatCheckpoint({ origin: ORIGIN, size, rootHash: zero, extensions: [] });
      const noteWithCosigs = signNote(text, [
        signer,
        ...seeds.map((s, i) => cosignatureV1Signer(`auditor-${i + 1}.example/witness`, s)),
      ]);
      const index = 0;
      const path0 = inclusionProof(index, size, () => zero);
      const proof = formatTlogProof({ index, inclusionProof: path0, checkpoint: noteWithCosigs });
      console.log(
        `${String(size).padEnd(10)} ${String(path0.length).padEnd(14)} ${enc.encode(proof).length}`,
      );
    }
    const index = lastSize - 3;
    const proof = log.tlogProof(index, lastSize, lastNote);
    const leaf = hashLeaf(log.entry(index));
    const vt: number[] = [];
    let verified = 0;
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      if (verifyTlogProof(proof, leaf, policy).status === "verified") verified++;
      vt.push(performance.now() - t);
    }
    console.log(
      `\nthis run's proof (log of ${lastSize}): ${enc.encode(proof).length} bytes; offline verification against the 3-of-4 policy: median ${fmt(quantile(vt, 0.5))} (${verified}/200 verified)`,
    );
    console.log(
      JSON.stringify({
        cosign4MedianMs: quantile(total, 0.5),
        cosign1MedianMs: quantile(alone, 0.5),
        fsyncPutMedianMs: quantile(puts, 0.5),
        cosign4P95Ms: quantile(total, 0.95),
        rttMedianMs: quantile(rtt, 0.5),
        proofBytes: enc.encode(proof).length,
        verifyMedianMs: quantile(vt, 0.5),
      }),
    );
  } finally {
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    for (const s of stores) await s.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
