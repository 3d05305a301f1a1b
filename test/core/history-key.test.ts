/**
 * The printed history key (docs/spec/history-key-v1.md) and the certificate QR
 * (docs/spec/certificate-qr-v1.md) against their committed vectors: every valid key reads back to
 * its identifier and proof and is printed exactly as the vector; every corrupted one is refused
 * with the vector's problem and group; and every single-character typo anywhere is caught.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import {
  canonicalJson,
  certificateDigest,
  certificateQrOf,
  formatCertificateQr,
  parseCertificateQr,
} from "../../src/core/certificate-qr.ts";
import { InvalidInputError } from "../../src/core/errors.ts";
import {
  CROCKFORD_ALPHABET,
  formatHistoryKey,
  HistoryKeyError,
  historyKeyPayload,
  parseHistoryKey,
} from "../../src/core/history-key.ts";
import { personVrfInput } from "../../src/core/person-key.ts";
import { vrfVerify } from "../../src/core/vrf.ts";

const vectorsDir = path.resolve(import.meta.dirname, "../vectors");
const read = <T>(name: string): T =>
  JSON.parse(readFileSync(path.join(vectorsDir, name), "utf8")) as T;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

const keys = read<{
  vrfPublicKey: string;
  cases: { personId: string; pi: string; payload: string; text: string }[];
  spellings: { name: string; text: string }[];
  invalid: { name: string; text: string; problem: string; group?: number }[];
}>("history-key-1.json");

const certs = read<{
  cases: { personProofCase: string; canonicalSha256: string; qr: string }[];
  invalid: { name: string; text: string; field: string }[];
}>("certificate-qr-1.json");
const proofs = read<{ cases: { name: string; document: unknown }[] }>("person-proof-1.json");

function refusal(text: string): HistoryKeyError {
  try {
    parseHistoryKey(text);
  } catch (error) {
    expect(error).to.be.instanceOf(HistoryKeyError);
    expect(error).to.be.instanceOf(InvalidInputError);
    return error as HistoryKeyError;
  }
  expect.fail("parsed");
}

describe("history-key (shafaf-history-key/1)", () => {
  describe("formatHistoryKey", () => {
    for (const c of keys.cases)
      it(`prints ${c.personId.split(":")[0]} as the vector, and its proof verifies under the vectors' key`, () => {
        const key = { personId: c.personId, proof: bytes(c.pi) };
        expect(hex(historyKeyPayload(key))).to.equal(c.payload);
        expect(formatHistoryKey(key)).to.equal(c.text);
        expect(
          vrfVerify(bytes(keys.vrfPublicKey), bytes(c.pi), personVrfInput(c.personId)).valid,
        ).to.equal(true);
      });
  });

  describe("parseHistoryKey", () => {
    for (const c of keys.cases)
      it(`reads ${c.personId.split(":")[0]} back`, () => {
        const got = parseHistoryKey(c.text);
        expect(got.personId).to.equal(c.personId);
        expect(hex(got.proof)).to.equal(c.pi);
      });
    for (const s of keys.spellings)
      it(`reads another spelling: ${s.name}`, () => {
        expect(parseHistoryKey(s.text).personId).to.equal(keys.cases[0]!.personId);
        expect(hex(parseHistoryKey(s.text).proof)).to.equal(keys.cases[0]!.pi);
      });
    for (const v of keys.invalid)
      it(`refuses: ${v.name} (${v.problem}${v.group === undefined ? "" : `, group ${v.group}`})`, () => {
        const e = refusal(v.text);
        expect(e.problem).to.equal(v.problem);
        expect(e.code).to.equal(`core.history-key.${v.problem}`);
        expect(e.group).to.equal(v.group);
        // The key is a secret: no run of its characters is in the message.
        const compact = keys.cases[0]!.text.replace(/-/g, "");
        for (let i = 0; i + 5 <= compact.length; i += 5)
          expect(e.message).not.to.include(compact.slice(i, i + 5));
      });

    it("catches every single-character substitution and names its group", () => {
      const text = keys.cases[0]!.text;
      fc.assert(
        fc.property(
          fc.nat({ max: text.length - 1 }),
          fc.constantFrom(...CROCKFORD_ALPHABET),
          (i, c) => {
            fc.pre(text[i] !== "-" && text[i] !== c);
            const e = refusal(text.slice(0, i) + c + text.slice(i + 1));
            expect(e.problem).to.equal("group");
            expect(e.group).to.equal(Math.floor(i / 6) + 1);
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});

describe("certificate-qr (shafaf-certificate-qr/1)", () => {
  for (const c of certs.cases) {
    const doc = proofs.cases.find((p) => p.name === c.personProofCase)!.document;
    it(`${c.personProofCase}: digest of the canonical JSON and the QR text as the vector`, () => {
      expect(hex(certificateDigest(doc))).to.equal(c.canonicalSha256);
      expect(formatCertificateQr(certificateQrOf(doc))).to.equal(c.qr);
      const back = parseCertificateQr(c.qr);
      expect(hex(back.digest)).to.equal(c.canonicalSha256);
      expect(formatCertificateQr(back)).to.equal(c.qr);
      // Formatting of the file does not matter; its content does.
      const reread = JSON.parse(JSON.stringify(doc, null, 4)) as unknown;
      expect(hex(certificateDigest(reread))).to.equal(c.canonicalSha256);
    });
  }
  it("a changed certificate has another digest", () => {
    expect(certs.cases[0]!.canonicalSha256).not.to.equal(certs.cases[2]!.canonicalSha256);
  });
  for (const v of certs.invalid)
    it(`refuses QR text: ${v.name} (${v.field})`, () => {
      try {
        parseCertificateQr(v.text);
        expect.fail("parsed");
      } catch (error) {
        expect(error).to.be.instanceOf(InvalidInputError);
        expect((error as InvalidInputError).field).to.equal(v.field);
      }
    });
  it("canonical JSON sorts members and refuses fractions", () => {
    expect(canonicalJson({ b: 1, a: [true, null, "x\u0001"] })).to.equal(
      '{"a":[true,null,"x\\u0001"],"b":1}',
    );
    expect(() => canonicalJson({ a: 1.5 })).to.throw(InvalidInputError);
  });
});
