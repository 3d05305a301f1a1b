// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/**
 * @title IShafafCouncil — the specification of Shafaf's k-of-n governance council
 * @notice The institutions (the organization, the audit court, the ministry, the central bank …)
 * are the council's members. A member proposes a batch of calls (e.g. the ledger's
 * `grantRole(ANCHORER_ROLE, account)`); when `threshold` members have approved it, the council
 * schedules it on its TimelockController, and after the timelock's delay any member executes it.
 * The council is the timelock's only proposer, canceller and executor; the timelock administers
 * itself and is the ledger's DEFAULT_ADMIN. Membership and threshold change only through the
 * same path (calls from the timelock to the council). A membership change makes every proposal
 * not yet scheduled stale: approvals given under the old membership never count under the new one.
 */
interface IShafafCouncil {
    enum ProposalState {
        None, // no such proposal
        Pending, // collecting approvals
        Stale, // membership changed before it was scheduled; propose again
        Scheduled, // in the timelock, waiting for its delay
        Ready, // the delay has passed: a member may execute it
        Executed,
        Cancelled // `threshold` members voted to cancel it (and it was removed from the timelock)
    }

    /// @notice A proposal as stored.
    struct Proposal {
        address proposer;
        uint64 epoch; // membership epoch it was made in
        uint32 approvals;
        bool scheduled;
        bool executed;
        bool cancelled;
        uint32 cancelVotes; // votes to cancel, counted in membership epoch `cancelEpoch`
        uint64 cancelEpoch;
        bytes32 operationId; // the TimelockController operation id (hashOperationBatch, salt = proposal id)
        address[] targets;
        bytes[] payloads;
        string description;
    }

    // ───────────────────────────── events ─────────────────────────────

    /// @notice `proposer` proposed calls `payloads` to `targets` (all with value 0).
    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed proposer,
        bytes32 indexed operationId,
        address[] targets,
        bytes[] payloads,
        string description
    );
    /// @notice `member` approved; `approvals` of `threshold` so far.
    event ProposalApproved(
        uint256 indexed proposalId,
        address indexed member,
        uint256 approvals,
        uint256 threshold
    );
    /// @notice `member` withdrew its approval before the proposal was scheduled.
    event ProposalApprovalRevoked(
        uint256 indexed proposalId,
        address indexed member,
        uint256 approvals
    );
    /// @notice The proposal reached its threshold and is in the timelock; executable from `readyAt`.
    event ProposalScheduled(
        uint256 indexed proposalId,
        bytes32 indexed operationId,
        uint256 readyAt
    );
    /// @notice `member` executed the proposal through the timelock.
    event ProposalExecuted(
        uint256 indexed proposalId,
        bytes32 indexed operationId,
        address indexed member
    );
    /// @notice `member` voted to cancel; `votes` of `threshold` so far.
    event ProposalCancelVoted(
        uint256 indexed proposalId,
        address indexed member,
        uint256 votes,
        uint256 threshold
    );
    /// @notice The proposal was cancelled (and, if scheduled, cancelled in the timelock).
    event ProposalCancelled(uint256 indexed proposalId, bytes32 indexed operationId);
    event MemberAdded(address indexed member, uint256 epoch);
    event MemberRemoved(address indexed member, uint256 epoch);
    event ThresholdChanged(uint256 previous, uint256 threshold, uint256 epoch);

    // ───────────────────────────── errors ─────────────────────────────

    /// @notice `threshold` must be 1..`members`.
    error CouncilInvalidThreshold(uint256 threshold, uint256 members);
    /// @notice `account` is zero or already a member.
    error CouncilInvalidMember(address account);
    /// @notice `account` is not a member of the council.
    error CouncilNotMember(address account);
    /// @notice Only the council's timelock may change membership or threshold.
    error CouncilOnlyTimelock(address caller);
    /// @notice A proposal needs at least one call.
    error CouncilEmptyProposal();
    /// @notice `targets` and `payloads` differ in length.
    error CouncilLengthMismatch(uint256 targets, uint256 payloads);
    /// @notice No proposal has id `proposalId`.
    error CouncilUnknownProposal(uint256 proposalId);
    /// @notice The proposal is `state`, which does not allow this step.
    error CouncilUnexpectedState(uint256 proposalId, ProposalState state);
    /// @notice `member` already approved `proposalId`.
    error CouncilAlreadyApproved(uint256 proposalId, address member);
    /// @notice `member` has not approved `proposalId`.
    error CouncilNotApproved(uint256 proposalId, address member);
    /// @notice `member` already voted to cancel `proposalId`.
    error CouncilAlreadyVotedCancel(uint256 proposalId, address member);

    // ───────────────────────────── writes ─────────────────────────────

    /// @notice Propose calls; the proposer's approval is counted at once. Only members.
    function propose(
        address[] calldata targets,
        bytes[] calldata payloads,
        string calldata description
    ) external returns (uint256 proposalId);

    /// @notice Approve a pending proposal; the approval that reaches the threshold schedules it.
    function approve(uint256 proposalId) external;

    /// @notice Withdraw one's approval of a pending proposal.
    function revokeApproval(uint256 proposalId) external;

    /// @notice Vote to cancel a pending, scheduled or ready proposal; the vote that reaches the
    /// threshold cancels it, in the timelock too. Votes count only within one membership epoch.
    function cancel(uint256 proposalId) external;

    /// @notice Execute a ready proposal through the timelock. Only members.
    function execute(uint256 proposalId) external;

    /// @notice Add a member. Only the timelock (i.e. through a proposal).
    function addMember(address account) external;

    /// @notice Remove a member; the threshold must stay <= members. Only the timelock.
    function removeMember(address account) external;

    /// @notice Change the threshold. Only the timelock.
    function setThreshold(uint256 threshold) external;

    // ───────────────────────────── reads ─────────────────────────────

    function timelock() external view returns (address);
    function members() external view returns (address[] memory);
    function isMember(address account) external view returns (bool);
    function threshold() external view returns (uint256);
    /// @notice Increases with every membership or threshold change.
    function epoch() external view returns (uint64);
    function proposalCount() external view returns (uint256);
    function getProposal(uint256 proposalId) external view returns (Proposal memory);
    function proposalState(uint256 proposalId) external view returns (ProposalState);
    function hasApproved(uint256 proposalId, address member) external view returns (bool);
}
