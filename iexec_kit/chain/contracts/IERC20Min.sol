// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// The ERC-20 calls the hub makes on the RLC token.
interface IERC20Min {
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}

/// The callback of approveAndCall (ERC-20 + "receiveApproval", as RLC does).
interface IApprovalReceiver {
    function receiveApproval(address from, uint256 value, address token, bytes calldata data) external returns (bool);
}
