import { createHash, createPublicKey, verify as nodeVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { decodeBase64, encodeBase64 } from "../../src/core/base64.ts";
import { parseCheckpoint } from "../../src/core/checkpoint.ts";
import {
  cosignatureTimestamp,
  cosignatureV1Message,
  cosignatureV1Signer,
  ed25519NoteSigner,
  ed25519PublicKey,
  formatVerifierKey,
  keyIdHex,
  noteVerifier,
  openNote,
  parseGoSignerKey,
  parseNote,
  parseVerifierKey,
  signNote,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
} from "../../src/core/signed-note.ts";

const dir = path.resolve(import.meta.dirname, "../vectors/c2sp");
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- vector files are read as plain JSON
const load = (f: string): any => JSON.parse(readFileSync(path.join(dir, f), "utf8"));
const go = load("sumdb-note.json");
const formats = load("formats-checkpoint.json");
const spec = load("c2sp-spec-examples.json");

/** Node's own OpenSSL Ed25519, driven from the spec text: the independent verifier. */
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

describe("signed-note (c2sp.org/signed-note)", () => {
  describe("verifier keys", () => {
    it("accepts the Go note package's keys and the spec's example key", () => {
      for (const vkey of [
        go.peter.vkey,
        go.enoch.vkey,
        spec.signedNote.vkey,
        formats.sumdb.vkey,
        ...formats.sumdb.extraVerifiers,
      ]) {
        const k = parseVerifierKey(vkey);
        expect(formatVerifierKey(k.name, k.type, k.publicKey)).to.equal(vkey);
      }
      expect(keyIdHex(parseVerifierKey(go.peter.vkey).keyId)).to.equal(go.peter.keyId);
    });

    it("rejects every substring and every one-byte mangling of a key (note_test.go TestNewVerifier)", () => {
      const vkey: string = go.peter.vkey;
      let rejected = 0;
      for (let i = 0; i <= vkey.length; i++) {
        for (let j = i + 1; j <= vkey.length; j++) {
          if (i === 0 && j === vkey.length) continue;
          expect(() => parseVerifierKey(vkey.slice(i, j)), vkey.slice(i, j)).to.throw();
          rejected++;
        }
      }
      for (let i = 0; i < vkey.length; i++) {
        const mangled =
          vkey.slice(0, i) + String.fromCharCode(vkey.charCodeAt(i) + 1) + vkey.slice(i + 1);
        expect(() => parseVerifierKey(mangled), mangled).to.throw();
      }
      for (const bad of go.badVerifierKeys)
        expect(() => parseVerifierKey(bad.vkey), bad.why).to.throw();
      expect(rejected).to.be.greaterThan(2000);
    });

    it("derives the Go signer keys' key IDs (PRIVATE+KEY vectors, note_test.go and formats witness_test.go)", () => {
      for (const { skey, vkey } of [go.peter, ...formats.witnessKeys]) {
        const s = parseGoSignerKey(skey);
        expect(formatVerifierKey(s.name, SIG_TYPE_ED25519, ed25519PublicKey(s.seed))).to.equal(
          vkey,
        );
      }
    });

    it("accepts the cosigner vkeys transparency-dev/formats accepts and rejects the ones it rejects", () => {
      for (const c of formats.cosignerVerifierKeys) {
        if (c.wantErr) expect(() => noteVerifier(c.vkey, "cosigner"), c.why).to.throw();
        else expect(noteVerifier(c.vkey, "cosigner").type, c.why).to.equal(SIG_TYPE_COSIGNATURE_V1);
      }
    });
  });

  describe("signNote", () => {
    it("reproduces the Go note package's signed note byte for byte (TestSign)", () => {
      const s = parseGoSignerKey(go.peter.skey);
      const signer = ed25519NoteSigner(s.name, s.seed);
      expect(signNote(go.text, [signer])).to.equal(go.signedByPeter);
      // An existing signature of the same key is replaced, not repeated.
      const stale = {
        name: "PeterNeumann",
        keyId: 0xc74f20a3,
        base64: encodeBase64(new Uint8Array([0xc7, 0x4f, 0x20, 0xa3, 1])),
      };
      expect(signNote(go.text, [signer], [stale])).to.equal(go.signedByPeter);
    });

    it("refuses text without a final newline and a signer with a bad name", () => {
      const s = parseGoSignerKey(go.peter.skey);
      expect(() => signNote("abc", [ed25519NoteSigner(s.name, s.seed)])).to.throw(/malformed note/);
      expect(() => signNote(go.text, [ed25519NoteSigner("bad name", s.seed)])).to.throw(
        /invalid signer/,
      );
    });

    it("signs what Node's crypto.verify accepts", () => {
      const s = parseGoSignerKey(go.peter.skey);
      const note = signNote("example.com/x\n1\n" + "A".repeat(43) + "=\n", [
        ed25519NoteSigner(s.name, s.seed),
      ]);
      const { text, signatures } = parseNote(note);
      const raw = decodeBase64(signatures[0]!.base64)!;
      expect(
        nodeEd25519Verify(
          ed25519PublicKey(s.seed),
          new TextEncoder().encode(text),
          raw.subarray(4),
        ),
      ).to.equal(true);
    });
  });

  describe("openNote (Go note.Open semantics, TestOpen)", () => {
    const peter = () => noteVerifier(go.peter.vkey);
    const enoch = () => noteVerifier(go.enoch.vkey);
    const both = go.text + "\n" + go.peterSignatureLine + go.enochSignatureLine;

    it("verifies one signature and keeps the unknown one unverified", () => {
      const r = openNote(both, [peter()]);
      expect(r.ok).to.equal(true);
      if (!r.ok) return;
      expect(r.text).to.equal(go.text);
      expect(r.verified.map((s) => s.name)).to.deep.equal(["PeterNeumann"]);
      expect(r.unverified.map((s) => s.name)).to.deep.equal(["EnochRoot"]);
    });

    it("verifies both with both keys, and none with no key", () => {
      const r = openNote(both, [peter(), enoch()]);
      expect(r.ok && r.verified.length).to.equal(2);
      const none = openNote(both, []);
      expect(none.ok).to.equal(false);
      if (!none.ok) {
        expect(none.failure.code).to.equal("unverified");
        expect(none.failure.message).to.equal("note has no verifiable signatures");
        expect(none.unverified).to.have.length(2);
      }
    });

    it("reports an ambiguous key only when it signed the note", () => {
      const r = openNote(go.text + "\n" + go.enochSignatureLine, [enoch(), peter(), enoch()]);
      expect(!r.ok && r.failure.message).to.equal("ambiguous key EnochRoot+af0cfe78");
      expect(openNote(go.signedByPeter, [enoch(), peter(), enoch()]).ok).to.equal(true);
    });

    it("rejects 101 signatures and a corrupted known signature", () => {
      const many = go.text + "\n" + go.peterSignatureLine.repeat(101);
      expect(openNote(many, [peter()])).to.deep.include({ ok: false });
      const sig: string = go.peterSignatureLine;
      const r = openNote(go.text + "\n" + sig.slice(0, 60) + "ABCD" + sig.slice(60), [peter()]);
      expect(!r.ok && r.failure.message).to.equal(
        "invalid signature for key PeterNeumann+c74f20a3",
      );
    });

    it("drops repeated signatures and keeps distinct unknown ones", () => {
      const e: string = go.enochSignatureLine;
      const msg =
        go.text +
        "\n" +
        go.peterSignatureLine +
        go.peterSignatureLine +
        e +
        e +
        e.slice(0, 60) +
        "ABCD" +
        e.slice(60);
      const r = openNote(msg, [peter()]);
      expect(r.ok).to.equal(true);
      if (r.ok) {
        expect(r.verified).to.have.length(1);
        expect(r.unverified).to.have.length(2);
      }
    });

    it("rejects each malformed note of note_test.go", () => {
      for (const bad of go.malformedNotes) {
        const r = openNote(bad, [peter()]);
        expect(!r.ok && r.failure.code, JSON.stringify(bad)).to.equal("malformed");
      }
      const invalidUtf8 = new Uint8Array([0xff, ...new TextEncoder().encode(go.signedByPeter)]);
      expect(openNote(invalidUtf8, [peter()])).to.deep.include({ ok: false });
    });

    it("verifies the spec's example note and a real sum.golang.org checkpoint", () => {
      expect(openNote(spec.signedNote.note, [noteVerifier(spec.signedNote.vkey)]).ok).to.equal(
        true,
      );
      const r = openNote(formats.sumdb.note, [noteVerifier(formats.sumdb.vkey)]);
      expect(r.ok).to.equal(true);
      if (r.ok)
        expect(parseCheckpoint(r.text)).to.deep.include({
          origin: formats.sumdb.origin,
          size: formats.sumdb.size,
        });
    });

    it("verifies the formats package's extra signatures and ignores unknown ones (log/note_test.go)", () => {
      const note =
        formats.sumdb.note +
        [...formats.sumdb.extraSignatureLines, ...formats.sumdb.unknownSignatureLines]
          .map((l: string) => l + "\n")
          .join("");
      const r = openNote(
        note,
        [formats.sumdb.vkey, ...formats.sumdb.extraVerifiers].map((k: string) => noteVerifier(k)),
      );
      expect(r.ok).to.equal(true);
      if (r.ok) {
        expect(r.verified).to.have.length(4);
        expect(r.unverified.map((s) => s.name)).to.deep.equal(["random1", "random2"]);
      }
    });
  });

  describe("cosignature/v1 (c2sp.org/tlog-cosignature)", () => {
    const seed = new Uint8Array(32).fill(7);
    const text =
      "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    it("reads the timestamp of the formats package's cosignature vector", () => {
      for (const c of formats.cosignatureTimestamp) {
        expect(cosignatureTimestamp({ base64: c.base64 })).to.equal(c.wantErr ? undefined : c.time);
      }
    });

    it("signs id ‖ u64 timestamp ‖ Ed25519(cosignature/v1\\ntime T\\n ‖ text), checked by Node's crypto.verify", () => {
      const signer = cosignatureV1Signer("witness.example/w1", seed, () => 1679315147);
      const note = signNote(text, [signer]);
      const sig = parseNote(note).signatures[0]!;
      const raw = decodeBase64(sig.base64)!;
      expect(raw).to.have.length(4 + 8 + 64);
      expect(Buffer.from(raw.subarray(4, 12)).readBigUInt64BE()).to.equal(1679315147n);
      const message = new TextEncoder().encode("cosignature/v1\ntime 1679315147\n" + text);
      expect(cosignatureV1Message(new TextEncoder().encode(text), 1679315147)).to.deep.equal(
        message,
      );
      expect(nodeEd25519Verify(ed25519PublicKey(seed), message, raw.subarray(12))).to.equal(true);
      // Key ID = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[:4], computed here by Node.
      const id = createHash("sha256")
        .update(
          Buffer.concat([
            Buffer.from("witness.example/w1\n"),
            Buffer.from([4]),
            ed25519PublicKey(seed),
          ]),
        )
        .digest()
        .subarray(0, 4);
      expect(Buffer.from(raw.subarray(0, 4))).to.deep.equal(id);
      const vkey = formatVerifierKey(
        "witness.example/w1",
        SIG_TYPE_COSIGNATURE_V1,
        ed25519PublicKey(seed),
      );
      expect(openNote(note, [noteVerifier(vkey)]).ok).to.equal(true);
      // The same key as a plain note key (type 0x01) has another key ID: it does not match.
      const asNoteKey = noteVerifier(
        formatVerifierKey("witness.example/w1", SIG_TYPE_ED25519, ed25519PublicKey(seed)),
      );
      expect(openNote(note, [asNoteKey]).ok).to.equal(false);
    });

    it("fails a cosignature whose timestamp, text or extension line changed", () => {
      const signer = cosignatureV1Signer("w", seed, () => 1000);
      const v = noteVerifier(
        formatVerifierKey("w", SIG_TYPE_COSIGNATURE_V1, ed25519PublicKey(seed)),
      );
      const note = signNote(text + "ext\n", [signer]);
      const { signatures } = parseNote(note);
      const raw = decodeBase64(signatures[0]!.base64)!;
      raw[11]! ^= 1; // timestamp 1000 → 1001
      const forged = text + "ext\n\n— w " + encodeBase64(raw) + "\n";
      expect(openNote(forged, [v])).to.deep.include({ ok: false });
      expect(openNote(note.replace("ext\n", "exu\n"), [v])).to.deep.include({ ok: false });
    });
  });
});
