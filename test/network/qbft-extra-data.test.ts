import { expect } from "chai";
import { encodeRlp } from "ethers";
import fc from "fast-check";
import { InvalidInputError } from "../../src/core/errors.ts";
import {
  decodeQbftExtraData,
  encodeQbftExtraData,
  genesisExtraData,
  type QbftExtraData,
} from "../../src/network/qbft-extra-data.ts";

const address = (n: number): string => "0x" + n.toString(16).padStart(40, "0");
/** Besu's `createSignature(r, s, recId)` encoded as r ‖ s ‖ v (65 bytes). */
const signature = (r: number, s: number, v = 0): string =>
  "0x" +
  r.toString(16).padStart(64, "0") +
  s.toString(16).padStart(64, "0") +
  v.toString(16).padStart(2, "0");
/** Besu's `createNonEmptyVanityData()`: bytes 1, 2, …, 32. */
const VANITY_1_TO_32 =
  "0x" + Array.from({ length: 32 }, (_, i) => (i + 1).toString(16).padStart(2, "0")).join("");
const ZERO_VANITY = "0x" + "00".repeat(32);

/**
 * Vector 1 — hyperledger/besu, consensus/qbft/src/test/java/org/hyperledger/besu/consensus/qbft/QbftExtraDataCodecTest.java,
 * RAW_HEX_ENCODING_STRING and getDecodedExtraDataForRawHexEncodingString(): vanity 1..32, validators 0x…01 and
 * 0x…02, an ADD vote for 0x…01, round 0x00FEDCBA, seals (r=1, s=10, v=0) and (r=10, s=1, v=0).
 */
const BESU_RAW_HEX =
  "0xf8f0a00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20ea940000000000000000" +
  "000000000000000000000001940000000000000000000000000000000000000002d7940000000000000000" +
  "00000000000000000000000181ff83fedcbaf886b841000000000000000000000000000000000000000000" +
  "0000000000000000000001000000000000000000000000000000000000000000000000000000000000000a" +
  "00b841000000000000000000000000000000000000000000000000000000000000000a0000000000000000" +
  "00000000000000000000000000000000000000000000000100";
const BESU_DECODED: QbftExtraData = {
  vanity: VANITY_1_TO_32,
  validators: [address(1), address(2)],
  vote: { recipient: address(1), add: true },
  round: 0xfedcba,
  seals: [signature(1, 10), signature(10, 1)],
};

/**
 * Vector 2 — hyperledger/besu-docs, docs/private-networks/how-to/configure/consensus/qbft.md, "Generate extra data":
 * `besu rlp encode --type=QBFT_EXTRA_DATA` of four validators (in the order given in toEncode.json).
 */
const DOCS_VALIDATORS = [
  "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
  "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
  "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
  "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
];
const DOCS_RLP =
  "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f854944592c8e45706cc08b8f44b11e43cba0cfc5892cb9406e23768a0f59cf365e18c2e0c89e151bcdedc7094c5327f96ee02d7bcbc1bf1236b8c15148971e1de94ab5e7f4061c605820d3744227eed91ff8e2c8908c080c0";
/** Vector 3 — same page, genesis example for block-header validator selection (validators 64a7…, 3923…, aefd…, c7ee…). */
const DOCS_GENESIS_EXTRA =
  "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549464a702e6263b7297a96638cac6ae65e6541f4169943923390ad55e90c237593b3b0e401f3b08a0318594aefdb9a738c9f433e5b6b212a6d62f6370c2f69294c7eeb9a4e00ce683cf93039b212648e01c6c6b78c080c0";
/** Vector 4 — same page, genesis example for contract validator selection: no validators in extraData. */
const DOCS_CONTRACT_EXTRA =
  "0xe5a00000000000000000000000000000000000000000000000000000000000000000c0c080c0";

