import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import {
  loadKeystore,
  loadVrfKeystore,
  newKeystore,
  newVrfKeystore,
  readVrfKeystorePublicKey,
  writeKeystoreFile,
} from "../../src/chain/keystore.ts";
import type { ShafafError } from "../../src/core/errors.ts";
import { vrfProve, vrfSecretKey, vrfVerify } from "../../src/core/vrf.ts";
import { runCli } from "../anchor/helpers.ts";

const PASSWORD = "correct horse battery";
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as ShafafError).code;
  }
  return undefined;
}

describe("VRF keystore (shafaf-vrf-keystore/1)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "shafaf-vrf-ks-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("encrypts a seed whose key proves what the recorded public key verifies", async () => {
    const { publicKey, json } = await newVrfKeystore({ password: PASSWORD });
    const file = path.join(dir, "vrf.json");
    await writeKeystoreFile(file, json);
    expect((await stat(file)).mode & 0o777).to.equal(0o600);
    const parsed = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    expect(parsed.address).to.equal(undefined);
    expect(parsed.version).to.equal(3);
    expect(parsed.shafaf).to.deep.equal({
      format: "shafaf-vrf-keystore/1",
      suite: "ECVRF-EDWARDS25519-SHA512-TAI",
      publicKey: hex(publicKey),
    });
    expect(json).not.to.contain(PASSWORD);
    expect(hex(await readVrfKeystorePublicKey(file))).to.equal(hex(publicKey));
    const loaded = await loadVrfKeystore(file, PASSWORD);
    expect(hex(loaded.publicKey)).to.equal(hex(publicKey));
    const alpha = new TextEncoder().encode("alpha");
    const r = vrfVerify(publicKey, vrfProve(vrfSecretKey(loaded.seed), alpha), alpha);
    expect(r.valid).to.equal(true);
  });

  it("refuses a wrong password, an edited public key, and the wrong kind of keystore", async () => {
    const { json } = await newVrfKeystore({ password: PASSWORD });
    const file = path.join(dir, "vrf-2.json");
    await writeFile(file, json);
    expect(await codeOf(loadVrfKeystore(file, "not the password"))).to.equal(
      "chain.keystore.decrypt",
    );
    const edited = path.join(dir, "vrf-edited.json");
    const other = hex(vrfSecretKey(new Uint8Array(32).fill(1)).publicKey);
    const obj = JSON.parse(json) as { shafaf: { publicKey: string } };
    obj.shafaf.publicKey = other;
    await writeFile(edited, JSON.stringify(obj));
    expect(await codeOf(loadVrfKeystore(edited, PASSWORD))).to.equal(
      "chain.keystore.vrf-public-key",
    );
    // A VRF seed must never sign transactions, and an account is not a VRF key.
    expect(await codeOf(loadKeystore(file, PASSWORD))).to.equal("chain.keystore.kind");
    const account = path.join(dir, "account.json");
    await writeFile(account, (await newKeystore({ password: PASSWORD })).json);
    expect(await codeOf(loadVrfKeystore(account, PASSWORD))).to.equal("chain.keystore.format");
    expect(await codeOf(newVrfKeystore({ password: "short" }))).to.equal("chain.keystore.password");
  });

  it("shafaf keys new-vrf prints the public key; show-vrf prints it again, --verify decrypts", async () => {
    const file = path.join(dir, "cli-vrf.json");
    const env = { SHAFAF_KEYSTORE_PASSWORD: PASSWORD };
    const made = await runCli(["keys", "new-vrf", "--out", file], { env });
    expect(made.code, made.stderr).to.equal(0);
    const publicKey = made.stdout.trim();
    expect(publicKey).to.match(/^[0-9a-f]{64}$/);
    const shown = await runCli(["keys", "show-vrf", file]);
    expect(shown.stdout.trim()).to.equal(publicKey);
    const verified = await runCli(["keys", "show-vrf", file, "--verify", "--json"], { env });
    expect(JSON.parse(verified.stdout)).to.deep.equal({
      publicKey,
      suite: "ECVRF-EDWARDS25519-SHA512-TAI",
      verified: true,
    });
    const again = await runCli(["keys", "new-vrf", "--out", file], { env });
    expect(again.code).to.equal(65);
    expect(again.stderr).to.contain("already exists");
    const usage = await runCli(["keys", "show-vrf"]);
    expect(usage.code).to.equal(64);
  });
});
