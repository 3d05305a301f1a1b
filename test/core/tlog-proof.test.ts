import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { parseTlogProof, verifyTlogProof, formatTlogProof } from "../../src/core/tlog-proof.ts";
import {
  parseTrustPolicy,
  quorumSatisfied,
  verifyCheckpointPolicy,
} from "../../src/core/tlog-policy.ts";
import { buildWitnessedVectors } from "../../scripts/generate-c2sp-vectors.ts";

const file = path.resolve(import.meta.dirname, "../vectors/c2sp/shafaf-witnessed-1.json");
const v = JSON.parse(readFileSync(file, "utf8"));
const hex = (s: string) => new Uint8Array(Buffer.from(s, "hex"));

describe("tlog-proof and trust policy (c2sp.org/tlog-proof, c2sp.org/tlog-policy)", () => {
  it("the committed vectors are what the generator writes", () => {
    expect(JSON.parse(JSON.stringify(buildWitnessedVectors()))).to.deep.equal(v);
  });

  it("verifies the tlog-proof of every entry offline against the 3-of-4 policy", () => {
    const policy = parseTrustPolicy(v.policy, "shafaf-witnessed-1.json:policy");
    for (const p of v.proofs) {
      const r = verifyTlogProof(p.proof, hex(p.leafHash), policy);
      expect(r.status, JSON.stringify(r.checks)).to.equal("verified");
      expect(r.cosigners).to.deep.equal(["w1", "w2", "w3", "w4"]);
      expect(formatTlogProof(parseTlogProof(p.proof))).to.equal(p.proof);
    }
  });

  it("rejects every named corruption with the named failed check", () => {
    const policy = parseTrustPolicy(v.policy);
    for (const c of v.corrupted.cases) {
      const r = verifyTlogProof(c.proof, hex(v.corrupted.leafHash), policy);
      expect(r.status, c.name).to.equal("failed");
      expect(r.checks.find((k) => !k.ok)?.name, `${c.name}: ${JSON.stringify(r.checks)}`).to.equal(
        c.failedCheck,
      );
    }
    // Another entry's leaf with a valid proof of entry 6.
    const r = verifyTlogProof(v.proofs[6].proof, hex(v.proofs[5].leafHash), policy);
    expect(r.checks.at(-1)).to.deep.include({ name: "inclusion", ok: false });
    expect(r.checks.at(-1)?.expected).to.be.a("string");
    expect(r.checks.at(-1)?.computed).to.be.a("string");
  });

  it("every cosignature in the vectors verifies with Node's crypto.verify, driven from the spec text", () => {
    const text: string = v.checkpointText;
    for (const w of v.witnesses) {
      const vkey: string = w.vkey;
      const a = vkey.indexOf("+");
      const [name, idHex, b64] = [vkey.slice(0, a), vkey.slice(a + 1, a + 9), vkey.slice(a + 10)];
      const material = Buffer.from(b64, "base64");
      expect(material[0]).to.equal(0x04);
      const pub = material.subarray(1);
      const id = createHash("sha256")
        .update(Buffer.concat([Buffer.from(name + "\n"), Buffer.from([4]), pub]))
        .digest()
        .subarray(0, 4);
      expect(id.toString("hex")).to.equal(idHex);
      const line = (v.cosignedCheckpoint as string)
        .split("\n")
        .find((l) => l.startsWith(`\u2014 ${name} `))!;
      const raw = Buffer.from(line.split(" ")[2]!, "base64");
      expect(raw.subarray(0, 4)).to.deep.equal(id);
      const t = raw.readBigUInt64BE(4);
      expect(Number(t)).to.equal(w.timestamp);
      const key = createPublicKey({
        key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), pub]),
        format: "der",
        type: "spki",
      });
      expect(
        nodeVerify(null, Buffer.from(`cosignature/v1\ntime ${t}\n${text}`), key, raw.subarray(12)),
        name,
      ).to.equal(true);
    }
  });

  describe("parseTrustPolicy", () => {
    const logLine = (v.policy as string).split("\n").find((l) => l.startsWith("log "))!;
    const wLines = (v.policy as string).split("\n").filter((l) => l.startsWith("witness "));

    it("reads groups of groups with all/any/k and comments", () => {
      const p = parseTrustPolicy(
        [
          logLine,
          ...wLines,
          "  # two organizations",
          "group a any w1 w2",
          "group b\tall w3 w4",
          "group both all a b",
          "quorum both",
          "",
        ].join("\n"),
      );
      expect(p.quorum).to.equal("both");
      expect(quorumSatisfied(p, "both", new Set(["w1", "w3", "w4"]))).to.equal(true);
      expect(quorumSatisfied(p, "both", new Set(["w1", "w2", "w3"]))).to.equal(false);
      expect(quorumSatisfied(p, "none", new Set())).to.equal(true);
    });

    it("names the line of each mistake", () => {
      const cases: [string[], RegExp][] = [
        [[logLine, "quorum w9"], /:2: .*not a witness or group defined above/],
        [[logLine, ...wLines, "group g 5 w1 w2 w3 w4", "quorum g"], /:6: threshold 5/],
        [[logLine, ...wLines, "group g 2 w1 w1", "quorum g"], /:6: "w1" is listed twice/],
        [[logLine, logLine, "quorum none"], /:2: duplicate log key/],
        [
          [logLine, ...wLines, wLines[0]!.replace("w1", "w9"), "quorum none"],
          /:6: duplicate witness key/,
        ],
        [[logLine, "quorum none", "quorum none"], /:3: a second quorum line/],
        [[logLine], /no quorum line/],
        [[logLine, "frobnicate x", "quorum none"], /:2: unknown keyword/],
        [[logLine.replace(/\+[0-9a-f]{8}\+/, "+00000000+"), "quorum none"], /:1: bad verifier key/],
        [
          [wLines[0]!.replace("witness w1 ", "log "), "quorum none"],
          /:1: a log key is an Ed25519 note key/,
        ],
      ];
      for (const [lines, re] of cases)
        expect(() => parseTrustPolicy(lines.join("\n"), "p.txt"), re.source).to.throw(re);
    });

    it("verifyCheckpointPolicy accepts quorum none with only the log's signature", () => {
      const p = parseTrustPolicy(`${logLine}\nquorum none\n`);
      const logOnly = (v.cosignedCheckpoint as string).split("\n").slice(0, 5).join("\n") + "\n";
      const r = verifyCheckpointPolicy(logOnly, p);
      expect(r.ok && r.checkpoint.size).to.equal(11);
    });
  });
});

describe("tlog-proof against transparency-dev/formats proof/tlog_proof_test.go", () => {
  const formats = JSON.parse(
    readFileSync(
      path.resolve(import.meta.dirname, "../vectors/c2sp/formats-checkpoint.json"),
      "utf8",
    ),
  );
  const b64 = (s: string) => new Uint8Array(Buffer.from(s, "base64"));

  it("writes TestMarshal's proofs byte for byte and reads them back", () => {
    for (const c of formats.tlogProofMarshal.cases) {
      const proof = {
        index: c.index,
        inclusionProof: c.hashes.map(b64),
        checkpoint: c.checkpoint,
        ...(c.extra === undefined ? {} : { extra: b64(c.extra) }),
      };
      expect(formatTlogProof(proof), c.name).to.equal(c.want);
      expect(parseTlogProof(c.want), c.name).to.deep.equal(proof);
    }
  });

  it("rejects every proof TestUnmarshalErrors rejects", () => {
    for (const c of formats.tlogProofMarshal.unmarshalErrors)
      expect(() => parseTlogProof(c.proof), c.name).to.throw(/tlog-proof line/);
  });
});
