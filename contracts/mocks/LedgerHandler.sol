// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {TransparencyLedger} from "../TransparencyLedger.sol";
import {ITransparencyLedger} from "../interfaces/ITransparencyLedger.sol";

/**
 * @dev Test harness for the invariant "batches never change once anchored": the fuzzer calls
 * `anchor` and `attest` in random order; the handler snapshots every batch when it is anchored and
 * keeps a model of `supersededBy`, and `check` compares the ledger with both.
 */
contract LedgerHandler {
    uint256 public constant MAX_BATCHES = 24;

    /// The ledger disagrees with the handler's model or snapshots at `batchId`.
    error HandlerMismatch(string what, uint256 batchId);

    // solhint-disable-next-line immutable-vars-naming
    TransparencyLedger public immutable ledger;
    /// keccak256(abi.encode(batch)) with supersededBy = 0, taken right after anchoring.
    bytes32[] private _snapshots;
    uint64[] private _supersededBy;
    uint256 private _nonce;
    uint256 public corrections;

    constructor() {
        address[] memory self = new address[](1);
        self[0] = address(this);
        ledger = new TransparencyLedger(address(this), 0, self, self, self);
    }

    /// Anchors a new batch of one of two kinds and two periods; with `correct`, it supersedes the
    /// current batch picked by `pick` among those of the same kind and period, if any.
    function anchor(bytes32 seed, bool correct, uint8 pick) external {
        if (_snapshots.length > MAX_BATCHES - 1) return;
        ++_nonce;
        ITransparencyLedger.Kind kind = ITransparencyLedger.Kind(uint8(seed[0]) % 2);
        uint32 period = uint8(seed[1]) % 2 == 0 ? 140307 : 140308;
        uint64 supersedes = 0;
        if (correct) {
            uint256 n = _snapshots.length;
            for (uint256 k = 0; k < n; ++k) {
                uint64 candidate = uint64(((uint256(pick) + k) % n) + 1);
                ITransparencyLedger.Batch memory b = ledger.getBatch(candidate);
                if (b.supersededBy == 0 && b.kind == kind && b.period == period) {
                    supersedes = candidate;
                    break;
                }
            }
        }
        uint64 id = ledger.anchorBatch(
            keccak256(abi.encode("root", seed, _nonce)),
            kind,
            period,
            uint64(uint256(seed) % 1_000_000) + 1,
            uint128(uint256(seed) >> 128),
            keccak256(abi.encode("manifest", seed)),
            supersedes,
            keccak256(abi.encode("key", _nonce))
        );
        if (id != _snapshots.length + 1) revert HandlerMismatch("ids are not sequential", id);
        _snapshots.push(keccak256(abi.encode(ledger.getBatch(id))));
        _supersededBy.push(0);
        if (supersedes != 0) {
            _supersededBy[supersedes - 1] = id;
            ++corrections;
        }
    }

    function attest(uint8 pick, bool confirm, bytes32 report) external {
        if (_snapshots.length == 0 || report == bytes32(0)) return;
        uint64 id = uint64((uint256(pick) % _snapshots.length) + 1);
        ledger.attest(
            id,
            confirm ? ITransparencyLedger.Verdict.Confirmed : ITransparencyLedger.Verdict.Disputed,
            report
        );
    }

    function count() external view returns (uint256) {
        return _snapshots.length;
    }

    /// Reverts with the first batch that differs from its snapshot or from the model.
    function check() external view {
        if (ledger.batchCount() != _snapshots.length) revert HandlerMismatch("batchCount", 0);
        for (uint256 i = 0; i < _snapshots.length; ++i) {
            ITransparencyLedger.Batch memory b = ledger.getBatch(uint64(i + 1));
            if (b.supersededBy != _supersededBy[i]) revert HandlerMismatch("supersededBy", i + 1);
            b.supersededBy = 0;
            if (keccak256(abi.encode(b)) != _snapshots[i]) revert HandlerMismatch("changed", i + 1);
        }
        if (_snapshots.length > 0) {
            ITransparencyLedger.Batch memory last = ledger.getBatch(uint64(_snapshots.length));
            if (ledger.head() != last.headAfter) revert HandlerMismatch("head", _snapshots.length);
        }
    }
}
