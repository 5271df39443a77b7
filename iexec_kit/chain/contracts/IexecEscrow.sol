// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecStore.sol";

/// @title The hub's ledger: an ERC-20 of deposited RLC, plus the four escrow moves of PoCo.
/// @notice Locked funds move to the hub's own balance and are counted in m_frozens of their
///         owner: lock (balance -> frozen), unlock (back), seize (frozen forgotten, the value stays
///         in the hub's balance), reward (hub balance -> an account). So at all times the RLC the
///         hub holds equals its total supply: every account's stake + the hub's own balance.
abstract contract IexecEscrow is IexecStore {
    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);
    event Lock(address owner, uint256 amount);
    event Unlock(address owner, uint256 amount);
    event Reward(address owner, uint256 amount, bytes32 ref);
    event Seize(address owner, uint256 amount, bytes32 ref);

    function _transfer(address from, address to, uint256 value) internal {
        require(to != address(0), "iexec-kit (not PoCo): escrow-0x01 transfer to the zero address");
        uint256 balance = m_balances[from];
        require(balance >= value, "iexec-kit (not PoCo): escrow-0x02 amount exceeds stake");
        unchecked { m_balances[from] = balance - value; }
        m_balances[to] += value;
        emit Transfer(from, to, value);
    }

    function _mint(address account, uint256 value) internal {
        require(account != address(0), "iexec-kit (not PoCo): escrow-0x03 mint to the zero address");
        m_totalSupply += value;
        m_balances[account] += value;
        emit Transfer(address(0), account, value);
    }

    function _burn(address account, uint256 value) internal {
        uint256 balance = m_balances[account];
        require(balance >= value, "iexec-kit (not PoCo): escrow-0x02 amount exceeds stake");
        unchecked { m_balances[account] = balance - value; }
        m_totalSupply -= value;
        emit Transfer(account, address(0), value);
    }

    function _approve(address owner_, address spender, uint256 value) internal {
        require(owner_ != address(0) && spender != address(0), "iexec-kit (not PoCo): escrow-0x04 approve with the zero address");
        m_allowances[owner_][spender] = value;
        emit Approval(owner_, spender, value);
    }

    function lock(address account, uint256 value) internal {
        require(m_balances[account] >= value, "iexec-kit (not PoCo): escrow-0x05 stake too low to lock");
        _transfer(account, address(this), value);
        m_frozens[account] += value;
        emit Lock(account, value);
    }

    function unlock(address account, uint256 value) internal {
        require(m_frozens[account] >= value, "iexec-kit (not PoCo): escrow-0x06 unlock exceeds locked");
        m_frozens[account] -= value;
        _transfer(address(this), account, value);
        emit Unlock(account, value);
    }

    function reward(address account, uint256 value, bytes32 ref) internal {
        _transfer(address(this), account, value);
        emit Reward(account, value, ref);
    }

    function seize(address account, uint256 value, bytes32 ref) internal {
        require(m_frozens[account] >= value, "iexec-kit (not PoCo): escrow-0x07 seize exceeds locked");
        m_frozens[account] -= value;
        emit Seize(account, value, ref);
    }
}
