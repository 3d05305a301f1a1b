/**
 * The governance file (`shafaf-governance/1`): the golden example parses and deploys a governed
 * ledger; every kind of mistake is refused with the file and field named.
 */
import { expect } from "chai";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { network } from "hardhat";
import { id } from "ethers";
import {
  deployGovernedLedger,
  findGovernance,
  listProposals,
  parseGovernanceConfig,
} from "../../src/chain/governance.ts";
import { LEDGER_METHODS, typed } from "./typed-contract.ts";

const { ethers } = await network.create();
const GOLDEN = path.resolve(import.meta.dirname, "../golden/contract/governance-1.json");

function mutate(edit: (config: Record<string, unknown>) => void): string {
  const config = JSON.parse(goldenText) as Record<string, unknown>;
  edit(config);
  return JSON.stringify(config);
}
let goldenText = "";

describe("governance file shafaf-governance/1", function () {
  before(async function () {
    goldenText = await readFile(GOLDEN, "utf8");
  });

  it("parses the golden example", function () {
    const config = parseGovernanceConfig(goldenText, "governance.json");
    expect(config.format).to.equal("shafaf-governance/1");
    expect(config.chainId).to.equal(31337);
    expect(config.institutions.map((i) => i.name)).to.deep.equal([
      "Social Security Organization",
      "Supreme Audit Court",
      "Ministry of Cooperatives, Labour and Social Welfare",
      "Central Bank",
    ]);
    expect(config.threshold).to.equal(3);
    expect(config.minDelaySeconds).to.equal(172800);
    expect(config.ledger.adminDelaySeconds).to.equal(86400);
    expect(config.ledger.pausers).to.have.length(2);
  });

  const cases: [string, (c: Record<string, unknown>) => void, RegExp][] = [
    [
      "another format",
      (c) => (c.format = "shafaf-governance/2"),
      /format: is "shafaf-governance\/2"/,
    ],
    ["an unknown field", (c) => (c.owner = "me"), /owner: unknown field/],
    ["no institutions", (c) => (c.institutions = []), /institutions: must be a non-empty list/],
    [
      "a bad account",
      (c) => ((c.institutions as { account: string }[])[2]!.account = "0x1234"),
      /institutions\[2\]\.account: "0x1234" is not an address/,
    ],
    [
      "a nameless institution",
      (c) => ((c.institutions as { name: string }[])[1]!.name = " "),
      /institutions\[1\]\.name: is missing/,
    ],
    [
      "an institution twice",
      (c) => {
        const list = c.institutions as { account: string }[];
        list[3]!.account = list[0]!.account.toLowerCase();
      },
      /institutions\[3\]\.account: .* is listed twice/,
    ],
    [
      "a threshold above n",
      (c) => (c.threshold = 5),
      /threshold: 5 is not a whole number from 1 to 4/,
    ],
    ["a fractional threshold", (c) => (c.threshold = 2.5), /threshold: 2.5/],
    ["a negative delay", (c) => (c.minDelaySeconds = -1), /minDelaySeconds: -1/],
    ["a delay as text", (c) => (c.minDelaySeconds = "2 days"), /minDelaySeconds: "2 days"/],
    [
      "an unknown ledger field",
      (c) => ((c.ledger as Record<string, unknown>).admin = "0x0"),
      /ledger\.admin: unknown field/,
    ],
    [
      "a pauser twice",
      (c) => {
        const l = c.ledger as { pausers: string[] };
        l.pausers.push(l.pausers[0]!);
      },
      /ledger\.pausers\[2\]: .* is listed twice/,
    ],
    ["a chain id of 0", (c) => (c.chainId = 0), /chainId: 0/],
  ];
  for (const [name, edit, message] of cases) {
    it(`refuses ${name}, naming the file and field`, function () {
      expect(() => parseGovernanceConfig(mutate(edit), "gov.json")).to.throw(message);
      expect(() => parseGovernanceConfig(mutate(edit), "gov.json")).to.throw(/^gov\.json: /);
    });
  }

  it("refuses text that is not JSON or not an object", function () {
    expect(() => parseGovernanceConfig("{", "gov.json")).to.throw(/gov\.json is not JSON/);
    expect(() => parseGovernanceConfig("[]", "gov.json")).to.throw(/not an object/);
  });

  it("deploys the golden example: a governed ledger whose deployer holds nothing", async function () {
    const [deployer] = await ethers.getSigners();
    const config = parseGovernanceConfig(goldenText, GOLDEN);
    const result = await deployGovernedLedger({ signer: deployer!, config });
    const found = await findGovernance(deployer!, result.ledger.address);
    expect(found).to.deep.equal({
      ledger: result.ledger.address,
      timelock: result.timelock,
      council: result.council,
    });
    const view = await listProposals(deployer!, found);
    expect(view.members).to.deep.equal(config.institutions.map((i) => i.account));
    expect(view.threshold).to.equal(3);
    expect(view.minDelaySeconds).to.equal(172800);
    const ledger = typed(
      await ethers.getContractAt("TransparencyLedger", result.ledger.address),
      LEDGER_METHODS,
    );
    expect(await ledger.defaultAdminDelay()).to.equal(86400n);
    expect(await ledger.hasRole(id("ANCHORER_ROLE"), config.ledger.anchorers[0]!)).to.equal(true);
    expect(await ledger.hasRole(id("AUDITOR_ROLE"), config.ledger.auditors[0]!)).to.equal(true);
    for (const role of ["ANCHORER_ROLE", "AUDITOR_ROLE", "PAUSER_ROLE"]) {
      expect(await ledger.hasRole(id(role), deployer!.address)).to.equal(false);
    }
  });

  it("refuses to deploy a file made for another chain", async function () {
    const [deployer] = await ethers.getSigners();
    const config = parseGovernanceConfig(
      mutate((c) => (c.chainId = 1403)),
      "gov.json",
    );
    let message = "";
    try {
      await deployGovernedLedger({ signer: deployer!, config });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).to.match(/for chain 1403, not 31337/);
  });
});
