/**
 * `shafaf keys new [--out FILE]`: makes a new account in an encrypted JSON keystore and prints
 * only its address. `shafaf keys new-vrf [--out FILE]`: makes the organization's person-key VRF
 * key in an encrypted keystore and prints only its public key. `shafaf keys show-vrf FILE
 * [--verify]`: prints a VRF keystore's public key. `shafaf keys register-vrf FILE --rpc URL
 * --contract LEDGER (--keystore SIGNER | --signer dev:N)`: records that public key on the ledger
 * (VRF_KEY_ROLE).
 * `shafaf keys new-note --name NAME --out FILE [--witness]`: makes an Ed25519 signed-note key
 * (the log's checkpoint key, or a witness's cosigning key) and prints its verifier key.
 * `shafaf keys new-data [--out FILE]`: makes the data-encryption key (personal data at rest) and
 * prints only its key id; `shafaf keys show-data FILE [--verify]` prints a keystore's key id.
 * Passwords come from SHAFAF_KEYSTORE_PASSWORD or a no-echo prompt.
 */
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
import { reportError, signerSpecFromOptions } from "../command-support.ts";
import { parseCommandLine, parseSubcommand, usageError } from "../parse-command-line.ts";
import { registerVrfKey } from "../../chain/register-vrf-key.ts";
import { connectSigner } from "../../chain/signer.ts";
import { newNoteKeystore } from "../../chain/note-keystore.ts";
import {
  loadDataKeystore,
  newDataKeystore,
  readDataKeystoreKeyId,
} from "../../chain/data-keystore.ts";

const USAGE = `usage: shafaf keys new [--out FILE] [--json]
       shafaf keys new-vrf [--out FILE] [--json]
       shafaf keys show-vrf FILE [--verify] [--json]
       shafaf keys register-vrf FILE --rpc URL --contract LEDGER (--keystore SIGNER | --signer dev:N) [--json]
       shafaf keys new-note --name NAME --out FILE [--witness] [--json]
       shafaf keys new-data [--out FILE] [--json]
       shafaf keys show-data FILE [--verify] [--json]

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
new-note  makes an Ed25519 signed-note key named NAME (e.g. sso.example/ledger-log for the log,
          whose name is its checkpoint origin; auditor.example/witness with --witness) in an
          encrypted keystore (shafaf-note-key/1, mode 0600) and prints its verifier key: type
          0x01 for a log key, 0x04 (cosignature/v1) for a witness key. Put it in the trust policy.
new-data  makes the data-encryption key that seals personal data at rest in a data directory
          (records, salts, person keys: --data-key FILE of anchor, serve, person, receipts,
          audit, data) in an encrypted keystore (shafaf-data-key/1, mode 0600; default
          data-key-<key id>.json). Prints only its key id. Losing it loses the sealed data: back
          it up, with its password, apart from the data directory's backups.
show-data prints the key id a data keystore records; --verify decrypts it and checks the id.
The password comes from ${KEYSTORE_PASSWORD_ENV} or, on a terminal, a prompt that does not echo.`;

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

