import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { encodeBase64 } from "../../src/core/base64.ts";
import { formatCheckpoint } from "../../src/core/checkpoint.ts";
import { EMPTY_ROOT } from "../../src/core/rfc6962.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  ed25519PublicKey,
  formatVerifierKey,
  noteVerifier,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
} from "../../src/core/signed-note.ts";
import { openTiledLog, type TiledLog } from "../../src/log/tiled-log.ts";
import { formatAddCheckpointBody } from "../../src/log/witness-client.ts";
import { createWitness } from "../../src/witness/witness.ts";
import { createWitnessApp } from "../../src/witness/witness-app.ts";
import {
  openWitnessStore,
  originHash,
  type WitnessStore,
} from "../../src/witness/witness-store.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(1);
const witnessSeed = new Uint8Array(32).fill(2);
const WITNESS = "auditor-1.example/witness";
const enc = new TextEncoder();

function nodeEd25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]);
  return nodeVerify(
    null,
    message,
    createPublicKey({ key: spki, format: "der", type: "spki" }),
    signature,
  );
}

interface Fixture {
  url: string;
  server: Server;
  store: WitnessStore;
  dataDir: string;
  log: TiledLog;
  fork: TiledLog;
  post(body: string): Promise<{ status: number; type: string | null; text: string }>;
  close(): Promise<void>;
}

async function startWitness(
  dataDir: string,
): Promise<{ url: string; server: Server; store: WitnessStore }> {
  const store = await openWitnessStore(dataDir);
  const witness = createWitness({
    cosigner: cosignatureV1Signer(WITNESS, witnessSeed),
    logs: [ed25519NoteVerifier(ORIGIN, ed25519PublicKey(logSeed))],
    store,
  });
  const server = createServer(createWitnessApp({ witness }));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, store };
}

