import { expect } from "chai";
import fc from "fast-check";
import { decodeBase64 } from "../../src/core/base64.ts";
import { formatCheckpoint, parseCheckpoint } from "../../src/core/checkpoint.ts";
import {
  consistencyProof,
  hashLeaf,
  memoryNodeSource,
  rootHash,
  verifyConsistency,
} from "../../src/core/rfc6962.ts";
import {
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  ed25519PublicKey,
  signNote,
} from "../../src/core/signed-note.ts";
import { formatAddCheckpointBody } from "../../src/log/witness-client.ts";
import { createWitness } from "../../src/witness/witness.ts";
import type { WitnessedState, WitnessStore } from "../../src/witness/witness-store.ts";

const ORIGIN = "sso.example/ledger-log";
const logSeed = new Uint8Array(32).fill(21);
const signer = ed25519NoteSigner(ORIGIN, logSeed);

/** The witness store's contract, in memory: the storage under test is LevelDB elsewhere. */
function memoryStore(): WitnessStore {
  const states = new Map<string, WitnessedState>();
  return {
    get: (origin) => Promise.resolve(states.get(origin)),
    getByOriginHash: () => Promise.resolve(undefined),
    put: (s) => {
      states.set(s.origin, s);
      return Promise.resolve();
    },
    putEvidence: () => Promise.resolve(),
    listEvidence: () => Promise.resolve([]),
    close: () => Promise.resolve(),
  };
}

/** Two logs under the same key: the honest one and one that rewrote entry `forkAt`. */
function trees(n: number, forkAt: number) {
  const honest = Array.from({ length: n }, (_, i) => hashLeaf(new Uint8Array([1, i])));
  const forked = honest.map((h, i) => (i === forkAt ? hashLeaf(new Uint8Array([2, i])) : h));
  return [memoryNodeSource(honest), memoryNodeSource(forked)] as const;
}

describe("witness (property): its cosigned history is append-only whatever a split-view log submits", () => {
  it("every checkpoint it cosigns is consistent with the one it cosigned before", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 40 }),
        fc.nat(),
        fc.array(
          fc.record({ fork: fc.boolean(), size: fc.nat(), old: fc.nat(), honestOld: fc.boolean() }),
          { minLength: 1, maxLength: 12 },
        ),
        async (n, forkSeed, submissions) => {
          const forkAt = forkSeed % n;
          const sources = trees(n, forkAt);
          const witness = createWitness({
            cosigner: cosignatureV1Signer("w", new Uint8Array(32).fill(22)),
            logs: [ed25519NoteVerifier(ORIGIN, ed25519PublicKey(logSeed))],
            store: memoryStore(),
          });
          let cosigned: { size: number; root: Uint8Array } | undefined;
          let witnessed = 0;
          for (const s of submissions) {
            const src = sources[s.fork ? 1 : 0];
            const size = 1 + (s.size % n);
            const old = s.honestOld ? witnessed : s.old % (size + 1);
            const note = signNote(
              formatCheckpoint({
                origin: ORIGIN,
                size,
                rootHash: rootHash(size, src),
                extensions: [],
              }),
              [signer],
            );
            const proof = old === 0 || old > size ? [] : consistencyProof(old, size, src);
            const res = await witness.addCheckpoint(formatAddCheckpointBody(old, proof, note));
            if (res.status !== 200) continue;
            const cp = parseCheckpoint(note.slice(0, note.indexOf("\n\n") + 1));
            if (cosigned !== undefined) {
              const link = verifyConsistency(
                cosigned.size,
                cp.size,
                consistencyProof(cosigned.size, cp.size, src),
                cosigned.root,
                cp.rootHash,
              );
              // Consistent in the submitting tree AND starting from the root the witness had cosigned.
              expect(cp.size).to.be.at.least(cosigned.size);
              expect(
                link.ok,
                `cosigned ${cosigned.size} then ${cp.size} (fork at ${forkAt})`,
              ).to.equal(true);
            }
            cosigned = { size: cp.size, root: decodeBase64(note.split("\n")[2]!)! };
            witnessed = cp.size;
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
