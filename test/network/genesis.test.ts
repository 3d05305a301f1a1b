/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit parsed JSON documents field by field */
import { expect } from "chai";
import { BFT_MIX_HASH, buildQbftGenesis, checkQbftGenesis } from "../../src/network/genesis.ts";
import { encodeQbftExtraData } from "../../src/network/qbft-extra-data.ts";

const VALIDATORS = [
  "0xc5327f96ee02d7bcbc1bf1236b8c15148971e1de",
  "0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb",
  "0x06e23768a0f59cf365e18c2e0c89e151bcdedc70",
  "0xab5e7f4061c605820d3744227eed91ff8e2c8908",
];

function shafafGenesis(): Record<string, unknown> {
  return buildQbftGenesis({
    chainId: 1403,
    blockPeriodSeconds: 2,
    epochLength: 30000,
    requestTimeoutSeconds: 4,
    validators: VALIDATORS,
  });
}

/** The block-header genesis example of hyperledger/besu-docs docs/private-networks/how-to/configure/consensus/qbft.md (alloc trimmed). */
const BESU_DOCS_GENESIS = {
  config: {
    chainid: 1337,
    berlinBlock: 0,
    qbft: { epochlength: 30000, blockperiodseconds: 5, requesttimeoutseconds: 10 },
  },
  nonce: "0x0",
  timestamp: "0x5b3d92d7",
  extraData:
    "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549464a702e6263b7297a96638cac6ae65e6541f4169943923390ad55e90c237593b3b0e401f3b08a0318594aefdb9a738c9f433e5b6b212a6d62f6370c2f69294c7eeb9a4e00ce683cf93039b212648e01c6c6b78c080c0",
  gasLimit: "0x29b92700",
  difficulty: "0x1",
  mixHash: "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",
  coinbase: "0x0000000000000000000000000000000000000000",
  alloc: {
    "64d9be4177f418bcf4e56adad85f33e3a64efe22": {
      balance: "0x446c3b15f9926687d2c40534fdb564000000000000",
    },
  },
  number: "0x0",
  gasUsed: "0x0",
  parentHash: "0x0000000000000000000000000000000000000000000000000000000000000000",
};

function errors(genesis: unknown): string[] {
  return checkQbftGenesis(genesis)
    .findings.filter((f) => f.level === "error")
    .map((f) => `${f.path}: ${f.message}`);
}

function mutate(change: (g: Record<string, any>) => void): Record<string, unknown> {
  const g = structuredClone(shafafGenesis()) as Record<string, any>;
  change(g);
  return g;
}

