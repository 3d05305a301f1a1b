// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

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
 * Log head: after batch `n`,
 *   head_n = keccak256(abi.encode(head_{n-1}, n, root, uint8(kind), period, recordCount, totalAmount, manifestHash))
 * with head_0 = bytes32(0). Anyone can recompute it from `BatchAnchored` events and compare with `head()`.
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
     * @param supersedes id of an earlier current batch of the same kind and period, or 0
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
     * @notice Record the caller's verdict on a batch, replacing its earlier one. Only AUDITOR_ROLE,
     * only while not paused. Attesting a superseded batch is allowed (audits may finish late).
     */
    function attest(uint64 batchId, Verdict verdict, bytes32 reportHash) external;

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

    /// @notice A batch; reverts with LedgerUnknownBatch for an id outside 1..batchCount().
    function getBatch(uint64 batchId) external view returns (Batch memory);

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
     * is in batch `batchId`'s tree by `proof`. Reverts with LedgerUnknownBatch for an unknown id.
     */
    function verifyRecord(
        uint64 batchId,
        bytes32 leaf,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice Multiproof form of verifyRecord (OpenZeppelin MerkleProof.multiProofVerify). An empty
    /// `leaves` proves nothing and returns false (OpenZeppelin would accept it with `proof == [root]`).
    function verifyRecords(
        uint64 batchId,
        bytes32[] calldata leaves,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool);
}
