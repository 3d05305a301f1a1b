// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {SumTreeV2} from "../libraries/SumTreeV2.sol";

/**
 * @title ITransparencyLedger — the specification of Shafaf's on-chain log
 * @notice An append-only log of Merkle roots over batches of social-security premium and pension
 * records. Finance systems (ANCHORER_ROLE) anchor batches; auditors (AUDITOR_ROLE) attest to them;
 * anyone verifies a record against an anchored root. Nothing anchored is ever changed or deleted:
 * a correction is a new batch that supersedes an earlier one.
 *
 * Privacy: no argument, event or error carries personal data. A batch is a root, a count, a total
 * and hashes; records are committed with per-record random salts off-chain.
 *
 * Two tree schemes share one sequence of batch ids, one log head and the same idempotency,
 * root-uniqueness and supersession rules: `StandardV1` batches (`anchorBatch`, OpenZeppelin
 * StandardMerkleTree, `verifyRecord`) and `SumTreeV2` batches (`anchorBatchV2`, the keyed
 * Merkle-sum tree `shafaf-tree/2` of docs/spec/tree-v2.md, `verifyInclusionV2`, `verifyRangeV2`,
 * `verifyAbsenceV2`). A function of one scheme refuses a batch of the other with
 * LedgerWrongScheme.
 *
 * Log head: after batch `n`,
 *   StandardV1: head_n = keccak256(abi.encode(head_{n-1}, n, root, uint8(kind), period, recordCount,
 *               totalAmount, manifestHash))  (8 words)
 *   SumTreeV2:  head_n = keccak256(abi.encode(head_{n-1}, n, root, uint8(kind), period, uint8(1),
 *               totals (uint128[6]), manifestHash, vrfKeyId))  (14 words: never a v1 preimage)
 * with head_0 = bytes32(0). Anyone can recompute it from `BatchAnchored` and `BatchAnchoredV2`
 * events in batch-id order and compare with `head()`.
 *
 * VRF keys: the organization's RFC 9381 VRF public keys (docs/spec/person-key-v1.md) are recorded
 * here (VRF_KEY_ROLE); a key's id is keccak256 of its 32 bytes, and every v2 batch names the id of
 * the key its person keys were derived with. A rotation is the registration of a newer key.
 *
 * Ledger log: the witnessed log of docs/spec/log-entry-v1.md (RFC 6962, SHA-256, entry `i` =
 * batch `i + 1`) records its checkpoints here (LOG_ROLE, `recordLogCheckpoint`). The ledger
 * accepts a checkpoint only if it extends the recorded one (it verifies the RFC 6962 consistency
 * proof itself, so the chain is one more witness that the log is append-only) and has no more
 * entries than anchored batches. It cannot check the entries' contents (an entry names its
 * anchoring transaction, which the contract never sees): that is the monitors' and auditors'
 * work. The first checkpoint is taken as given. Governance (the admin) records the SHA-256 of the
 * trust-policy file (docs/spec/trust-policy-v1.md) that says which log key and witnesses a
 * verifier trusts.
 */
interface ITransparencyLedger {
    /// @notice What a batch records. Append-only: new kinds are added at the end, never reordered.
    enum Kind {
        Premium,
        Pension
    }

    /// @notice An auditor's verdict on a batch. `None` only describes the absence of a verdict.
    enum Verdict {
        None,
        Confirmed,
        Disputed
    }

    /// @notice The tree scheme of a batch. Append-only.
    enum Scheme {
        StandardV1, // OpenZeppelin StandardMerkleTree (standard-v1): anchorBatch, verifyRecord
        SumTreeV2 // shafaf-tree/2 (docs/spec/tree-v2.md): anchorBatchV2, verify*V2
    }

    /// @notice A batch as stored. Every field except `supersededBy` is fixed when it is anchored.
    struct Batch {
        bytes32 root; // OpenZeppelin StandardMerkleTree root over the batch's leaves
        bytes32 manifestHash; // keccak256 of the canonical off-chain manifest bytes
        bytes32 idempotencyKey; // client-chosen key; reusing it reverts with the existing batch id
        bytes32 headAfter; // log head after this batch
        uint128 totalAmount; // Σ amounts in integer Rials
        uint64 recordCount; // number of leaves, > 0
        uint32 period; // Jalali year-month as YYYYMM, year >= 1300, month 1..12
        Kind kind;
        uint64 supersedes; // id of the batch this one corrects, 0 for none
        uint64 supersededBy; // id of the batch that corrects this one, 0 while current
        address anchorer; // the account that anchored it
        uint64 anchoredAt; // block timestamp, seconds
    }

