// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecEscrow.sol";
import "./IexecSignatures.sol";
import "./IexecLibConsensus.sol";

/// @title Hub module: Proof-of-Contribution. Tasks are initialized from a deal, workers commit
///        (contribute) then reveal their result, the consensus decides, the scheduler finalizes
///        and the rewards and penalties are paid; a task past its final deadline is claimed and
///        refunds the deal's sponsor (the requester, unless sponsorMatchOrders made the deal).
/// @notice Follows PoCo v5.3: the consensus is Sarmenta's credibility tuned as in PoCo
///         (worker weight max(score/3, 3) - 1, consensus when group*trust > total*(trust-1)),
///         rewards by log-weight, losers' stakes seized and their scores cut by a third.
///         The kit leaves out KYC and the TEE broker (an enclave challenge, when used, is
///         authorized by the workerpool owner like any contribution).
contract PocoModule is IexecEscrow, IexecSignatures {
    event TaskInitialize(bytes32 indexed taskid, address indexed workerpool);
    event TaskContribute(bytes32 indexed taskid, address indexed worker, bytes32 hash);
    event TaskConsensus(bytes32 indexed taskid, bytes32 consensus);
    event TaskReveal(bytes32 indexed taskid, address indexed worker, bytes32 digest);
    event TaskReopen(bytes32 indexed taskid);
    event TaskFinalize(bytes32 indexed taskid, bytes results);
    event TaskClaimed(bytes32 indexed taskid);
    event AccurateContribution(address indexed worker, bytes32 indexed taskid);
    event FaultyContribution(address indexed worker, bytes32 indexed taskid);

    modifier onlyScheduler(bytes32 taskid) {
        require(msg.sender == m_deals[m_tasks[taskid].dealid].workerpool.owner,
                "iexec-kit (not PoCo): poco-0x01 caller is not the task's workerpool owner");
        _;
    }

    // ------------------------------------------------------------------ views
    function viewTask(bytes32 _taskid) external view returns (IexecLibCore.Task memory) {
        return m_tasks[_taskid];
    }

    function viewContribution(bytes32 _taskid, address _worker) external view returns (IexecLibCore.Contribution memory) {
        return m_contributions[_taskid][_worker];
    }

    function viewScore(address _worker) external view returns (uint256) {
        return m_workerScores[_worker];
    }

    /// The callback data of a COMPLETED task (the ERC-1154 oracle view): as PoCo 6.1.0, only
    /// resultsCallback (empty for a task without callback; its results are in viewTask).
    function resultFor(bytes32 id) external view returns (bytes memory) {
        IexecLibCore.Task storage task = m_tasks[id];
        require(task.status == IexecLibCore.TaskStatusEnum.COMPLETED, "iexec-kit (not PoCo): poco-0x02 task is not completed");
        return task.resultsCallback;
    }

    // ------------------------------------------------------------- initialize
    function initialize(bytes32 _dealid, uint256 idx) public returns (bytes32) {
        IexecLibCore.Deal storage deal = m_deals[_dealid];
        require(idx >= deal.botFirst && idx < deal.botFirst + deal.botSize, "iexec-kit (not PoCo): initialize-0x01 no such task in this deal");
        bytes32 taskid = keccak256(abi.encodePacked(_dealid, idx));
        IexecLibCore.Task storage task = m_tasks[taskid];
        require(task.status == IexecLibCore.TaskStatusEnum.UNSET, "iexec-kit (not PoCo): initialize-0x02 task already initialized");

        task.status = IexecLibCore.TaskStatusEnum.ACTIVE;
        task.dealid = _dealid;
        task.idx = idx;
        task.timeref = m_categories[deal.category].workClockTimeRef;
        task.contributionDeadline = deal.startTime + task.timeref * CONTRIBUTION_DEADLINE_RATIO;
        task.finalDeadline = deal.startTime + task.timeref * FINAL_DEADLINE_RATIO;
        m_consensus[taskid].total = 1;

        emit TaskInitialize(taskid, deal.workerpool.pointer);
        return taskid;
    }

    function initializeArray(bytes32[] calldata _dealid, uint256[] calldata _idx) external returns (bool) {
        require(_dealid.length == _idx.length, "iexec-kit (not PoCo): initialize-0x03 arrays differ in length");
        for (uint256 i = 0; i < _dealid.length; ++i) initialize(_dealid[i], _idx[i]);
        return true;
    }

    // ------------------------------------------------------------- contribute
    function contribute(
        bytes32 _taskid,
        bytes32 _resultHash,
        bytes32 _resultSeal,
        address _enclaveChallenge,
        bytes calldata _enclaveSign,
        bytes calldata _authorizationSign
    ) external {
        IexecLibCore.Task storage task = m_tasks[_taskid];
        IexecLibCore.Deal storage deal = m_deals[task.dealid];
        IexecLibCore.Contribution storage contribution = m_contributions[_taskid][msg.sender];

        require(task.status == IexecLibCore.TaskStatusEnum.ACTIVE, "iexec-kit (not PoCo): contribute-0x01 task is not active");
        require(block.timestamp < task.contributionDeadline, "iexec-kit (not PoCo): contribute-0x02 contribution deadline passed");
        require(contribution.status == IexecLibCore.ContributionStatusEnum.UNSET, "iexec-kit (not PoCo): contribute-0x03 worker already contributed");
        _checkAuthorization(_taskid, _resultHash, _resultSeal, _enclaveChallenge, _enclaveSign, _authorizationSign);

        contribution.status = IexecLibCore.ContributionStatusEnum.CONTRIBUTED;
        contribution.resultHash = _resultHash;
        contribution.resultSeal = _resultSeal;
        contribution.enclaveChallenge = _enclaveChallenge;
        task.contributors.push(msg.sender);
        lock(msg.sender, deal.workerStake);
        emit TaskContribute(_taskid, msg.sender, _resultHash);

        _addToConsensus(_taskid, _resultHash, deal.trust);
    }

    /// Score policy 1/3: a worker's weight grows with its score; a new worker weighs 2.
    function _addToConsensus(bytes32 _taskid, bytes32 _resultHash, uint256 trust) private {
        IexecLibCore.Consensus storage consensus = m_consensus[_taskid];
        uint256 weight = IexecLibConsensus.workerWeight(m_workerScores[msg.sender]);
        m_contributions[_taskid][msg.sender].weight = IexecLibConsensus.log2(weight);
        IexecLibConsensus.add(consensus, _resultHash, weight);
        if (IexecLibConsensus.reached(consensus, _resultHash, trust)) _enterRevealing(_taskid, _resultHash);
    }

    /// The scheduler (workerpool owner) authorized this worker for this task and enclave; with an
    /// enclave, the enclave signed the result. A TEE deal needs an enclave.
    function _checkAuthorization(
        bytes32 _taskid,
        bytes32 _resultHash,
        bytes32 _resultSeal,
        address _enclaveChallenge,
        bytes calldata _enclaveSign,
        bytes calldata _authorizationSign
    ) private view {
        IexecLibCore.Deal storage deal = m_deals[m_tasks[_taskid].dealid];
        require(_enclaveChallenge != address(0) || (deal.tag[31] & 0x01) == 0, "iexec-kit (not PoCo): contribute-0x04 TEE task needs an enclave");
        bytes32 auth = _ethSigned(keccak256(abi.encodePacked(msg.sender, _taskid, _enclaveChallenge)));
        require(_verifySignature(deal.workerpool.owner, auth, _authorizationSign),
                "iexec-kit (not PoCo): contribute-0x05 worker not authorized by the scheduler");
        require(_enclaveChallenge == address(0)
                || _verifySignature(_enclaveChallenge, _ethSigned(keccak256(abi.encodePacked(_resultHash, _resultSeal))), _enclaveSign),
                "iexec-kit (not PoCo): contribute-0x06 bad enclave signature");
    }

    function _checkAuthorizationOfDigest(
        bytes32 _taskid,
        bytes32 _resultDigest,
        address _enclaveChallenge,
        bytes calldata _enclaveSign,
        bytes calldata _authorizationSign
    ) private view {
        bytes32 resultHash = keccak256(abi.encodePacked(_taskid, _resultDigest));
        bytes32 resultSeal = keccak256(abi.encodePacked(msg.sender, _taskid, _resultDigest));
        _checkAuthorization(_taskid, resultHash, resultSeal, _enclaveChallenge, _enclaveSign, _authorizationSign);
    }

    function _enterRevealing(bytes32 _taskid, bytes32 _consensus) private {
        IexecLibCore.Task storage task = m_tasks[_taskid];
        uint256 winners = 0;
        for (uint256 i = 0; i < task.contributors.length; ++i) {
            IexecLibCore.Contribution storage c = m_contributions[_taskid][task.contributors[i]];
            if (c.resultHash == _consensus && c.status == IexecLibCore.ContributionStatusEnum.CONTRIBUTED) ++winners;
        }
        task.status = IexecLibCore.TaskStatusEnum.REVEALING;
        task.consensusValue = _consensus;
        task.revealDeadline = block.timestamp + task.timeref * REVEAL_DEADLINE_RATIO;
        task.revealCounter = 0;
        task.winnerCounter = winners;
        emit TaskConsensus(_taskid, _consensus);
    }

    // ----------------------------------------------------------------- reveal
    function reveal(bytes32 _taskid, bytes32 _resultDigest) external {
        IexecLibCore.Task storage task = m_tasks[_taskid];
        IexecLibCore.Contribution storage contribution = m_contributions[_taskid][msg.sender];
        require(task.status == IexecLibCore.TaskStatusEnum.REVEALING, "iexec-kit (not PoCo): reveal-0x01 task is not revealing");
        require(block.timestamp < task.revealDeadline, "iexec-kit (not PoCo): reveal-0x02 reveal deadline passed");
        require(contribution.status == IexecLibCore.ContributionStatusEnum.CONTRIBUTED, "iexec-kit (not PoCo): reveal-0x03 no contribution to reveal");
        require(contribution.resultHash == task.consensusValue, "iexec-kit (not PoCo): reveal-0x04 contribution is not the consensus");
        require(contribution.resultHash == keccak256(abi.encodePacked(_taskid, _resultDigest)), "iexec-kit (not PoCo): reveal-0x05 digest does not match the result hash");
        require(contribution.resultSeal == keccak256(abi.encodePacked(msg.sender, _taskid, _resultDigest)), "iexec-kit (not PoCo): reveal-0x06 digest does not match the result seal");

        contribution.status = IexecLibCore.ContributionStatusEnum.PROVED;
        task.revealCounter += 1;
        task.resultDigest = _resultDigest;
        emit TaskReveal(_taskid, msg.sender, _resultDigest);
    }

    // ----------------------------------------------------------------- reopen
    function reopen(bytes32 _taskid) external onlyScheduler(_taskid) {
        IexecLibCore.Task storage task = m_tasks[_taskid];
        require(task.status == IexecLibCore.TaskStatusEnum.REVEALING, "iexec-kit (not PoCo): reopen-0x01 task is not revealing");
        require(block.timestamp < task.finalDeadline, "iexec-kit (not PoCo): reopen-0x02 final deadline passed");
        require(task.revealDeadline <= block.timestamp && task.revealCounter == 0,
                "iexec-kit (not PoCo): reopen-0x03 reveal still possible or already revealed");

        for (uint256 i = 0; i < task.contributors.length; ++i) {
            IexecLibCore.Contribution storage c = m_contributions[_taskid][task.contributors[i]];
            if (c.resultHash == task.consensusValue) c.status = IexecLibCore.ContributionStatusEnum.REJECTED;
        }
        IexecLibCore.Consensus storage consensus = m_consensus[_taskid];
        consensus.total -= consensus.group[task.consensusValue];
        consensus.group[task.consensusValue] = 0;
        task.status = IexecLibCore.TaskStatusEnum.ACTIVE;
        task.consensusValue = 0x0;
        task.revealDeadline = 0;
        task.winnerCounter = 0;
        emit TaskReopen(_taskid);
    }

    // --------------------------------------------------------------- finalize
    function finalize(bytes32 _taskid, bytes calldata _results, bytes calldata _resultsCallback)
        external onlyScheduler(_taskid)
    {
        IexecLibCore.Task storage task = m_tasks[_taskid];
        require(task.status == IexecLibCore.TaskStatusEnum.REVEALING, "iexec-kit (not PoCo): finalize-0x01 task is not revealing");
        require(block.timestamp < task.finalDeadline, "iexec-kit (not PoCo): finalize-0x02 final deadline passed");
        require(task.revealCounter == task.winnerCounter || (task.revealCounter > 0 && task.revealDeadline <= block.timestamp),
                "iexec-kit (not PoCo): finalize-0x03 winners have not all revealed yet");
        _checkCallback(task, _resultsCallback);

        task.status = IexecLibCore.TaskStatusEnum.COMPLETED;
        task.results = _results;
        task.resultsCallback = _resultsCallback;

        _successWork(task.dealid, _taskid);
        _distributeRewards(_taskid, task);
        emit TaskFinalize(_taskid, _results);
        _executeCallback(_taskid, _resultsCallback);
    }

    function _checkCallback(IexecLibCore.Task storage task, bytes calldata _resultsCallback) private view {
        address callback = m_deals[task.dealid].callback;
        require((callback == address(0) && _resultsCallback.length == 0) || keccak256(_resultsCallback) == task.resultDigest,
                "iexec-kit (not PoCo): finalize-0x04 callback data does not match the revealed digest");
    }

    /// The sponsor's payment for the task (the requester's, unless sponsored) is spent: app and
    /// dataset owners paid, the pool's stake unlocked, and the scheduler draws a bonus from the kitty.
    function _successWork(bytes32 _dealid, bytes32 _taskid) private {
        IexecLibCore.Deal storage deal = m_deals[_dealid];
        seize(deal.sponsor, deal.app.price + deal.dataset.price + deal.workerpool.price, _taskid);
        if (deal.app.price > 0) reward(deal.app.owner, deal.app.price, _taskid);
        if (deal.dataset.price > 0 && deal.dataset.pointer != address(0)) reward(deal.dataset.owner, deal.dataset.price, _taskid);
        unlock(deal.workerpool.owner, deal.workerpool.price * WORKERPOOL_STAKE_RATIO / 100);
        uint256 kitty = m_frozens[KITTY_ADDRESS];
        if (kitty > 0) {
            uint256 bonus = _min(_max(kitty * KITTY_RATIO / 100, KITTY_MIN), kitty);
            seize(KITTY_ADDRESS, bonus, _taskid);
            reward(deal.workerpool.owner, bonus, _taskid);
        }
    }

    /// Workers who proved the consensus share the workerpool price plus the losers' stakes,
    /// by log-weight (less the scheduler's ratio); the others lose their stake and a third of
    /// their score; the scheduler takes the rest.
    function _distributeRewards(bytes32 _taskid, IexecLibCore.Task storage task) private {
        IexecLibCore.Deal storage deal = m_deals[task.dealid];
        uint256 n = task.contributors.length;
        uint256 totalLogWeight = 0;
        uint256 totalReward = deal.workerpool.price;
        for (uint256 i = 0; i < n; ++i) {
            IexecLibCore.Contribution storage c = m_contributions[_taskid][task.contributors[i]];
            if (c.status == IexecLibCore.ContributionStatusEnum.PROVED) totalLogWeight += c.weight;
            else totalReward += deal.workerStake;
        }
        uint256 workersReward = totalReward * (100 - deal.schedulerRewardRatio) / 100;
        for (uint256 i = 0; i < n; ++i) {
            address worker = task.contributors[i];
            IexecLibCore.Contribution storage c = m_contributions[_taskid][worker];
            if (c.status == IexecLibCore.ContributionStatusEnum.PROVED) {
                uint256 share = workersReward * c.weight / totalLogWeight;
                totalReward -= share;
                unlock(worker, deal.workerStake);
                reward(worker, share, _taskid);
                if (n > 1) {
                    m_workerScores[worker] += 1;
                    emit AccurateContribution(worker, _taskid);
                }
            } else {
                seize(worker, deal.workerStake, _taskid);
                m_workerScores[worker] = m_workerScores[worker] * 2 / 3;
                emit FaultyContribution(worker, _taskid);
            }
        }
        reward(deal.workerpool.owner, totalReward, _taskid);
    }

    function _executeCallback(bytes32 _taskid, bytes calldata _resultsCallback) private {
        address target = m_deals[m_tasks[_taskid].dealid].callback;
        if (target == address(0)) return;
        // the callback may fail: the task stays completed (as PoCo), but it gets its gas
        (bool ok, ) = target.call{gas: m_callbackgas}(
            abi.encodeWithSignature("receiveResult(bytes32,bytes)", _taskid, _resultsCallback));
        ok;
        require(gasleft() > m_callbackgas / 63, "iexec-kit (not PoCo): finalize-0x05 not enough gas left for the callback");
    }

    // ------------------------------------------------------ contributeAndFinalize (trust 1)
    function contributeAndFinalize(
        bytes32 _taskid,
        bytes32 _resultDigest,
        bytes calldata _results,
        bytes calldata _resultsCallback,
        address _enclaveChallenge,
        bytes calldata _enclaveSign,
        bytes calldata _authorizationSign
    ) external {
        _checkAlone(_taskid, _resultDigest, _resultsCallback);
        _checkAuthorizationOfDigest(_taskid, _resultDigest, _enclaveChallenge, _enclaveSign, _authorizationSign);
        _completeAlone(_taskid, _resultDigest, _enclaveChallenge);
        IexecLibCore.Task storage task = m_tasks[_taskid];
        task.results = _results;
        task.resultsCallback = _resultsCallback;
        emit TaskFinalize(_taskid, _results);
        _executeCallback(_taskid, _resultsCallback);
    }

    function _checkAlone(bytes32 _taskid, bytes32 _resultDigest, bytes calldata _resultsCallback) private view {
        IexecLibCore.Task storage task = m_tasks[_taskid];
        IexecLibCore.Deal storage deal = m_deals[task.dealid];
        require(task.status == IexecLibCore.TaskStatusEnum.ACTIVE, "iexec-kit (not PoCo): contributeAndFinalize-0x01 task is not active");
        require(block.timestamp < task.contributionDeadline, "iexec-kit (not PoCo): contributeAndFinalize-0x02 contribution deadline passed");
        require(task.contributors.length == 0, "iexec-kit (not PoCo): contributeAndFinalize-0x03 task already has contributors");
        require(deal.trust == 1, "iexec-kit (not PoCo): contributeAndFinalize-0x04 only for trust 1");
        require((deal.callback == address(0) && _resultsCallback.length == 0) || keccak256(_resultsCallback) == _resultDigest,
                "iexec-kit (not PoCo): contributeAndFinalize-0x05 callback data does not match the digest");
    }

    /// One worker proves and completes the task at once: no stake, no score; the worker gets the
    /// workerpool price less the scheduler's ratio.
    function _completeAlone(bytes32 _taskid, bytes32 _resultDigest, address _enclaveChallenge) private {
        IexecLibCore.Task storage task = m_tasks[_taskid];
        IexecLibCore.Deal storage deal = m_deals[task.dealid];
        bytes32 resultHash = keccak256(abi.encodePacked(_taskid, _resultDigest));
        IexecLibCore.Contribution storage contribution = m_contributions[_taskid][msg.sender];
        contribution.status = IexecLibCore.ContributionStatusEnum.PROVED;
        contribution.resultHash = resultHash;
        contribution.resultSeal = keccak256(abi.encodePacked(msg.sender, _taskid, _resultDigest));
        contribution.enclaveChallenge = _enclaveChallenge;

        task.status = IexecLibCore.TaskStatusEnum.COMPLETED;
        task.consensusValue = resultHash;
        task.revealDeadline = block.timestamp + task.timeref * REVEAL_DEADLINE_RATIO;
        task.revealCounter = 1;
        task.winnerCounter = 1;
        task.resultDigest = _resultDigest;
        task.contributors.push(msg.sender);

        _successWork(task.dealid, _taskid);
        uint256 workerReward = deal.workerpool.price * (100 - deal.schedulerRewardRatio) / 100;
        reward(msg.sender, workerReward, _taskid);
        reward(deal.workerpool.owner, deal.workerpool.price - workerReward, _taskid);

        emit TaskContribute(_taskid, msg.sender, resultHash);
        emit TaskConsensus(_taskid, resultHash);
        emit TaskReveal(_taskid, msg.sender, _resultDigest);
    }

    // ------------------------------------------------------------------ claim
    function claim(bytes32 _taskid) public {
        IexecLibCore.Task storage task = m_tasks[_taskid];
        require(task.status == IexecLibCore.TaskStatusEnum.ACTIVE || task.status == IexecLibCore.TaskStatusEnum.REVEALING,
                "iexec-kit (not PoCo): claim-0x01 task is not active or revealing");
        require(task.finalDeadline <= block.timestamp, "iexec-kit (not PoCo): claim-0x02 final deadline not reached");
        task.status = IexecLibCore.TaskStatusEnum.FAILED;

        IexecLibCore.Deal storage deal = m_deals[task.dealid];
        uint256 poolStake = deal.workerpool.price * WORKERPOOL_STAKE_RATIO / 100;
        unlock(deal.sponsor, deal.app.price + deal.dataset.price + deal.workerpool.price);
        seize(deal.workerpool.owner, poolStake, _taskid);
        // the pool's stake goes to the kitty, locked there: as PoCo 6.1.0, it stays in the hub's
        // balance (no Transfer to the kitty and back), with the Reward and Lock events
        m_frozens[KITTY_ADDRESS] += poolStake;
        emit Reward(KITTY_ADDRESS, poolStake, _taskid);
        emit Lock(KITTY_ADDRESS, poolStake);
        for (uint256 i = 0; i < task.contributors.length; ++i) unlock(task.contributors[i], deal.workerStake);
        emit TaskClaimed(_taskid);
    }

    function claimArray(bytes32[] calldata _taskid) external returns (bool) {
        for (uint256 i = 0; i < _taskid.length; ++i) claim(_taskid[i]);
        return true;
    }

    function initializeAndClaimArray(bytes32[] calldata _dealid, uint256[] calldata _idx) external returns (bool) {
        require(_dealid.length == _idx.length, "iexec-kit (not PoCo): initialize-0x03 arrays differ in length");
        for (uint256 i = 0; i < _dealid.length; ++i) claim(initialize(_dealid[i], _idx[i]));
        return true;
    }

    // ---------------------------------------------------------------- helpers
    function _ethSigned(bytes32 h) private pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", h));
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) { return a > b ? a : b; }
    function _min(uint256 a, uint256 b) private pure returns (uint256) { return a < b ? a : b; }

}
