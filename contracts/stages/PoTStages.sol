// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// Immutables keep camelCase names: they are part of the ABI (closeDelayBlocks(), ...).
// solhint-disable immutable-vars-naming

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IPoTStaking} from "../interfaces/IPoTStaking.sol";
import {IPoTStages} from "../interfaces/IPoTStages.sol";
import {IPoTEscrow} from "../interfaces/IPoTEscrow.sol";
import {IPoTCommittee} from "../interfaces/IPoTCommittee.sol";
import {IPoTDisputes} from "../interfaces/IPoTDisputes.sol";
import {PoTHashes} from "../lib/PoTHashes.sol";
import {PoTOpenings} from "./PoTOpenings.sol";
import {
    JobTerms,
    DeclarationData,
    HeaderData,
    StageOutcome,
    StagesParams,
    Suite,
    JOB_OPEN,
    JOB_FINISHED,
    JOB_EXPIRED,
    DECL_DECLARED,
    DECL_FAULTY,
    NO_METRIC,
    TARGET_NONE,
    TARGET_LOSS_AT_MOST,
    TARGET_ACCURACY_AT_LEAST
} from "../types/PoTTypes.sol";

/// @title The stage state machine of Proof of Training
/// @notice See IPoTStages. Rules (docs/contracts/suite.md, docs/SECURITY.md):
/// - declarations of a stage close no earlier than the job's minimum declaration window, so the C-th
///   declaration (copied or not) cannot shut honest miners out;
/// - a header lists every declaration of its stage: only those that open are paid, the others are faulty
///   (slashable once the stage is wrapped), so copies never dilute honest shares;
/// - a closed stage without a header for headerTimeoutSeconds goes to the jury, so no stage stays stuck;
/// - after a jury decision any staker may build the header (no opening needed);
/// - a staker's unsettled declarations keep its unbonding stake in PoTStaking (`bondedOf`), and each
///   needs declarationSlash of active stake behind it;
/// - the PoS kernel covers the stage seed (a block hash of the stage's opening): nothing can be
///   precomputed before the job exists; the seal target grows with stake, not coin age.
/// @dev Stage records are a ring of two per job (stage s+2 opens only after stage s is wrapped). The
/// protocol domain is this contract's EIP-712 domain separator ("ProofOfTraining", "2").
contract PoTStages is IPoTStages, EIP712 {
    /// @notice Job id of the built-in dummy job (no fee, coinbase only, never expires).
    uint64 public constant DUMMY_JOB = 0;

    uint8 internal constant PHASE_OPEN = 1;
    uint8 internal constant PHASE_JURY = 2;
    uint8 internal constant PHASE_DECIDED = 3;
    uint8 internal constant PHASE_HEADERED = 4;
    uint8 internal constant PHASE_WRAPPED = 5;

    uint8 internal constant JURY_DISPUTED = 1;
    uint8 internal constant JURY_STALLED = 2;
    uint8 internal constant JURY_CONTESTED = 3;

    uint256 internal constant GWEI = 1e9;

    uint32 internal constant PPM = 1_000_000;
    /// @dev float32 bits of +infinity: a loss target must be finite (and >= 0: the sign bit is clear).
    uint32 internal constant FLOAT32_INFINITY = 0x7f800000;

    struct Job {
        uint40 deadline;
        uint32 stageSeconds;
        uint32 minDeclareSeconds;
        uint32 numStages;
        uint32 wrappedStages;
        uint16 c;
        uint16 k;
        uint8 status;
        // early stopping (JobTerms.targetKind, targetValue)
        uint8 targetKind;
        uint32 targetValue;
    }

    struct Stage {
        // slot 0: everything a declaration reads and writes
        uint32 stage;
        uint8 phase;
        // the stage went to a jury (its result and rho are the jury's; a header needs no opening)
        bool juried;
        // the declarations name different results (the 24-bit result tag says so early; a header that is
        // not juried refuses declarations of another result in full: a forged tag only delays the stage)
        bool disputed;
        uint16 declCount;
        uint8 c;
        // open: the block declarations close at (0 before the C-th); headered: the first randomness block
        uint40 closeOrRandBlock;
        // open: min(opening + stageSeconds, job deadline); decided: when it was decided (header timeout)
        uint40 deadline;
        // declarations do not close before this time (the job's minimum declaration window)
        uint40 notBefore;
        // low 32 bits of the anchor: a declaration checks its (parent, seed) against it without reading
        // slot 1; its declaration hash covers the full anchor, so a forged match never opens (only its
        // forger is slashed)
        uint32 anchorTag;
        // low 24 bits of keccak256(abi.encode(first declared result))
        uint24 resultTag;
        // slot 1: keccak256(abi.encode(parent, seed)), the stage's anchor
        bytes32 anchor;
        // slot 2: the header's hash
        bytes32 headerHash;
        // slot 3: keccak256(abi.encode(openers, weights, faulty)) of the header
        bytes32 listHash;
        // slot 4: the header's builder; after a void or contest the builder barred from building again
        address builder;
        // slots 5, 6: result and rho fixed by a jury or a void
        bytes32 result;
        bytes32 rho;
    }

    struct Seal {
        uint128 active;
        uint64 since;
        uint32 pending;
        bool synced;
    }

    IPoTStaking public immutable staking;
    IPoTEscrow public immutable escrow;
    IPoTCommittee public immutable committee;
    IPoTDisputes public immutable disputes;
    /// @notice The stateless checker of declarations this contract deployed.
    address public immutable openings;

    uint32 public immutable sealWindowSeconds;
    uint32 public immutable closeDelayBlocks;
    uint32 public immutable headerTimeoutSeconds;
    uint32 public immutable poaWindowBlocks;
    uint32 public immutable poaMaxRounds;
    uint32 public immutable minStageSeconds;
    uint32 public immutable minDeclareSeconds;
    uint32 public immutable minJobSeconds;
    uint32 public immutable maxJobSeconds;
    uint16 public immutable maxC;
    uint16 public immutable maxK;
    uint16 public immutable maxDeclarations;
    uint256 public immutable targetPerGwei;
    uint256 public immutable minStake;
    uint256 public immutable declarationSlash;
    uint256 public immutable coinbasePerCoinAge;
    uint256 public immutable coinbaseCap;
    uint64 public immutable maxCoinAgeSeconds;

    mapping(uint64 jobId => Job) internal _jobs;
    mapping(uint64 jobId => Stage[2]) internal _stages;
    /// @dev One slot per (job, staker, stage parity): stage (32) | status (8) | weight in gwei (64) |
    /// low 152 bits of keccak256(abi.encode(declarationHash, rand)).
    mapping(uint64 jobId => mapping(address staker => uint256[2])) internal _decls;
    /// @dev keccak256(abi.encode(result, rho)) of wrapped stages that had faulty declarations.
    mapping(uint64 jobId => mapping(uint32 stage => bytes32)) internal _finals;
    mapping(address staker => Seal) internal _seals;
    /// @inheritdoc IPoTStages
    mapping(uint64 jobId => bytes32) public finalStateOf;
    /// @inheritdoc IPoTStages
    mapping(uint64 jobId => uint64) public parentOf;

    /// @notice Number of wrapped blocks; the next block's index.
    uint64 public blockCount;
    /// @notice Hash of the last wrapped block (zero before the first).
    bytes32 public lastBlockHash;

    modifier only(address allowed) {
        if (msg.sender != allowed) revert Unauthorized(msg.sender);
        _;
    }

    /// @param staking_ PoTStaking (this contract must be its ledger, PoTDisputes its slasher)
    /// @param suite the four contracts of this deployment (`suite.stages` must be this contract's address)
    /// @param p the parameters (docs/contracts/suite.md)
    constructor(
        IPoTStaking staking_,
        Suite memory suite,
        StagesParams memory p
    ) EIP712("ProofOfTraining", "2") {
        if (suite.stages != address(this)) revert InvalidParams("suite");
        if (p.sealWindowSeconds == 0) revert InvalidParams("sealWindowSeconds");
        if (p.closeDelayBlocks == 0) revert InvalidParams("closeDelayBlocks");
        if (p.headerTimeoutSeconds == 0) revert InvalidParams("headerTimeoutSeconds");
        if (p.poaWindowBlocks == 0 || p.poaWindowBlocks > 255) revert InvalidParams("poaWindowBlocks");
        if (p.poaMaxRounds == 0) revert InvalidParams("poaMaxRounds");
        if (staking_.epochBlocks() < p.poaWindowBlocks) revert InvalidParams("epochBlocks");
        if (p.minStageSeconds == 0 || p.minDeclareSeconds > p.minStageSeconds)
            revert InvalidParams("minStageSeconds");
        if (p.maxJobSeconds < p.minJobSeconds) revert InvalidParams("maxJobSeconds");
        if (p.maxC < 2 || p.maxC > 64) revert InvalidParams("maxC");
        if (p.maxK == 0 || p.maxK > 32) revert InvalidParams("maxK");
        if (p.maxDeclarations < p.maxC || p.maxDeclarations > 256) revert InvalidParams("maxDeclarations");
        if (p.minStake == 0 || p.declarationSlash > p.minStake) revert InvalidParams("declarationSlash");
        if (p.dummyC < 2 || p.dummyC > p.maxC || p.dummyK == 0 || p.dummyK > p.maxK)
            revert InvalidParams("dummy");
        if (p.dummyStageSeconds == 0 || p.dummyMinDeclareSeconds > p.dummyStageSeconds)
            revert InvalidParams("dummy");
        if (p.dummyInitialStateHash == bytes32(0)) revert InvalidParams("dummy");
        staking = staking_;
        escrow = IPoTEscrow(suite.escrow);
        committee = IPoTCommittee(suite.committee);
        disputes = IPoTDisputes(suite.disputes);
        sealWindowSeconds = p.sealWindowSeconds;
        closeDelayBlocks = p.closeDelayBlocks;
        headerTimeoutSeconds = p.headerTimeoutSeconds;
        poaWindowBlocks = p.poaWindowBlocks;
        poaMaxRounds = p.poaMaxRounds;
        minStageSeconds = p.minStageSeconds;
        minDeclareSeconds = p.minDeclareSeconds;
        minJobSeconds = p.minJobSeconds;
        maxJobSeconds = p.maxJobSeconds;
        maxC = p.maxC;
        maxK = p.maxK;
        maxDeclarations = p.maxDeclarations;
        targetPerGwei = p.targetPerGwei;
        minStake = p.minStake;
        declarationSlash = p.declarationSlash;
        coinbasePerCoinAge = p.coinbasePerCoinAge;
        coinbaseCap = p.coinbaseCap;
        maxCoinAgeSeconds = staking_.maxCoinAgeSeconds();
        openings = address(new PoTOpenings());

        Job storage dummy = _jobs[DUMMY_JOB];
        dummy.deadline = type(uint40).max;
        dummy.stageSeconds = p.dummyStageSeconds;
        dummy.minDeclareSeconds = p.dummyMinDeclareSeconds;
        dummy.numStages = type(uint32).max;
        dummy.c = p.dummyC;
        dummy.k = p.dummyK;
        dummy.status = JOB_OPEN;
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
            p.dummyMinDeclareSeconds,
            type(uint64).max
        );
        _openStage(DUMMY_JOB, 1, dummy, p.dummyInitialStateHash);
    }

    // ------------------------------------------------------------------ jobs

    /// @inheritdoc IPoTStages
    function openJob(
        uint64 jobId,
        address employer,
        uint256 fee,
        JobTerms calldata t,
        uint64 parentJobId
    ) external only(address(escrow)) {
        if (t.specCid.length == 0) revert InvalidJob("specCid");
        if (t.initialStateHash == bytes32(0)) revert InvalidJob("initialStateHash");
        if (t.numStages == 0 || t.numStages == type(uint32).max) revert InvalidJob("numStages");
        if (t.c < 2 || t.c > maxC) revert InvalidJob("c");
        if (t.k == 0 || t.k > maxK) revert InvalidJob("k");
        if (t.stageSeconds < minStageSeconds) revert InvalidJob("stageSeconds");
        if (t.minDeclareSeconds < minDeclareSeconds || t.minDeclareSeconds > t.stageSeconds)
            revert InvalidJob("minDeclareSeconds");
        if (t.deadline < block.timestamp + minJobSeconds || t.deadline > block.timestamp + maxJobSeconds)
            revert InvalidJob("deadline");
        if (!_validTarget(t.targetKind, t.targetValue)) revert InvalidJob("target");
        Job storage job = _jobs[jobId];
        job.deadline = uint40(t.deadline);
        job.stageSeconds = t.stageSeconds;
        job.minDeclareSeconds = t.minDeclareSeconds;
        job.numStages = t.numStages;
        job.c = t.c;
        job.k = t.k;
        job.status = JOB_OPEN;
        job.targetKind = t.targetKind;
        job.targetValue = t.targetValue;
        emit JobCreated(
            jobId,
            employer,
            fee,
            t.specCid,
            t.manifestRoot,
            t.initialStateHash,
            t.numStages,
            t.c,
            t.k,
            t.stageSeconds,
            t.minDeclareSeconds,
            t.deadline
        );
        if (t.targetKind != TARGET_NONE) emit JobTarget(jobId, t.targetKind, t.targetValue);
        if (parentJobId != 0) _derive(jobId, parentJobId, t.initialStateHash);
        _openStage(jobId, 1, job, t.initialStateHash);
    }

    /// @dev Records a fine-tuning job's parent: it must have finished, and S_0 must be its final state (the
    /// optimizer state is carried over, not reset: the only hash the ledger can compare without the bytes).
    function _derive(uint64 jobId, uint64 parentJobId, bytes32 initialStateHash) internal {
        uint8 status = _jobs[parentJobId].status;
        if (status != JOB_FINISHED) revert ParentNotFinished(parentJobId, status);
        bytes32 parentFinal = finalStateOf[parentJobId];
        if (parentFinal != initialStateHash) revert ParentStateMismatch(parentFinal, initialStateHash);
        parentOf[jobId] = parentJobId;
        emit JobDerived(jobId, parentJobId, parentFinal);
    }

    /// @inheritdoc IPoTStages
    function expireJob(uint64 jobId) external {
        Job storage job = _jobs[jobId];
        if (jobId == DUMMY_JOB || job.status == 0) revert UnknownJob(jobId);
        if (job.status != JOB_OPEN) revert JobNotOpen(jobId);
        if (block.timestamp < job.deadline) revert JobNotExpired(jobId);
        // a stage headered before the deadline keeps its PoA window (it may still be wrapped)
        uint32 next = job.wrappedStages + 1;
        (Stage storage st, uint8 phase) = _rec(jobId, next);
        if (phase == PHASE_HEADERED && block.number <= _poaEnd(st)) revert JobNotExpired(jobId);
        job.status = JOB_EXPIRED;
        emit JobExpired(jobId);
        escrow.endJob(jobId, job.wrappedStages);
    }

    // ------------------------------------------------------------------ declarations

    /// @inheritdoc IPoTStages
    function declare(
        uint64 jobId,
        uint32 stage,
        bytes32 parentHash,
        bytes32 seed,
        bytes32 resultHash,
        bytes32 commitment,
        bytes32 rand,
        uint64 timestamp
    ) external {
        Stage storage st = _stages[jobId][stage & 1];
        uint8 phase = st.stage == stage ? st.phase : 0;
        if (phase != PHASE_OPEN) {
            _liveJob(jobId);
            revert WrongPhase(phase);
        }
        if (block.timestamp >= st.deadline) _liveJob(jobId); // past the stage deadline: is the job still open?
        if (_closed(st)) revert DeclarationsClosed();
        if (resultHash == bytes32(0) || commitment == bytes32(0)) revert ZeroHash();
        bytes32 anchor = keccak256(abi.encode(parentHash, seed));
        if (uint32(uint256(anchor)) != st.anchorTag) revert WrongParent(parentHash);
        uint16 count = st.declCount + 1;
        if (count > maxDeclarations) revert TooManyDeclarations();
        uint24 tag = uint24(uint256(keccak256(abi.encode(resultHash))));
        if (count == 1) st.resultTag = tag;
        else if (tag != st.resultTag) st.disputed = true;

        bytes32 domain = _domainSeparatorV4();
        uint256 weight = _checkSeal(domain, PoTHashes.SEAL_DECLARATION, jobId, stage, seed, timestamp, true);

        uint256 parity = stage & 1;
        uint256 old = _decls[jobId][msg.sender][parity];
        if (old != 0) {
            uint32 oldStage = uint32(old >> 224);
            if (oldStage == stage) revert AlreadyDeclared();
            // the record of oldStage was reused, so oldStage is wrapped: its faulty declarations were
            // marked; a declaration still Declared opened (and was settled by the wrap)
            if (uint8(old >> 216) == DECL_FAULTY) revert UnsettledDeclaration(oldStage);
        }
        // the declaration hash covers the stage's anchor (parent and seed) in the parentHash field
        bytes32 declHash = PoTHashes.declaration(
            domain,
            jobId,
            stage,
            anchor,
            resultHash,
            commitment,
            timestamp,
            msg.sender
        );
        // stage (32) | status (8) | weight (64) | low 152 bits of keccak256(abi.encode(declHash, rand))
        _decls[jobId][msg.sender][parity] =
            (uint256(stage) << 224) |
            (uint256(DECL_DECLARED) << 216) |
            (uint256(uint64(weight)) << 152) |
            (uint256(keccak256(abi.encode(declHash, rand))) & type(uint152).max);
        st.declCount = count;
        emit Declared(jobId, stage, msg.sender, resultHash, commitment, rand, timestamp);
        if (count == st.c) {
            uint40 cb = uint40(block.number + closeDelayBlocks);
            st.closeOrRandBlock = cb;
            emit DeclarationsClosing(jobId, stage, cb, st.disputed);
        }
    }

    /// @inheritdoc IPoTStages
    function requestJury(uint64 jobId, uint32 stage) external {
        _liveJob(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        uint8 reason;
        if (phase == PHASE_OPEN) {
            if (!_closed(st)) revert NotClosed();
            if (st.disputed) reason = JURY_DISPUTED;
            else if (block.timestamp >= uint256(st.deadline) + headerTimeoutSeconds) reason = JURY_STALLED;
            else revert JuryNotDue();
        } else if (phase == PHASE_DECIDED && !st.juried) {
            // a voided undisputed header whose rho nobody else builds on
            if (block.timestamp < uint256(st.deadline) + headerTimeoutSeconds) revert JuryNotDue();
            reason = JURY_STALLED;
        } else {
            revert WrongPhase(phase);
        }
        st.phase = PHASE_JURY;
        st.juried = true;
        if (phase == PHASE_OPEN) st.builder = address(0); // the record's previous header's builder
        emit JuryRequested(jobId, stage, reason);
        disputes.open(jobId, stage);
    }

    // ------------------------------------------------------------------ headers

    /// @inheritdoc IPoTStages
    function submitHeader(
        uint64 jobId,
        uint32 stage,
        HeaderData calldata h,
        bytes calldata resultCid,
        DeclarationData[] calldata decls,
        StageOutcome calldata outcome,
        bytes32[] calldata checkpoints
    ) external {
        Job storage job = _liveJob(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (h.builder != msg.sender) revert BarredBuilder();
        uint256 needed = job.c;
        if (phase == PHASE_OPEN) {
            if (!_closed(st)) revert NotClosed();
            if (st.disputed) revert StageDisputed();
        } else if (phase == PHASE_DECIDED) {
            if (msg.sender == st.builder) revert BarredBuilder();
            if (h.result != st.result) revert WrongResult();
            if (h.rho != st.rho) revert WrongRho();
            if (st.juried) needed = 0;
        } else {
            revert WrongPhase(phase);
        }
        bytes32 anchor = st.anchor;
        if (keccak256(abi.encode(h.parent, h.seed)) != anchor) revert WrongParent(h.parent);
        if (job.wrappedStages + 1 != stage) revert PreviousStageNotWrapped();
        if (resultCid.length == 0) revert EmptyCid();
        if (decls.length != st.declCount) revert WrongDeclarationCount(decls.length, st.declCount);
        _checkOutcome(h.result, outcome);
        if (PoTHashes.checkpointRoot(checkpoints) != outcome.checkpointRoot) revert WrongCheckpoints();
        if (checkpoints.length != 0 && checkpoints[checkpoints.length - 1] != outcome.stateHash)
            revert WrongCheckpoints();

        bytes32 domain = _domainSeparatorV4();
        _checkSeal(domain, PoTHashes.SEAL_HEADER, jobId, stage, h.seed, h.timestamp, false);
        uint256[] memory slots = new uint256[](decls.length);
        for (uint256 i = 0; i < decls.length; ++i) slots[i] = _decls[jobId][decls[i].declarer][stage & 1];
        (address[] memory openers, uint64[] memory weights, address[] memory faulty) = PoTOpenings(openings)
            .openAll(domain, jobId, stage, anchor, h, decls, slots, st.juried);
        // a declaration that names the result but does not open is a lazy copy: faulty, it neither stops
        // the stage nor dilutes the openers' shares
        if (openers.length < needed) revert TooFewOpenings(openers.length, needed);
        bytes32 headerHash = PoTHashes.header(
            domain,
            jobId,
            stage,
            h.parent,
            h.result,
            h.rho,
            keccak256(resultCid),
            h.timestamp,
            msg.sender
        );
        uint40 rb = uint40(block.number + closeDelayBlocks);
        st.phase = PHASE_HEADERED;
        st.closeOrRandBlock = rb;
        st.headerHash = headerHash;
        st.listHash = keccak256(abi.encode(openers, weights, faulty));
        st.builder = msg.sender;
        emit HeaderSubmitted(
            jobId,
            stage,
            msg.sender,
            headerHash,
            h,
            resultCid,
            openers,
            weights,
            faulty,
            rb
        );
        emit OutcomeRevealed(jobId, stage, h.result, outcome, checkpoints);
        // the next stage trains from the state (a stage reaching the target is opened too: its wrap ends
        // the job, and until then the stage may still be voided and rebuilt)
        if (stage < job.numStages && _stages[jobId][(stage + 1) & 1].stage != stage + 1) {
            _openStage(jobId, stage + 1, job, outcome.stateHash);
        }
    }

    /// @inheritdoc IPoTStages
    function voidHeader(uint64 jobId, uint32 stage, HeaderData calldata h) external {
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_HEADERED) revert WrongPhase(phase);
        if (block.number <= _poaEnd(st)) revert PoaNotExpired();
        _checkHeader(jobId, stage, st, h);
        st.phase = PHASE_DECIDED;
        st.result = h.result;
        st.rho = h.rho;
        st.builder = h.builder;
        st.deadline = uint40(block.timestamp);
        emit HeaderVoided(jobId, stage, st.headerHash, h.builder);
    }

    /// @inheritdoc IPoTStages
    function contest(
        uint64 jobId,
        uint32 stage,
        HeaderData calldata h,
        bytes32 rho,
        DeclarationData calldata d
    ) external {
        _liveJob(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_HEADERED) revert WrongPhase(phase);
        if (block.number > _poaEnd(st)) revert ContestTooLate();
        if (st.juried) revert StageDisputed();
        _checkHeader(jobId, stage, st, h);
        if (rho == h.rho) revert SameRho();
        if (d.resultHash != h.result) revert WrongResult();
        bytes32 anchor = keccak256(abi.encode(h.parent, h.seed));
        (uint256 slot, bool opens) = _verify(_domainSeparatorV4(), jobId, stage, anchor, d, h.result, rho);
        if (uint8(slot >> 216) != DECL_DECLARED) revert NotDeclared(d.declarer);
        if (!opens) revert DoesNotOpen(d.declarer);
        st.phase = PHASE_JURY;
        st.juried = true;
        st.builder = h.builder; // the contested builder may not build the decided stage
        emit HeaderContested(jobId, stage, d.declarer, st.headerHash, rho);
        emit JuryRequested(jobId, stage, JURY_CONTESTED);
        disputes.open(jobId, stage);
    }

    // ------------------------------------------------------------------ wrap

    /// @inheritdoc IPoTStages
    function wrap(
        uint64 jobId,
        uint32 stage,
        HeaderData calldata h,
        address[] calldata openers,
        uint64[] calldata weights,
        address[] calldata faulty,
        address[] calldata seats,
        bytes[] calldata signatures,
        StageOutcome calldata outcome
    ) external returns (bytes32 blockHash) {
        Job storage job = _jobs[jobId];
        if (job.status != JOB_OPEN) revert JobNotOpen(jobId);
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_HEADERED) revert WrongPhase(phase);
        _checkHeader(jobId, stage, st, h);
        _checkOutcome(h.result, outcome);
        if (keccak256(abi.encode(openers, weights, faulty)) != st.listHash) revert ListMismatch();
        bytes32 headerHash = st.headerHash;
        address[] memory attesters = committee.checkWrap(
            jobId,
            stage,
            headerHash,
            _hashTypedDataV4(PoTHashes.attestation(headerHash, h.result, jobId, stage)),
            h.builder,
            uint64(st.closeOrRandBlock),
            seats,
            signatures,
            msg.sender
        );

        // openers: coin age restarted (their coinbase), one unsettled declaration fewer
        uint256 n = openers.length;
        uint256[] memory coinbases = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) coinbases[i] = _coinbaseOf(_consumeCoinAge(openers[i], true));
        // faulty: marked, so their slots cannot be reused before they are slashed
        if (faulty.length != 0) {
            _finals[jobId][stage] = keccak256(abi.encode(h.result, h.rho));
            for (uint256 i = 0; i < faulty.length; ++i) {
                uint256[2] storage slots = _decls[jobId][faulty[i]];
                slots[stage & 1] =
                    (slots[stage & 1] & ~(uint256(0xff) << 216)) | (uint256(DECL_FAULTY) << 216);
            }
        }

        uint64 index = blockCount;
        bytes32 parentBlock = lastBlockHash;
        blockHash = PoTHashes.wrappedBlock(
            _domainSeparatorV4(),
            index,
            parentBlock,
            jobId,
            stage,
            headerHash,
            attesters,
            msg.sender,
            uint64(block.timestamp)
        );
        blockCount = index + 1;
        lastBlockHash = blockHash;
        st.phase = PHASE_WRAPPED;
        job.wrappedStages = stage;
        bool reached = _reached(job, outcome);
        bool last = reached || stage == job.numStages;
        if (last) {
            job.status = JOB_FINISHED;
            finalStateOf[jobId] = outcome.stateHash;
            // stopped early: the stage its header opened takes no more declarations (those it has are
            // released through PoTDisputes.release, as an expired job's are). A stage already with its
            // jury keeps that phase, so the jury can still decide it (else the deciding reveal reverts and
            // honest jurors become absent, slashable ones); the ended job refuses its header anyway.
            Stage storage next = _stages[jobId][(stage + 1) & 1];
            if (next.stage == stage + 1 && next.phase == PHASE_OPEN) next.phase = 0;
        }
        emit BlockWrapped(
            index,
            blockHash,
            jobId,
            stage,
            parentBlock,
            headerHash,
            attesters,
            msg.sender,
            uint64(block.timestamp)
        );
        if (reached) emit TargetReached(jobId, stage, outcome.heldOutLoss, outcome.heldOutAccuracy);
        if (last) emit JobFinished(jobId);
        escrow.payStage(jobId, stage, h.builder, seats, openers, weights, coinbases, last);
    }

    // ------------------------------------------------------------------ disputes' hooks

    /// @inheritdoc IPoTStages
    function onJuryDecided(
        uint64 jobId,
        uint32 stage,
        bytes32 resultHash,
        bytes32 rho
    ) external only(address(disputes)) {
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_JURY) revert WrongPhase(phase);
        st.result = resultHash;
        st.rho = rho;
        st.phase = PHASE_DECIDED;
        st.deadline = uint40(block.timestamp);
        emit StageDecided(jobId, stage, resultHash, rho);
    }

    /// @inheritdoc IPoTStages
    function settleDeclaration(
        uint64 jobId,
        uint32 stage,
        address declarer,
        uint256 slot,
        uint8 status
    ) external only(address(disputes)) {
        if (_decls[jobId][declarer][stage & 1] != slot) revert DeclarationMismatch(declarer);
        _decls[jobId][declarer][stage & 1] = (slot & ~(uint256(0xff) << 216)) | (uint256(status) << 216);
        Seal storage s = _seals[declarer];
        if (s.pending != 0) s.pending -= 1;
        emit DeclarationSettled(jobId, stage, declarer, status);
    }

    // ------------------------------------------------------------------ seal copy

    /// @inheritdoc IPoTStages
    function syncSeal(address staker, uint256 active, uint64 since) external only(address(staking)) {
        Seal storage s = _seals[staker];
        (s.active, s.since, s.synced) = (uint128(active), since, true);
        emit SealSynced(staker, active, since);
    }

    /// @inheritdoc IPoTStages
    function sealOf(address staker) external view returns (uint256 active, uint64 since, bool synced) {
        Seal storage s = _seals[staker];
        return (s.active, s.since, s.synced);
    }

    /// @inheritdoc IPoTStages
    function bondedOf(address staker) external view returns (uint256) {
        return _seals[staker].pending;
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc IPoTStages
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /// @inheritdoc IPoTStages
    function headerOf(
        uint64 jobId,
        uint32 stage
    ) external view returns (bytes32 headerHash, address builder, uint64 randBlock, uint16 k) {
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        if (phase != PHASE_HEADERED) revert WrongPhase(phase);
        return (st.headerHash, st.builder, st.closeOrRandBlock, _jobs[jobId].k);
    }

    /// @inheritdoc IPoTStages
    function finalOf(uint64 jobId, uint32 stage) external view returns (bytes32) {
        return _finals[jobId][stage];
    }

    /// @inheritdoc IPoTStages
    function jobStatus(uint64 jobId) external view returns (uint8 status, uint32 wrappedStages) {
        Job storage job = _jobs[jobId];
        return (job.status, job.wrappedStages);
    }

    /// @notice The live record of a stage (the current and previous stage of a job; else all zero).
    function getStage(uint64 jobId, uint32 stage) external view returns (Stage memory) {
        Stage memory empty;
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        return phase == 0 ? empty : st;
    }

    /// @notice Whether the stage's declarations are closed now.
    function declarationsClosed(uint64 jobId, uint32 stage) external view returns (bool) {
        (Stage storage st, uint8 phase) = _rec(jobId, stage);
        return phase == PHASE_OPEN && _closed(st);
    }

    /// @inheritdoc IPoTStages
    function declarationSlot(uint64 jobId, address staker, uint32 stage) external view returns (uint256) {
        return _decls[jobId][staker][stage & 1];
    }

    // ------------------------------------------------------------------ internals

    /// @dev A result must open to the outcome given with it.
    function _checkOutcome(bytes32 result, StageOutcome calldata outcome) internal pure {
        if (PoTHashes.outcome(outcome) != result) revert WrongOutcome(result);
    }

    /// @dev An early-stopping target is none (value 0), a finite loss >= 0 (float32 bits), or an accuracy
    /// in 1..1e6 ppm.
    function _validTarget(uint8 kind, uint32 value) internal pure returns (bool) {
        if (kind == TARGET_NONE) return value == 0;
        if (kind == TARGET_LOSS_AT_MOST) return value < FLOAT32_INFINITY;
        if (kind == TARGET_ACCURACY_AT_LEAST) return value != 0 && value <= PPM;
        return false;
    }

    /// @dev Whether a stage's held-out metric meets the job's target. Loss: the float32 bits of two finite
    /// non-negative floats order as the floats do (a NaN or negative loss, or NO_METRIC, never meets it).
    function _reached(Job storage job, StageOutcome calldata outcome) internal view returns (bool) {
        uint8 kind = job.targetKind;
        if (kind == TARGET_LOSS_AT_MOST) return outcome.heldOutLoss <= job.targetValue;
        if (kind == TARGET_ACCURACY_AT_LEAST)
            return outcome.heldOutAccuracy != NO_METRIC && outcome.heldOutAccuracy >= job.targetValue;
        return false;
    }

    function _liveJob(uint64 jobId) internal view returns (Job storage job) {
        job = _jobs[jobId];
        if (job.status == 0) revert UnknownJob(jobId);
        if (job.status != JOB_OPEN || block.timestamp >= job.deadline) revert JobNotOpen(jobId);
    }

    function _rec(uint64 jobId, uint32 stage) internal view returns (Stage storage st, uint8 phase) {
        st = _stages[jobId][stage & 1];
        phase = st.stage == stage ? st.phase : 0;
    }

    /// @dev The last block of the header's PoA rounds.
    function _poaEnd(Stage storage st) internal view returns (uint256) {
        return uint256(st.closeOrRandBlock) + uint256(poaMaxRounds) * poaWindowBlocks;
    }

    /// @dev Declarations are closed from closeBlock on once the minimum window passed, and a disputed
    /// stage also at its deadline.
    function _closed(Stage storage st) internal view returns (bool) {
        uint40 cb = st.closeOrRandBlock;
        if (cb != 0 && block.number >= cb && block.timestamp >= st.notBefore) return true;
        return st.disputed && block.timestamp >= st.deadline;
    }

    /// @dev Reuses the record of stage - 2 (wrapped by now).
    function _openStage(uint64 jobId, uint32 stage, Job storage job, bytes32 parent) internal {
        Stage storage st = _stages[jobId][stage & 1];
        bytes32 seed = blockhash(block.number - 1);
        uint256 deadline = Math.min(block.timestamp + job.stageSeconds, job.deadline);
        uint256 notBefore = block.timestamp + job.minDeclareSeconds;
        st.stage = stage;
        st.phase = PHASE_OPEN;
        st.juried = false;
        st.disputed = false;
        st.declCount = 0;
        st.c = uint8(job.c);
        st.closeOrRandBlock = 0;
        st.deadline = uint40(Math.min(deadline, type(uint40).max));
        st.notBefore = uint40(notBefore);
        bytes32 anchor = keccak256(abi.encode(parent, seed));
        st.anchorTag = uint32(uint256(anchor));
        st.resultTag = 0;
        st.anchor = anchor;
        emit StageOpened(jobId, stage, parent, seed, uint64(deadline), uint64(notBefore));
    }

    /// @dev Checks the seal of the caller; returns its active stake in gwei. A declaration also needs
    /// declarationSlash of active stake per unsettled declaration, and counts one more.
    function _checkSeal(
        bytes32 domain,
        uint8 kind,
        uint64 jobId,
        uint32 stage,
        bytes32 seed,
        uint64 timestamp,
        bool bond
    ) internal returns (uint256 weight) {
        if (timestamp > block.timestamp || uint256(timestamp) + sealWindowSeconds <= block.timestamp) {
            revert SealTimestampOutOfWindow(timestamp, block.timestamp);
        }
        Seal storage s = _seals[msg.sender];
        (uint256 active, uint256 since, uint256 pending) = (s.active, s.since, s.pending);
        if (!s.synced) (active, since) = (staking.stakeOf(msg.sender), staking.stakeSinceOf(msg.sender));
        if (active < minStake) revert NotEnoughStake(active, minStake);
        weight = active / GWEI;
        bytes32 k = PoTHashes.kernelSeeded(domain, kind, msg.sender, jobId, stage, seed, timestamp);
        if (uint256(k) > PoTHashes.posTarget(weight, targetPerGwei)) revert KernelAboveTarget();
        if (bond) {
            if ((pending + 1) * declarationSlash > active) revert NotEnoughBond(active, pending);
            if (!s.synced) (s.active, s.since, s.synced) = (uint128(active), uint64(since), true);
            s.pending = uint32(pending + 1);
        }
    }

    /// @dev Checks `d` against its stored slot; returns the slot and whether it opens against (result, rho).
    function _verify(
        bytes32 domain,
        uint64 jobId,
        uint32 stage,
        bytes32 anchor,
        DeclarationData calldata d,
        bytes32 result,
        bytes32 rho
    ) internal view returns (uint256 slot, bool opens) {
        slot = _decls[jobId][d.declarer][stage & 1];
        opens = PoTOpenings(openings).verify(domain, jobId, stage, anchor, d, slot, result, rho);
    }

    function _checkHeader(uint64 jobId, uint32 stage, Stage storage st, HeaderData calldata h) internal view {
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

    /// @dev Restarts `staker`'s coin age (its seal landed in a wrapped block); returns the age it had.
    /// `settle`: one unsettled declaration fewer.
    function _consumeCoinAge(address staker, bool settle) internal returns (uint256 age) {
        Seal storage s = _seals[staker];
        (uint256 active, uint256 since) = (s.active, s.since);
        age = active * Math.min(block.timestamp - since, maxCoinAgeSeconds);
        s.since = uint64(block.timestamp);
        if (settle && s.pending != 0) s.pending -= 1;
    }

    /// @dev min(age * rate / 1e18, cap).
    function _coinbaseOf(uint256 age) internal view returns (uint256) {
        if (coinbasePerCoinAge == 0 || age == 0) return 0;
        if (age > type(uint256).max / coinbasePerCoinAge) return coinbaseCap;
        return Math.min((age * coinbasePerCoinAge) / 1e18, coinbaseCap);
    }
}