    /**
     * @notice A `shafaf-tree/2` batch as stored. Every field except `supersededBy` is fixed when it
     * is anchored. `totals` are the root's lanes (tree-v2.md §4): premium (5 lanes) records,
     * persons, insurableWage, days, premium, lane 5 = 0; pension (6 lanes) records, persons,
     * gross, deductions, net, onTime. The number of records is `totals[0]`.
     */
    // solhint-disable-next-line gas-struct-packing
    struct BatchV2 {
        bytes32 root; // the batch root hash (tree-v2.md §6)
        bytes32 manifestHash; // keccak256 of the canonical off-chain manifest bytes
        bytes32 idempotencyKey;
        bytes32 headAfter; // log head after this batch
        bytes32 vrfKeyId; // the registered VRF key the batch's person keys derive from
        uint128[6] totals; // the root's lanes
        uint32 period;
        Kind kind;
        uint64 supersedes;
        uint64 supersededBy;
        address anchorer;
        uint64 anchoredAt;
    }

    /// @notice anchorBatchV2's argument (calldata only: field order mirrors anchorBatch's arguments).
    // solhint-disable-next-line gas-struct-packing
    struct AnchorV2 {
        bytes32 root; // non-zero, never anchored before (by either scheme)
        Kind kind;
        uint32 period; // Jalali YYYYMM (year 1300..9999, month 1..12)
        uint128[6] totals; // the root's lanes; totals[0] (records) > 0; premium: totals[5] == 0
        bytes32 manifestHash;
        uint64 supersedes; // an earlier current batch of the same kind and period (either scheme), or 0
        bytes32 idempotencyKey; // non-zero, unused
        bytes32 vrfKeyId; // a registered VRF key (registerVrfKey)
    }

    /// @notice A registered VRF public key.
    struct VrfKey {
        bytes32 publicKey; // RFC 8032 encoding of the ECVRF-EDWARDS25519-SHA512-TAI public key
        uint32 index; // 0, 1, …: registration order; the highest is the current key
        uint64 registeredAt; // block timestamp, seconds
    }

    // ───────────────────────────── events ─────────────────────────────

    /// @notice A batch was anchored. Carries every stored field, so that views rebuild from events alone.
    event BatchAnchored(
        uint64 indexed batchId,
        bytes32 indexed root,
        uint32 indexed period,
        Kind kind,
        uint64 recordCount,
        uint128 totalAmount,
        bytes32 manifestHash,
        uint64 supersedes,
        bytes32 idempotencyKey,
        bytes32 headAfter,
        address anchorer
    );

    /**
     * @notice A `shafaf-tree/2` batch was anchored. Carries every stored field, so that views
     * rebuild from events alone. Batch ids are shared with BatchAnchored.
     */
    event BatchAnchoredV2(
        uint64 indexed batchId,
        bytes32 indexed root,
        uint32 indexed period,
        Kind kind,
        uint128[6] totals,
        bytes32 manifestHash,
        uint64 supersedes,
        bytes32 idempotencyKey,
        bytes32 headAfter,
        bytes32 vrfKeyId,
        address anchorer
    );

    /// @notice VRF public key `publicKey` was registered as key number `index` (now the current key)
    /// by `registrar`; its id is keccak256(publicKey).
    // solhint-disable-next-line gas-indexed-events
    event VrfKeyRegistered(
        bytes32 indexed keyId,
        bytes32 publicKey,
        uint32 index,
        address indexed registrar
    );

    /**
     * @notice `recorder` (LOG_ROLE) recorded the ledger log's checkpoint: `size` entries with RFC 6962
     * root `root`, a consistent extension of the previous checkpoint of `previousSize` entries (0 for
     * the first). The consistency proof is in the transaction's calldata, not in the event.
     */
    // solhint-disable-next-line gas-indexed-events
    event LogCheckpointRecorded(
        uint64 indexed size,
        bytes32 root,
        uint64 previousSize,
        address indexed recorder
    );

    /// @notice The admin (governance) recorded `policyHash`, the SHA-256 of the trust-policy file's
    /// bytes, replacing `previous` (bytes32(0) for the first).
    // solhint-disable-next-line gas-indexed-events
    event TrustPolicySet(bytes32 indexed policyHash, bytes32 previous, address indexed admin);

    /// @notice Batch `batchId` was corrected by the newer batch `supersededBy` (same kind and period).
    event BatchSuperseded(uint64 indexed batchId, uint64 indexed supersededBy);

    /// @notice `auditor` recorded `verdict` on `batchId`, replacing its earlier verdict `previous` (None if first).
    event BatchAttested(
        uint64 indexed batchId,
        address indexed auditor,
        Verdict verdict,
        Verdict previous,
        bytes32 reportHash
    );

