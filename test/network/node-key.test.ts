import { expect } from "chai";
import { SigningKey, Wallet } from "ethers";
import { enodeUrl, nodeIdentity, parseEnodeUrl } from "../../src/network/node-key.ts";
import { formatToml, parseToml } from "../../src/network/toml.ts";

/** Hardhat's well-known dev account 0: a public, documented key pair (never a secret). */
const DEV0_PRIVATE = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const DEV0_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

describe("node keys", function () {
  describe("nodeIdentity", function () {
    it("derives the validator address as keccak256(64-byte public key)[12:] and the enode id as the key", function () {
      const publicKey = "0x" + new SigningKey(DEV0_PRIVATE).publicKey.slice(4);
      const id = nodeIdentity(publicKey);
      expect(id.address).to.equal(DEV0_ADDRESS);
      expect(id.address).to.equal(new Wallet(DEV0_PRIVATE).address);
      expect(id.enodeId).to.equal(publicKey.slice(2));
      expect(id.enodeId).to.have.length(128);
    });

    it("accepts the 0x04-prefixed uncompressed form and upper-case hex", function () {
      const full = new SigningKey(DEV0_PRIVATE).publicKey;
      expect(nodeIdentity(full).address).to.equal(DEV0_ADDRESS);
      expect(nodeIdentity("0x" + full.slice(4).toUpperCase()).address).to.equal(DEV0_ADDRESS);
    });

    it("rejects wrong lengths, a missing 0x, a compressed key and points off the curve", function () {
      const body = new SigningKey(DEV0_PRIVATE).publicKey.slice(4);
      expect(() => nodeIdentity(body)).to.throw(/64-byte/);
      expect(() => nodeIdentity("0x" + body.slice(2))).to.throw(/64-byte/);
      expect(() => nodeIdentity(new SigningKey(DEV0_PRIVATE).compressedPublicKey)).to.throw(
        /64-byte/,
      );
      const offCurve = "0x" + body.slice(0, 127) + (body.endsWith("0") ? "1" : "0");
      expect(() => nodeIdentity(offCurve, "institutions[0].validator.publicKey")).to.throw(
        /institutions\[0\]\.validator\.publicKey is not a point on the secp256k1 curve/,
      );
    });
  });

  describe("enode URLs", function () {
    it("formats and parses enode://<key>@<ip>:<port>", function () {
      const id = nodeIdentity(new SigningKey(DEV0_PRIVATE).publicKey);
      const url = enodeUrl(id, "10.0.0.7", 30303);
      expect(url).to.equal(`enode://${id.enodeId}@10.0.0.7:30303`);
      const parsed = parseEnodeUrl(url);
      expect(parsed.identity.address).to.equal(DEV0_ADDRESS);
      expect(parsed.host).to.equal("10.0.0.7");
      expect(parsed.port).to.equal(30303);
      expect(parseEnodeUrl(url + "?discport=0").port).to.equal(30303);
    });

    it("rejects malformed enodes", function () {
      const id = nodeIdentity(new SigningKey(DEV0_PRIVATE).publicKey);
      for (const bad of [
        `enode://${id.enodeId}@10.0.0.7`,
        `enode://${id.enodeId.slice(1)}@10.0.0.7:1`,
        `enode://${id.enodeId}@10.0.0.7:70000`,
        `http://${id.enodeId}@h:1`,
      ]) {
        expect(() => parseEnodeUrl(bad, "static-nodes[0]")).to.throw(/static-nodes\[0\]/);
      }
    });
  });
});

describe("flat TOML", function () {
  it("writes what it reads back, keeping key order and lines", function () {
    const text = formatToml(
      [
        ["data-path", "/opt/besu/data"],
        ["p2p-port", 30303],
        ["discovery-enabled", false],
        ["rpc-http-api", ["ETH", "NET"]],
        ["host-allowlist", []],
      ],
      ["header"],
    );
    expect(text).to.equal(
      '# header\ndata-path="/opt/besu/data"\np2p-port=30303\ndiscovery-enabled=false\nrpc-http-api=["ETH","NET"]\nhost-allowlist=[]\n',
    );
    const doc = parseToml(text, "config.toml");
    expect([...doc.values.keys()]).to.deep.equal([
      "data-path",
      "p2p-port",
      "discovery-enabled",
      "rpc-http-api",
      "host-allowlist",
    ]);
    expect(doc.values.get("rpc-http-api")).to.deep.equal(["ETH", "NET"]);
    expect(doc.lines.get("p2p-port")).to.equal(3);
  });

  it("reads spaces, trailing comments and strings holding # or commas", function () {
    const doc = parseToml('a = "x#y" # note\nb = [ "1,2" , "3" ]\n', "f.toml");
    expect(doc.values.get("a")).to.equal("x#y");
    expect(doc.values.get("b")).to.deep.equal(["1,2", "3"]);
  });

  it("names file:line for anything outside the flat subset", function () {
    expect(() => parseToml("a=1\n[table]\n", "c.toml")).to.throw(/c\.toml:2/);
    expect(() => parseToml("a=1\na=2\n", "c.toml")).to.throw(/c\.toml:2: duplicate key a/);
    expect(() => parseToml("x=1.5\n", "c.toml")).to.throw(/c\.toml:1: unsupported value/);
    expect(() => parseToml('x=["a",\n"b"]\n', "c.toml")).to.throw(/c\.toml:1: arrays must close/);
    expect(() => parseToml('x="unterminated\n', "c.toml")).to.throw(/c\.toml:1/);
  });

  it("refuses to write a value it could not read back", function () {
    expect(() => formatToml([["bad key", 1]])).to.throw(/bare key/);
    expect(() => formatToml([["k", 1.5]])).to.throw(/safe integer/);
    expect(() => formatToml([["k", "line\nbreak"]])).to.throw(/ASCII/);
  });
});
