/* eslint-disable @typescript-eslint/no-explicit-any -- the tests edit parsed JSON documents field by field */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseInstitutions } from "../../src/network/institutions.ts";

const GOLDEN_INSTITUTIONS = path.join(import.meta.dirname, "../golden/network/institutions.json");
const text = readFileSync(GOLDEN_INSTITUTIONS, "utf8");

function problems(json: unknown, options = {}): string[] {
  try {
    parseInstitutions(typeof json === "string" ? json : JSON.stringify(json), "inst.json", options);
    return [];
  } catch (error) {
    return ((error as { details?: string }).details ?? (error as Error).message).split("\n");
  }
}

function edited(change: (doc: any) => void): unknown {
  const doc = JSON.parse(text);
  change(doc);
  return doc;
}

describe("institutions file (shafaf-institutions/1)", function () {
  it("parses the four institutions with their validators and accounts", function () {
    const { institutions } = parseInstitutions(text, "inst.json");
    expect(institutions.map((i) => i.id)).to.deep.equal([
      "sso",
      "audit-court",
      "ministry",
      "central-bank",
    ]);
    const sso = institutions[0]!;
    expect(sso.validator!.host).to.equal("172.16.239.11");
    expect(sso.validator!.p2pPort).to.equal(30303);
    expect(sso.validator!.rpcHost).to.equal("0.0.0.0");
    expect(sso.validator!.rpcAllowlist).to.deep.equal(["localhost", "127.0.0.1"]);
    expect(sso.validator!.identity!.address).to.match(/^0x[0-9a-fA-F]{40}$/);
    expect(sso.accounts.anchorer).to.have.length(1);
    expect(institutions[1]!.accounts.anchorer).to.deep.equal([]);
  });

  it("reports a JSON syntax error with its position and a hint", function () {
    const [first] = problems(text.replace('"format"', "format"));
    expect(first).to.match(/position|line/);
  });

  it("collects every problem, each with the file and JSON path", function () {
    const found = problems(
      edited((d) => {
        d.format = "shafaf-institutions/2";
        d.institutions[0].id = "SSO!";
        d.institutions[1].validator.publicKey = "0x1234";
        d.institutions[2].validator.host = "validator.example.org";
        d.institutions[3].validator.p2pPort = 70000;
        d.institutions[3].accounts.governance = ["0xnot-an-address"];
        d.institutions[0].colour = "blue";
      }),
    );
    expect(found).to.have.members([
      'inst.json: format: must be "shafaf-institutions/1"',
      "inst.json: institutions[0].colour: unknown field (known: id, name, validator, accounts)",
      "inst.json: institutions[0].id: must match [a-z][a-z0-9-]{0,31} (it names folders and services)",
      "inst.json: institutions[1].validator.publicKey: is not a 64-byte secp256k1 public key",
      "inst.json: institutions[2].validator.host: must be the IPv4 address peers dial (enode URLs need an IP; Besu resolves names only with --Xdns-enabled)",
      "inst.json: institutions[3].validator.p2pPort: must be an integer port in 1..65535",
      "inst.json: institutions[3].accounts.governance[0]: is not an address (0x + 40 hex digits; mixed case must be a valid EIP-55 checksum)",
    ]);
  });

  it("rejects duplicate ids, endpoints, node keys and role addresses", function () {
    const found = problems(
      edited((d) => {
        d.institutions[1].id = "sso";
        d.institutions[2].validator.publicKey = d.institutions[0].validator.publicKey;
        d.institutions[3].validator.host = d.institutions[0].validator.host;
        d.institutions[0].accounts.governance.push(
          d.institutions[0].accounts.governance[0].toLowerCase(),
        );
      }),
    );
    expect(found.join("\n")).to.include(
      'institutions[1].id: id "sso" is also used by institutions[0]',
    );
    expect(found.join("\n")).to.include(
      "institutions[2].validator.publicKey: publicKey is also used by institutions[0]",
    );
    expect(found.join("\n")).to.include(
      "institutions[3].validator.p2pPort: p2p endpoint 172.16.239.11:30303 is also used by institutions[0]",
    );
    expect(found.join("\n")).to.include(
      "institutions[0].accounts.governance[1]: duplicate governance address",
    );
  });

  it("rejects a wrong EIP-55 checksum but accepts all-lower-case addresses", function () {
    const good = JSON.parse(text).institutions[0].accounts.governance[0] as string;
    const badChecksum =
      good.slice(0, 2) +
      [...good.slice(2)]
        .map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()))
        .join("");
    expect(
      problems(edited((d) => (d.institutions[0].accounts.governance = [badChecksum]))),
    ).to.have.length(1);
    expect(
      problems(edited((d) => (d.institutions[0].accounts.governance = [good.toLowerCase()]))),
    ).to.deep.equal([]);
  });

  it("rejects names with line breaks or bidirectional control characters", function () {
    expect(problems(edited((d) => (d.institutions[0].name = "SSO\nsecond line")))).to.deep.equal([
      "inst.json: institutions[0].name: must be a non-empty single-line string of at most 120 characters",
    ]);
    expect(problems(edited((d) => (d.institutions[0].name = "bank \u202e))knab")))).to.deep.equal([
      "inst.json: institutions[0].name: must not contain bidirectional control characters (U+202A–U+202E, U+2066–U+2069); Persian text needs none",
    ]);
    expect(problems(edited((d) => (d.institutions[0].name = "بانک مرکزی")))).to.deep.equal([]);
  });

  it("requires a public key unless --generate will make a throwaway one", function () {
    const withoutKey = edited((d) => delete d.institutions[0].validator.publicKey);
    expect(problems(withoutKey).join("\n")).to.match(
      /institutions\[0\]\.validator\.publicKey: is missing: run `besu public-key export/,
    );
    expect(problems(withoutKey, { allowMissingKeys: true })).to.deep.equal([]);
  });

  it("requires at least one validator and a non-empty list", function () {
    expect(
      problems(
        edited((d) => {
          for (const i of d.institutions) delete i.validator;
        }),
      ).join("\n"),
    ).to.include("no institution has a validator");
    expect(problems({ format: "shafaf-institutions/1", institutions: [] })).to.deep.equal([
      "inst.json: institutions: must be a non-empty array",
    ]);
    expect(problems([])).to.deep.equal([
      "inst.json: $: expected an object { format, institutions }",
    ]);
  });
});