describe("QBFT genesis", function () {
  describe("buildQbftGenesis", function () {
    it("writes the QBFT, free-gas and cancun settings Besu reads", function () {
      const g = shafafGenesis() as Record<string, any>;
      expect(g.config.qbft).to.deep.equal({
        blockperiodseconds: 2,
        epochlength: 30000,
        requesttimeoutseconds: 4,
      });
      expect(g.config.zeroBaseFee).to.equal(true);
      expect(g.config.londonBlock).to.equal(0);
      expect(g.config.shanghaiTime).to.equal(0);
      expect(g.config.cancunTime).to.equal(0);
      expect(g.config.chainId).to.equal(1403);
      expect(g.difficulty).to.equal("0x1");
      expect(g.mixHash).to.equal(BFT_MIX_HASH);
      expect(g.gasLimit).to.equal("0x1c9c380");
    });

    it("lists the validators in ascending order, whatever order they come in", function () {
      const summary = checkQbftGenesis(shafafGenesis());
      expect(summary.validators.map((v) => v.toLowerCase())).to.deep.equal([...VALIDATORS].sort());
      const reversed = buildQbftGenesis({
        chainId: 1403,
        blockPeriodSeconds: 2,
        epochLength: 30000,
        requestTimeoutSeconds: 4,
        validators: [...VALIDATORS].reverse(),
      });
      expect(reversed.extraData).to.equal(shafafGenesis().extraData);
    });

    it("funds accounts only when asked, as hex wei keyed by address without 0x", function () {
      expect(shafafGenesis().alloc).to.deep.equal({});
      const funded = buildQbftGenesis({
        chainId: 1403,
        blockPeriodSeconds: 2,
        epochLength: 30000,
        requestTimeoutSeconds: 4,
        validators: VALIDATORS,
        alloc: new Map([["0xAb5e7f4061c605820d3744227eed91ff8e2c8908", 10n ** 18n]]),
      });
      expect(funded.alloc).to.deep.equal({
        ab5e7f4061c605820d3744227eed91ff8e2c8908: { balance: "0xde0b6b3a7640000" },
      });
      expect(errors(funded)).to.deep.equal([]);
    });
  });

  describe("checkQbftGenesis", function () {
    it("passes Shafaf's genesis with no findings", function () {
      expect(checkQbftGenesis(shafafGenesis()).findings).to.deep.equal([]);
      expect(checkQbftGenesis(shafafGenesis()).chainId).to.equal(1403);
    });

    it("accepts Besu's documented QBFT genesis except for what Shafaf adds (cancun at genesis)", function () {
      expect(errors(BESU_DOCS_GENESIS)).to.deep.equal([
        "config.cancunTime: must be 0: Shafaf's contracts are compiled for the cancun EVM (hardhat.config.ts), so cancun must be active from genesis",
      ]);
      const summary = checkQbftGenesis(BESU_DOCS_GENESIS);
      expect(summary.validators).to.have.length(4);
      expect(summary.findings.map((f) => f.path)).to.include("timestamp");
    });

    const cases: [string, (g: Record<string, any>) => void, RegExp][] = [
      ["difficulty other than 0x1", (g) => (g.difficulty = "0x2"), /^difficulty: must be 0x1/],
      [
        "a decimal gasLimit",
        (g) => (g.gasLimit = "30000000"),
        /^gasLimit: must be a 0x-hex quantity/,
      ],
      ["a gasLimit below 5000", (g) => (g.gasLimit = "0x10"), /^gasLimit: must be between/],
      [
        "a mixHash that is not the BFT digest",
        (g) => (g.mixHash = "0x" + "00".repeat(32)),
        /^mixHash: must be the BFT digest/,
      ],
      ["a missing nonce", (g) => delete g.nonce, /^nonce: is required/],
      [
        "a chainId given as a string",
        (g) => (g.config.chainId = "1403"),
        /^config\.chainId: must be a positive integer/,
      ],
      [
        "two consensus sections",
        (g) => (g.config.ibft2 = {}),
        /^config: must have exactly one consensus section, qbft \(found: ibft2, qbft\)/,
      ],
      ["no consensus section", (g) => delete g.config.qbft, /found: none/],
      [
        "a missing epochlength",
        (g) => delete g.config.qbft.epochlength,
        /^config\.qbft\.epochlength: is required/,
      ],
      [
        "a zero block period",
        (g) => (g.config.qbft.blockperiodseconds = 0),
        /^config\.qbft\.blockperiodseconds: must be a positive integer/,
      ],
      [
        "an item spelled twice with different case",
        (g) => (g.config.ChainID = 7),
        /^config\.ChainID: appears twice/,
      ],
      [
        "milestones out of fork order",
        (g) => (g.config.berlinBlock = 10),
        /^config\.londonBlock: activates before berlinBlock/,
      ],
      [
        "timestamp milestones without London",
        (g) => delete g.config.londonBlock,
        /^config\.londonBlock: is required before timestamp milestones/,
      ],
      [
        "cancun later than genesis",
        (g) => (g.config.cancunTime = 1700000000),
        /^config\.cancunTime: must be 0/,
      ],
      [
        "zeroBaseFee with fixedBaseFee",
        (g) => (g.config.fixedBaseFee = true),
        /^config\.fixedBaseFee: cannot be combined/,
      ],
      [
        "a genesis vote in extraData",
        (g) =>
          (g.extraData = encodeQbftExtraData({
            vanity: "0x" + "00".repeat(32),
            validators: VALIDATORS,
            vote: { recipient: VALIDATORS[0]!, add: true },
            round: 0,
            seals: [],
          })),
        /^extraData: a genesis block carries no vote/,
      ],
      [
        "seals in extraData",
        (g) =>
          (g.extraData = encodeQbftExtraData({
            vanity: "0x" + "00".repeat(32),
            validators: VALIDATORS,
            vote: null,
            round: 0,
            seals: ["0x" + "11".repeat(65)],
          })),
        /^extraData: a genesis block carries no seals/,
      ],
      [
        "no validators without a validator contract",
        (g) =>
          (g.extraData =
            "0xe5a00000000000000000000000000000000000000000000000000000000000000000c0c080c0"),
        /^extraData: lists no validators/,
      ],
      [
        "a duplicated validator",
        (g) =>
          (g.extraData = encodeQbftExtraData({
            vanity: "0x" + "00".repeat(32),
            validators: [VALIDATORS[0]!, VALIDATORS[0]!],
            vote: null,
            round: 0,
            seals: [],
          })),
        /^extraData: lists a validator twice/,
      ],
      ["extraData that is not RLP", (g) => (g.extraData = "0xdeadbeef"), /^extraData: /],
      [
        "an alloc key that is not an address",
        (g) => (g.alloc = { nope: { balance: "0x1" } }),
        /^alloc\.nope: key must be a 20-byte hex address/,
      ],
      [
        "a fractional alloc balance",
        (g) => (g.alloc = { ["ab".repeat(20)]: { balance: "1.5" } }),
        /balance: must be a 0x-hex or decimal string/,
      ],
      [
        "petersburgBlock together with constantinopleFixBlock",
        (g) => (g.config.constantinopleFixBlock = 0),
        /^config\.constantinopleFixBlock: cannot be given with petersburgBlock/,
      ],
    ];
    for (const [name, change, pattern] of cases) {
      it(`reports ${name}`, function () {
        const found = errors(mutate(change));
        expect(
          found.some((e) => pattern.test(e)),
          found.join("\n"),
        ).to.equal(true);
      });
    }

    it("warns (not fails) on fewer than four validators and a round timeout not above the block period", function () {
      const g = buildQbftGenesis({
        chainId: 1403,
        blockPeriodSeconds: 5,
        epochLength: 30000,
        requestTimeoutSeconds: 5,
        validators: VALIDATORS.slice(0, 2),
      });
      const summary = checkQbftGenesis(g);
      expect(errors(g)).to.deep.equal([]);
      expect(summary.findings.map((f) => f.path)).to.deep.equal([
        "config.qbft.requesttimeoutseconds",
        "extraData",
      ]);
    });

    it("warns on items Besu does not read, since Besu silently ignores them", function () {
      const g = mutate((g) => {
        g.config.qbft.blockperiod = 2;
        g.extra = 1;
      });
      expect(errors(g)).to.deep.equal([]);
      expect(checkQbftGenesis(g).findings).to.deep.equal([
        {
          level: "warning",
          path: "extra",
          message: "is not an item Besu reads, so Besu ignores it (a misspelling?)",
        },
        {
          level: "warning",
          path: "config.qbft.blockperiod",
          message: "is not an item Besu reads, so Besu ignores it (a misspelling?)",
        },
      ]);
    });

    it("never throws, whatever it is given", function () {
      for (const value of [
        null,
        1,
        "x",
        [],
        { config: [] },
        { config: { qbft: 1 } },
        { extraData: 5, alloc: [] },
      ]) {
        expect(checkQbftGenesis(value).findings.length).to.be.greaterThan(0);
      }
    });
  });
});
