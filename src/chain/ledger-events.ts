/**
 * A decoder for the ledger contract's fixed event layout (ITransparencyLedger.sol plus
 * OpenZeppelin AccessControlDefaultAdminRules), reading words straight out of the log's hex
 * strings. ethers' `Interface.parseLog` decodes ≈ 16 k logs/s (MEASURED.md); this keeps the
 * indexer's hot path free of it. Every field is range-checked: a word that does not fit its
 * Solidity type is a {@link ChainDataError}, never silently truncated.
 */
import { bytesToHex } from "../core/hex.ts";
import { keccak256 } from "../core/keccak.ts";
import { LEDGER_EVENT_TOPICS, type LedgerEventName } from "../core/ledger-abi.ts";
import { ChainDataError } from "./errors.ts";
import type { RawLog } from "./get-logs.ts";

/**
 * topic0 → event name, for exactly the compiled ledger's events (src/core/ledger-abi.ts, generated
 * from the artifact): a new event in the contract makes `decodeLedgerLog`'s switch non-exhaustive,
 * which the typechecker reports.
 */
const NAME_OF_TOPIC = new Map<string, LedgerEventName>(
  Object.entries(LEDGER_EVENT_TOPICS).map(([name, topic]) => [topic, name as LedgerEventName]),
);

/** Role hashes of the contract, for display. */
export const ROLE_NAMES: ReadonlyMap<string, string> = new Map(
  ["ANCHORER_ROLE", "AUDITOR_ROLE", "PAUSER_ROLE", "VRF_KEY_ROLE", "LOG_ROLE"]
    .map((name): [string, string] => [topicOf(name), name])
    .concat([["0x" + "00".repeat(32), "DEFAULT_ADMIN_ROLE"]]),
);

interface Located {
  blockNumber: number;
  blockHash: string;
  logIndex: number;
  transactionHash: string;
}

export type LedgerEvent = Located &
  (
    | {
        type: "BatchAnchored";
        batchId: number;
        root: string;
        /** YYYYMM as on chain, e.g. 140307. */
        period: number;
        kind: 0 | 1;
        recordCount: number;
        totalAmount: bigint;
        manifestHash: string;
        supersedes: number;
        idempotencyKey: string;
        headAfter: string;
        anchorer: string;
      }
    | {
        /** A `shafaf-tree/2` batch; ids are shared with BatchAnchored. */
        type: "BatchAnchoredV2";
        batchId: number;
        root: string;
        period: number;
        kind: 0 | 1;
        /** The root's lanes (tree-v2.md §4), always 6 (a premium batch's lane 5 is 0). */
        totals: bigint[];
        manifestHash: string;
        supersedes: number;
        idempotencyKey: string;
        headAfter: string;
        vrfKeyId: string;
        anchorer: string;
      }
    | {
        type: "VrfKeyRegistered";
        keyId: string;
        publicKey: string;
        index: number;
        registrar: string;
      }
    | {
        /** The ledger log's checkpoint, checked consistent with the previous one on chain. */
        type: "LogCheckpointRecorded";
        size: number;
        /** RFC 6962 SHA-256 root, 0x + 64 hex. */
        root: string;
        previousSize: number;
        recorder: string;
      }
    | {
        /** SHA-256 of the trust-policy file, recorded by the admin (governance). */
        type: "TrustPolicySet";
        policyHash: string;
        previous: string;
        admin: string;
      }
    | { type: "BatchSuperseded"; batchId: number; supersededBy: number }
    | {
        type: "BatchAttested";
        batchId: number;
        auditor: string;
        verdict: 1 | 2;
        previous: 0 | 1 | 2;
        reportHash: string;
      }
    | { type: "RoleGranted" | "RoleRevoked"; role: string; account: string; sender: string }
    | { type: "RoleAdminChanged"; role: string; previousAdminRole: string; newAdminRole: string }
    | { type: "Paused" | "Unpaused"; account: string }
    | { type: "DefaultAdminTransferScheduled"; newAdmin: string; acceptSchedule: number }
    | { type: "DefaultAdminTransferCanceled" | "DefaultAdminDelayChangeCanceled" }
    | { type: "DefaultAdminDelayChangeScheduled"; newDelay: number; effectSchedule: number }
  );

/**
 * Decodes one of the ledger's logs; undefined for a topic0 the ledger does not declare.
 *
 * @example
 * const event = decodeLedgerLog(log);
 * if (event?.type === "BatchAnchored") console.log(event.batchId, event.totalAmount);
 */