async function newNote(rest: readonly string[]): Promise<number> {
  const parsed = parseCommandLine("keys new-note", USAGE, rest, {
    name: { type: "string" },
    out: { type: "string" },
    witness: { type: "boolean" },
    json: { type: "boolean" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length > 0)
    return usageError("keys new-note", USAGE, `unexpected argument "${positionals[0]}"`);
  if (values.name === undefined || values.out === undefined)
    return usageError("keys new-note", USAGE, "--name NAME and --out FILE are required");
  try {
    const password = await readKeystorePassword(
      { env: process.env, stdin: process.stdin, stderr: process.stderr },
      { prompt: "New keystore password: ", confirm: true },
    );
    const role = values.witness === true ? "witness" : "log";
    const { vkey, json } = await newNoteKeystore({ name: values.name, role, password });
    await writeKeystoreFile(values.out, json);
    process.stdout.write(
      values.json === true ? JSON.stringify({ vkey, role, file: values.out }) + "\n" : vkey + "\n",
    );
    return 0;
  } catch (error) {
    return reportError("keys new-note", error);
  }
}

export const command: CliCommand = {
  summary: "make an encrypted keystore for an account or the person-key VRF; show a VRF key",
  async run(argv) {
    const split = parseSubcommand("keys", USAGE, argv, [
      "new",
      "new-vrf",
      "show-vrf",
      "register-vrf",
      "new-note",
      "new-data",
      "show-data",
    ]);
    if (typeof split === "number") return split;
    const { sub, rest } = split;
    if (sub === "register-vrf") return registerVrf(rest);
    if (sub === "new-note") return newNote(rest);
    if (sub === "new-data" || sub === "show-data") return dataKey(sub, rest);
    const parsed = parseCommandLine(`keys ${sub}`, USAGE, rest, {
      out: { type: "string" },
      json: { type: "boolean" },
      verify: { type: "boolean" },
    });
    if (typeof parsed === "number") return parsed;
    const { values, positionals } = parsed;
    if (sub !== "show-vrf" && positionals.length > 0)
      return usageError(`keys ${sub}`, USAGE, `unexpected argument "${positionals[0]}"`);
    if (sub !== "show-vrf" && values.verify === true)
      return usageError(`keys ${sub}`, USAGE, "--verify is for show-vrf");
    if (sub === "show-vrf" && values.out !== undefined)
      return usageError(`keys ${sub}`, USAGE, "--out is not for show-vrf");
    if (sub === "show-vrf" && positionals.length !== 1)
      return usageError(`keys ${sub}`, USAGE, "show-vrf takes one keystore file");
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

async function dataKey(sub: "new-data" | "show-data", rest: readonly string[]): Promise<number> {
  const parsed = parseCommandLine(`keys ${sub}`, USAGE, rest, {
    out: { type: "string" },
    verify: { type: "boolean" },
    json: { type: "boolean" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (sub === "new-data" && (positionals.length > 0 || values.verify === true))
    return usageError(`keys ${sub}`, USAGE, "new-data takes --out FILE only");
  if (sub === "show-data" && (positionals.length !== 1 || values.out !== undefined))
    return usageError(`keys ${sub}`, USAGE, "show-data takes one keystore file");
  const source = { env: process.env, stdin: process.stdin, stderr: process.stderr };
  try {
    let keyId: string;
    let file: string;
    if (sub === "show-data") {
      file = positionals[0]!;
      keyId =
        values.verify === true
          ? (await loadDataKeystore(file, await readKeystorePassword(source))).keyId
          : await readDataKeystoreKeyId(file);
    } else {
      const password = await readKeystorePassword(source, {
        prompt: "New keystore password: ",
        confirm: true,
      });
      const made = await newDataKeystore({ password });
      keyId = made.keyId;
      file = values.out ?? `data-key-${keyId}.json`;
      await writeKeystoreFile(file, made.json);
    }
    process.stdout.write(
      values.json === true
        ? JSON.stringify({
            keyId,
            file,
            ...(sub === "show-data" ? { verified: values.verify === true } : {}),
          }) + "\n"
        : keyId + "\n",
    );
    return 0;
  } catch (error) {
    return reportError(`keys ${sub}`, error);
  }
}

async function registerVrf(argv: readonly string[]): Promise<number> {
  const parsed = parseCommandLine("keys register-vrf", USAGE, argv, {
    rpc: { type: "string" },
    contract: { type: "string" },
    keystore: { type: "string" },
    signer: { type: "string" },
    json: { type: "boolean" },
  });
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    return usageError("keys register-vrf", USAGE, "register-vrf takes one VRF keystore file");
  if (values.rpc === undefined)
    return usageError("keys register-vrf", USAGE, "--rpc URL is required");
  if (values.contract === undefined)
    return usageError("keys register-vrf", USAGE, "--contract LEDGER is required");
  try {
    const publicKey = await readVrfKeystorePublicKey(positionals[0]!);
    const signer = await connectSigner({
      rpcUrl: values.rpc,
      spec: await signerSpecFromOptions(values),
    });
    try {
      const r = await registerVrfKey({
        wallet: signer.wallet,
        address: values.contract,
        publicKey,
        chainId: signer.chainId,
        rpcUrl: values.rpc,
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
