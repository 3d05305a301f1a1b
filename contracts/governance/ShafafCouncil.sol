// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IShafafCouncil} from "./IShafafCouncil.sol";
import {ShafafTimelock} from "./ShafafTimelock.sol";

/**
 * @title ShafafCouncil — k-of-n approvals in front of a TimelockController
 * @notice See IShafafCouncil. The council deploys its own timelock in its constructor, so there is
 * no moment at which a deployer could hold a timelock role.
 * @dev Invariants: 1 <= threshold <= members.length; `_isMember[a]` iff `a` is in `members`; a
 * proposal is scheduled at most once and executed at most once; approvals count only in the
 * membership epoch the proposal was made in.
 */
contract ShafafCouncil is IShafafCouncil {
    ShafafTimelock private immutable _timelock;

    address[] private _members;
    mapping(address account => bool) private _isMember;
    uint256 private _threshold;
    uint64 private _epoch;

    Proposal[] private _proposals; // proposal id n is _proposals[n - 1]
    mapping(uint256 proposalId => mapping(address member => bool)) private _approved;
    mapping(uint256 proposalId => mapping(uint64 epoch => mapping(address member => bool)))
        private _cancelVoted;

    modifier onlyMember() {
        if (!_isMember[msg.sender]) revert CouncilNotMember(msg.sender);
        _;
    }

    modifier onlyTimelock() {
        if (msg.sender != address(_timelock)) revert CouncilOnlyTimelock(msg.sender);
        _;
    }

    /**
     * @param initialMembers the institutions' accounts (distinct, non-zero)
     * @param initialThreshold approvals needed, 1..initialMembers.length
     * @param minDelay seconds every approved proposal waits in the timelock
     */
    constructor(address[] memory initialMembers, uint256 initialThreshold, uint256 minDelay) {
        for (uint256 i = 0; i < initialMembers.length; ++i) _addMember(initialMembers[i], 0);
        _setThreshold(initialThreshold, 0);
        address[] memory self = new address[](1);
        self[0] = address(this);
        _timelock = new ShafafTimelock(minDelay, self, self, address(0));
    }

    // ───────────────────────────── writes ─────────────────────────────

    /// @inheritdoc IShafafCouncil
    function propose(
        address[] calldata targets,
        bytes[] calldata payloads,
        string calldata description
    ) external onlyMember returns (uint256 proposalId) {
        if (targets.length == 0) revert CouncilEmptyProposal();
        if (targets.length != payloads.length) {
            revert CouncilLengthMismatch(targets.length, payloads.length);
        }
        proposalId = _proposals.length + 1;
        bytes32 operationId = _timelock.hashOperationBatch(
            targets,
            new uint256[](targets.length),
            payloads,
            bytes32(0),
            bytes32(proposalId)
        );
        Proposal storage p = _proposals.push();
        p.proposer = msg.sender;
        p.epoch = _epoch;
        p.operationId = operationId;
        p.targets = targets;
        for (uint256 i = 0; i < payloads.length; ++i) p.payloads.push(payloads[i]);
        p.description = description;
        emit ProposalCreated(proposalId, msg.sender, operationId, targets, payloads, description);
        _approve(proposalId, p);
    }

    /// @inheritdoc IShafafCouncil
    function approve(uint256 proposalId) external onlyMember {
        Proposal storage p = _pending(proposalId);
        if (_approved[proposalId][msg.sender])
            revert CouncilAlreadyApproved(proposalId, msg.sender);
        _approve(proposalId, p);
    }

    /// @inheritdoc IShafafCouncil
    function revokeApproval(uint256 proposalId) external onlyMember {
        Proposal storage p = _pending(proposalId);
        if (!_approved[proposalId][msg.sender]) revert CouncilNotApproved(proposalId, msg.sender);
        _approved[proposalId][msg.sender] = false;
        --p.approvals;
        emit ProposalApprovalRevoked(proposalId, msg.sender, p.approvals);
    }

    /// @inheritdoc IShafafCouncil
    function cancel(uint256 proposalId) external onlyMember {
        ProposalState state = proposalState(proposalId);
        if (state == ProposalState.None) revert CouncilUnknownProposal(proposalId);
        if (
            state != ProposalState.Pending &&
            state != ProposalState.Scheduled &&
            state != ProposalState.Ready
        ) revert CouncilUnexpectedState(proposalId, state);
        Proposal storage p = _proposals[proposalId - 1];
        uint64 current = _epoch;
        if (p.cancelEpoch != current) {
            p.cancelEpoch = current;
            p.cancelVotes = 0;
        }
        if (_cancelVoted[proposalId][current][msg.sender]) {
            revert CouncilAlreadyVotedCancel(proposalId, msg.sender);
        }
        _cancelVoted[proposalId][current][msg.sender] = true;
        uint256 votes = ++p.cancelVotes;
        emit ProposalCancelVoted(proposalId, msg.sender, votes, _threshold);
        if (votes < _threshold) return;
        p.cancelled = true;
        emit ProposalCancelled(proposalId, p.operationId);
        if (p.scheduled) _timelock.cancel(p.operationId);
    }

    /// @inheritdoc IShafafCouncil
    function execute(uint256 proposalId) external onlyMember {
        ProposalState state = proposalState(proposalId);
        if (state != ProposalState.Ready) revert CouncilUnexpectedState(proposalId, state);
        Proposal storage p = _proposals[proposalId - 1];
        p.executed = true;
        emit ProposalExecuted(proposalId, p.operationId, msg.sender);
        _timelock.executeBatch(
            p.targets,
            new uint256[](p.targets.length),
            p.payloads,
            bytes32(0),
            bytes32(proposalId)
        );
    }

    /// @inheritdoc IShafafCouncil
    function addMember(address account) external onlyTimelock {
        _addMember(account, ++_epoch);
    }

    /// @inheritdoc IShafafCouncil
    function removeMember(address account) external onlyTimelock {
        if (!_isMember[account]) revert CouncilNotMember(account);
        if (_members.length - 1 < _threshold) {
            revert CouncilInvalidThreshold(_threshold, _members.length - 1);
        }
        uint256 last = _members.length - 1;
        for (uint256 i = 0; i < last; ++i) {
            if (_members[i] == account) {
                _members[i] = _members[last];
                break;
            }
        }
        _members.pop();
        _isMember[account] = false;
        emit MemberRemoved(account, ++_epoch);
    }

    /// @inheritdoc IShafafCouncil
    function setThreshold(uint256 newThreshold) external onlyTimelock {
        _setThreshold(newThreshold, ++_epoch);
    }

    // ───────────────────────────── reads ─────────────────────────────

    /// @inheritdoc IShafafCouncil
    function timelock() external view returns (address) {
        return address(_timelock);
    }

    /// @inheritdoc IShafafCouncil
    function members() external view returns (address[] memory) {
        return _members;
    }

    /// @inheritdoc IShafafCouncil
    function isMember(address account) external view returns (bool) {
        return _isMember[account];
    }

    /// @inheritdoc IShafafCouncil
    function threshold() external view returns (uint256) {
        return _threshold;
    }

    /// @inheritdoc IShafafCouncil
    function epoch() external view returns (uint64) {
        return _epoch;
    }

    /// @inheritdoc IShafafCouncil
    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    /// @inheritdoc IShafafCouncil
    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        if (proposalId == 0 || proposalId > _proposals.length) {
            revert CouncilUnknownProposal(proposalId);
        }
        return _proposals[proposalId - 1];
    }

    /// @inheritdoc IShafafCouncil
    function proposalState(uint256 proposalId) public view returns (ProposalState) {
        if (proposalId == 0 || proposalId > _proposals.length) return ProposalState.None;
        Proposal storage p = _proposals[proposalId - 1];
        if (p.executed) return ProposalState.Executed;
        if (p.cancelled) return ProposalState.Cancelled;
        if (p.scheduled) {
            return
                _timelock.isOperationReady(p.operationId)
                    ? ProposalState.Ready
                    : ProposalState.Scheduled;
        }
        return p.epoch == _epoch ? ProposalState.Pending : ProposalState.Stale;
    }

    /// @inheritdoc IShafafCouncil
    function hasApproved(uint256 proposalId, address member) external view returns (bool) {
        return _approved[proposalId][member];
    }

    // ───────────────────────────── internal ─────────────────────────────

    function _pending(uint256 proposalId) private view returns (Proposal storage) {
        ProposalState state = proposalState(proposalId);
        if (state == ProposalState.None) revert CouncilUnknownProposal(proposalId);
        if (state != ProposalState.Pending) revert CouncilUnexpectedState(proposalId, state);
        return _proposals[proposalId - 1];
    }

    /// @dev Counts the caller's approval and schedules the proposal when it reaches the threshold.
    function _approve(uint256 proposalId, Proposal storage p) private {
        _approved[proposalId][msg.sender] = true;
        uint256 approvals = ++p.approvals;
        emit ProposalApproved(proposalId, msg.sender, approvals, _threshold);
        if (approvals < _threshold) return;
        p.scheduled = true;
        uint256 delay = _timelock.getMinDelay();
        emit ProposalScheduled(proposalId, p.operationId, block.timestamp + delay);
        _timelock.scheduleBatch(
            p.targets,
            new uint256[](p.targets.length),
            p.payloads,
            bytes32(0),
            bytes32(proposalId),
            delay
        );
    }

    /// @dev `newEpoch` is the epoch after the change (0 while constructing).
    function _addMember(address account, uint64 newEpoch) private {
        if (account == address(0) || _isMember[account]) revert CouncilInvalidMember(account);
        _members.push(account);
        _isMember[account] = true;
        emit MemberAdded(account, newEpoch);
    }

    function _setThreshold(uint256 newThreshold, uint64 newEpoch) private {
        if (newThreshold == 0 || newThreshold > _members.length) {
            revert CouncilInvalidThreshold(newThreshold, _members.length);
        }
        uint256 previous = _threshold;
        _threshold = newThreshold;
        emit ThresholdChanged(previous, newThreshold, newEpoch);
    }
}
