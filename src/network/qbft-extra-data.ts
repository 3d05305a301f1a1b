import {
  decodeRlp,
  encodeRlp,
  getAddress,
  hexlify,
  isHexString,
  toBeArray,
  type RlpStructuredData,
} from "ethers";
import { InvalidInputError } from "../core/errors.ts";

/**
 * The QBFT block-header `extraData` as Hyperledger Besu encodes it
 * (`QbftExtraDataCodec` in besu `consensus/qbft`):
 *
 *   RLP([vanity: 32 bytes, validators: [address…], vote: [] | [recipient, 0xff (add) | "" (drop)],
 *        round: integer scalar (minimal big-endian, 0 is ""), seals: [65-byte signature…]])
 *
 * A genesis block carries 32 zero vanity bytes, the initial validators, no vote, round 0, no seals.
 */
export interface QbftExtraData {
  /** 0x + 64 hex digits. */
  readonly vanity: string;
  /** Validator addresses, checksummed, in encoded order. */
  readonly validators: readonly string[];
  readonly vote: { readonly recipient: string; readonly add: boolean } | null;
  /** 0 ≤ round < 2³¹ (Besu reads it with `readIntScalar`). */
  readonly round: number;
  /** 65-byte secp256k1 signatures (r ‖ s ‖ v), 0x-hex. */
  readonly seals: readonly string[];
}

const ZERO_VANITY = "0x" + "00".repeat(32);
const VOTE_ADD = "0xff";
const VOTE_DROP = "0x";

/**
 * RLP-encodes QBFT extra data exactly as Besu's `QbftExtraDataCodec.encode` (all fields included).
 * Validators keep the given order.
 *
 * @example
 * encodeQbftExtraData({ vanity: "0x" + "00".repeat(32), validators: [a, b], vote: null, round: 0, seals: [] });
 */
export function encodeQbftExtraData(data: QbftExtraData): string {
  checkBytes(data.vanity, 32, "vanity");
  const validators = data.validators.map((v, i) => addressBytes(v, `validators[${i}]`));
  const vote: RlpStructuredData =
    data.vote === null
      ? []
      : [addressBytes(data.vote.recipient, "vote.recipient"), data.vote.add ? VOTE_ADD : VOTE_DROP];
  if (!Number.isSafeInteger(data.round) || data.round < 0 || data.round > 0x7fffffff) {
    throw new InvalidInputError(`QBFT round ${data.round} is not an integer in 0..2^31-1`, {
      field: "round",
      code: "network.extra-data.round",
    });
  }
  const round = hexlify(toBeArray(data.round));
  const seals = data.seals.map((s, i) => {
    checkBytes(s, 65, `seals[${i}]`);
    return s.toLowerCase();
  });
  return encodeRlp([data.vanity.toLowerCase(), validators, vote, round, seals]);
}

/**
 * The genesis `extraData` for block-header validator selection:
 * `RLP([32 zero bytes, validators, no vote, round 0, no seals])`.
 *
 * @example
 * genesisExtraData(["0x4592c8e45706cc08b8f44b11e43cba0cfc5892cb", …]) // "0xf87aa0…c080c0"
 */
export function genesisExtraData(validators: readonly string[]): string {
  return encodeQbftExtraData({ vanity: ZERO_VANITY, validators, vote: null, round: 0, seals: [] });
}

/**
 * Decodes and checks QBFT extra data with the rules of Besu's `QbftExtraDataCodec.decodeRaw`: a list of
 * exactly five items, 20-byte validator addresses, a vote that is `[]` or `[address, 0xff | ""]`, a
 * minimal integer round (a leading zero byte is rejected, as Besu's `readIntScalar` does), 65-byte
 * seals, and nothing after the list. Also requires 32 vanity bytes (Besu's `EXTRA_VANITY_LENGTH`).
 *
 * @throws InvalidInputError naming the offending item.
 */
