import { expect } from "chai";
import fc from "fast-check";
import { AbiCoder, Interface, keccak256 } from "ethers";
import { loadLedgerArtifact } from "../../src/chain/artifact.ts";
import { ChainDataError } from "../../src/chain/errors.ts";
import type { RawLog } from "../../src/chain/get-logs.ts";
import { decodeLedgerLog } from "../../src/chain/ledger-events.ts";
import { LEDGER_EVENT_TOPICS } from "../../src/core/ledger-abi.ts";
import { nextLogHead, nextLogHeadV2 } from "../../src/core/log-head.ts";

const hex32 = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => "0x" + Buffer.from(b).toString("hex"));
const address = fc
  .uint8Array({ minLength: 20, maxLength: 20 })
  .map((b) => "0x" + Buffer.from(b).toString("hex"));
const uint = (bits: number, max = 2n ** BigInt(bits) - 1n) => fc.bigInt({ min: 0n, max });
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function asLog(encoded: { data: string; topics: string[] }): RawLog {
  return {
    address: "0x" + "11".repeat(20),
    topics: encoded.topics.map((t) => t.toLowerCase()),
    data: encoded.data,
    blockNumber: 7,
    blockHash: "0x" + "22".repeat(32),
    transactionHash: "0x" + "33".repeat(32),
    transactionIndex: 0,
    logIndex: 4,
  };
}

