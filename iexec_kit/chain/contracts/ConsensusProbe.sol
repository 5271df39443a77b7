// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecLibConsensus.sol";

/// @title The hub's consensus arithmetic on its own, for any worker scores: the tests prove the
///        off-chain mirror (iexec_kit.poco.consensus) agrees with it, and notebooks can explore it.
///        It holds no funds and is no part of the protocol.
contract ConsensusProbe {
    mapping(uint256 => IexecLibCore.Consensus) private s_sessions;
    uint256 private s_next;

    /// Run contributions (hash, score) in order at `trust`; return the index of the contribution
    /// that reached the consensus (type(uint256).max if none), each hash's final group weight,
    /// the final total, and each contribution's log-weight. Meant for eth_call.
    function simulate(bytes32[] calldata hashes, uint256[] calldata scores, uint256 trust)
        external returns (uint256 reachedAt, uint256[] memory groups, uint256 total, uint256[] memory logWeights)
    {
        require(hashes.length == scores.length && trust > 0, "iexec-kit (not PoCo): ConsensusProbe-0x01 bad input");
        IexecLibCore.Consensus storage c = s_sessions[s_next++];
        c.total = 1;
        reachedAt = type(uint256).max;
        logWeights = new uint256[](hashes.length);
        for (uint256 i = 0; i < hashes.length; ++i) {
            uint256 weight = IexecLibConsensus.workerWeight(scores[i]);
            logWeights[i] = IexecLibConsensus.log2(weight);
            IexecLibConsensus.add(c, hashes[i], weight);
            if (IexecLibConsensus.reached(c, hashes[i], trust)) {
                reachedAt = i;
                break;
            }
        }
        groups = new uint256[](hashes.length);
        for (uint256 i = 0; i < hashes.length; ++i) groups[i] = c.group[hashes[i]];
        total = c.total;
    }
}
