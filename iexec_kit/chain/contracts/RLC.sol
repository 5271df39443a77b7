// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IERC20Min.sol";

/// @title RLC for the sandbox: an ERC-20 with 9 decimals (1 RLC = 1e9 nRLC), approveAndCall,
///        and a faucet. The real RLC has a fixed supply; this one is minted by its owner to set
///        up the sandbox, and anyone may draw from the faucet once per cooldown.
contract RLC {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event Faucet(address indexed to, uint256 value);

    string public constant name = "iExec RLC Token (sandbox)";
    string public constant symbol = "RLC";
    uint8 public constant decimals = 9;
    uint256 public constant FAUCET_AMOUNT = 100e9;       // 100 RLC
    uint256 public constant FAUCET_COOLDOWN = 1 days;

    address public owner;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    mapping(address => uint256) public lastFaucet;

    constructor() { owner = msg.sender; }

    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) public returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 current = allowance[from][msg.sender];
        require(current >= value, "iexec-kit (not PoCo): RLC-0x01 allowance too low");
        if (current != type(uint256).max) {
            allowance[from][msg.sender] = current - value;
        }
        _transfer(from, to, value);
        return true;
    }

    /// Approve `spender` and call its receiveApproval in the same transaction (one-step deposit).
    function approveAndCall(address spender, uint256 value, bytes calldata extraData) external returns (bool) {
        approve(spender, value);
        require(
            IApprovalReceiver(spender).receiveApproval(msg.sender, value, address(this), extraData),
            "iexec-kit (not PoCo): RLC-0x02 receiveApproval refused"
        );
        return true;
    }

    /// Owner only: create tokens (sets up the sandbox's participants).
    function mint(address to, uint256 value) external {
        require(msg.sender == owner, "iexec-kit (not PoCo): RLC-0x03 caller is not the token owner");
        _mint(to, value);
    }

    /// Anyone: receive FAUCET_AMOUNT, at most once per FAUCET_COOLDOWN.
    function faucet() external {
        require(lastFaucet[msg.sender] == 0 || block.timestamp >= lastFaucet[msg.sender] + FAUCET_COOLDOWN,
                "iexec-kit (not PoCo): RLC-0x04 faucet cooldown not over");
        lastFaucet[msg.sender] = block.timestamp;
        _mint(msg.sender, FAUCET_AMOUNT);
        emit Faucet(msg.sender, FAUCET_AMOUNT);
    }

    function _mint(address to, uint256 value) private {
        require(to != address(0), "iexec-kit (not PoCo): RLC-0x05 mint to the zero address");
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    function _transfer(address from, address to, uint256 value) private {
        require(to != address(0), "iexec-kit (not PoCo): RLC-0x06 transfer to the zero address");
        uint256 balance = balanceOf[from];
        require(balance >= value, "iexec-kit (not PoCo): RLC-0x07 balance too low");
        unchecked { balanceOf[from] = balance - value; }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