    /// @notice `account` (PAUSER_ROLE) stopped anchoring and attesting. Same signature as OpenZeppelin's.
    // solhint-disable-next-line gas-indexed-events
    event Paused(address account);

    /// @notice `account` (the admin, i.e. governance) resumed anchoring and attesting.
    // solhint-disable-next-line gas-indexed-events
    event Unpaused(address account);

    // ───────────────────────────── errors ─────────────────────────────

    /// @notice `period` is not YYYYMM with year 1300..9999 and month 1..12.
    error LedgerInvalidPeriod(uint32 period);
    /// @notice A batch must commit to at least one record.
    error LedgerZeroRecordCount();
    /// @notice The zero root commits to nothing.
    error LedgerZeroRoot();
    /// @notice The idempotency key was already used: the batch it anchored is `batchId` (resume from it).
    error LedgerDuplicateIdempotencyKey(bytes32 idempotencyKey, uint64 batchId);
    /// @notice The root was already anchored as batch `batchId`.
    error LedgerDuplicateRoot(bytes32 root, uint64 batchId);
    /// @notice No batch has id `batchId`.
    error LedgerUnknownBatch(uint64 batchId);
    /// @notice A correction must have the kind and period of the batch it supersedes.
    error LedgerSupersedeMismatch(uint64 supersedes, Kind expectedKind, uint32 expectedPeriod);
    /// @notice Batch `batchId` was already superseded by `supersededBy`; correct that one instead.
    error LedgerAlreadySuperseded(uint64 batchId, uint64 supersededBy);
    /// @notice Verdict must be Confirmed or Disputed.
    error LedgerInvalidVerdict(Verdict verdict);
    /// @notice An attestation must name the hash of the auditor's report.
    error LedgerZeroReportHash();
    /// @notice The zero idempotency key is reserved: `batchIdOfIdempotencyKey` answers 0 for "none".
    error LedgerZeroIdempotencyKey();
    /// @notice Batch `batchId` is of scheme `scheme`, which this function does not read or correct.
    error LedgerWrongScheme(uint64 batchId, Scheme scheme);
    /// @notice Lane `lane` is not used by `kind` and must be 0 (premium batches have 5 lanes).
    error LedgerUnusedLane(Kind kind, uint256 lane, uint128 value);
    /// @notice No VRF key with id `keyId` is registered.
    error LedgerUnknownVrfKey(bytes32 keyId);
    /// @notice The VRF key with id `keyId` is already registered, as key number `index`.
    error LedgerVrfKeyAlreadyRegistered(bytes32 keyId, uint32 index);
    /// @notice The zero public key is not a VRF key.
    error LedgerZeroVrfKey();
    /// @notice A log checkpoint must be larger than the recorded one, of `recordedSize` entries.
    error LedgerLogNotGrowing(uint64 recordedSize, uint64 size);
    /// @notice The log has one entry per anchored batch: `size` exceeds the `batchCount` anchored.
    error LedgerLogBeyondBatches(uint64 size, uint64 batchCount);
    /// @notice The consistency proof from `recordedSize` to `size` entries must have `expected`
    /// hashes (none for the first checkpoint), not `actual`.
    error LedgerLogProofLength(uint64 recordedSize, uint64 size, uint256 expected, uint256 actual);
    /// @notice The consistency proof does not lead back to the recorded root `recordedRoot` (of
    /// `recordedSize` entries): it gives `calculated`. The new tree does not extend the recorded one.
    error LedgerLogInconsistent(uint64 recordedSize, bytes32 recordedRoot, bytes32 calculated);
    /// @notice The consistency proof gives `calculated` as the root of `size` entries, not `root`.
    error LedgerLogRootMismatch(uint64 size, bytes32 root, bytes32 calculated);
    /// @notice The zero hash is not a trust policy's hash.
    error LedgerZeroTrustPolicy();
    /// @notice Anchoring and attesting are paused.
    error LedgerEnforcedPause();
    /// @notice `unpause` was called while the ledger was not paused.
    error LedgerExpectedPause();

    // ───────────────────────────── writes ─────────────────────────────