async function fixture(): Promise<Fixture> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "shafaf-witness-"));
  const signer = ed25519NoteSigner(ORIGIN, logSeed);
  const log = await openTiledLog({ dir: path.join(dataDir, "log"), origin: ORIGIN, signer });
  const fork = await openTiledLog({ dir: path.join(dataDir, "fork"), origin: ORIGIN, signer });
  const w = await startWitness(dataDir);
  const post = async (body: string) => {
    const res = await fetch(`${w.url}/add-checkpoint`, { method: "POST", body });
    return { status: res.status, type: res.headers.get("content-type"), text: await res.text() };
  };
  const f: Fixture = {
    ...w,
    dataDir,
    log,
    fork,
    post,
    // Closes the server and store the fixture holds now (a test may restart them).
    async close() {
      await new Promise<void>((resolve) => f.server.close(() => resolve()));
      await f.store.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return f;
}

const entries = (from: number, n: number, tag = "batch") =>
  Array.from({ length: n }, (_, i) => enc.encode(`${tag} ${from + i}`));

describe("shafaf witness (c2sp.org/tlog-witness add-checkpoint)", function () {
  this.timeout(30_000);
  let f: Fixture;
  beforeEach(async () => {
    f = await fixture();
  });
  afterEach(async () => {
    await f.close();
  });

  it("cosigns a first checkpoint (old 0) with a cosignature/v1 that Node's crypto.verify accepts", async () => {
    await f.log.append(entries(0, 5));
    const note = await f.log.signCheckpoint();
    const before = Math.floor(Date.now() / 1000);
    const res = await f.post(formatAddCheckpointBody(0, [], note));
    expect(res.status).to.equal(200);
    const m = /^\u2014 (\S+) (\S+)\n$/.exec(res.text);
    expect(m, res.text).to.not.equal(null);
    expect(m![1]).to.equal(WITNESS);
    const raw = Buffer.from(m![2]!, "base64");
    expect(raw).to.have.length(76);
    const pub = ed25519PublicKey(witnessSeed);
    const id = createHash("sha256")
      .update(Buffer.concat([Buffer.from(WITNESS + "\n"), Buffer.from([4]), pub]))
      .digest()
      .subarray(0, 4);
    expect(raw.subarray(0, 4)).to.deep.equal(id);
    const t = Number(raw.readBigUInt64BE(4));
    expect(t).to.be.within(before, before + 5);
    const text = note.slice(0, note.indexOf("\n\n") + 1);
    expect(
      nodeEd25519Verify(pub, Buffer.from(`cosignature/v1\ntime ${t}\n${text}`), raw.subarray(12)),
    ).to.equal(true);
  });

  it("cosigns a consistent extension, and serves the cosigned checkpoint to monitors", async () => {
    await f.log.append(entries(0, 3));
    expect(
      (await f.post(formatAddCheckpointBody(0, [], await f.log.signCheckpoint()))).status,
    ).to.equal(200);
    await f.log.append(entries(3, 300));
    const note = await f.log.signCheckpoint();
    const res = await f.post(formatAddCheckpointBody(3, f.log.consistencyProof(3), note));
    expect(res.status, res.text).to.equal(200);
    const served = await fetch(`${f.url}/${originHash(ORIGIN)}/checkpoint`);
    expect(served.status).to.equal(200);
    const body = await served.text();
    expect(body.startsWith(note)).to.equal(true);
    expect(body.endsWith(res.text)).to.equal(true);
    expect((await fetch(`${f.url}/${"0".repeat(64)}/checkpoint`)).status).to.equal(404);
  });

  it("refuses a checkpoint that is not consistent with what it cosigned before (422), and keeps the evidence", async () => {
    await f.log.append(entries(0, 4));
    expect(
      (await f.post(formatAddCheckpointBody(0, [], await f.log.signCheckpoint()))).status,
    ).to.equal(200);
    // The same log key signs a tree of 10 entries whose entry 2 differs from the one witnessed.
    const forked = await openTiledLog({
      dir: path.join(f.dataDir, "fork2"),
      origin: ORIGIN,
      signer: ed25519NoteSigner(ORIGIN, logSeed),
    });
    await forked.append([...entries(0, 2), enc.encode("a different batch 2"), ...entries(3, 5)]);
    const forkNote = await forked.signCheckpoint();
    // Any proof from size 4 that the fork can build is a proof from ITS tree of size 4, not the witnessed one.
    const res = await f.post(formatAddCheckpointBody(4, forked.consistencyProof(4), forkNote));
    expect(res.status, res.text).to.equal(422);
    expect(res.text).to.match(/not consistent with the cosigned checkpoint of size 4/);
    expect(await f.store.listEvidence(ORIGIN)).to.have.length(1);
    // The witness did not move: the honest extension still needs old 4.
    await f.log.append(entries(4, 4));
    const honest = await f.post(
      formatAddCheckpointBody(4, f.log.consistencyProof(4), await f.log.signCheckpoint()),
    );
    expect(honest.status).to.equal(200);
  });

  it("refuses the same size with another root (422), a proof with old 0 (422), and size 0 with a non-empty root (422)", async () => {
    await f.log.append(entries(0, 4));
    await f.fork.append(entries(0, 4, "other"));
    expect(
      (await f.post(formatAddCheckpointBody(0, [], await f.log.signCheckpoint()))).status,
    ).to.equal(200);
    expect(
      (await f.post(formatAddCheckpointBody(4, [], await f.fork.signCheckpoint()))).status,
    ).to.equal(422);

    const g = await fixture();
    try {
      await g.log.append(entries(0, 4));
      const note = await g.log.signCheckpoint();
      expect(
        (await g.post(formatAddCheckpointBody(0, [new Uint8Array(32)], note))).status,
      ).to.equal(422);
      const signer = ed25519NoteSigner(ORIGIN, logSeed);
      const zeroBad = signNote(
        formatCheckpoint({
          origin: ORIGIN,
          size: 0,
          rootHash: new Uint8Array(32).fill(5),
          extensions: [],
        }),
        [signer],
      );
      expect((await g.post(formatAddCheckpointBody(0, [], zeroBad))).status).to.equal(422);
      const zeroGood = signNote(
        formatCheckpoint({ origin: ORIGIN, size: 0, rootHash: EMPTY_ROOT, extensions: [] }),
        [signer],
      );
      expect((await g.post(formatAddCheckpointBody(0, [], zeroGood))).status).to.equal(200);
    } finally {
      await g.close();
    }
  });

  it("answers 409 with the size it cosigned (text/x.tlog.size) when the old size is not it", async () => {
    await f.log.append(entries(0, 6));
    expect(
      (await f.post(formatAddCheckpointBody(0, [], await f.log.signCheckpoint()))).status,
    ).to.equal(200);
    await f.log.append(entries(6, 2));
    const note = await f.log.signCheckpoint();
    const res = await f.post(formatAddCheckpointBody(5, f.log.consistencyProof(5), note));
    expect(res.status).to.equal(409);
    expect(res.type).to.equal("text/x.tlog.size");
    expect(res.text).to.equal("6\n");
    expect((await f.post(formatAddCheckpointBody(0, [], note))).status).to.equal(409);
  });

  it("answers 404 for an unknown origin, 403 for a missing or bad log signature, 400 for malformed bodies", async () => {
    const other = ed25519NoteSigner("someone-else.example/log", logSeed);
    const root = encodeBase64(new Uint8Array(32));
    const unknown = signNote(`someone-else.example/log\n1\n${root}\n`, [other]);
    expect((await f.post(formatAddCheckpointBody(0, [], unknown))).status).to.equal(404);

    await f.log.append(entries(0, 2));
    const note = await f.log.signCheckpoint();
    // A signature line with the log's name and key ID whose signature is wrong.
    const sigStart = note.lastIndexOf(" ") + 1;
    const sig = Buffer.from(note.slice(sigStart, -1), "base64");
    sig[10]! ^= 1;
    const bad = note.slice(0, sigStart) + sig.toString("base64") + "\n";
    expect((await f.post(formatAddCheckpointBody(0, [], bad))).status).to.equal(403);
    // Signed by another key under the log's name (its key ID differs): no trusted signature.
    const impostor = signNote(note.slice(0, note.indexOf("\n\n") + 1), [
      ed25519NoteSigner(ORIGIN, new Uint8Array(32).fill(9)),
    ]);
    expect((await f.post(formatAddCheckpointBody(0, [], impostor))).status).to.equal(403);

    expect((await f.post("old 01\n\n" + note)).status).to.equal(400);
    expect((await f.post("old 0\n" + note)).status).to.equal(400);
    expect((await f.post(formatAddCheckpointBody(3, [], note))).status).to.equal(400); // old > size
    expect((await f.post(`old 1\n${"AAAA\n"}\n${note}`)).status).to.equal(400);
    expect((await f.post("old 0\n" + "x\n".repeat(64) + "\n" + note)).status).to.equal(400);
    expect(await f.post("")).to.include({ status: 400 });
    // Nothing above changed the witness.
    expect((await f.post(formatAddCheckpointBody(0, [], note))).status).to.equal(200);
  });

  it("checks and updates atomically: of racing submissions from one old size, exactly one wins", async () => {
    await f.log.append(entries(0, 2));
    expect(
      (await f.post(formatAddCheckpointBody(0, [], await f.log.signCheckpoint()))).status,
    ).to.equal(200);
    const bodies: string[] = [];
    for (let k = 0; k < 8; k++) {
      await f.log.append(entries(f.log.size(), 1 + k));
      bodies.push(
        formatAddCheckpointBody(2, f.log.consistencyProof(2), await f.log.signCheckpoint()),
      );
    }
    // Longest last, shortest first, all at once: the spec's rollback race.
    const results = await Promise.all(bodies.reverse().map((b) => f.post(b)));
    const won = results.filter((r) => r.status === 200);
    expect(won).to.have.length(1);
    expect(results.filter((r) => r.status === 409)).to.have.length(7);
    const state = await f.store.get(ORIGIN);
    const winner = bodies[results.findIndex((r) => r.status === 200)]!;
    expect(winner).to.include(`\n${ORIGIN}\n${state!.size}\n`);
    for (const r of results.filter((x) => x.status === 409))
      expect(r.text).to.equal(`${state!.size}\n`);
  });

  it("remembers across a restart: a rollback to an older checkpoint after restart is refused", async () => {
    await f.log.append(entries(0, 3));
    const old = await f.log.signCheckpoint();
    expect((await f.post(formatAddCheckpointBody(0, [], old))).status).to.equal(200);
    await f.log.append(entries(3, 3));
    expect(
      (
        await f.post(
          formatAddCheckpointBody(3, f.log.consistencyProof(3), await f.log.signCheckpoint()),
        )
      ).status,
    ).to.equal(200);
    await new Promise<void>((resolve) => f.server.close(() => resolve()));
    await f.store.close();
    const again = await startWitness(f.dataDir);
    f.server = again.server;
    f.store = again.store;
    const res = await fetch(`${again.url}/add-checkpoint`, {
      method: "POST",
      body: formatAddCheckpointBody(0, [], old),
    });
    expect(res.status).to.equal(409);
    expect(await res.text()).to.equal("6\n");
  });

  it("returns cosignatures that verify under the witness's vkey (type 0x04)", async () => {
    await f.log.append(entries(0, 1));
    const note = await f.log.signCheckpoint();
    const res = await f.post(formatAddCheckpointBody(0, [], note));
    const vkey = formatVerifierKey(WITNESS, SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(witnessSeed));
    const { openNote } = await import("../../src/core/signed-note.ts");
    const r = openNote(note + res.text, [noteVerifier(vkey)]);
    expect(r.ok && r.verified.map((s) => s.name)).to.deep.equal([WITNESS]);
  });
});

describe("parseAddCheckpointBody", () => {
  it("reads the tlog-witness spec's example request", async () => {
    const { readFileSync } = await import("node:fs");
    const spec = JSON.parse(
      readFileSync(
        path.resolve(import.meta.dirname, "../vectors/c2sp/c2sp-spec-examples.json"),
        "utf8",
      ),
    );
    const { parseAddCheckpointBody } = await import("../../src/witness/witness.ts");
    const r = parseAddCheckpointBody(spec.addCheckpointBody);
    if ("error" in r) expect.fail(r.error);
    expect(r.oldSize).to.equal(20852014);
    expect(r.proof).to.have.length(4);
    expect(r.note.startsWith("example.com/behind-the-sofa\n20852163\n")).to.equal(true);
    expect(formatAddCheckpointBody(r.oldSize, r.proof, r.note)).to.equal(spec.addCheckpointBody);
  });
});