describe("ledger events", function () {
  let iface: Interface;
  before(async function () {
    iface = new Interface((await loadLedgerArtifact()).abi);
  });

  describe("the generated event tables", function () {
    it("decode every event the compiled contract declares", function () {
      iface.forEachEvent((event) => {
        expect(
          LEDGER_EVENT_TOPICS[event.name as keyof typeof LEDGER_EVENT_TOPICS],
          event.name,
        ).to.equal(event.topicHash);
        const zero = (type: string, name: string): unknown => {
          const array = /^(.*)\[(\d+)\]$/.exec(type);
          if (array !== null)
            return Array.from({ length: Number(array[2]) }, () => zero(array[1]!, name));
          return type === "address"
            ? "0x" + "00".repeat(20)
            : type === "bytes32"
              ? "0x" + "00".repeat(32)
              : name === "verdict"
                ? 1n
                : 0n;
        };
        const zeroes = event.inputs.map((input) => zero(input.type, input.name));
        const decoded = decodeLedgerLog(asLog(iface.encodeEventLog(event, zeroes)));
        expect(decoded?.type, event.name).to.equal(event.name);
      });
    });
  });

  describe("decodeLedgerLog", function () {
    it("decodes BatchAnchored exactly as ethers does, for any field values", function () {
      fc.assert(
        fc.property(
          fc.record({
            batchId: uint(64, SAFE),
            root: hex32,
            period: uint(32),
            kind: fc.constantFrom(0n, 1n),
            recordCount: uint(64, SAFE),
            totalAmount: uint(128),
            manifestHash: hex32,
            supersedes: uint(64, SAFE),
            idempotencyKey: hex32,
            headAfter: hex32,
            anchorer: address,
          }),
          (v) => {
            const ev = iface.getEvent("BatchAnchored")!;
            const log = asLog(iface.encodeEventLog(ev, Object.values(v)));
            const d = decodeLedgerLog(log)!;
            expect(d).to.deep.equal({
              blockNumber: 7,
              blockHash: log.blockHash,
              logIndex: 4,
              transactionHash: log.transactionHash,
              type: "BatchAnchored",
              batchId: Number(v.batchId),
              root: v.root,
              period: Number(v.period),
              kind: Number(v.kind),
              recordCount: Number(v.recordCount),
              totalAmount: v.totalAmount,
              manifestHash: v.manifestHash,
              supersedes: Number(v.supersedes),
              idempotencyKey: v.idempotencyKey,
              headAfter: v.headAfter,
              anchorer: v.anchorer,
            });
          },
        ),
        { numRuns: 200 },
      );
    });

    it("decodes BatchAnchoredV2 exactly as ethers does, and its head is nextLogHeadV2", function () {
      fc.assert(
        fc.property(
          fc.record({
            batchId: uint(64, SAFE),
            root: hex32,
            period: uint(32),
            kind: fc.constantFrom(0n, 1n),
            totals: fc.array(uint(128), { minLength: 6, maxLength: 6 }),
            manifestHash: hex32,
            supersedes: uint(64, SAFE),
            idempotencyKey: hex32,
            headAfter: hex32,
            vrfKeyId: hex32,
            anchorer: address,
          }),
          (v) => {
            if (v.kind === 0n) v.totals[5] = 0n;
            const ev = iface.getEvent("BatchAnchoredV2")!;
            const log = asLog(iface.encodeEventLog(ev, Object.values(v)));
            const d = decodeLedgerLog(log)!;
            expect(d).to.deep.equal({
              blockNumber: 7,
              blockHash: log.blockHash,
              logIndex: 4,
              transactionHash: log.transactionHash,
              type: "BatchAnchoredV2",
              batchId: Number(v.batchId),
              root: v.root,
              period: Number(v.period),
              kind: Number(v.kind),
              totals: v.totals,
              manifestHash: v.manifestHash,
              supersedes: Number(v.supersedes),
              idempotencyKey: v.idempotencyKey,
              headAfter: v.headAfter,
              vrfKeyId: v.vrfKeyId,
              anchorer: v.anchorer,
            });
            const previous = v.headAfter;
            expect(
              nextLogHeadV2(previous, {
                batchId: Number(v.batchId),
                root: v.root,
                kind: Number(v.kind) as 0 | 1,
                period: Number(v.period),
                totals: v.totals,
                manifestHash: v.manifestHash,
                vrfKeyId: v.vrfKeyId,
              }),
            ).to.equal(
              keccak256(
                AbiCoder.defaultAbiCoder().encode(
                  [
                    "bytes32",
                    "uint64",
                    "bytes32",
                    "uint8",
                    "uint32",
                    "uint8",
                    "uint128[6]",
                    "bytes32",
                    "bytes32",
                  ],
                  [
                    previous,
                    v.batchId,
                    v.root,
                    v.kind,
                    v.period,
                    1,
                    v.totals,
                    v.manifestHash,
                    v.vrfKeyId,
                  ],
                ),
              ),
            );
          },
        ),
        { numRuns: 100 },
      );
    });

    it("refuses a BatchAnchoredV2 whose premium lane 5 is not 0, or whose lane is over uint128", function () {
      const ev = iface.getEvent("BatchAnchoredV2")!;
      const h = "0x" + "01".repeat(32);
      const log = asLog(
        iface.encodeEventLog(ev, [
          2,
          h,
          140307,
          0,
          [1, 1, 5, 6, 7, 9],
          h,
          0,
          h,
          h,
          h,
          "0x" + "05".repeat(20),
        ]),
      );
      expect(() => decodeLedgerLog(log)).to.throw(ChainDataError, /totals\[5\] is not 0/);
      const wide = {
        ...log,
        data: log.data.slice(0, 66) + "1" + "0".repeat(63) + log.data.slice(130),
      };
      expect(() => decodeLedgerLog(wide)).to.throw(
        ChainDataError,
        /totals\[0\] does not fit uint128/,
      );
    });

    it("decodes VrfKeyRegistered", function () {
      const a = "0x" + "ab".repeat(20);
      const k = "0x" + "cd".repeat(32);
      const pk = "0x" + "ef".repeat(32);
      const log = asLog(iface.encodeEventLog(iface.getEvent("VrfKeyRegistered")!, [k, pk, 3, a]));
      expect(decodeLedgerLog(log)).to.deep.include({
        type: "VrfKeyRegistered",
        keyId: k,
        publicKey: pk,
        index: 3,
        registrar: a,
      });
    });

    it("decodes the ledger log's checkpoint and the trust policy, and refuses a size beyond uint64", function () {
      const enc = (name: string, args: unknown[]) =>
        asLog(iface.encodeEventLog(iface.getEvent(name)!, args));
      const a = "0x" + "ab".repeat(20);
      const root = "0x" + "cd".repeat(32);
      const policy = "0x" + "ef".repeat(32);
      expect(
        decodeLedgerLog(enc("LogCheckpointRecorded", [1_000_000, root, 999_999, a])),
      ).to.deep.include({
        type: "LogCheckpointRecorded",
        size: 1_000_000,
        root,
        previousSize: 999_999,
        recorder: a,
      });
      expect(decodeLedgerLog(enc("TrustPolicySet", [policy, root, a]))).to.deep.include({
        type: "TrustPolicySet",
        policyHash: policy,
        previous: root,
        admin: a,
      });
      const log = enc("LogCheckpointRecorded", [1, root, 0, a]);
      const topics = [...log.topics];
      topics[1] = "0x" + "01" + "00".repeat(31);
      expect(() => decodeLedgerLog({ ...log, topics })).to.throw(
        ChainDataError,
        /size does not fit uint64/,
      );
    });

    it("decodes the attestation, supersession, role, pause and admin events", function () {
      const enc = (name: string, args: unknown[]) =>
        decodeLedgerLog(asLog(iface.encodeEventLog(iface.getEvent(name)!, args)));
      const a = "0x" + "ab".repeat(20);
      const b = "0x" + "cd".repeat(20);
      const h = "0x" + "ef".repeat(32);
      expect(enc("BatchAttested", [9, a, 2, 1, h])).to.deep.include({
        batchId: 9,
        auditor: a,
        verdict: 2,
        previous: 1,
        reportHash: h,
      });
      expect(enc("BatchSuperseded", [3, 8])).to.deep.include({ batchId: 3, supersededBy: 8 });
      expect(enc("RoleGranted", [h, a, b])).to.deep.include({
        type: "RoleGranted",
        role: h,
        account: a,
        sender: b,
      });
      expect(enc("RoleRevoked", [h, a, b])).to.deep.include({ type: "RoleRevoked", account: a });
      expect(enc("RoleAdminChanged", [h, "0x" + "00".repeat(32), h])).to.deep.include({
        newAdminRole: h,
      });
      expect(enc("Paused", [a])).to.deep.include({ type: "Paused", account: a });
      expect(enc("Unpaused", [b])).to.deep.include({ type: "Unpaused", account: b });
      expect(enc("DefaultAdminTransferScheduled", [a, 1234])).to.deep.include({
        newAdmin: a,
        acceptSchedule: 1234,
      });
      expect(enc("DefaultAdminTransferCanceled", [])).to.deep.include({
        type: "DefaultAdminTransferCanceled",
      });
      expect(enc("DefaultAdminDelayChangeScheduled", [60, 99])).to.deep.include({
        newDelay: 60,
        effectSchedule: 99,
      });
      expect(enc("DefaultAdminDelayChangeCanceled", [])).to.deep.include({
        type: "DefaultAdminDelayChangeCanceled",
      });
    });

    it("ignores a log whose topic0 the ledger does not declare", function () {
      expect(decodeLedgerLog(asLog({ topics: ["0x" + "99".repeat(32)], data: "0x" }))).to.equal(
        undefined,
      );
      expect(decodeLedgerLog(asLog({ topics: [], data: "0x" }))).to.equal(undefined);
    });

    describe("rejects words that do not fit their Solidity type", function () {
      function anchored(): RawLog {
        const ev = iface.getEvent("BatchAnchored")!;
        return asLog(
          iface.encodeEventLog(ev, [
            1,
            "0x" + "01".repeat(32),
            140307,
            1,
            5,
            100,
            "0x" + "02".repeat(32),
            0,
            "0x" + "03".repeat(32),
            "0x" + "04".repeat(32),
            "0x" + "05".repeat(20),
          ]),
        );
      }
      const word = (log: RawLog, i: number, w: string): RawLog => ({
        ...log,
        data: log.data.slice(0, 2 + 64 * i) + w + log.data.slice(2 + 64 * (i + 1)),
      });
      for (const [what, mutate, pattern] of [
        ["kind 2", (l: RawLog) => word(l, 0, "2".padStart(64, "0")), /kind 2 is not a valid enum/],
        [
          "recordCount over uint64",
          (l: RawLog) => word(l, 1, "1" + "0".repeat(63)),
          /recordCount does not fit uint64/,
        ],
        [
          "totalAmount over uint128",
          (l: RawLog) => word(l, 2, "1" + "0".repeat(63)),
          /totalAmount does not fit uint128/,
        ],
        [
          "an anchorer with high bits",
          (l: RawLog) => word(l, 7, "f".repeat(64)),
          /anchorer is not an address/,
        ],
        [
          "a missing data word",
          (l: RawLog) => ({ ...l, data: l.data.slice(0, -64) }),
          /expected 4 topics and 8 data words/,
        ],
        [
          "an extra topic",
          (l: RawLog) => ({ ...l, topics: [...l.topics, "0x" + "00".repeat(32)] }),
          /expected 4 topics/,
        ],
        [
          "a batch id beyond 2^53",
          (l: RawLog) => ({
            ...l,
            topics: [
              l.topics[0]!,
              "0x" + "00".repeat(24) + "ff".repeat(8),
              l.topics[2]!,
              l.topics[3]!,
            ],
          }),
          /batchId exceeds 2\^53/,
        ],
      ] as const) {
        it(what, function () {
          expect(() => decodeLedgerLog(mutate(anchored()))).to.throw(ChainDataError, pattern);
        });
      }
      it("an attestation with verdict None", function () {
        const log = asLog(
          iface.encodeEventLog(iface.getEvent("BatchAttested")!, [
            1,
            "0x" + "ab".repeat(20),
            1,
            0,
            "0x" + "ef".repeat(32),
          ]),
        );
        const none = { ...log, data: "0x" + "0".repeat(64) + log.data.slice(66) };
        expect(() => decodeLedgerLog(none)).to.throw(ChainDataError, /None is never recorded/);
      });
    });
  });

  describe("nextLogHead", function () {
    it("is keccak256(abi.encode(prev, id, root, kind, period, count, total, manifestHash)) per ITransparencyLedger.sol", function () {
      const coder = AbiCoder.defaultAbiCoder();
      fc.assert(
        fc.property(
          hex32,
          uint(64, SAFE),
          hex32,
          fc.constantFrom(0, 1),
          uint(32),
          uint(64, SAFE),
          uint(128),
          hex32,
          (prev, id, root, kind, period, count, total, mh) => {
            const expected = keccak256(
              coder.encode(
                ["bytes32", "uint64", "bytes32", "uint8", "uint32", "uint64", "uint128", "bytes32"],
                [prev, id, root, kind, period, count, total, mh],
              ),
            );
            const got = nextLogHead(prev, {
              batchId: Number(id),
              root,
              kind: kind,
              period: Number(period),
              recordCount: Number(count),
              totalAmount: total,
              manifestHash: mh,
            });
            expect(got).to.equal(expected);
          },
        ),
        { numRuns: 200 },
      );
    });
  });
});
