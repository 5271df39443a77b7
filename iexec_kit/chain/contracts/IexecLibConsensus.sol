// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecLibCore.sol";

/// @title The consensus arithmetic of Proof-of-Contribution (PoCo v5, "score policy 1/3").
/// @notice A worker's weight is max(score / 3, 3) - 1 (a new worker weighs 2). A contribution
///         on hash h adds delta = max(group[h], 1) * weight - group[h] to group[h] and to the
///         total (which starts at 1). Hash h wins when group[h] * trust > total * (trust - 1).
library IexecLibConsensus {
    function workerWeight(uint256 score) internal pure returns (uint256) {
        uint256 w = score / 3;
        return (w > 3 ? w : 3) - 1;
    }

    /// floor(log2(x)), 0 for x <= 1: a proved contribution's share of the reward.
    function log2(uint256 x) internal pure returns (uint256 r) {
        while (x > 1) { x >>= 1; ++r; }
    }

    function add(IexecLibCore.Consensus storage c, bytes32 h, uint256 weight) internal {
        uint256 group = c.group[h];
        uint256 delta = (group > 1 ? group : 1) * weight - group;
        c.group[h] = group + delta;
        c.total += delta;
    }

    function reached(IexecLibCore.Consensus storage c, bytes32 h, uint256 trust) internal view returns (bool) {
        return c.group[h] * trust > c.total * (trust - 1);
    }
}
