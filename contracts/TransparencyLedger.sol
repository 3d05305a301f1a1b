// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

// solhint-disable-next-line max-line-length
import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ITransparencyLedger} from "./interfaces/ITransparencyLedger.sol";
import {CreateAddress} from "./libraries/CreateAddress.sol";
import {Rfc6962} from "./libraries/Rfc6962.sol";
import {SumTreeV2} from "./libraries/SumTreeV2.sol";

/**
 * @title TransparencyLedger — Shafaf's append-only log of batch roots
 * @notice See ITransparencyLedger for the specification. There is no upgrade proxy and no function
 * that edits or deletes a batch: no administrator can rewrite history, and a new version of the
 * contract is a new deployment.
 * @dev Where a batch lives (the gas budget of an anchor is 200k):
 *  - its fixed fields are the runtime code of a small data contract that `anchorBatch` creates
 *    (code costs 200 gas a byte against 20,000 a storage slot, and code can never change). Batch `n`
 *    is this contract's `n`-th CREATE, so its address is CreateAddress.compute(this, n): a contract's
 *    nonce starts at 1 (EIP-161) and this contract creates nothing else. The code begins with a STOP
 *    byte, so calling it does nothing. Layout (194 bytes, big-endian):
 *      0 0x00 | 1 root | 33 manifestHash | 65 idempotencyKey | 97 headAfter |
 *      129 totalAmount(16) recordCount(8) supersedes(8) | 161 anchorer(20) anchoredAt(8) period(4) |
 *      193 kind(1)
 *    A SumTreeV2 batch's data contract has the same first 194 bytes except the word at 129, which
 *    is totals[0](16) vrfKeyIndex(4) zero(4) supersedes(8), followed by totals[1 .. L−1], 16 bytes
 *    each (L = 5 lanes for premium: 258 bytes; 6 for pension: 274 bytes). The VRF key is stored
 *    as its registration index (4 bytes, not its 32-byte id: 5,600 gas less per anchor). Any size
 *    but 194 is SumTreeV2; root, headAfter, supersedes, period and kind are at the same offsets
 *    in both layouts.
 *  - `_byRoot[root]`: the root index (batch id) and `supersededBy`, the one field written later;
 *  - `_byKey[key]`: the idempotency index.
 * `head()` is the latest batch's `headAfter`, so no separate head slot is written.
 * Invariants: for 1 <= id <= batchCount the data contract of `id` exists with the layout above,
 * `_byRoot[root(id)].batchId == id` and `_byKey[idempotencyKey(id)] == id`; `supersededBy` changes
 * at most once, from 0 to a later id of the same kind and period.
 */
