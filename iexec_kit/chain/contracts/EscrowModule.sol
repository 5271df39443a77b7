// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecEscrow.sol";
import "./IERC20Min.sol";

/// @title Hub module: the ERC-20 of deposited RLC, deposits and withdrawals, account views,
///        and recover (RLC sent to the hub outside a deposit, credited to the owner).
/// @notice deposit is one transaction: RLC.approveAndCall(hub, amount, "") calls
///         receiveApproval here, which pulls the tokens and credits the sender's stake.
contract EscrowModule is IexecEscrow {
    // --- ERC-20 views ---
    function name() external view returns (string memory) { return m_name; }
    function symbol() external view returns (string memory) { return m_symbol; }
    function decimals() external view returns (uint8) { return m_decimals; }
    function totalSupply() external view returns (uint256) { return m_totalSupply; }
    function balanceOf(address account) external view returns (uint256) { return m_balances[account]; }
    function frozenOf(address account) external view returns (uint256) { return m_frozens[account]; }
    function allowance(address owner_, address spender) external view returns (uint256) {
        return m_allowances[owner_][spender];
    }
    function token() external view returns (address) { return m_baseToken; }

    /// stake (free balance) and locked (frozen) of an account.
    function viewAccount(address account) external view returns (IexecLibCore.Account memory) {
        return IexecLibCore.Account(m_balances[account], m_frozens[account]);
    }

    // --- ERC-20 moves of stake between accounts ---
    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        _approve(msg.sender, spender, value);
        return true;
    }

    function increaseAllowance(address spender, uint256 added) external returns (bool) {
        _approve(msg.sender, spender, m_allowances[msg.sender][spender] + added);
        return true;
    }

    function decreaseAllowance(address spender, uint256 subtracted) external returns (bool) {
        uint256 current = m_allowances[msg.sender][spender];
        require(current >= subtracted, "iexec-kit (not PoCo): escrow-0x08 allowance below zero");
        _approve(msg.sender, spender, current - subtracted);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 current = m_allowances[from][msg.sender];
        require(current >= value, "iexec-kit (not PoCo): escrow-0x09 allowance too low");
        _approve(from, msg.sender, current - value);
        _transfer(from, to, value);
        return true;
    }

    function approveAndCall(address spender, uint256 value, bytes calldata extraData) external returns (bool) {
        _approve(msg.sender, spender, value);
        require(
            IApprovalReceiver(spender).receiveApproval(msg.sender, value, address(this), extraData),
            "iexec-kit (not PoCo): escrow-0x0a receiveApproval refused"
        );
        return true;
    }

    // --- deposits (RLC in) ---
    function deposit(uint256 amount) external returns (bool) {
        _pull(msg.sender, amount);
        _mint(msg.sender, amount);
        return true;
    }

    function depositFor(uint256 amount, address target) external returns (bool) {
        _pull(msg.sender, amount);
        _mint(target, amount);
        return true;
    }

    function depositForArray(uint256[] calldata amounts, address[] calldata targets) external returns (bool) {
        require(amounts.length == targets.length, "iexec-kit (not PoCo): escrow-0x0b arrays differ in length");
        for (uint256 i = 0; i < amounts.length; ++i) {
            _pull(msg.sender, amounts[i]);
            _mint(targets[i], amounts[i]);
        }
        return true;
    }

    /// Called by the RLC token inside approveAndCall: pulls `amount` from `sender` and credits it.
    function receiveApproval(address sender, uint256 amount, address tokenAddress, bytes calldata)
        external returns (bool)
    {
        require(tokenAddress == m_baseToken, "iexec-kit (not PoCo): escrow-0x0c wrong token");
        require(msg.sender == m_baseToken, "iexec-kit (not PoCo): escrow-0x0e caller is not the token");
        _pull(sender, amount);
        _mint(sender, amount);
        return true;
    }

    // --- withdrawals (RLC out) ---
    function withdraw(uint256 amount) external returns (bool) {
        _burn(msg.sender, amount);
        _push(msg.sender, amount);
        return true;
    }

    function withdrawTo(uint256 amount, address target) external returns (bool) {
        _burn(msg.sender, amount);
        _push(target, amount);
        return true;
    }

    // --- recovery (owner only) ---
    /// RLC sent to the hub by a plain RLC.transfer (not a deposit) is credited to no account: the
    /// hub then holds more RLC than its total supply. recover mints that difference to the hub's
    /// owner, so the hub's RLC equals its total supply again. Returns the amount recovered.
    function recover() external onlyOwner returns (uint256) {
        uint256 delta = IERC20Min(m_baseToken).balanceOf(address(this)) - m_totalSupply;
        _mint(m_owner, delta);
        return delta;
    }

    function _pull(address from, uint256 amount) private {
        require(
            IERC20Min(m_baseToken).transferFrom(from, address(this), amount),
            "iexec-kit (not PoCo): escrow-0x0d RLC transfer failed"
        );
    }

    function _push(address to, uint256 amount) private {
        require(IERC20Min(m_baseToken).transfer(to, amount), "iexec-kit (not PoCo): escrow-0x0f RLC transfer out failed");
    }
}