describe("QBFT extraData", function () {
  describe("encodeQbftExtraData", function () {
    it("reproduces Besu's QbftExtraDataCodecTest raw hex (vote, round and seals)", function () {
      expect(encodeQbftExtraData(BESU_DECODED)).to.equal(BESU_RAW_HEX);
    });

    it("encodes a DROP vote as [recipient, empty] like Besu's writeNull (emptyListConstituteValidContent)", function () {
      const encoded = encodeQbftExtraData({
        vanity: ZERO_VANITY,
        validators: [],
        vote: { recipient: address(1), add: false },
        round: 0xfedcba,
        seals: [],
      });
      expect(encoded).to.equal(encodeRlp([ZERO_VANITY, [], [address(1), "0x"], "0xfedcba", []]));
      expect(decodeQbftExtraData(encoded).vote).to.deep.equal({
        recipient: "0x0000000000000000000000000000000000000001",
        add: false,
      });
    });

    it("rejects malformed fields instead of encoding them", function () {
      expect(() => encodeQbftExtraData({ ...BESU_DECODED, vanity: "0x00" })).to.throw(/vanity/);
      expect(() => encodeQbftExtraData({ ...BESU_DECODED, validators: ["0x1234"] })).to.throw(
        /validators\[0\]/,
      );
      expect(() => encodeQbftExtraData({ ...BESU_DECODED, round: -1 })).to.throw(/round/);
      expect(() => encodeQbftExtraData({ ...BESU_DECODED, round: 2 ** 31 })).to.throw(/round/);
      expect(() =>
        encodeQbftExtraData({ ...BESU_DECODED, seals: ["0x" + "11".repeat(64)] }),
      ).to.throw(/seals\[0\]/);
    });
  });

  describe("genesisExtraData", function () {
    it("matches `besu rlp encode --type=QBFT_EXTRA_DATA` from Besu's documentation", function () {
      expect(genesisExtraData(DOCS_VALIDATORS)).to.equal(DOCS_RLP);
    });

    it("matches the genesis example of Besu's QBFT documentation", function () {
      const validators = decodeQbftExtraData(DOCS_GENESIS_EXTRA).validators;
      expect(validators.map((v) => v.toLowerCase())).to.deep.equal([
        "0x64a702e6263b7297a96638cac6ae65e6541f4169",
        "0x3923390ad55e90c237593b3b0e401f3b08a03185",
        "0xaefdb9a738c9f433e5b6b212a6d62f6370c2f692",
        "0xc7eeb9a4e00ce683cf93039b212648e01c6c6b78",
      ]);
      expect(genesisExtraData(validators)).to.equal(DOCS_GENESIS_EXTRA);
    });

    it("matches the contract-validator-selection example (no validators)", function () {
      expect(genesisExtraData([])).to.equal(DOCS_CONTRACT_EXTRA);
    });
  });

  describe("decodeQbftExtraData", function () {
    it("decodes Besu's raw hex into Besu's expected object", function () {
      const decoded = decodeQbftExtraData(BESU_RAW_HEX);
      expect(decoded.vanity).to.equal(VANITY_1_TO_32);
      expect(decoded.validators).to.deep.equal([
        "0x0000000000000000000000000000000000000001",
        "0x0000000000000000000000000000000000000002",
      ]);
      expect(decoded.vote).to.deep.equal({
        recipient: "0x0000000000000000000000000000000000000001",
        add: true,
      });
      expect(decoded.round).to.equal(0xfedcba);
      expect(decoded.seals).to.deep.equal(BESU_DECODED.seals);
    });

    it("accepts a round written as non-fixed-length bytes (Besu: correctlyCodedRoundConstitutesValidContent)", function () {
      const raw = encodeRlp([ZERO_VANITY, [], [address(1), "0xff"], "0xdcba", []]);
      expect(decodeQbftExtraData(raw).round).to.equal(0xdcba);
    });

    it("rejects a round with a leading zero byte (Besu: incorrectlyEncodedRoundThrowsRlpException)", function () {
      const raw = encodeRlp([ZERO_VANITY, [], [], "0x00dcba", []]);
      expect(() => decodeQbftExtraData(raw)).to.throw(/round/);
    });

    it("rejects a vote type other than 0xff or empty (Besu: incorrectVoteTypeThrowsException)", function () {
      const raw = encodeRlp([
        ZERO_VANITY,
        [address(1), address(2)],
        [address(1), "0xaa"],
        "0xfedcba",
        [],
      ]);
      expect(() => decodeQbftExtraData(raw)).to.throw(/vote type 0xaa/);
    });

    it("rejects an extra trailing item (Besu: incorrectlyStructuredRlpThrowsException)", function () {
      const raw = encodeRlp([ZERO_VANITY, [], [address(1), "0xff"], "0xfedcba", [], "0x01"]);
      expect(() => decodeQbftExtraData(raw)).to.throw(/5 items/);
    });

    it("rejects empty extra data (Besu: emptyExtraDataThrowsException)", function () {
      expect(() => decodeQbftExtraData("0x")).to.throw(/empty/);
    });

    it("rejects garbage after the RLP list, a short vanity, short addresses and short seals", function () {
      expect(() => decodeQbftExtraData(DOCS_RLP + "00")).to.throw(/RLP/);
      expect(() => decodeQbftExtraData(encodeRlp(["0x00", [], [], "0x", []]))).to.throw(/vanity/);
      expect(() =>
        decodeQbftExtraData(encodeRlp([ZERO_VANITY, ["0x1234"], [], "0x", []])),
      ).to.throw(/validators\[0\]/);
      expect(() =>
        decodeQbftExtraData(encodeRlp([ZERO_VANITY, [], [], "0x", ["0x" + "11".repeat(64)]])),
      ).to.throw(/seals\[0\]/);
      expect(() =>
        decodeQbftExtraData(encodeRlp([ZERO_VANITY, [], [address(1)], "0x", []])),
      ).to.throw(/vote/);
    });

    it("rejects every single-bit flip of the documented genesis extraData or decodes it to something else", function () {
      const bytes = Buffer.from(DOCS_RLP.slice(2), "hex");
      const original = decodeQbftExtraData(DOCS_RLP);
      for (let bit = 0; bit < bytes.length * 8; bit += 7) {
        const copy = Buffer.from(bytes);
        copy[bit >> 3]! ^= 1 << (bit & 7);
        let decoded: QbftExtraData | undefined;
        try {
          decoded = decodeQbftExtraData("0x" + copy.toString("hex"));
        } catch {
          continue;
        }
        expect(decoded).to.not.deep.equal(original);
      }
    });
  });

  it("answers arbitrary bytes with either a value or an InvalidInputError, never another exception (property)", function () {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeQbftExtraData("0x" + Buffer.from(bytes).toString("hex"));
        } catch (error) {
          expect(error).to.be.instanceOf(InvalidInputError);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("round-trips every well-formed value (property)", function () {
    const hex = (n: number) =>
      fc
        .uint8Array({ minLength: n, maxLength: n })
        .map((b) => "0x" + Buffer.from(b).toString("hex"));
    fc.assert(
      fc.property(
        hex(32),
        fc.array(hex(20), { maxLength: 8 }),
        fc.option(fc.record({ recipient: hex(20), add: fc.boolean() }), { nil: null }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.array(hex(65), { maxLength: 4 }),
        (vanity, validators, vote, round, seals) => {
          const value: QbftExtraData = { vanity, validators, vote, round, seals };
          const decoded = decodeQbftExtraData(encodeQbftExtraData(value));
          expect(decoded.vanity).to.equal(vanity);
          expect(decoded.validators.map((v) => v.toLowerCase())).to.deep.equal(validators);
          expect(
            decoded.vote === null
              ? null
              : { recipient: decoded.vote.recipient.toLowerCase(), add: decoded.vote.add },
          ).to.deep.equal(vote);
          expect(decoded.round).to.equal(round);
          expect(decoded.seals).to.deep.equal(seals);
          expect(encodeQbftExtraData(decoded)).to.equal(encodeQbftExtraData(value));
        },
      ),
      { numRuns: 200 },
    );
  });
});