contract TransparencyLedger is ITransparencyLedger, AccessControlDefaultAdminRules {
    /// @notice Finance systems that anchor batches.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");
    /// @notice Auditors who attest to batches.
    bytes32 public constant AUDITOR_ROLE = keccak256("AUDITOR_ROLE");
    /// @notice Accounts that may stop anchoring and attesting at once (unpausing is the admin's).
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    /// @notice Accounts that may register the organization's VRF public keys (granted by the admin).
    bytes32 public constant VRF_KEY_ROLE = keccak256("VRF_KEY_ROLE");
    /// @notice The process that holds the ledger log and records its checkpoints (granted by the admin).
    bytes32 public constant LOG_ROLE = keccak256("LOG_ROLE");

    struct RootEntry {
        uint64 batchId;
        uint64 supersededBy;
    }

    /// @dev anchorBatch's arguments.
    struct Anchor {
        bytes32 root;
        Kind kind;
        uint32 period;
        uint64 recordCount;
        uint128 totalAmount;
        bytes32 manifestHash;
        uint64 supersedes;
        bytes32 idempotencyKey;
    }

    struct Attestation {
        Verdict verdict;
        bytes32 reportHash;
    }

    struct Counts {
        uint64 confirmations;
        uint64 disputes;
    }

    uint8 private constant _ACTIVE = 1;
    uint8 private constant _PAUSED = 2;

    /// @dev Size of a batch's data contract code. Its init code (see _createData) is the 12 bytes
    /// PUSH2 194 DUP1 PUSH1 12 PUSH1 0 CODECOPY PUSH1 0 RETURN, followed by the code itself.
    uint256 private constant _DATA_SIZE = 194;

    /// @dev One slot, never zero after construction, so the first anchor pays no zero-to-non-zero write.
    uint64 private _batchCount;
    uint8 private _pauseState;
    /// @dev The recorded log checkpoint's size, in slot 0 with `_batchCount` (read together).
    uint64 private _logSize;
    bytes32 private _logRoot;
    bytes32 private _trustPolicy;

    mapping(bytes32 root => RootEntry) private _byRoot;
    mapping(bytes32 idempotencyKey => uint64 batchId) private _byKey;
    mapping(uint64 batchId => mapping(address auditor => Attestation)) private _attestations;
    mapping(uint64 batchId => Counts) private _counts;
    mapping(bytes32 keyId => VrfKey) private _vrfKeys;
    bytes32[] private _vrfKeyIds;

    /**
     * @param initialAdmin DEFAULT_ADMIN_ROLE holder: in production the governance TimelockController
     * @param adminDelay seconds a default-admin handover must wait (AccessControlDefaultAdminRules)
     * @param anchorers initial ANCHORER_ROLE holders
     * @param auditors initial AUDITOR_ROLE holders
     * @param pausers initial PAUSER_ROLE holders
     */
    constructor(
        address initialAdmin,
        uint48 adminDelay,
        address[] memory anchorers,
        address[] memory auditors,
        address[] memory pausers
    ) AccessControlDefaultAdminRules(adminDelay, initialAdmin) {
        _pauseState = _ACTIVE;
        for (uint256 i = 0; i < anchorers.length; ++i) _grantRole(ANCHORER_ROLE, anchorers[i]);
        for (uint256 i = 0; i < auditors.length; ++i) _grantRole(AUDITOR_ROLE, auditors[i]);
        for (uint256 i = 0; i < pausers.length; ++i) _grantRole(PAUSER_ROLE, pausers[i]);
    }

    // ───────────────────────────── writes ─────────────────────────────

    /// @inheritdoc ITransparencyLedger
    function anchorBatch(
        bytes32 root,
        Kind kind,
        uint32 period,
        uint64 recordCount,
        uint128 totalAmount,
        bytes32 manifestHash,
        uint64 supersedes,
        bytes32 idempotencyKey
    ) external onlyRole(ANCHORER_ROLE) returns (uint64 batchId) {
        if (_pauseState == _PAUSED) revert LedgerEnforcedPause();
        _checkPeriod(period);
        if (recordCount == 0) revert LedgerZeroRecordCount();
        if (root == bytes32(0)) revert LedgerZeroRoot();
        if (idempotencyKey == bytes32(0)) revert LedgerZeroIdempotencyKey();
        uint64 existing = _byKey[idempotencyKey];
        if (existing != 0) revert LedgerDuplicateIdempotencyKey(idempotencyKey, existing);
        existing = _byRoot[root].batchId;
        if (existing != 0) revert LedgerDuplicateRoot(root, existing);

        // Copied field by field into memory: eight calldata values plus the work below exceed the
        // sixteen reachable stack slots of the legacy code generator.
        Anchor memory input;
        input.root = root;
        input.kind = kind;
        input.period = period;
        input.recordCount = recordCount;
        input.totalAmount = totalAmount;
        input.manifestHash = manifestHash;
        input.supersedes = supersedes;
        input.idempotencyKey = idempotencyKey;
        return _anchor(input);
    }

    /// @inheritdoc ITransparencyLedger
    function anchorBatchV2(
        AnchorV2 calldata batch
    ) external onlyRole(ANCHORER_ROLE) returns (uint64 batchId) {
        if (_pauseState == _PAUSED) revert LedgerEnforcedPause();
        _checkPeriod(batch.period);
        if (batch.totals[0] == 0) revert LedgerZeroRecordCount();
        if (batch.kind == Kind.Premium && batch.totals[5] != 0) {
            revert LedgerUnusedLane(batch.kind, 5, batch.totals[5]);
        }
        if (batch.root == bytes32(0)) revert LedgerZeroRoot();
        if (batch.idempotencyKey == bytes32(0)) revert LedgerZeroIdempotencyKey();
        uint64 existing = _byKey[batch.idempotencyKey];
        if (existing != 0) revert LedgerDuplicateIdempotencyKey(batch.idempotencyKey, existing);
        existing = _byRoot[batch.root].batchId;
        if (existing != 0) revert LedgerDuplicateRoot(batch.root, existing);
        uint32 vrfKeyIndex = _vrfKeyIndex(batch.vrfKeyId);

        unchecked {
            batchId = _batchCount + 1; // < 2^64: one batch per transaction
        }
        uint64 supersedes = batch.supersedes;
        if (supersedes != 0) {
            _checkSupersedes(supersedes, batchId - 1, batch.kind, batch.period, false);
        }
        uint128[6] memory totals = batch.totals; // decoded, so each lane is range-checked
        bytes32 headAfter = _headV2(batchId, batch, totals);
        _createDataV2(batchId, batch, totals, vrfKeyIndex, headAfter);
        _batchCount = batchId;
        _byRoot[batch.root].batchId = batchId;
        _byKey[batch.idempotencyKey] = batchId;
        _emitAnchoredV2(batchId, batch, totals, headAfter);
        if (supersedes != 0) _markSuperseded(supersedes, batchId);
    }

    /// @inheritdoc ITransparencyLedger
    function registerVrfKey(
        bytes32 publicKey
    ) external onlyRole(VRF_KEY_ROLE) returns (bytes32 keyId) {
        if (publicKey == bytes32(0)) revert LedgerZeroVrfKey();
        keyId = keccak256(abi.encode(publicKey));
        VrfKey storage key = _vrfKeys[keyId];
        if (key.registeredAt != 0) revert LedgerVrfKeyAlreadyRegistered(keyId, key.index);
        // Fewer than 2^32 keys: each costs a transaction of this role.
        uint32 index = uint32(_vrfKeyIds.length);
        key.publicKey = publicKey;
        key.index = index;
        key.registeredAt = uint64(block.timestamp);
        _vrfKeyIds.push(keyId);
        emit VrfKeyRegistered(keyId, publicKey, index, msg.sender);
    }

    /// @inheritdoc ITransparencyLedger
    function attest(
        uint64 batchId,
        Verdict verdict,
        bytes32 reportHash
    ) external onlyRole(AUDITOR_ROLE) {
        if (_pauseState == _PAUSED) revert LedgerEnforcedPause();
        _checkBatch(batchId);
        if (verdict == Verdict.None) revert LedgerInvalidVerdict(verdict);
        if (reportHash == bytes32(0)) revert LedgerZeroReportHash();

        Attestation storage current = _attestations[batchId][msg.sender];
        Verdict previous = current.verdict;
        current.verdict = verdict;
        current.reportHash = reportHash;
        if (previous != verdict) {
            Counts storage counts = _counts[batchId];
            // A count is decremented only for a verdict it counted, so neither underflows; neither
            // exceeds the number of auditors, far below 2^64.
            unchecked {
                if (previous == Verdict.Confirmed) --counts.confirmations;
                else if (previous == Verdict.Disputed) --counts.disputes;
                if (verdict == Verdict.Confirmed) ++counts.confirmations;
                else ++counts.disputes;
            }
        }
        emit BatchAttested(batchId, msg.sender, verdict, previous, reportHash);
    }

    /// @inheritdoc ITransparencyLedger
    /// @dev Invariant: _logSize <= _batchCount, and every recorded root after the first extends
    /// the one before it (RFC 6962 consistency verified here).
    function recordLogCheckpoint(
        uint64 size,
        bytes32 root,
        bytes32[] calldata consistencyProof
    ) external onlyRole(LOG_ROLE) {
        if (_pauseState == _PAUSED) revert LedgerEnforcedPause();
        uint64 recordedSize = _logSize;
        if (!(size > recordedSize)) revert LedgerLogNotGrowing(recordedSize, size);
        uint64 count = _batchCount;
        if (size > count) revert LedgerLogBeyondBatches(size, count);
        if (root == bytes32(0)) revert LedgerZeroRoot();
        uint256 expected =
            recordedSize == 0 ? 0 : Rfc6962.consistencyProofLength(recordedSize, size);
        if (consistencyProof.length != expected) {
            revert LedgerLogProofLength(recordedSize, size, expected, consistencyProof.length);
        }
        if (recordedSize != 0) {
            bytes32 recordedRoot = _logRoot;
            (bytes32 hash1, bytes32 hash2) = Rfc6962.rootsFromConsistencyProof(
                recordedSize,
                size,
                recordedRoot,
                consistencyProof
            );
            if (hash1 != recordedRoot)
                revert LedgerLogInconsistent(recordedSize, recordedRoot, hash1);
            if (hash2 != root) revert LedgerLogRootMismatch(size, root, hash2);
        }
        _logSize = size;
        _logRoot = root;
        emit LogCheckpointRecorded(size, root, recordedSize, msg.sender);
    }

    /// @inheritdoc ITransparencyLedger
    function setTrustPolicy(bytes32 policyHash) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (policyHash == bytes32(0)) revert LedgerZeroTrustPolicy();
        bytes32 previous = _trustPolicy;
        _trustPolicy = policyHash;
        emit TrustPolicySet(policyHash, previous, msg.sender);
    }

    /// @inheritdoc ITransparencyLedger
    function pause() external onlyRole(PAUSER_ROLE) {
        if (_pauseState == _PAUSED) revert LedgerEnforcedPause();
        _pauseState = _PAUSED;
        emit Paused(msg.sender);
    }

    /// @inheritdoc ITransparencyLedger
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (_pauseState != _PAUSED) revert LedgerExpectedPause();
        _pauseState = _ACTIVE;
        emit Unpaused(msg.sender);
    }

    // ───────────────────────────── reads ─────────────────────────────

    /// @notice ERC-165: ITransparencyLedger, IAccessControl, IAccessControlDefaultAdminRules.
    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return
            interfaceId == type(ITransparencyLedger).interfaceId ||
            super.supportsInterface(interfaceId);
    }

    /// @inheritdoc ITransparencyLedger
    function paused() external view returns (bool) {
        return _pauseState == _PAUSED;
    }

    /// @inheritdoc ITransparencyLedger
    function batchCount() external view returns (uint64) {
        return _batchCount;
    }

    /// @inheritdoc ITransparencyLedger
    function head() external view returns (bytes32) {
        uint64 count = _batchCount;
        return count == 0 ? bytes32(0) : _word(CreateAddress.compute(address(this), count), 97);
    }

    /// @inheritdoc ITransparencyLedger
    function getBatch(uint64 batchId) external view returns (Batch memory batch) {
        bytes memory data = _dataOf(batchId, Scheme.StandardV1).code;
        bytes32 root;
        bytes32 manifestHash;
        bytes32 idempotencyKey;
        bytes32 headAfter;
        uint256 amounts;
        uint256 provenance;
        uint256 kind;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let p := add(data, 0x20)
            root := mload(add(p, 1))
            manifestHash := mload(add(p, 33))
            idempotencyKey := mload(add(p, 65))
            headAfter := mload(add(p, 97))
            amounts := mload(add(p, 129))
            provenance := mload(add(p, 161))
            kind := shr(248, mload(add(p, 193)))
        }
        batch = Batch({
            root: root,
            manifestHash: manifestHash,
            idempotencyKey: idempotencyKey,
            headAfter: headAfter,
            totalAmount: uint128(amounts >> 128),
            recordCount: uint64(amounts >> 64),
            period: uint32(provenance),
            kind: Kind(kind),
            supersedes: uint64(amounts),
            supersededBy: _byRoot[root].supersededBy,
            anchorer: address(uint160(provenance >> 96)),
            anchoredAt: uint64(provenance >> 32)
        });
    }

    /// @inheritdoc ITransparencyLedger
    function getBatchV2(uint64 batchId) external view returns (BatchV2 memory batch) {
        bytes memory data = _dataOf(batchId, Scheme.SumTreeV2).code;
        bytes32 amounts;
        uint256 provenance;
        uint256 kind;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let p := add(data, 0x20)
            amounts := mload(add(p, 129))
            provenance := mload(add(p, 161))
            kind := shr(248, mload(add(p, 193)))
        }
        batch.root = _wordOf(data, 1);
        batch.manifestHash = _wordOf(data, 33);
        batch.idempotencyKey = _wordOf(data, 65);
        batch.headAfter = _wordOf(data, 97);
        batch.vrfKeyId = _vrfKeyIds[uint32(uint256(amounts) >> 96)];
        batch.totals = _totalsOf(data);
        batch.period = uint32(provenance);
        batch.kind = Kind(kind);
        batch.supersedes = uint64(uint256(amounts));
        batch.supersededBy = _byRoot[batch.root].supersededBy;
        batch.anchorer = address(uint160(provenance >> 96));
        batch.anchoredAt = uint64(provenance >> 32);
    }

    /// @inheritdoc ITransparencyLedger
    function schemeOf(uint64 batchId) external view returns (Scheme) {
        _checkBatch(batchId);
        return _schemeOf(CreateAddress.compute(address(this), batchId));
    }

    /// @inheritdoc ITransparencyLedger
    function vrfKeyCount() external view returns (uint32) {
        return uint32(_vrfKeyIds.length);
    }

    /// @inheritdoc ITransparencyLedger
    function vrfKeyIdAt(uint32 index) external view returns (bytes32) {
        if (!(index < _vrfKeyIds.length)) revert LedgerUnknownVrfKey(bytes32(0));
        return _vrfKeyIds[index];
    }

    /// @inheritdoc ITransparencyLedger
    function currentVrfKeyId() external view returns (bytes32) {
        uint256 n = _vrfKeyIds.length;
        return n == 0 ? bytes32(0) : _vrfKeyIds[n - 1];
    }

    /// @inheritdoc ITransparencyLedger
    function getVrfKey(bytes32 keyId) external view returns (VrfKey memory key) {
        key = _vrfKeys[keyId];
        if (key.registeredAt == 0) revert LedgerUnknownVrfKey(keyId);
    }

    /// @inheritdoc ITransparencyLedger
    function logCheckpoint() external view returns (uint64 size, bytes32 root) {
        return (_logSize, _logRoot);
    }

    /// @inheritdoc ITransparencyLedger
    function verifyLogInclusion(
        uint64 index,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        uint64 size = _logSize;
        if (!(index < size) || proof.length != Rfc6962.inclusionProofLength(index, size)) {
            return false;
        }
        return Rfc6962.rootFromInclusionProof(index, size, leafHash, proof) == _logRoot;
    }

    /// @inheritdoc ITransparencyLedger
    function trustPolicy() external view returns (bytes32) {
        return _trustPolicy;
    }

    /// @inheritdoc ITransparencyLedger
    function batchIdOfRoot(bytes32 root) external view returns (uint64) {
        return _byRoot[root].batchId;
    }

    /// @inheritdoc ITransparencyLedger
    function batchIdOfIdempotencyKey(bytes32 idempotencyKey) external view returns (uint64) {
        return _byKey[idempotencyKey];
    }

    /// @inheritdoc ITransparencyLedger
    function attestationOf(
        uint64 batchId,
        address auditor
    ) external view returns (Verdict verdict, bytes32 reportHash) {
        Attestation storage a = _attestations[batchId][auditor];
        return (a.verdict, a.reportHash);
    }

    /// @inheritdoc ITransparencyLedger
    function attestationCounts(
        uint64 batchId
    ) external view returns (uint64 confirmations, uint64 disputes) {
        Counts storage c = _counts[batchId];
        return (c.confirmations, c.disputes);
    }

    /// @inheritdoc ITransparencyLedger
    function verifyRecord(
        uint64 batchId,
        bytes32 leaf,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return
            MerkleProof.verifyCalldata(proof, _word(_dataOf(batchId, Scheme.StandardV1), 1), leaf);
    }

    /// @inheritdoc ITransparencyLedger
    /// @dev A multiproof whose lengths do not fit (leaves + proof != flags + 1) returns false; other
    /// malformed flag patterns may revert inside OpenZeppelin's MerkleProof.
    function verifyRecords(
        uint64 batchId,
        bytes32[] calldata leaves,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external view returns (bool) {
        address data = _dataOf(batchId, Scheme.StandardV1);
        if (leaves.length == 0 || leaves.length + proof.length != proofFlags.length + 1) {
            return false;
        }
        return MerkleProof.multiProofVerifyCalldata(proof, proofFlags, _word(data, 1), leaves);
    }

    /// @inheritdoc ITransparencyLedger
    function verifyInclusionV2(
        uint64 batchId,
        uint64 batchSize,
        uint32 provinceCount,
        SumTreeV2.Window calldata window
    ) external view returns (bool) {
        return SumTreeV2.verifyInclusion(_trusted(batchId, batchSize, provinceCount), window);
    }

    /// @inheritdoc ITransparencyLedger
    function verifyRangeV2(
        uint64 batchId,
        uint64 batchSize,
        uint32 provinceCount,
        bytes32 key,
        SumTreeV2.Window[] calldata windows
    ) external view returns (bool) {
        return SumTreeV2.verifyKey(_trusted(batchId, batchSize, provinceCount), key, true, windows);
    }

    /// @inheritdoc ITransparencyLedger
    function verifyAbsenceV2(
        uint64 batchId,
        uint64 batchSize,
        uint32 provinceCount,
        bytes32 key,
        SumTreeV2.Window[] calldata windows
    ) external view returns (bool) {
        return
            SumTreeV2.verifyKey(_trusted(batchId, batchSize, provinceCount), key, false, windows);
    }

    // ───────────────────────────── internal ─────────────────────────────

    function _checkBatch(uint64 batchId) private view {
        if (batchId == 0 || batchId > _batchCount) revert LedgerUnknownBatch(batchId);
    }

    /// @dev The data contract of batch `batchId`; reverts unless it exists and is of `scheme`.
    function _dataOf(uint64 batchId, Scheme scheme) private view returns (address data) {
        _checkBatch(batchId);
        data = CreateAddress.compute(address(this), batchId);
        Scheme actual = _schemeOf(data);
        if (actual != scheme) revert LedgerWrongScheme(batchId, actual);
    }

    function _schemeOf(address data) private view returns (Scheme) {
        return data.code.length == _DATA_SIZE ? Scheme.StandardV1 : Scheme.SumTreeV2;
    }

    /// @dev What a v2 proof of batch `batchId` is checked against.
    function _trusted(
        uint64 batchId,
        uint64 batchSize,
        uint32 provinceCount
    ) private view returns (SumTreeV2.Trusted memory t) {
        bytes memory data = _dataOf(batchId, Scheme.SumTreeV2).code;
        t.kind = uint8(data[_DATA_SIZE - 1]);
        t.root = _wordOf(data, 1);
        t.totals = _totalsOf(data);
        t.batchSize = batchSize;
        t.provinceCount = provinceCount;
    }

    function _previousHead(uint64 batchId) private view returns (bytes32) {
        return
            batchId == 1
                ? bytes32(0)
                : _word(CreateAddress.compute(address(this), batchId - 1), 97);
    }

    function _anchor(Anchor memory input) private returns (uint64 batchId) {
        unchecked {
            batchId = _batchCount + 1; // < 2^64: one batch per transaction
        }
        uint64 supersedes = input.supersedes;
        if (supersedes != 0) {
            _checkSupersedes(supersedes, batchId - 1, input.kind, input.period, true);
        }
        bytes32 headAfter = keccak256(
            abi.encode(
                _previousHead(batchId),
                batchId,
                input.root,
                uint8(input.kind),
                input.period,
                input.recordCount,
                input.totalAmount,
                input.manifestHash
            )
        );
        _createData(batchId, input, headAfter);
        _batchCount = batchId;
        _byRoot[input.root].batchId = batchId;
        _byKey[input.idempotencyKey] = batchId;
        emit BatchAnchored(
            batchId,
            input.root,
            input.period,
            input.kind,
            input.recordCount,
            input.totalAmount,
            input.manifestHash,
            supersedes,
            input.idempotencyKey,
            headAfter,
            msg.sender
        );

        if (supersedes != 0) _markSuperseded(supersedes, batchId);
    }

    /// @dev The registration index of VRF key `keyId`; reverts unless it is registered.
    function _vrfKeyIndex(bytes32 keyId) private view returns (uint32) {
        VrfKey storage key = _vrfKeys[keyId];
        if (key.registeredAt == 0) revert LedgerUnknownVrfKey(keyId);
        return key.index;
    }

    /// @dev The log head after v2 batch `batchId` (formula in ITransparencyLedger).
    function _headV2(
        uint64 batchId,
        AnchorV2 calldata batch,
        uint128[6] memory totals
    ) private view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    _previousHead(batchId),
                    batchId,
                    batch.root,
                    uint8(batch.kind),
                    batch.period,
                    uint8(Scheme.SumTreeV2),
                    totals,
                    batch.manifestHash,
                    batch.vrfKeyId
                )
            );
    }

    function _emitAnchoredV2(
        uint64 batchId,
        AnchorV2 calldata batch,
        uint128[6] memory totals,
        bytes32 headAfter
    ) private {
        emit BatchAnchoredV2(
            batchId,
            batch.root,
            batch.period,
            batch.kind,
            totals,
            batch.manifestHash,
            batch.supersedes,
            batch.idempotencyKey,
            headAfter,
            batch.vrfKeyId,
            msg.sender
        );
    }

    function _markSuperseded(uint64 supersedes, uint64 batchId) private {
        _byRoot[_root(supersedes)].supersededBy = batchId;
        emit BatchSuperseded(supersedes, batchId);
    }

    /// @dev Reverts unless batch `supersedes` may be corrected by a batch of `kind` and `period`;
    /// with `onlyV1` (a StandardV1 correction) it must also be a StandardV1 batch.
    function _checkSupersedes(
        uint64 supersedes,
        uint64 count,
        Kind kind,
        uint32 period,
        bool onlyV1
    ) private view {
        if (supersedes > count) revert LedgerUnknownBatch(supersedes);
        address old = CreateAddress.compute(address(this), supersedes);
        if (onlyV1 && old.code.length != _DATA_SIZE) {
            revert LedgerWrongScheme(supersedes, Scheme.SumTreeV2);
        }
        uint64 supersededBy = _byRoot[_word(old, 1)].supersededBy;
        if (supersededBy != 0) revert LedgerAlreadySuperseded(supersedes, supersededBy);
        (Kind oldKind, uint32 oldPeriod) = _kindAndPeriod(old);
        if (oldKind != kind || oldPeriod != period) {
            revert LedgerSupersedeMismatch(supersedes, oldKind, oldPeriod);
        }
    }

    /// @dev Creates batch `batchId`'s data contract; layout in the contract's @dev.
    function _createData(uint64 batchId, Anchor memory input, bytes32 headAfter) private {
        uint256 amounts =
            (uint256(input.totalAmount) << 128) |
                (uint256(input.recordCount) << 64) |
                input.supersedes;
        uint256 provenance =
            (uint256(uint160(msg.sender)) << 96) | (block.timestamp << 32) | input.period;
        bytes32 root = input.root;
        bytes32 manifestHash = input.manifestHash;
        bytes32 idempotencyKey = input.idempotencyKey;
        Kind kind = input.kind;
        address created;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            // Scratch past the free memory pointer; each store lands after the previous one.
            let p := mload(0x40)
            mstore(p, shl(160, 0x6100c280600c6000396000f3)) // init code, then byte 12 = STOP
            mstore(add(p, 13), root)
            mstore(add(p, 45), manifestHash)
            mstore(add(p, 77), idempotencyKey)
            mstore(add(p, 109), headAfter)
            mstore(add(p, 141), amounts)
            mstore(add(p, 173), provenance)
            mstore8(add(p, 205), kind)
            created := create(0, p, 206)
        }
        // Fails only if the nonce invariant (batch n is this contract's CREATE number n) broke.
        assert(created != address(0) && created == CreateAddress.compute(address(this), batchId));
    }

    /// @dev Creates batch `batchId`'s SumTreeV2 data contract; layout in the contract's @dev.
    function _createDataV2(
        uint64 batchId,
        AnchorV2 calldata input,
        uint128[6] memory totals,
        uint32 vrfKeyIndex,
        bytes32 headAfter
    ) private {
        uint256 provenance =
            (uint256(uint160(msg.sender)) << 96) | (block.timestamp << 32) | input.period;
        uint256 amounts =
            (uint256(totals[0]) << 128) | (uint256(vrfKeyIndex) << 96) | input.supersedes;
        Kind kind = input.kind;
        uint256 size = _DATA_SIZE + 16 * (SumTreeV2.laneCount(uint8(kind)) - 1);
        address created;
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let p := mload(0x40)
            // init code PUSH2 size DUP1 PUSH1 12 PUSH1 0 CODECOPY PUSH1 0 RETURN, then byte 12 = STOP
            mstore(p, shl(160, or(shl(72, or(0x610000, size)), 0x80600c6000396000f3)))
            calldatacopy(add(p, 13), input, 32) // root
            calldatacopy(add(p, 45), add(input, 0x120), 32) // manifestHash
            calldatacopy(add(p, 77), add(input, 0x160), 32) // idempotencyKey
            mstore(add(p, 109), headAfter)
            mstore(add(p, 141), amounts)
            mstore(add(p, 173), provenance)
            mstore8(add(p, 205), kind)
            let end := add(p, add(12, size))
            let lane := add(totals, 32)
            for {
                let q := add(p, 206)
            } lt(q, end) {
                q := add(q, 16)
            } {
                mstore(q, shl(128, mload(lane)))
                lane := add(lane, 32)
            }
            created := create(0, p, add(12, size))
        }
        // Fails only if the nonce invariant (batch n is this contract's CREATE number n) broke.
        assert(created != address(0) && created == CreateAddress.compute(address(this), batchId));
    }

    /// @dev The 32 bytes of `data` at `offset` (offset + 32 <= data.length).
    function _wordOf(bytes memory data, uint256 offset) private pure returns (bytes32 word) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            word := mload(add(add(data, 0x20), offset))
        }
    }

    /// @dev The totals of a SumTreeV2 data contract's code (lanes past the kind's are 0).
    function _totalsOf(bytes memory data) private pure returns (uint128[6] memory totals) {
        totals[0] = uint128(uint256(_wordOf(data, 129)) >> 128);
        uint256 lanes = (data.length - _DATA_SIZE) / 16 + 1;
        for (uint256 i = 1; i < lanes; ++i) {
            totals[i] = uint128(uint256(_wordOf(data, _DATA_SIZE + 16 * (i - 1))) >> 128);
        }
    }

    function _root(uint64 batchId) private view returns (bytes32) {
        return _word(CreateAddress.compute(address(this), batchId), 1);
    }

    /// @dev The 32 bytes of `data`'s code at `offset`.
    function _word(address data, uint256 offset) private view returns (bytes32 word) {
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            extcodecopy(data, 0, offset, 32)
            word := mload(0)
        }
    }

    function _kindAndPeriod(address data) private view returns (Kind kind, uint32 period) {
        uint256 word = uint256(_word(data, _DATA_SIZE - 32));
        return (Kind(uint8(word)), uint32(word >> 8));
    }

    function _checkPeriod(uint32 period) private pure {
        uint32 year = period / 100;
        uint32 month = period % 100;
        if (year < 1300 || year > 9999 || month == 0 || month > 12)
            revert LedgerInvalidPeriod(period);
    }
}