    /**
     * @notice Anchor a batch. Only ANCHORER_ROLE, only while not paused.
     * @param root Merkle root (StandardMerkleTree, standard-v1) of the batch's leaves
     * @param kind premium or pension
     * @param period Jalali YYYYMM (year 1300..9999, month 1..12)
     * @param recordCount number of leaves (> 0)
     * @param totalAmount Σ of the leaves' amounts in Rials
     * @param manifestHash keccak256 of the off-chain manifest
     * @param supersedes id of an earlier current StandardV1 batch of the same kind and period, or 0
     * (a StandardV1 batch cannot correct a SumTreeV2 batch: LedgerWrongScheme)
     * @param idempotencyKey unique per logical anchoring, non-zero; derived by the client from its inputs
     * @return batchId the new batch's id, sequential from 1
     */
    function anchorBatch(
        bytes32 root,
        Kind kind,
        uint32 period,
        uint64 recordCount,
        uint128 totalAmount,
        bytes32 manifestHash,
        uint64 supersedes,
        bytes32 idempotencyKey
    ) external returns (uint64 batchId);

    /**
     * @notice Anchor a `shafaf-tree/2` batch. Only ANCHORER_ROLE, only while not paused. Same
     * rules as anchorBatch (period, non-zero root and idempotency key, unique root and key,
     * supersession of a current batch of the same kind and period, of either scheme), plus:
     * `totals[0]` > 0 (LedgerZeroRecordCount), premium `totals[5]` == 0 (LedgerUnusedLane), and a
     * registered `vrfKeyId` (LedgerUnknownVrfKey). Emits BatchAnchoredV2, then BatchSuperseded
     * when `supersedes` != 0.
     * @return batchId the new batch's id, the next of the shared sequence
     */
    function anchorBatchV2(AnchorV2 calldata batch) external returns (uint64 batchId);

    /**
     * @notice Record a VRF public key; it becomes the current key. Only VRF_KEY_ROLE (granted by
     * the admin, i.e. governance). Allowed while paused (a rotation may be what ends a pause).
     * The key's validity as an edwards25519 point is not checked here (the client checks it).
     * @return keyId keccak256(publicKey)
     */
    function registerVrfKey(bytes32 publicKey) external returns (bytes32 keyId);

    /**
     * @notice Record the caller's verdict on a batch, replacing its earlier one. Only AUDITOR_ROLE,
     * only while not paused. Attesting a superseded batch is allowed (audits may finish late).
     */
    function attest(uint64 batchId, Verdict verdict, bytes32 reportHash) external;

    /**
     * @notice Record the ledger log's checkpoint: `size` entries with RFC 6962 root `root`. Only
     * LOG_ROLE, only while not paused. Requires `size` > the recorded size (LedgerLogNotGrowing),
     * `size` <= batchCount() (LedgerLogBeyondBatches), a non-zero root (LedgerZeroRoot), and —
     * after the first checkpoint, which takes no proof — the RFC 6962 consistency proof from the
     * recorded (size, root) to (size, root) (transparency-dev/merkle semantics: its length is
     * checked first, LedgerLogProofLength; then LedgerLogInconsistent or LedgerLogRootMismatch).
     * Emits LogCheckpointRecorded.
     */
    function recordLogCheckpoint(
        uint64 size,
        bytes32 root,
        bytes32[] calldata consistencyProof
    ) external;

    /**
     * @notice Record the SHA-256 of the trust-policy file (the file's exact bytes; see
     * docs/spec/trust-policy-v1.md). Only DEFAULT_ADMIN_ROLE (governance, behind its delay);
     * allowed while paused. LedgerZeroTrustPolicy for bytes32(0). Emits TrustPolicySet.
     */
    function setTrustPolicy(bytes32 policyHash) external;

    /// @notice Stop anchoring and attesting at once. Only PAUSER_ROLE. Reads and verification go on.
    /// Pausing an already paused ledger reverts with LedgerEnforcedPause.
    function pause() external;

    /// @notice Resume anchoring and attesting. Only DEFAULT_ADMIN_ROLE (governance, behind its delay).
    function unpause() external;

    // ───────────────────────────── reads ─────────────────────────────

    /// @notice Whether anchoring and attesting are paused.
    function paused() external view returns (bool);

    /// @notice Number of batches anchored; the latest batch id.
    function batchCount() external view returns (uint64);

    /// @notice The current log head (bytes32(0) before the first batch).
    function head() external view returns (bytes32);

    /// @notice A batch; reverts with LedgerUnknownBatch for an id outside 1..batchCount(), and
    /// with LedgerWrongScheme for a SumTreeV2 batch (read it with getBatchV2).
    function getBatch(uint64 batchId) external view returns (Batch memory);

    /// @notice A `shafaf-tree/2` batch; LedgerUnknownBatch, or LedgerWrongScheme for a StandardV1 batch.
    function getBatchV2(uint64 batchId) external view returns (BatchV2 memory);

