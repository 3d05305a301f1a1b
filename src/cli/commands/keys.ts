/**
 * `shafaf keys new [--out FILE]`: makes a new account in an encrypted JSON keystore and prints
 * only its address. `shafaf keys new-vrf [--out FILE]`: makes the organization's person-key VRF
 * key in an encrypted keystore and prints only its public key. `shafaf keys show-vrf FILE
 * [--verify]`: prints a VRF keystore's public key. `shafaf keys register-vrf FILE --rpc URL
 * --contract LEDGER (--keystore SIGNER | --signer dev:N)`: records that public key on the ledger
 * (VRF_KEY_ROLE). Passwords come from SHAFAF_KEYSTORE_PASSWORD or a no-echo prompt.
 */
import { parseArgs } from "node:util";
import type { CliCommand } from "../command.ts";
import {
  KEYSTORE_PASSWORD_ENV,
  loadVrfKeystore,
  newKeystore,
  newVrfKeystore,
  readKeystorePassword,
  readVrfKeystorePublicKey,
  writeKeystoreFile,
} from "../../chain/keystore.ts";
import { UsageError, reportError, signerSpecFromOptions } from "../../anchor/command-support.ts";
import { registerVrfKey } from "../../chain/register-vrf-key.ts";
import { connectSigner } from "../../chain/signer.ts";

const USAGE = `usage: shafaf keys new [--out FILE] [--json]
       shafaf keys new-vrf [--out FILE] [--json]
       shafaf keys show-vrf FILE [--verify] [--json]
       shafaf keys register-vrf FILE --rpc URL --contract LEDGER (--keystore SIGNER | --signer dev:N) [--json]

new       makes a new account and writes it as an encrypted JSON keystore (mode 0600; default
          keystore-<address>.json in the current directory). Prints only the address.
new-vrf   makes the organization's person-key VRF key (ECVRF-EDWARDS25519-SHA512-TAI) in an
          encrypted keystore (mode 0600; default vrf-<public key prefix>.json). Prints only
          its public key, which is recorded on-chain and named in each manifest.
show-vrf  prints the public key a VRF keystore records; --verify decrypts it and checks that
          the key is its seed's.
register-vrf  records the VRF keystore FILE's public key on the ledger, where it becomes the
          current key (a rotation, when one was registered before). The signing account needs
          VRF_KEY_ROLE, which governance grants. Prints the key id (keccak256 of the public key)
          that v2 batches name; a key registered before is reported, not sent again.
The password comes from ${KEYSTORE_PASSWORD_ENV} or, on a terminal, a prompt that does not echo.`;

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

export const command: CliCommand = {
  summary: "make an encrypted keystore for an account or the person-key VRF; show a VRF key",
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub === "--help" || sub === "-h") {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    if (sub === "register-vrf") return registerVrf(rest);
    if (sub !== "new" && sub !== "new-vrf" && sub !== "show-vrf") {
      process.stderr.write(
        `shafaf keys: unknown sub-command ${JSON.stringify(sub ?? "")}\n${USAGE}\n`,
      );
      return 64;
    }
    let values: { out?: string; json?: boolean; help?: boolean; verify?: boolean };
    let positionals: string[];
    try {
      ({ values, positionals } = parseArgs({
        args: [...rest],
        options: {
          out: { type: "string" },
          json: { type: "boolean" },
          verify: { type: "boolean" },
          help: { type: "boolean", short: "h" },
        },
        strict: true,
        allowPositionals: sub === "show-vrf",
      }));
      if (sub !== "show-vrf" && values.verify === true) throw new Error("--verify is for show-vrf");
      if (sub === "show-vrf" && values.out !== undefined)
        throw new Error("--out is not for show-vrf");
      if (sub === "show-vrf" && values.help !== true && positionals.length !== 1)
        throw new Error("show-vrf takes one keystore file");
    } catch (error) {
      process.stderr.write(`shafaf keys ${sub}: ${(error as Error).message}\n${USAGE}\n`);
      return 64;
    }
    if (values.help === true) {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    const source = { env: process.env, stdin: process.stdin, stderr: process.stderr };
    try {
      if (sub === "show-vrf") {
        const file = positionals[0]!;
        const publicKey =
          values.verify === true
            ? (await loadVrfKeystore(file, await readKeystorePassword(source))).publicKey
            : await readVrfKeystorePublicKey(file);
        process.stdout.write(
          values.json === true
            ? JSON.stringify({
                publicKey: hex(publicKey),
                suite: "ECVRF-EDWARDS25519-SHA512-TAI",
                verified: values.verify === true,
              }) + "\n"
            : hex(publicKey) + "\n",
        );
        return 0;
      }
      const password = await readKeystorePassword(source, {
        prompt: "New keystore password: ",
        confirm: true,
      });
      if (sub === "new-vrf") {
        const { publicKey, json } = await newVrfKeystore({ password });
        const out = values.out ?? `vrf-${hex(publicKey).slice(0, 16)}.json`;
        await writeKeystoreFile(out, json);
        process.stdout.write(
          values.json === true
            ? JSON.stringify({ publicKey: hex(publicKey), file: out }) + "\n"
            : hex(publicKey) + "\n",
        );
        return 0;
      }
      const { address, json } = await newKeystore({ password });
      const out = values.out ?? `keystore-${address}.json`;
      await writeKeystoreFile(out, json);
      process.stdout.write(
        values.json === true ? JSON.stringify({ address, file: out }) + "\n" : address + "\n",
      );
      return 0;
    } catch (error) {
      return reportError(`keys ${sub}`, error);
    }
  },
};

async function registerVrf(argv: readonly string[]): Promise<number> {
  let values: {
    rpc?: string;
    contract?: string;
    keystore?: string;
    signer?: string;
    json?: boolean;
    help?: boolean;
  };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...argv],
      options: {
        rpc: { type: "string" },
        contract: { type: "string" },
        keystore: { type: "string" },
        signer: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: true,
    }));
    if (values.help !== true) {
      if (positionals.length !== 1)
        throw new UsageError("register-vrf takes one VRF keystore file");
      if (values.rpc === undefined) throw new UsageError("--rpc URL is required");
      if (values.contract === undefined) throw new UsageError("--contract LEDGER is required");
    }
  } catch (error) {
    process.stderr.write(`shafaf keys register-vrf: ${(error as Error).message}\n${USAGE}\n`);
    return 64;
  }
  if (values.help === true) {
    process.stdout.write(USAGE + "\n");
    return 0;
  }
  try {
    const publicKey = await readVrfKeystorePublicKey(positionals[0]!);
    const signer = await connectSigner({
      rpcUrl: values.rpc!,
      spec: await signerSpecFromOptions(values),
    });
    try {
      const r = await registerVrfKey({
        wallet: signer.wallet,
        address: values.contract!,
        publicKey,
        chainId: signer.chainId,
        rpcUrl: values.rpc!,
      });
      const out = { publicKey: hex(publicKey), ...r };
      process.stdout.write(
        values.json === true
          ? JSON.stringify(out) + "\n"
          : `${r.status === "registered" ? "registered" : "already registered"}: VRF key ${r.index}, id ${r.keyId}\n`,
      );
      return 0;
    } finally {
      signer.provider.destroy();
    }
  } catch (error) {
    return reportError("keys register-vrf", error);
  }
}
