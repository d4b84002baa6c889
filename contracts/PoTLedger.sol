// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {PoTVerifier} from "./ledger/PoTVerifier.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IPoTStaking} from "./interfaces/IPoTStaking.sol";
import {IPoTToken} from "./interfaces/IPoTToken.sol";
import {PoTHashes} from "./ledger/PoTHashes.sol";
import {LedgerParams, JobRequest, Opening, Settlement, HeaderFields} from "./ledger/LedgerTypes.sol";
import {PoTJury} from "./ledger/PoTJury.sol";

/// @title The Proof of Training ledger: job escrow, declarations, headers, PoA, wrapped blocks
/// @notice One global chain of wrapped blocks; each block finalizes one stage of one job (seed 002,
/// Algorithms 1 and 2). The chain is the referee: it orders declarations before the reveal, opens the
/// commitments itself, sends disagreements to a jury, draws PoA committees from randomness fixed after
/// the header, pays the employer's fee out by pull payments, and slashes provable faults.
/// Phases of a stage: declare -> close -> (jury) -> header -> PoA -> wrap. docs/contracts/ledger.md
/// explains every rule and the attack it closes.
/// @dev Hashes: contracts/ledger/PoTHashes.sol, mirroring src/protocol. The protocol domain is this
/// contract's EIP-712 domain separator (name "ProofOfTraining", version "1").
/// Reentrancy: every function that calls out (withdraw's ETH transfer, staking's slash) finishes its own
/// state changes first (checks-effects-interactions), so a reentrant call finds nothing left to take.
contract PoTLedger is EIP712 {
    // ------------------------------------------------------------------ constants and types

    /// @notice Job id of the built-in dummy job (no fee, coinbase only, never expires).
    uint64 public constant DUMMY_JOB = 0;
    uint16 internal constant BPS = 10_000;
    /// @dev Settlement word: the top 200 bits of keccak256(abi.encode(Settlement)) | the number of the
    /// stage's declarations claimed or slashed (bits 40..55) | claimed flags (bits 0..39: bit 0 builder,
    /// bit 1 + i committee member i).
    uint256 internal constant SETTLEMENT_HASH_SHIFT = 56;
    uint256 internal constant SETTLED_ONE = 1 << 40;

    /// @notice Job status.
    uint8 internal constant JOB_OPEN = 1;
    uint8 internal constant JOB_FINISHED = 2;
    uint8 internal constant JOB_EXPIRED = 3;

    /// @notice Stage phases. A stage is Open from the moment its parent is fixed; it is closed (no more
    /// declarations) once `closeBlock` is reached (or, when disputed, at its deadline).
    uint8 internal constant PHASE_OPEN = 1;
    uint8 internal constant PHASE_JURY = 2;
    uint8 internal constant PHASE_DECIDED = 3;
    uint8 internal constant PHASE_HEADERED = 4;
    uint8 internal constant PHASE_WRAPPED = 5;

    /// @notice Declaration status in its storage slot.
    uint8 internal constant DECL_DECLARED = 1;
    uint8 internal constant DECL_CREDITED = 2;
    uint8 internal constant DECL_SLASHED = 3;

    /// @notice Roles of RewardCredited.
    uint8 internal constant ROLE_BUILDER = 1;
    uint8 internal constant ROLE_DECLARANT = 2;
    uint8 internal constant ROLE_ATTESTER = 3;

    /// @notice Reasons of Slashed.
    uint8 internal constant FAULT_DECLARATION = 1;
    uint8 internal constant FAULT_JUROR = 2;

    struct Job {
        // slot 0: everything a declaration reads
        uint64 deadline;
        uint32 stageSeconds;
        uint32 numStages;
        uint32 wrappedStages;
        uint16 c;
        uint16 k;
        uint8 status;
        // rounding dust of the wrapped stages (refunded with the unspent escrow when the job ends)
        uint56 dust;
        // slot 1
        address employer;
        // slot 2: the fee escrowed at creation (zero once the job ended); the unspent part is
        // escrow - wrappedStages * feePerStage + dust
        uint128 escrow;
        uint128 feePerStage;
        // slot 3
        bytes32 initialStateHash;
    }

    /// @dev Stage records are a ring of two per job, indexed by stage parity and tagged with their stage:
    /// stage s+2 may open only once stage s is wrapped, so a record is reused (no fresh storage slots per
    /// stage). What claims and slashing need after the wrap is kept as one hash per stage (`settlementOf`).
    /// Slot 0 holds everything a declaration reads and writes, so a declaration touches one stage slot:
    /// the job's C and deadline are copied into it when the stage opens, and instead of the parent and the
    /// first declared result it keeps a 104-bit fingerprint of them (`fingerprint`, see `_fingerprint`).
    struct Stage {
        // slot 0
        uint32 stage;
        uint8 phase;
        bool disputed;
        uint16 declCount;
        // the job's C
        uint8 c;
        // while open: the block declarations close at (0 before the C-th declaration); once headered: the
        // randomness block of the first committee round (a stage is never both)
        uint40 closeOrRandBlock;
        // min(stage deadline, job deadline): a disputed stage closes then; after it, an undisputed stage
        // still takes declarations until the job deadline (read from the job only then)
        uint40 deadline;
        // before the first declaration: low 104 bits of keccak256(abi.encode(parent)); from it on: low 104
        // bits of keccak256(abi.encode(parent, first declared result))
        uint104 fingerprint;
        // slot 1: H(S_{stage-1}), written when the stage opens
        bytes32 parent;
        // slots 2, 3: the decided result and rho: written by the jury's decision, or by voidHeader / contest
        // (a header does not store them: its hash commits to them, and wrap/contest/voidHeader take them
        // as calldata, `HeaderFields`)
        bytes32 result;
        bytes32 rho;
        // slot 4: written by the header
        bytes32 headerHash;
        // headered: keccak256(abi.encode(opened)); once wrapped: the stage's settlement word (`settlementOf`)
        bytes32 openedOrSettlement;
        // slot 6: builder: a voided (or contested) header's builder, who may not build the stage again;
        // attestRound/attestMask: transaction attestations (`attest`)
        address builder;
        uint32 attestRound;
        uint32 attestMask;
        // slot 7: keccak256(abi.encode(headerHash, members)) of the committee the bitmap refers to (the
        // header hash binds it: a bitmap left from an earlier header or stage never matches)
        bytes32 committeeHash;
    }

    /// @notice A stage as `getStage` returns it (the fields of the v3 record, decoded from the packed one).
    struct StageView {
        uint64 deadline;
        uint64 closeBlock;
        uint32 stage;
        uint16 declCount;
        uint8 phase;
        bool disputed;
        uint64 randBlock;
        bytes32 parent;
        bytes32 result;
        bytes32 rho;
        bytes32 headerHash;
        bytes32 openedHash;
        address builder;
        uint32 attestRound;
        uint32 attestMask;
        bytes32 committeeHash;
    }

    /// @dev The ledger's copy of a staker's seal weight inputs (one slot: a seal check reads only this).
    /// PoTStaking pushes every change of active stake or origin (`syncSeal`); the ledger restarts coin age
    /// here when a seal lands in a wrapped block. `synced` is false until the first push (then the ledger
    /// asks staking).
    struct Seal {
        uint128 active;
        uint64 since;
        bool synced;
    }

    // ------------------------------------------------------------------ immutables and state

    IPoTToken public immutable token;
    IPoTStaking public immutable staking;
    /// @notice The jury contract this ledger deployed (JuryDrawn, JuryVoted, JuryDecided come from it).
    PoTJury public immutable jury;
    /// @notice The stateless checker this ledger deployed (openings, attestation signatures).
    PoTVerifier public immutable verifier;

    uint32 public immutable sealWindowSeconds;
    uint32 public immutable closeDelayBlocks;
    uint32 public immutable poaWindowBlocks;
    uint32 public immutable poaMaxRounds;
    uint32 public immutable minStageSeconds;
    uint32 public immutable minJobSeconds;
    uint16 public immutable builderBps;
    uint16 public immutable attesterBps;
    uint16 public immutable maxC;
    uint16 public immutable maxK;
    uint256 public immutable targetPerCoinSecond;
    uint256 public immutable minStake;
    uint256 public immutable coinbasePerCoinAge;
    uint256 public immutable coinbaseCap;
    uint256 public immutable declarationSlash;
    uint256 public immutable jurorSlash;

    mapping(uint64 jobId => Job) internal _jobs;
    mapping(uint64 jobId => Stage[2]) internal _stages;
    /// @dev Archived settlement words (see `settlementOf`): a wrapped stage's word lives in its ring record
    /// and is copied here only if shares are still unclaimed when the record is reused (`_openStage`).
    mapping(uint64 jobId => mapping(uint32 stage => bytes32)) internal _settlements;
    /// @dev One slot per (job, staker, stage parity), reused across stages:
    /// stage (32 bits) | status (8 bits) | low 216 bits of keccak256(abi.encode(declarationHash, rand)).
    mapping(uint64 jobId => mapping(address staker => uint256[2])) internal _decls;

    /// @dev Seal weight inputs per staker (see `Seal`).
    mapping(address staker => Seal) internal _seals;
    /// @notice Cap on the age part of coin age (staking's `maxCoinAgeSeconds`, read at deployment).
    uint64 public immutable maxCoinAgeSeconds;

    /// @notice ETH each account can withdraw.
    mapping(address account => uint256 wei_) public claimable;

    /// @notice ETH held for jobs: the unspent escrow of open jobs plus the shares of wrapped stages not yet
    /// claimed or released (a wrap only moves a stage fee from one to the other, so it does not write this).
    uint256 public totalEscrow;
    /// @notice Sum of `claimable`.
    uint256 public totalClaimable;

    /// @notice Next job id (job 0 is the dummy job).
    uint64 public nextJobId = 1;
    /// @notice Number of wrapped blocks; the next block's index.
    uint64 public blockCount;
    /// @notice Hash of the last wrapped block (zero before the first).
    bytes32 public lastBlockHash;

    // ------------------------------------------------------------------ events

    event JobCreated(
        uint64 indexed jobId,
        address indexed employer,
        uint256 fee,
        bytes specCid,
        bytes32 manifestRoot,
        bytes32 initialStateHash,
        uint32 numStages,
        uint16 c,
        uint16 k,
        uint32 stageSeconds,
        uint64 deadline
    );
    /// @notice Declarations for (jobId, stage) are accepted from now, trained from `parentHash`.
    /// `seed` is the chain head when it opened (the dummy job draws its batch from it).
    event StageOpened(
        uint64 indexed jobId,
        uint32 indexed stage,
        bytes32 parentHash,
        uint64 deadline,
        bytes32 seed
    );
    event Declared(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed declarer,
        bytes32 parentHash,
        bytes32 resultHash,
        bytes32 commitment,
        bytes32 rand,
        uint64 timestamp
    );
    /// @notice Declarations of the stage close at block `closeBlock` (no declaration is accepted from it on).
    event DeclarationsClosed(
        uint64 indexed jobId,
        uint32 indexed stage,
        uint64 closeBlock,
        bytes32 leadResult,
        bool disputed
    );
    event HeaderSubmitted(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed builder,
        bytes32 headerHash,
        bytes32 parentHash,
        bytes32 resultHash,
        bytes32 rho,
        bytes resultCid,
        uint64 timestamp,
        address[] opened,
        uint64 randBlock
    );
    event CommitteeDrawn(uint64 indexed jobId, uint32 indexed stage, uint32 round, address[] members);
    event Attested(uint64 indexed jobId, uint32 indexed stage, address indexed member, uint32 round);
    event BlockWrapped(
        uint64 indexed index,
        bytes32 indexed blockHash,
        uint64 indexed jobId,
        uint32 stage,
        bytes32 parentBlockHash,
        bytes32 headerHash,
        address[] attesters,
        address wrapper,
        uint64 timestamp
    );
    /// @notice What claims and slashing of the stage's declarations pass back (its hash is `settlementOf`).
    event StageSettled(uint64 indexed jobId, uint32 indexed stage, Settlement settlement);
    event HeaderVoided(uint64 indexed jobId, uint32 indexed stage, bytes32 headerHash, address builder);
    /// @notice `declarer`'s declaration opens against `rho`, not the header's rho: the header is voided
    /// and the stage goes to the jury.
    event HeaderContested(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed declarer,
        bytes32 headerHash,
        bytes32 rho
    );
    event Slashed(
        uint64 indexed jobId,
        uint32 indexed stage,
        address indexed staker,
        uint8 fault,
        uint256 amount,
        address reporter
    );
    event RewardCredited(
        address indexed account,
        uint64 indexed jobId,
        uint32 indexed stage,
        uint8 role,
        uint256 amount
    );
    event CoinbaseMinted(address indexed staker, uint64 indexed jobId, uint32 indexed stage, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    /// @notice PoTStaking pushed `staker`'s active stake and coin-age origin to the ledger's copy.
    event SealSynced(address indexed staker, uint256 active, uint64 since);
    /// @notice A claim consumed the coin age of a declaration the header had not opened (restarted now).
    event CoinAgeConsumed(address indexed staker, uint64 indexed jobId, uint32 indexed stage, uint256 age);
    event JobFinished(uint64 indexed jobId);
    event JobExpired(uint64 indexed jobId, uint256 unspent);
    /// @notice ETH credited back to the employer: unspent escrow, rounding dust, released shares.
    event Refunded(uint64 indexed jobId, address indexed employer, uint256 amount);

    // ------------------------------------------------------------------ errors

    error InvalidParams(string what);
    error ZeroAddress();
    error UnknownJob(uint64 jobId);
    error JobNotOpen(uint64 jobId);
    error JobNotExpired(uint64 deadline);
    error WrongPhase(uint8 phase);
    error WrongParent(bytes32 expected, bytes32 given);
    error DeclarationsClosedAt(uint64 closeBlock);
    error NotClosed();
    error StageDisputed();
    error NotDisputed();
    error AlreadyDeclared();
    error UnsettledDeclaration(uint32 stage);
    error ZeroHash();
    error SealTimestampOutOfWindow(uint64 timestamp, uint256 blockTimestamp);
    error NotEnoughStake(uint256 stake, uint256 minimum);
    error KernelAboveTarget();
    error PreviousStageNotWrapped();
    error EmptyCid();
    error TooFewOpenings(uint256 given, uint256 needed);
    error WrongRho();
    error WrongResult();
    error HeaderMismatch();
    error VoidedBuilder();
    error RandomnessNotReady(uint64 randBlock);
    error RandomnessExpired(uint64 randBlock);
    error PoaExpired();
    error PoaNotExpired();
    error NotCommitteeMember(address account);
    error AlreadyAttested();
    error BadSignatureCount(uint256 given, uint256 k);
    error WrongCommitteeSize(uint256 given, uint256 k);
    error OpenedListMismatch();
    error NotAFault();
    error DoesNotOpen(address declarer);
    error NotJury(address caller);
    error NotStaking(address caller);
    error SameRho();
    error NotSettled();
    error SettlementMismatch();
    error ContestTooLate();
    error AlreadyClaimed();
    error NothingToWithdraw();
    error TransferFailed();

    // ------------------------------------------------------------------ construction

    /// @param token_ the PoT token (the ledger must be its `ledger`)
    /// @param staking_ the staking contract (the ledger must be its `ledger`)
    /// @param p the parameters (docs/contracts/ledger.md, "Parameters")
    constructor(
        IPoTToken token_,
        IPoTStaking staking_,
        LedgerParams memory p
    ) EIP712("ProofOfTraining", "1") {
        if (address(token_) == address(0) || address(staking_) == address(0)) revert ZeroAddress();
        if (p.sealWindowSeconds == 0) revert InvalidParams("sealWindowSeconds");
        if (p.closeDelayBlocks == 0) revert InvalidParams("closeDelayBlocks");
        if (p.poaWindowBlocks == 0 || p.poaWindowBlocks > 255) revert InvalidParams("poaWindowBlocks");
        if (p.poaMaxRounds == 0) revert InvalidParams("poaMaxRounds");
        // a committee is drawn up to poaWindowBlocks after its randomness block: staking keeps the draw
        // weights of that block's epoch until the end of the next one only
        if (staking_.epochBlocks() < p.poaWindowBlocks) revert InvalidParams("epochBlocks");
        if (p.juryWindowSeconds == 0) revert InvalidParams("juryWindowSeconds");
        if (p.minStageSeconds == 0) revert InvalidParams("minStageSeconds");
        if (p.jurySize == 0) revert InvalidParams("jurySize");
        if (uint256(p.builderBps) + p.attesterBps > BPS) revert InvalidParams("bps");
        if (p.maxC < 2 || p.maxC > 64) revert InvalidParams("maxC");
        if (p.maxK == 0 || p.maxK > 32) revert InvalidParams("maxK");
        if (p.dummyC < 2 || p.dummyC > p.maxC || p.dummyK == 0 || p.dummyK > p.maxK)
            revert InvalidParams("dummy");
        if (p.dummyStageSeconds == 0 || p.dummyInitialStateHash == bytes32(0)) revert InvalidParams("dummy");
        token = token_;
        staking = staking_;
        sealWindowSeconds = p.sealWindowSeconds;
        closeDelayBlocks = p.closeDelayBlocks;
        poaWindowBlocks = p.poaWindowBlocks;
        poaMaxRounds = p.poaMaxRounds;
        minStageSeconds = p.minStageSeconds;
        minJobSeconds = p.minJobSeconds;
        builderBps = p.builderBps;
        attesterBps = p.attesterBps;
        maxC = p.maxC;
        maxK = p.maxK;
        targetPerCoinSecond = p.targetPerCoinSecond;
        minStake = p.minStake;
        coinbasePerCoinAge = p.coinbasePerCoinAge;
        coinbaseCap = p.coinbaseCap;
        declarationSlash = p.declarationSlash;
        jurorSlash = p.jurorSlash;
        maxCoinAgeSeconds = staking_.maxCoinAgeSeconds();
        verifier = new PoTVerifier();
        jury = new PoTJury(staking_, _domainSeparatorV4(), p.jurySize, p.juryWindowSeconds, p.minStake);

        Job storage dummy = _jobs[DUMMY_JOB];
        dummy.deadline = type(uint64).max;
        dummy.stageSeconds = p.dummyStageSeconds;
        dummy.numStages = type(uint32).max;
        dummy.c = p.dummyC;
        dummy.k = p.dummyK;
        dummy.status = JOB_OPEN;
        dummy.initialStateHash = p.dummyInitialStateHash;
        emit JobCreated(
            DUMMY_JOB,
            address(0),
            0,
            p.dummySpecCid,
            bytes32(0),
            p.dummyInitialStateHash,
            type(uint32).max,
            p.dummyC,
            p.dummyK,
            p.dummyStageSeconds,
            type(uint64).max
        );
        _openStage(DUMMY_JOB, 1, dummy, p.dummyInitialStateHash);
    }

    // ------------------------------------------------------------------ job escrow

    /// @notice Opens a job and escrows its fee (msg.value). The fee is split evenly over the stages
    /// (the remainder returns to the employer when the job ends) and cannot be taken back while the job
    /// runs; when the job expires unfinished, the unspent part is refundable.
    /// @return jobId the new job's id
    function createJob(JobRequest calldata r) external payable returns (uint64 jobId) {
        verifier.checkJobRequest(r, msg.value, maxC, maxK, minStageSeconds, block.timestamp + minJobSeconds);
        jobId = nextJobId++;
        Job storage job = _jobs[jobId];
        job.employer = msg.sender;
        job.deadline = r.deadline;
        job.stageSeconds = r.stageSeconds;
        job.escrow = uint128(msg.value);
        job.feePerStage = uint128(msg.value / r.numStages);
        job.numStages = r.numStages;
        job.c = r.c;
        job.k = r.k;
        job.status = JOB_OPEN;
        job.initialStateHash = r.initialStateHash;
        totalEscrow += msg.value;
        emit JobCreated(
            jobId,
            msg.sender,
            msg.value,
            r.specCid,
            r.manifestRoot,
            r.initialStateHash,
            r.numStages,
            r.c,
            r.k,
            r.stageSeconds,
            r.deadline
        );
        _openStage(jobId, 1, job, r.initialStateHash);
    }

    /// @notice Ends a job whose deadline passed unfinished and credits its unspent escrow to the employer
    /// (withdraw it with `withdraw`). Anyone may call it.
    function expireJob(uint64 jobId) external {
        Job storage job = _jobs[jobId];
        if (jobId == DUMMY_JOB || job.status == 0) revert UnknownJob(jobId);
        if (job.status != JOB_OPEN) revert JobNotOpen(jobId);
        if (block.timestamp < job.deadline) revert JobNotExpired(job.deadline);
        job.status = JOB_EXPIRED;
        uint256 unspent = _unspent(job);
        job.escrow = 0;
        totalEscrow -= unspent;
        emit JobExpired(jobId, unspent);
        _refund(jobId, job.employer, unspent);
    }

    /// @notice Sends the caller everything credited to it (rewards and refunds). Pull payment.
    function withdraw() external {
        uint256 amount = claimable[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        claimable[msg.sender] = 0;
        totalClaimable -= amount;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    // ------------------------------------------------------------------ declarations (Algorithm 1)

    /// @notice Declares the training of stage `stage` of `jobId` (seed 002, Algorithm 1 step 4-5).
    /// @dev Accepted while the stage is open and its declarations have not closed; one per staker per
    /// stage; the PoS kernel over (domain, staker, job, stage, timestamp) must pass (never over rand).
    /// @param parentHash H(S_{stage-1}); must equal the parent fixed by the previous stage
    /// @param resultHash H(S_stage)
    /// @param commitment keccak256(abi.encode(COMMITMENT_TYPEHASH, domain, rho, rand, msg.sender, jobId, stage))
    /// @param rand the commitment's public salt (published here so any header can open it)
    /// @param timestamp the PoS seal timestamp, in (block.timestamp - sealWindowSeconds, block.timestamp]
    function declare(
        uint64 jobId,
        uint32 stage,
        bytes32 parentHash,
        bytes32 resultHash,
        bytes32 commitment,
        bytes32 rand,
        uint64 timestamp
    ) external {
        // Gas: this reads and writes one stage slot (slot 0) and the declaration slot, and reads the
        // declarer's seal copy; the job is read only on the slow path (stage deadline passed).
        Stage storage st = _stages[jobId][stage & 1];
        uint8 phase = st.stage == stage ? st.phase : 0;
        if (phase != PHASE_OPEN) {
            _liveJob(jobId);
            revert WrongPhase(phase);
        }
        if (block.timestamp >= st.deadline) {
            // past min(stage deadline, job deadline): a disputed stage is closed; an undisputed one stays
            // open until the job deadline
            _liveJob(jobId);
            if (st.disputed) revert DeclarationsClosedAt(st.closeOrRandBlock);
        }
        uint40 cb = st.closeOrRandBlock;
        if (cb != 0 && block.number >= cb) revert DeclarationsClosedAt(cb);
        if (resultHash == bytes32(0) || commitment == bytes32(0)) revert ZeroHash();

        uint16 count = st.declCount + 1;
        bool disputed = st.disputed;
        if (count == 1) {
            // the fingerprint still covers the parent alone: check it, then bind the first result to it
            if (_fingerprint(keccak256(abi.encode(parentHash))) != st.fingerprint) {
                revert WrongParent(st.parent, parentHash);
            }
            st.fingerprint = _fingerprint(keccak256(abi.encode(parentHash, resultHash)));
        } else if (_fingerprint(keccak256(abi.encode(parentHash, resultHash))) != st.fingerprint) {
            // another parent, or the parent with another result (a dispute): only here is the parent read
            bytes32 parent = st.parent;
            if (parentHash != parent) revert WrongParent(parent, parentHash);
            disputed = true;
        }

        bytes32 domain = _domainSeparatorV4();
        _checkSeal(domain, PoTHashes.SEAL_DECLARATION, jobId, stage, timestamp);

        uint256 parity = stage & 1;
        uint256 old = _decls[jobId][msg.sender][parity];
        if (old != 0) {
            uint32 oldStage = uint32(old >> 224);
            if (oldStage == stage) revert AlreadyDeclared();
            if (uint8(old >> 216) == DECL_DECLARED) revert UnsettledDeclaration(oldStage);
        }
        bytes32 declHash = PoTHashes.declaration(
            domain,
            jobId,
            stage,
            parentHash,
            resultHash,
            commitment,
            timestamp,
            msg.sender
        );
        // stage (32) | status (8) | low 216 bits of keccak256(abi.encode(declHash, rand)), inline (no call)
        _decls[jobId][msg.sender][parity] =
            (uint256(stage) << 224) |
            (uint256(DECL_DECLARED) << 216) |
            (uint256(keccak256(abi.encode(declHash, rand))) & type(uint216).max);

        st.declCount = count;
        st.disputed = disputed;
        emit Declared(jobId, stage, msg.sender, parentHash, resultHash, commitment, rand, timestamp);
        if (count == st.c) {
            cb = uint40(block.number + closeDelayBlocks);
            st.closeOrRandBlock = cb;
            // leadResult: the first declared result when undisputed (this one matched it); when disputed,
            // this declaration's (the ledger keeps only a fingerprint of the first)
            emit DeclarationsClosed(jobId, stage, cb, resultHash, disputed);
        }
    }

    // ------------------------------------------------------------------ jury

    /// @notice Sends a closed, disputed stage to its jury (contract `jury`, which draws D stakers by
    /// follow-the-coin from a block mined after this call). Anyone may call it.
    function requestJury(uint64 jobId, uint32 stage) external {
        _liveJob(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_OPEN) revert WrongPhase(phase);
        if (!st.disputed) revert NotDisputed();
        if (!_declarationsClosed(st)) revert NotClosed();
        st.phase = PHASE_JURY;
        st.builder = address(0); // a builder of the record's previous stage is no voided builder here
        // leadResult zero: a disputed stage has no lead result (the ledger keeps only a fingerprint)
        emit DeclarationsClosed(jobId, stage, uint64(block.number), bytes32(0), true);
        jury.open(jobId, stage);
    }

    /// @notice The jury reached a majority: the stage's result and rho are decided (a header must reveal
    /// that rho and open at least one declaration against it). Jury only.
    function onJuryDecided(uint64 jobId, uint32 stage, bytes32 resultHash, bytes32 rho) external {
        if (msg.sender != address(jury)) revert NotJury(msg.sender);
        _liveJob(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_JURY) revert WrongPhase(phase);
        st.result = resultHash;
        st.rho = rho;
        st.phase = PHASE_DECIDED;
    }

    /// @notice Contests a header (rho contest): the declaration `o` of the stage's result opens against
    /// `rho`, another secret than the header's. Two secrets claiming one result cannot both be right, so
    /// the header is voided and the stage goes to the jury, which fixes result and rho; declarations that
    /// do not open against the jury's rho are then slashable. Allowed while the stage is headered, within
    /// its PoA window, and only once per stage (a stage a jury decided has its rho fixed). Anyone holding
    /// the declarant's rho may submit it; the declarant is the one who does.
    /// @param h the contested header's fields (HeaderSubmitted)
    function contest(
        uint64 jobId,
        uint32 stage,
        HeaderFields calldata h,
        bytes32 rho,
        Opening calldata o
    ) external {
        _liveJob(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_HEADERED) revert WrongPhase(phase);
        if (block.number > uint256(st.closeOrRandBlock) + uint256(poaMaxRounds) * poaWindowBlocks)
            revert ContestTooLate();
        if (st.disputed) revert StageDisputed();
        _checkHeader(jobId, stage, st, h);
        if (rho == h.rho) revert SameRho();
        (, bool opens) = _verifyDeclaration(jobId, stage, h.parent, h.result, o, rho);
        if (!opens) revert DoesNotOpen(o.declarer);
        st.phase = PHASE_JURY;
        st.disputed = true;
        st.builder = h.builder; // the contested builder may not build the decided stage
        emit HeaderContested(jobId, stage, o.declarer, st.headerHash, rho);
        jury.open(jobId, stage);
    }

    /// @notice Slashes a juror the jury found on the losing side; the stake goes to `reporter`. Jury only.
    function slashJurorStake(uint64 jobId, uint32 stage, address juror, address reporter) external {
        if (msg.sender != address(jury)) revert NotJury(msg.sender);
        uint256 amount = staking.slash(juror, jurorSlash, reporter);
        emit Slashed(jobId, stage, juror, FAULT_JUROR, amount, reporter);
    }

    // ------------------------------------------------------------------ header (Algorithm 2)

    /// @notice Submits the block header of a closed stage: reveals rho and the CID of S_stage, and opens
    /// at least C agreeing declarations (1 after a jury decided), including the builder's own.
    /// @dev The contract opens every listed commitment itself. Openings are sorted by declarer address
    /// (strictly increasing), which also rules out duplicates. After a voided header the stage's rho is
    /// fixed and the voided builder may not build again.
    /// @param resultHash H(S_stage): the declared result (checked against the stage's fingerprint of the
    /// first declared result), or the jury's decided one
    function submitHeader(
        uint64 jobId,
        uint32 stage,
        bytes32 resultHash,
        bytes32 rho,
        bytes calldata resultCid,
        uint64 timestamp,
        Opening[] calldata openings
    ) external {
        Job storage job = _liveJob(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        uint256 needed = job.c;
        bytes32 parent = st.parent;
        if (phase == PHASE_OPEN) {
            if (!_declarationsClosed(st)) revert NotClosed();
            if (st.disputed) revert StageDisputed();
            // undisputed and closed: every declaration matched the fingerprint of (parent, result)
            if (_fingerprint(keccak256(abi.encode(parent, resultHash))) != st.fingerprint)
                revert WrongResult();
        } else if (phase == PHASE_DECIDED) {
            // decided by the jury (result and rho stored), or a voided header's (result still in the
            // fingerprint, rho stored by voidHeader)
            if (st.disputed) {
                if (resultHash != st.result) revert WrongResult();
                needed = 1;
            } else if (_fingerprint(keccak256(abi.encode(parent, resultHash))) != st.fingerprint) {
                revert WrongResult();
            }
            if (rho != st.rho) revert WrongRho();
            if (msg.sender == st.builder) revert VoidedBuilder();
        } else {
            revert WrongPhase(phase);
        }
        // stages wrap in order: the previous one is wrapped iff the job's wrapped count reached it
        if (job.wrappedStages + 1 < stage) revert PreviousStageNotWrapped();
        if (resultCid.length == 0) revert EmptyCid();
        if (openings.length < needed) revert TooFewOpenings(openings.length, needed);

        bytes32 domain = _domainSeparatorV4();
        _checkSeal(domain, PoTHashes.SEAL_HEADER, jobId, stage, timestamp);

        uint256[] memory slots = new uint256[](openings.length);
        for (uint256 i = 0; i < openings.length; ++i) {
            slots[i] = _decls[jobId][openings[i].declarer][stage & 1];
        }
        address[] memory opened = verifier.openAll(
            domain,
            jobId,
            stage,
            parent,
            resultHash,
            rho,
            msg.sender,
            openings,
            slots
        );

        bytes32 headerHash = PoTHashes.header(
            domain,
            jobId,
            stage,
            parent,
            resultHash,
            rho,
            keccak256(resultCid),
            timestamp,
            msg.sender
        );
        uint40 rb = uint40(block.number + closeDelayBlocks);
        // Stored: the header hash (it commits to parent, result, rho, CID and builder) and the opened
        // list's hash. Everything else is in HeaderSubmitted; wrap, contest and voidHeader take it back.
        st.phase = PHASE_HEADERED;
        st.closeOrRandBlock = rb;
        st.headerHash = headerHash;
        st.openedOrSettlement = keccak256(abi.encode(opened));
        emit HeaderSubmitted(
            jobId,
            stage,
            msg.sender,
            headerHash,
            parent,
            resultHash,
            rho,
            resultCid,
            timestamp,
            opened,
            rb
        );
        if (stage < job.numStages && _stages[jobId][(stage + 1) & 1].stage != stage + 1) {
            _openStage(jobId, stage + 1, job, resultHash);
        }
    }

    /// @notice Voids a header whose committees could not wrap it within poaMaxRounds rounds (S_stage was
    /// not retrievable): the stage goes back to Decided, and another declarant may submit a header with
    /// the same rho.
    /// @param h the voided header's fields (HeaderSubmitted): its rho is kept, its builder barred
    function voidHeader(uint64 jobId, uint32 stage, HeaderFields calldata h) external {
        _liveJob(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_HEADERED) revert WrongPhase(phase);
        if (block.number <= uint256(st.closeOrRandBlock) + uint256(poaMaxRounds) * poaWindowBlocks)
            revert PoaNotExpired();
        _checkHeader(jobId, stage, st, h);
        st.phase = PHASE_DECIDED;
        st.rho = h.rho;
        st.builder = h.builder;
        emit HeaderVoided(jobId, stage, st.headerHash, h.builder);
    }

    /// @dev Reverts unless `h` are the fields of the stage's accepted header (its hash is stored).
    function _checkHeader(
        uint64 jobId,
        uint32 stage,
        Stage storage st,
        HeaderFields calldata h
    ) internal view {
        bytes32 hh = PoTHashes.header(
            _domainSeparatorV4(),
            jobId,
            stage,
            h.parent,
            h.result,
            h.rho,
            h.resultCidHash,
            h.timestamp,
            h.builder
        );
        if (hh != st.headerHash) revert HeaderMismatch();
    }

    // ------------------------------------------------------------------ PoA

    /// @notice The current PoA committee of a headered stage: K stakers drawn by follow-the-coin from
    /// the hash of block roundBlock = randBlock + round * poaWindowBlocks (fixed only after the header was
    /// mined), over the draw weights as of the start of roundBlock's staking epoch (fixed before it).
    /// @return round the current round
    /// @return members the committee, in draw order
    /// @return lastBlock the last block number of this round
    function committeeOf(
        uint64 jobId,
        uint32 stage
    ) public view returns (uint32 round, address[] memory members, uint64 lastBlock) {
        bytes32 seed;
        uint256 roundBlock;
        (round, seed, roundBlock) = _committeeSeed(jobId, stage);
        members = staking.draw(seed, _jobs[jobId].k, roundBlock);
        lastBlock = uint64(roundBlock + poaWindowBlocks);
    }

    /// @dev The current round of a headered stage, its follow-the-coin seed and its randomness block.
    function _committeeSeed(
        uint64 jobId,
        uint32 stage
    ) internal view returns (uint32 round, bytes32 seed, uint256 roundBlock) {
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_HEADERED) revert WrongPhase(phase);
        uint256 rb = st.closeOrRandBlock;
        if (block.number <= rb) revert RandomnessNotReady(uint64(rb));
        uint256 r = (block.number - rb - 1) / poaWindowBlocks;
        if (r >= poaMaxRounds) revert PoaExpired();
        round = uint32(r);
        roundBlock = rb + r * poaWindowBlocks;
        seed = PoTHashes.committeeSeed(
            _domainSeparatorV4(),
            st.headerHash,
            _randomness(uint64(roundBlock)),
            round
        );
    }

    /// @notice Attests, by transaction, that S_stage is retrievable and matches the header (the
    /// alternative to an EIP-712 signature carried in the wrap).
    function attest(uint64 jobId, uint32 stage) external {
        _liveJob(jobId);
        (uint32 round, address[] memory members, ) = committeeOf(jobId, stage);
        uint256 idx = _indexOf(members, msg.sender);
        Stage storage st = _stages[jobId][stage & 1];
        bytes32 ch = keccak256(abi.encode(st.headerHash, members));
        uint32 mask = st.attestMask;
        if (st.attestRound != round || st.committeeHash != ch) {
            emit CommitteeDrawn(jobId, stage, round, members);
            st.attestRound = round;
            st.committeeHash = ch;
            mask = 0;
        }
        if (mask & (uint32(1) << uint32(idx)) != 0) revert AlreadyAttested();
        st.attestMask = mask | (uint32(1) << uint32(idx));
        emit Attested(jobId, stage, msg.sender, round);
    }

    /// @notice Wraps a headered stage into the next block of the global chain (seed 002, Algorithm 2
    /// step 5): the caller is a member of the current committee; every other member attested, by
    /// transaction this round or by an EIP-712 signature in `signatures` (indexed like the committee;
    /// empty for the caller and for members who attested by transaction). Resets the coin age of every
    /// opened declaration (the builder's is among them) and records the stage's payout as one settlement
    /// word (StageSettled); nobody is credited here: the builder, each member and each declaration claims
    /// its own share (and coinbase) later (`claimBuilder`, `claimAttester`, `claimDeclaration`).
    /// @dev The committee is passed in (`members`, from `committeeOf`) and verified against the draw
    /// (`staking.verifyDraw`: same follow-the-coin result, without the tree search).
    /// @param h the header's fields, as HeaderSubmitted listed them (checked against its hash)
    /// @param opened the declarers the header opened, as HeaderSubmitted listed them
    /// @param members the current committee in draw order, as `committeeOf` returns it
    function wrap(
        uint64 jobId,
        uint32 stage,
        HeaderFields calldata h,
        address[] calldata opened,
        address[] calldata members,
        bytes[] calldata signatures
    ) external returns (bytes32 blockHash) {
        Job storage job = _liveJob(jobId);
        (uint32 round, bytes32 seed, uint256 roundBlock) = _committeeSeed(jobId, stage);
        if (members.length != job.k) revert WrongCommitteeSize(members.length, job.k);
        staking.verifyDraw(seed, members, roundBlock);

        Stage storage st = _stages[jobId][stage & 1];
        _checkHeader(jobId, stage, st, h);
        if (keccak256(abi.encode(opened)) != st.openedOrSettlement) revert OpenedListMismatch();
        address[] memory attesters = _checkAttestations(
            jobId,
            stage,
            st,
            h.result,
            round,
            members,
            signatures
        );

        _settleStage(job, jobId, stage, st, h, members, opened);

        uint64 index = blockCount;
        bytes32 parentBlock = lastBlockHash;
        blockHash = PoTHashes.wrappedBlock(
            _domainSeparatorV4(),
            index,
            parentBlock,
            jobId,
            stage,
            st.headerHash,
            attesters,
            msg.sender,
            uint64(block.timestamp)
        );
        blockCount = index + 1;
        lastBlockHash = blockHash;
        st.phase = PHASE_WRAPPED;
        job.wrappedStages = stage;
        emit BlockWrapped(
            index,
            blockHash,
            jobId,
            stage,
            parentBlock,
            st.headerHash,
            attesters,
            msg.sender,
            uint64(block.timestamp)
        );
        if (stage == job.numStages) {
            job.status = JOB_FINISHED;
            uint256 rest = _unspent(job);
            job.escrow = 0;
            totalEscrow -= rest;
            emit JobFinished(jobId);
            if (rest != 0) _refund(jobId, job.employer, rest);
        }
    }

    // ------------------------------------------------------------------ claims and slashing

    /// @notice Credits a declaration's share of a wrapped stage: any declaration that opens against the
    /// stage's rho, opened by the header or not (so a builder cannot censor declarations), once. Its
    /// coinbase: an opened declaration mints what the wrap recorded (its coin age was consumed there);
    /// another consumes its coin age now. Anyone may submit it for `o.declarer`.
    /// @param st the stage's settlement, as its StageSettled event listed it
    function claimDeclaration(
        uint64 jobId,
        uint32 stage,
        Settlement calldata st,
        Opening calldata o
    ) external {
        (uint256 word, bool live) = _checkSettlement(jobId, stage, st);
        (uint256 slot, bool opens) = _verifyDeclaration(jobId, stage, st.parent, st.result, o, st.rho);
        if (!opens) revert DoesNotOpen(o.declarer);
        _settle(jobId, stage, o.declarer, slot, DECL_CREDITED);
        _storeSettlement(jobId, stage, word + SETTLED_ONE, live);
        _credit(o.declarer, st.perDeclaration, jobId, stage, ROLE_DECLARANT);
        uint256 n = st.opened.length;
        for (uint256 i = 0; i < n; ++i) {
            if (st.opened[i] == o.declarer) {
                _mintCoinbase(o.declarer, st.openedCoinbase[i], jobId, stage);
                return;
            }
        }
        uint256 age = _consumeCoinAge(o.declarer);
        emit CoinAgeConsumed(o.declarer, jobId, stage, age);
        _mintCoinbase(o.declarer, _coinbaseOf(age), jobId, stage);
    }

    /// @notice Credits the builder's share of a wrapped stage to its builder, once. Anyone may call it.
    /// @param st the stage's settlement, as its StageSettled event listed it
    function claimBuilder(uint64 jobId, uint32 stage, Settlement calldata st) external {
        _claimFlag(jobId, stage, st, 0);
        _credit(st.builder, st.builderPart, jobId, stage, ROLE_BUILDER);
    }

    /// @notice Credits committee member `index`'s share of a wrapped stage to it, once. Anyone may call it.
    /// @param st the stage's settlement, as its StageSettled event listed it
    /// @param members the wrapping committee, in draw order (its hash is `st.committeeHash`)
    function claimAttester(
        uint64 jobId,
        uint32 stage,
        Settlement calldata st,
        address[] calldata members,
        uint256 index
    ) external {
        if (keccak256(abi.encode(members)) != st.committeeHash) revert SettlementMismatch();
        if (index >= members.length) revert NotCommitteeMember(address(0));
        _claimFlag(jobId, stage, st, 1 + index);
        _credit(members[index], st.perMember, jobId, stage, ROLE_ATTESTER);
    }

    /// @dev Checks the settlement, sets claimed flag `bit` (reverts if set) and releases nothing yet:
    /// the caller credits the share, which `_credit` moves from reserved to claimable.
    function _claimFlag(uint64 jobId, uint32 stage, Settlement calldata st, uint256 bit) internal {
        (uint256 word, bool live) = _checkSettlement(jobId, stage, st);
        if (word & (1 << bit) != 0) revert AlreadyClaimed();
        _storeSettlement(jobId, stage, word | (1 << bit), live);
    }

    /// @notice Slashes a declaration of a finalized (wrapped) stage that does not open against the
    /// stage's rho (a wrong result, or a commitment to another secret). Anyone may submit the proof: the
    /// declaration's data from its Declared event. The slashed stake goes to the caller; the
    /// declaration's reserved share returns to the employer.
    /// @param st the stage's settlement, as its StageSettled event listed it
    function slashDeclaration(
        uint64 jobId,
        uint32 stage,
        Settlement calldata st,
        bytes32 resultHash,
        Opening calldata o
    ) external {
        (uint256 word, bool live) = _checkSettlement(jobId, stage, st);
        (uint256 slot, bool opens) = _verifyDeclaration(jobId, stage, st.parent, resultHash, o, st.rho);
        if (opens && resultHash == st.result) revert NotAFault();
        _settle(jobId, stage, o.declarer, slot, DECL_SLASHED);
        _storeSettlement(jobId, stage, word + SETTLED_ONE, live);
        uint256 share = st.perDeclaration;
        if (share != 0) {
            totalEscrow -= share;
            _refund(jobId, _jobs[jobId].employer, share);
        }
        uint256 amount = staking.slash(o.declarer, declarationSlash, msg.sender);
        emit Slashed(jobId, stage, o.declarer, FAULT_DECLARATION, amount, msg.sender);
    }

    /// @dev Reverts unless `st` is the stage's settlement; returns the settlement word and whether it
    /// lives in the stage's ring record (else in the archive).
    function _checkSettlement(
        uint64 jobId,
        uint32 stage,
        Settlement calldata st
    ) internal view returns (uint256 word, bool live) {
        (word, live) = _loadSettlement(jobId, stage);
        if (word == 0) revert NotSettled();
        if ((uint256(keccak256(abi.encode(st))) ^ word) >> SETTLEMENT_HASH_SHIFT != 0)
            revert SettlementMismatch();
    }

    /// @dev The settlement word of (jobId, stage): in its ring record while the record still holds the
    /// wrapped stage, else in the archive (zero: not wrapped, or reused with every share claimed).
    function _loadSettlement(uint64 jobId, uint32 stage) internal view returns (uint256 word, bool live) {
        Stage storage r = _stages[jobId][stage & 1];
        if (r.stage == stage && r.phase == PHASE_WRAPPED) return (uint256(r.openedOrSettlement), true);
        return (uint256(_settlements[jobId][stage]), false);
    }

    function _storeSettlement(uint64 jobId, uint32 stage, uint256 word, bool live) internal {
        if (live) _stages[jobId][stage & 1].openedOrSettlement = bytes32(word);
        else _settlements[jobId][stage] = bytes32(word);
    }

    /// @dev Checks that `o` (with `parent`, `resultHash`) is the declaration stored for (jobId, declarer,
    /// stage), still unsettled; returns its slot and whether it opens against `rho`.
    function _verifyDeclaration(
        uint64 jobId,
        uint32 stage,
        bytes32 parent,
        bytes32 resultHash,
        Opening calldata o,
        bytes32 rho
    ) internal view returns (uint256 slot, bool opens) {
        slot = _decls[jobId][o.declarer][stage & 1];
        opens = verifier.verifyDeclaration(
            _domainSeparatorV4(),
            jobId,
            stage,
            parent,
            resultHash,
            rho,
            o,
            slot
        );
    }

    /// @dev Marks a declaration settled (its share leaves totalEscrow through `_credit` or the refund).
    function _settle(uint64 jobId, uint32 stage, address declarer, uint256 slot, uint8 status) internal {
        _decls[jobId][declarer][stage & 1] = (slot & ~(uint256(0xff) << 216)) | (uint256(status) << 216);
    }

    // ------------------------------------------------------------------ seal copy

    /// @notice Records `staker`'s active stake and coin-age origin in the ledger's seal copy. Staking only:
    /// PoTStaking calls it on every stake, unstake and slash, so seal checks read the ledger's own slot.
    /// @param staker the staker
    /// @param active its active stake now
    /// @param since its coin-age origin now
    function syncSeal(address staker, uint256 active, uint64 since) external {
        if (msg.sender != address(staking)) revert NotStaking(msg.sender);
        _seals[staker] = Seal(uint128(active), since, true);
        emit SealSynced(staker, active, since);
    }

    /// @notice The ledger's seal copy of `staker`: active stake, coin-age origin, and whether staking
    /// ever synced it (if not, the ledger asks staking).
    function sealOf(address staker) external view returns (uint256 active, uint64 since, bool synced) {
        Seal storage s = _seals[staker];
        return (s.active, s.since, s.synced);
    }

    // ------------------------------------------------------------------ views

    /// @notice The settlement word of a wrapped stage (zero before its wrap, and once its record was reused
    /// with every share claimed): the top 200 bits of keccak256(abi.encode(Settlement)) | declarations
    /// claimed or slashed (bits 40..55) | claimed flags (bits 0..39: bit 0 builder, bit 1 + i member i).
    function settlementOf(uint64 jobId, uint32 stage) external view returns (bytes32) {
        (uint256 word, ) = _loadSettlement(jobId, stage);
        return bytes32(word);
    }

    /// @notice The protocol domain (EIP-712 domain separator of this ledger).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @notice Everything the ledger owes: unspent escrow and unclaimed shares (totalEscrow) + claimable
    /// balances. Invariant: address(this).balance == totalOwed().
    function totalOwed() external view returns (uint256) {
        return totalEscrow + totalClaimable;
    }

    function getJob(uint64 jobId) external view returns (Job memory) {
        return _jobs[jobId];
    }

    /// @notice The live record of a stage: the current stage and the one before it of each job (an older
    /// stage's record is reused; then this returns an empty record: read its settlement from events).
    /// An open stage returns only deadline, closeBlock, stage, declCount, phase, disputed and parent (its
    /// result is known from the header on: the ledger keeps a fingerprint of the declared one until then).
    function getStage(uint64 jobId, uint32 stage) external view returns (StageView memory v) {
        Stage storage r = _stages[jobId][stage & 1];
        if (r.stage != stage) return v;
        uint8 phase = r.phase;
        v.deadline = r.deadline;
        v.stage = stage;
        v.declCount = r.declCount;
        v.phase = phase;
        v.disputed = r.disputed;
        v.parent = r.parent;
        if (phase == PHASE_OPEN) {
            v.closeBlock = r.closeOrRandBlock;
            return v; // later fields still hold the record's previous stage
        }
        if (phase >= PHASE_HEADERED) {
            // result, rho and builder of a header are in its HeaderSubmitted event (only its hash is stored)
            v.randBlock = r.closeOrRandBlock;
            v.headerHash = r.headerHash;
            if (phase == PHASE_HEADERED) {
                v.openedHash = r.openedOrSettlement;
                v.attestRound = r.attestRound;
                v.attestMask = r.attestMask;
                v.committeeHash = r.committeeHash;
            }
            return v;
        }
        // Jury or Decided: the decided result and rho (a jury's, or a voided header's rho), and the
        // builder barred from building it
        v.result = r.result;
        v.rho = r.rho;
        v.builder = r.builder;
    }

    /// @notice H(S_{stage-1}) of an open stage (zero while unknown, and once the stage's record is reused).
    function parentOf(uint64 jobId, uint32 stage) external view returns (bytes32) {
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        return phase != 0 ? st.parent : bytes32(0);
    }

    /// @notice Whether the stage's declarations are closed now.
    function declarationsClosed(uint64 jobId, uint32 stage) external view returns (bool) {
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        return phase != 0 && _declarationsClosed(st);
    }

    /// @notice The packed declaration slot of (jobId, staker, parity): stage, status, truncated hash.
    function declarationSlot(
        uint64 jobId,
        address staker,
        uint32 stage
    ) external view returns (uint32 slotStage, uint8 status, uint256 hash216) {
        uint256 v = _decls[jobId][staker][stage & 1];
        return (uint32(v >> 224), uint8(v >> 216), v & type(uint216).max);
    }

    // ------------------------------------------------------------------ internals

    /// @dev A job's escrow not yet given to wrapped stages: its fee minus the wrapped stages' fees plus
    /// their rounding dust.
    function _unspent(Job storage job) internal view returns (uint256) {
        return job.escrow - uint256(job.wrappedStages) * job.feePerStage + job.dust;
    }

    function _liveJob(uint64 jobId) internal view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status == 0) revert UnknownJob(jobId);
        if (job.status != JOB_OPEN || block.timestamp >= job.deadline) revert JobNotOpen(jobId);
    }

    /// @dev The ring record of (jobId, stage) and the stage's phase (0 if the record holds another stage).
    function _rec(uint64 jobId, uint32 stage) internal view returns (Stage storage st, uint8 phase) {
        st = _stages[jobId][stage & 1];
        phase = st.stage == stage ? st.phase : 0;
    }

    /// @dev Reuses the record of stage - 2 (wrapped by now): slot 0 is rewritten whole, the parent set;
    /// every other field is written by the phase that reads it.
    function _openStage(uint64 jobId, uint32 stage, Job storage job, bytes32 parent) internal {
        Stage storage st = _stages[jobId][stage & 1];
        if (st.phase == PHASE_WRAPPED) {
            // The record's stage (stage - 2) keeps its settlement word in the record. Archive it (a fresh
            // slot) only if something is still to claim or slash: the builder's or a member's share, or
            // a declaration not yet claimed or slashed. Prompt claimers never pay for a fresh slot.
            uint256 word = uint256(st.openedOrSettlement);
            uint256 all = (uint256(1) << (uint256(job.k) + 1)) - 1;
            if (word & all != all || ((word >> 40) & 0xffff) < st.declCount) {
                _settlements[jobId][st.stage] = bytes32(word);
            }
        }
        uint256 deadline = Math.min(block.timestamp + job.stageSeconds, job.deadline);
        st.stage = stage;
        st.phase = PHASE_OPEN;
        st.disputed = false;
        st.declCount = 0;
        st.c = uint8(job.c);
        st.closeOrRandBlock = 0;
        st.deadline = uint40(Math.min(deadline, type(uint40).max));
        st.fingerprint = _fingerprint(keccak256(abi.encode(parent)));
        st.parent = parent;
        emit StageOpened(jobId, stage, parent, uint64(deadline), lastBlockHash);
    }

    /// @dev The low 104 bits of a hash: finding another (parent, result) with the same fingerprint is a
    /// 2^104 second-preimage search, and a declaration that got through with one would still not open
    /// against the header, which checks the full parent and result (so it could only hurt its declarer).
    function _fingerprint(bytes32 h) internal pure returns (uint104) {
        return uint104(uint256(h));
    }

    /// @dev Whether an open stage's declarations are closed (only meaningful while phase is Open).
    function _declarationsClosed(Stage storage st) internal view returns (bool) {
        uint40 cb = st.closeOrRandBlock;
        if (cb != 0 && block.number >= cb) return true;
        return st.disputed && block.timestamp >= st.deadline;
    }

    function _checkSeal(
        bytes32 domain,
        uint8 kind,
        uint64 jobId,
        uint32 stage,
        uint64 timestamp
    ) internal view {
        if (timestamp > block.timestamp || uint256(timestamp) + sealWindowSeconds <= block.timestamp) {
            revert SealTimestampOutOfWindow(timestamp, block.timestamp);
        }
        (uint256 stakeNow, uint256 since) = _sealOf(msg.sender);
        if (stakeNow < minStake || stakeNow == 0) revert NotEnoughStake(stakeNow, minStake);
        uint256 weight = _coinAge(stakeNow, since);
        bytes32 k = PoTHashes.kernel(domain, kind, msg.sender, jobId, stage, timestamp);
        if (uint256(k) > PoTHashes.posTarget(weight, targetPerCoinSecond)) revert KernelAboveTarget();
    }

    function _checkAttestations(
        uint64 jobId,
        uint32 stage,
        Stage storage st,
        bytes32 result,
        uint32 round,
        address[] calldata members,
        bytes[] calldata signatures
    ) internal view returns (address[] memory attesters) {
        uint256 k = members.length;
        if (signatures.length != k) revert BadSignatureCount(signatures.length, k);
        uint256 w = _indexOf(members, msg.sender);
        // tx attestations count only for this round's committee (read only when some were made)
        uint32 mask = st.attestMask;
        bytes32 headerHash = st.headerHash;
        if (
            mask != 0 &&
            (st.attestRound != round || st.committeeHash != keccak256(abi.encode(headerHash, members)))
        ) {
            mask = 0;
        }
        bytes32 digest = _hashTypedDataV4(PoTHashes.attestation(headerHash, result, jobId, stage));
        attesters = verifier.checkAttestations(digest, members, w, mask, signatures);
    }

    /// @dev Splits the stage fee (builder, K equal committee parts, equal parts per declaration of the
    /// stage), reserved for claims (it stays in totalEscrow); rounding dust is added to the job's `dust`
    /// (refunded with the unspent escrow at its last wrap or expiry). Consumes the coin age of every opened declaration (the
    /// builder's own is among them) and records its coinbase. Writes one word: the settlement.
    function _settleStage(
        Job storage job,
        uint64 jobId,
        uint32 stage,
        Stage storage st,
        HeaderFields calldata h,
        address[] calldata members,
        address[] calldata opened
    ) internal {
        Settlement memory t;
        t.parent = h.parent;
        t.result = h.result;
        t.rho = h.rho;
        t.builder = h.builder;
        t.committeeHash = keccak256(abi.encode(members));
        t.opened = opened;
        uint256 fee = job.feePerStage;
        if (fee != 0) {
            uint256 k = members.length;
            uint256 declCount = st.declCount;
            t.builderPart = (fee * builderBps) / BPS;
            t.perMember = (fee * attesterBps) / BPS / k;
            t.perDeclaration = (fee - t.builderPart - t.perMember * k) / declCount;
            job.dust += uint56(fee - t.builderPart - t.perMember * k - t.perDeclaration * declCount);
        }
        uint256 n = opened.length;
        uint256[] memory coinbase = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) coinbase[i] = _coinbaseOf(_consumeCoinAge(opened[i]));
        t.openedCoinbase = coinbase;
        // the record's slot that held the opened list's hash (read just above): no fresh slot per stage
        st.openedOrSettlement = bytes32(
            (uint256(keccak256(abi.encode(t))) >> SETTLEMENT_HASH_SHIFT) << SETTLEMENT_HASH_SHIFT
        );
        emit StageSettled(jobId, stage, t);
    }

    /// @dev `staker`'s seal copy (asks staking once if it was never synced).
    function _sealOf(address staker) internal view returns (uint256 active, uint256 since) {
        Seal storage s = _seals[staker];
        if (s.synced) return (s.active, s.since);
        return (staking.stakeOf(staker), staking.stakeSinceOf(staker));
    }

    /// @dev Coin age of (active, since) now: active * min(now - since, maxCoinAgeSeconds).
    function _coinAge(uint256 active, uint256 since) internal view returns (uint256) {
        return active * Math.min(block.timestamp - since, maxCoinAgeSeconds);
    }

    /// @dev Restarts `staker`'s coin age now (a seal of it landed in a wrapped block); returns the age it
    /// had. Reported by StageSettled (the wrap's opened list) or CoinAgeConsumed (a claim).
    function _consumeCoinAge(address staker) internal returns (uint256 age) {
        (uint256 active, uint256 since) = _sealOf(staker);
        age = _coinAge(active, since);
        _seals[staker] = Seal(uint128(active), uint64(block.timestamp), true);
    }

    /// @dev The coinbase of a seal that consumed `age`: min(age * rate / 1e18, cap).
    function _coinbaseOf(uint256 age) internal view returns (uint256) {
        if (coinbasePerCoinAge == 0 || age == 0) return 0;
        // a product that would overflow is above any cap
        if (age > type(uint256).max / coinbasePerCoinAge) return coinbaseCap;
        return Math.min((age * coinbasePerCoinAge) / 1e18, coinbaseCap);
    }

    /// @dev Mints a claimed coinbase (zero: nothing).
    function _mintCoinbase(address staker, uint256 amount, uint64 jobId, uint32 stage) internal {
        if (amount == 0) return;
        token.mintCoinbase(staker, amount);
        emit CoinbaseMinted(staker, jobId, stage, amount);
    }

    /// @dev Moves a claimed share from totalEscrow to `to`'s claimable balance.
    function _credit(address to, uint256 amount, uint64 jobId, uint32 stage, uint8 role) internal {
        if (amount == 0) return;
        totalEscrow -= amount;
        claimable[to] += amount;
        totalClaimable += amount;
        emit RewardCredited(to, jobId, stage, role, amount);
    }

    function _refund(uint64 jobId, address employer, uint256 amount) internal {
        claimable[employer] += amount;
        totalClaimable += amount;
        emit Refunded(jobId, employer, amount);
    }

    function _randomness(uint64 blockNumber) internal view returns (bytes32 r) {
        if (block.number <= blockNumber) revert RandomnessNotReady(blockNumber);
        r = blockhash(blockNumber);
        if (r == bytes32(0)) revert RandomnessExpired(blockNumber);
    }

    function _indexOf(address[] memory members, address who) internal pure returns (uint256) {
        for (uint256 i = 0; i < members.length; ++i) {
            if (members[i] == who) return i;
        }
        revert NotCommitteeMember(who);
    }
}
