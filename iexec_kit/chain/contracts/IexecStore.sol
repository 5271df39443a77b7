// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecLibCore.sol";

/// @title The hub's one storage layout. The router and every module inherit it, and modules run
///        through delegatecall in the router's storage, so they must all declare exactly this.
///        New state is appended at the end, never inserted.
abstract contract IexecStore {
    // --- router ---
    address internal m_owner;
    mapping(bytes4 => address) internal m_modules;
    bytes4[] internal m_selectors;

    // --- the hub as an ERC-20 of deposited RLC ---
    address internal m_baseToken;
    string internal m_name;
    string internal m_symbol;
    uint8 internal m_decimals;
    uint256 internal m_totalSupply;
    mapping(address => uint256) internal m_balances;
    mapping(address => uint256) internal m_frozens;
    mapping(address => mapping(address => uint256)) internal m_allowances;

    // --- registries and categories ---
    address internal m_appregistry;
    address internal m_datasetregistry;
    address internal m_workerpoolregistry;
    IexecLibCore.Category[] internal m_categories;

    // --- orders (marketplace) ---
    bytes32 internal EIP712DOMAIN_SEPARATOR;
    mapping(bytes32 => address) internal m_presigned;
    mapping(bytes32 => uint256) internal m_consumed;
    mapping(bytes32 => IexecLibCore.Deal) internal m_deals;

    // --- tasks (Proof-of-Contribution) ---
    mapping(bytes32 => IexecLibCore.Task) internal m_tasks;
    mapping(bytes32 => IexecLibCore.Consensus) internal m_consensus;
    mapping(bytes32 => mapping(address => IexecLibCore.Contribution)) internal m_contributions;
    mapping(address => uint256) internal m_workerScores;
    uint256 internal m_callbackgas;

    // --- protocol constants (PoCo v5.3) ---
    uint256 internal constant CONTRIBUTION_DEADLINE_RATIO = 7;
    uint256 internal constant REVEAL_DEADLINE_RATIO = 2;
    uint256 internal constant FINAL_DEADLINE_RATIO = 10;
    uint256 internal constant WORKERPOOL_STAKE_RATIO = 30;
    uint256 internal constant KITTY_RATIO = 10;
    uint256 internal constant KITTY_MIN = 1e9; // 1 RLC
    address internal constant KITTY_ADDRESS = 0x99c2268479b93fDe36232351229815DF80837e23;
    uint256 internal constant GROUPMEMBER_PURPOSE = 4;

    // Revert strings: matchOrders' codes are PoCo's own and read as PoCo's ("iExecV5-matchOrders-0xNN",
    // then the kit's phrase); every other message is the kit's and says so
    // ("iexec-kit (not PoCo): <scope>-0xNN ..."). iexec_kit/protocol/reverts.py has one row per
    // revert: what it means, and what PoCo 6.1.0 does at the same check.
    modifier onlyOwner() {
        require(msg.sender == m_owner, "iexec-kit (not PoCo): hub-0x01 caller is not the hub owner");
        _;
    }
}
