import { SigningKey, computeAddress, isHexString } from "ethers";
import { InvalidInputError } from "../core/errors.ts";

/**
 * A Besu node identity derived from its PUBLIC key only. The private key never enters Shafaf
 * (except throwaway `--generate` trial keys).
 */
export interface NodeIdentity {
  /** 0x + 128 lowercase hex digits: the uncompressed point without the 0x04 prefix, as `besu public-key export` prints it. */
  readonly publicKey: string;
  /** keccak256(publicKey)[12:], checksummed: the QBFT validator address (`besu public-key export-address`). */
  readonly address: string;
  /** The enode ID: the public key without 0x. */
  readonly enodeId: string;
}

/**
 * Parses a secp256k1 node public key as Besu prints it (0x + 128 hex digits; a 0x04-prefixed 65-byte
 * form is also accepted) and checks that it is a point on the curve.
 *
 * @example
 * nodeIdentity("0x" + "…128 hex…").address // "0x4592…"
 * @throws InvalidInputError when the key is malformed or not on the curve.
 */
export function nodeIdentity(publicKey: string, field = "publicKey"): NodeIdentity {
  const text = publicKey.trim().toLowerCase();
  let body: string;
  if (isHexString(text, 64)) body = text.slice(2);
  else if (isHexString(text, 65) && text.startsWith("0x04")) body = text.slice(4);
  else {
    throw new InvalidInputError(`${field} is not a 64-byte secp256k1 public key`, {
      field,
      rule: "node-key.format",
      code: "network.node-key.format",
      details:
        "expected 0x + 128 hex digits, as `besu public-key export --node-private-key-file=key` prints it",
    });
  }
  try {
    // computePublicKey validates that the point lies on secp256k1.
    SigningKey.computePublicKey("0x04" + body, false);
  } catch (error) {
    throw new InvalidInputError(`${field} is not a point on the secp256k1 curve`, {
      field,
      rule: "node-key.curve",
      code: "network.node-key.curve",
      details:
        "copy the key again from `besu public-key export`; a truncated or edited key is not on the curve",
      cause: error,
    });
  }
  return { publicKey: "0x" + body, address: computeAddress("0x04" + body), enodeId: body };
}

/** An enode URL: `enode://<128 hex>@<host>:<port>`. */
export function enodeUrl(identity: NodeIdentity, host: string, port: number): string {
  return `enode://${identity.enodeId}@${host}:${port}`;
}

export interface ParsedEnode {
  readonly identity: NodeIdentity;
  readonly host: string;
  readonly port: number;
}

const ENODE = /^enode:\/\/([0-9a-fA-F]{128})@([^:@/?]+):(\d{1,5})(\?discport=\d{1,5})?$/;

/**
 * Parses an enode URL as Besu's static-nodes and nodes-allowlist use it.
 *
 * @throws InvalidInputError when it is not `enode://<128 hex>@host:port`.
 */
export function parseEnodeUrl(url: string, field = "enode"): ParsedEnode {
  const match = ENODE.exec(url);
  if (match === null) {
    throw new InvalidInputError(`${field} is not an enode URL`, {
      field,
      rule: "enode.format",
      code: "network.enode.format",
      details: "expected enode://<128 hex digits>@<host>:<port>",
    });
  }
  const port = Number(match[3]);
  if (port < 1 || port > 65535) {
    throw new InvalidInputError(`${field} port ${port} is outside 1..65535`, {
      field,
      code: "network.enode.port",
    });
  }
  return { identity: nodeIdentity("0x" + match[1]!, field), host: match[2]!, port };
}