export function decodeLedgerLog(log: RawLog): LedgerEvent | undefined {
  const name = NAME_OF_TOPIC.get(log.topics[0] ?? "");
  if (name === undefined) return undefined;
  const at: Located = {
    blockNumber: log.blockNumber,
    blockHash: log.blockHash,
    logIndex: log.logIndex,
    transactionHash: log.transactionHash,
  };
  const r = new Reader(log, name);
  switch (name) {
    case "BatchAnchored": {
      r.expect(4, 8);
      return {
        ...at,
        type: name,
        batchId: r.uint(r.topic(1), 64, "batchId"),
        root: r.topic(2),
        period: r.uint(r.topic(3), 32, "period"),
        kind: r.enumValue(r.word(0), 1, "kind") as 0 | 1,
        recordCount: r.uint(r.word(1), 64, "recordCount"),
        totalAmount: r.bigUint(r.word(2), 128, "totalAmount"),
        manifestHash: r.word(3),
        supersedes: r.uint(r.word(4), 64, "supersedes"),
        idempotencyKey: r.word(5),
        headAfter: r.word(6),
        anchorer: r.address(r.word(7), "anchorer"),
      };
    }
    case "BatchAnchoredV2": {
      r.expect(4, 13);
      const kind = r.enumValue(r.word(0), 1, "kind") as 0 | 1;
      const totals = [1, 2, 3, 4, 5, 6].map((i) => r.bigUint(r.word(i), 128, `totals[${i - 1}]`));
      if (kind === 0 && totals[5] !== 0n) throw r.fail("totals[5]", "is not 0 in a premium batch");
      return {
        ...at,
        type: name,
        batchId: r.uint(r.topic(1), 64, "batchId"),
        root: r.topic(2),
        period: r.uint(r.topic(3), 32, "period"),
        kind,
        totals,
        manifestHash: r.word(7),
        supersedes: r.uint(r.word(8), 64, "supersedes"),
        idempotencyKey: r.word(9),
        headAfter: r.word(10),
        vrfKeyId: r.word(11),
        anchorer: r.address(r.word(12), "anchorer"),
      };
    }
    case "VrfKeyRegistered":
      r.expect(3, 2);
      return {
        ...at,
        type: name,
        keyId: r.topic(1),
        registrar: r.address(r.topic(2), "registrar"),
        publicKey: r.word(0),
        index: r.uint(r.word(1), 32, "index"),
      };
    case "LogCheckpointRecorded":
      r.expect(3, 2);
      return {
        ...at,
        type: name,
        size: r.uint(r.topic(1), 64, "size"),
        recorder: r.address(r.topic(2), "recorder"),
        root: r.word(0),
        previousSize: r.uint(r.word(1), 64, "previousSize"),
      };
    case "TrustPolicySet":
      r.expect(3, 1);
      return {
        ...at,
        type: name,
        policyHash: r.topic(1),
        admin: r.address(r.topic(2), "admin"),
        previous: r.word(0),
      };
    case "BatchSuperseded":
      r.expect(3, 0);
      return {
        ...at,
        type: name,
        batchId: r.uint(r.topic(1), 64, "batchId"),
        supersededBy: r.uint(r.topic(2), 64, "supersededBy"),
      };
    case "BatchAttested": {
      r.expect(3, 3);
      const verdict = r.enumValue(r.word(0), 2, "verdict");
      if (verdict === 0) throw r.fail("verdict", "None is never recorded");
      return {
        ...at,
        type: name,
        batchId: r.uint(r.topic(1), 64, "batchId"),
        auditor: r.address(r.topic(2), "auditor"),
        verdict: verdict as 1 | 2,
        previous: r.enumValue(r.word(1), 2, "previous") as 0 | 1 | 2,
        reportHash: r.word(2),
      };
    }
    case "RoleGranted":
    case "RoleRevoked":
      r.expect(4, 0);
      return {
        ...at,
        type: name,
        role: r.topic(1),
        account: r.address(r.topic(2), "account"),
        sender: r.address(r.topic(3), "sender"),
      };
    case "RoleAdminChanged":
      r.expect(4, 0);
      return {
        ...at,
        type: name,
        role: r.topic(1),
        previousAdminRole: r.topic(2),
        newAdminRole: r.topic(3),
      };
    case "Paused":
    case "Unpaused":
      r.expect(1, 1);
      return { ...at, type: name, account: r.address(r.word(0), "account") };
    case "DefaultAdminTransferScheduled":
      r.expect(2, 1);
      return {
        ...at,
        type: name,
        newAdmin: r.address(r.topic(1), "newAdmin"),
        acceptSchedule: r.uint(r.word(0), 48, "acceptSchedule"),
      };
    case "DefaultAdminTransferCanceled":
    case "DefaultAdminDelayChangeCanceled":
      r.expect(1, 0);
      return { ...at, type: name };
    case "DefaultAdminDelayChangeScheduled":
      r.expect(1, 2);
      return {
        ...at,
        type: name,
        newDelay: r.uint(r.word(0), 48, "newDelay"),
        effectSchedule: r.uint(r.word(1), 48, "effectSchedule"),
      };
  }
}

export function topicOf(signature: string): string {
  return bytesToHex(keccak256(new TextEncoder().encode(signature)));
}

class Reader {
  constructor(
    private readonly log: RawLog,
    private readonly name: LedgerEventName,
  ) {}

  expect(topics: number, words: number): void {
    if (this.log.topics.length !== topics || this.log.data.length !== 2 + 64 * words) {
      throw this.fail(
        "layout",
        `expected ${topics} topics and ${words} data words, got ${this.log.topics.length} topics and ${(this.log.data.length - 2) / 64} words`,
      );
    }
  }

  topic(i: number): string {
    return this.log.topics[i]!;
  }

  /** Data word i as 0x + 64 hex digits (lower case). */
  word(i: number): string {
    return "0x" + this.log.data.slice(2 + 64 * i, 66 + 64 * i).toLowerCase();
  }

  bigUint(w: string, bits: number, field: string): bigint {
    const v = BigInt(w);
    if (v >> BigInt(bits) !== 0n) throw this.fail(field, `does not fit uint${bits}`);
    return v;
  }

  uint(w: string, bits: number, field: string): number {
    const v = this.bigUint(w, bits, field);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(field, "exceeds 2^53");
    return Number(v);
  }

  enumValue(w: string, max: number, field: string): number {
    const v = this.uint(w, 8, field);
    if (v > max) throw this.fail(field, `${v} is not a valid enum value`);
    return v;
  }

  address(w: string, field: string): string {
    if (!/^0x0{24}[0-9a-fA-F]{40}$/.test(w)) throw this.fail(field, "is not an address");
    return "0x" + w.slice(26).toLowerCase();
  }

  fail(field: string, problem: string): ChainDataError {
    return new ChainDataError(
      `log ${this.log.blockNumber}:${this.log.logIndex} (${this.name}): ${field} ${problem}`,
      { code: "chain.event.decode" },
    );
  }
}