    /// @notice The scheme of a batch; LedgerUnknownBatch for an unknown id.
    function schemeOf(uint64 batchId) external view returns (Scheme);

    /// @notice Number of registered VRF keys.
    function vrfKeyCount() external view returns (uint32);

    /// @notice The id of VRF key number `index`; LedgerUnknownVrfKey(0) past the end.
    function vrfKeyIdAt(uint32 index) external view returns (bytes32);

    /// @notice The id of the latest registered VRF key, bytes32(0) before the first.
    function currentVrfKeyId() external view returns (bytes32);

    /// @notice A registered VRF key; LedgerUnknownVrfKey for an unregistered id.
    function getVrfKey(bytes32 keyId) external view returns (VrfKey memory);

    /// @notice The latest recorded ledger-log checkpoint: (0, bytes32(0)) before the first.
    function logCheckpoint() external view returns (uint64 size, bytes32 root);

    /**
     * @notice Whether `leafHash` (SHA-256(0x00 ‖ entry)) is entry `index` of the log at its latest
     * recorded checkpoint, by the RFC 6962 inclusion proof `proof` for a tree of
     * logCheckpoint().size leaves. False (never a revert) for an index outside the tree, a proof
     * of the wrong length or one that does not lead to the recorded root.
     */
    function verifyLogInclusion(
        uint64 index,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The SHA-256 of the trust-policy file governance recorded, bytes32(0) before the first.
    function trustPolicy() external view returns (bytes32);

    /// @notice The batch that anchored `root`, or 0.
    function batchIdOfRoot(bytes32 root) external view returns (uint64);

    /// @notice The batch anchored with `idempotencyKey`, or 0.
    function batchIdOfIdempotencyKey(bytes32 idempotencyKey) external view returns (uint64);

    /// @notice `auditor`'s current verdict on `batchId` and the hash of its report.
    function attestationOf(
        uint64 batchId,
        address auditor
    ) external view returns (Verdict verdict, bytes32 reportHash);

    /// @notice How many auditors currently confirm, and dispute, `batchId`.
    function attestationCounts(
        uint64 batchId
    ) external view returns (uint64 confirmations, uint64 disputes);

    /**
     * @notice Whether `leaf` (already hashed: keccak256(bytes.concat(keccak256(abi.encode(values)))))
     * is in batch `batchId`'s tree by `proof`. Reverts with LedgerUnknownBatch for an unknown id and
     * LedgerWrongScheme for a SumTreeV2 batch.
     */
    function verifyRecord(
        uint64 batchId,
        bytes32 leaf,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice Multiproof form of verifyRecord (OpenZeppelin MerkleProof.multiProofVerify). An empty
    /// `leaves` proves nothing and returns false (OpenZeppelin would accept it with `proof == [root]`).
    /// LedgerWrongScheme for a SumTreeV2 batch.
    function verifyRecords(
        uint64 batchId,
        bytes32[] calldata leaves,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool);

    /**
     * @notice Whether `window` proves one leaf (exactly one) in `shafaf-tree/2` batch `batchId`:
     * the window's path leads to the batch's anchored root hash AND its anchored totals, every
     * lane sum is exact (< 2^128), the leaf counts one record, its position is `batchIndex`, and
     * `batchSize` is the batch's record count. False for any proof that fails (tree-v2.md §8);
     * reverts only with LedgerUnknownBatch or LedgerWrongScheme.
     * @param batchSize the number of records the proof claims for the batch
     * @param provinceCount the number of provinces the proof claims for the batch
     */
    function verifyInclusionV2(
        uint64 batchId,
        uint64 batchSize,
        uint32 provinceCount,
        SumTreeV2.Window calldata window
    ) external view returns (bool);

    /**
     * @notice Whether `windows` show every leaf of person key `key` in batch `batchId` with its
     * neighbours, one window per province in order, at least one leaf of `key` (tree-v2.md §7
     * "range"). Same checks and reverts as verifyInclusionV2.
     */
    function verifyRangeV2(
        uint64 batchId,
        uint64 batchSize,
        uint32 provinceCount,
        bytes32 key,
        SumTreeV2.Window[] calldata windows
    ) external view returns (bool);

    /**
     * @notice Whether `windows` prove that person key `key` has no leaf in batch `batchId`: in
     * every province, in order, the adjacent leaves that bracket `key` (tree-v2.md §7 "absence").
     * Same checks and reverts as verifyInclusionV2.
     */
    function verifyAbsenceV2(
        uint64 batchId,
        uint64 batchSize,
        uint32 provinceCount,
        bytes32 key,
        SumTreeV2.Window[] calldata windows
    ) external view returns (bool);
}