export function decodeQbftExtraData(hex: string): QbftExtraData {
  if (!isHexString(hex) || hex.length <= 2) {
    throw bad("extraData is empty or not 0x-prefixed hex", "extraData");
  }
  let decoded: RlpStructuredData;
  try {
    decoded = decodeRlp(hex);
  } catch (error) {
    throw bad(
      `extraData is not valid RLP (${(error as { shortMessage?: string }).shortMessage ?? "decode failed"})`,
      "extraData",
      error,
    );
  }
  if (!Array.isArray(decoded) || decoded.length !== 5) {
    throw bad(
      "extraData must be an RLP list of 5 items [vanity, validators, vote, round, seals]",
      "extraData",
    );
  }
  const [vanity, validatorList, vote, round, seals] = decoded;
  if (typeof vanity !== "string" || byteLength(vanity) !== 32) {
    throw bad("extraData vanity must be a 32-byte string", "extraData.vanity");
  }
  if (!Array.isArray(validatorList))
    throw bad("extraData validators must be a list", "extraData.validators");
  const validators = validatorList.map((v, i) => {
    if (typeof v !== "string" || byteLength(v) !== 20) {
      throw bad(
        `extraData validators[${i}] is not a 20-byte address`,
        `extraData.validators[${i}]`,
      );
    }
    return getAddress(v);
  });
  let parsedVote: QbftExtraData["vote"];
  if (!Array.isArray(vote))
    throw bad("extraData vote must be a list ([] for no vote)", "extraData.vote");
  if (vote.length === 0) {
    parsedVote = null;
  } else {
    const [recipient, kind] = vote;
    if (
      vote.length !== 2 ||
      typeof recipient !== "string" ||
      byteLength(recipient) !== 20 ||
      typeof kind !== "string"
    ) {
      throw bad("extraData vote must be [20-byte address, 0xff | empty]", "extraData.vote");
    }
    if (kind !== VOTE_ADD && kind !== VOTE_DROP) {
      throw bad(
        `extraData vote type ${kind} is neither 0xff (add) nor empty (drop)`,
        "extraData.vote",
      );
    }
    parsedVote = { recipient: getAddress(recipient), add: kind === VOTE_ADD };
  }
  if (typeof round !== "string" || byteLength(round) > 4 || round.startsWith("0x00")) {
    throw bad(
      "extraData round must be a minimal integer scalar of at most 4 bytes",
      "extraData.round",
    );
  }
  const roundNumber = round === "0x" ? 0 : Number(BigInt(round));
  if (roundNumber > 0x7fffffff) throw bad("extraData round exceeds 2^31-1", "extraData.round");
  if (!Array.isArray(seals)) throw bad("extraData seals must be a list", "extraData.seals");
  const parsedSeals = seals.map((s, i) => {
    if (typeof s !== "string" || byteLength(s) !== 65) {
      throw bad(`extraData seals[${i}] is not a 65-byte signature`, `extraData.seals[${i}]`);
    }
    return s;
  });
  return { vanity, validators, vote: parsedVote, round: roundNumber, seals: parsedSeals };
}

function byteLength(hex: string): number {
  return (hex.length - 2) / 2;
}

function checkBytes(hex: string, length: number, field: string): void {
  if (!isHexString(hex, length)) {
    throw new InvalidInputError(`${field} must be 0x + ${length * 2} hex digits`, {
      field,
      code: "network.extra-data.bytes",
    });
  }
}

function addressBytes(address: string, field: string): string {
  if (!isHexString(address, 20)) {
    throw new InvalidInputError(`${field} is not a 20-byte 0x-hex address`, {
      field,
      code: "network.extra-data.address",
    });
  }
  return address.toLowerCase();
}

function bad(message: string, field: string, cause?: unknown): InvalidInputError {
  return new InvalidInputError(message, {
    field,
    code: "network.extra-data.decode",
    details:
      'expected RLP([32-byte vanity, [validators], [] | [address, 0xff|""], round, [seals]]) as Besu\'s QbftExtraDataCodec writes',
    ...(cause === undefined ? {} : { cause }),
  });
}
