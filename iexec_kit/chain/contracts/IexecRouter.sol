// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecStore.sol";

/// @title The hub: one address that routes each function selector to a module.
/// @notice As PoCo v5's ERC-1538 proxy does: the whole protocol in one contract would exceed the
///         24 KB code-size limit (EIP-170), so modules hold the code and this contract holds the
///         storage. A call to a selector runs the module's code by delegatecall, in this storage.
contract IexecRouter is IexecStore {
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event ModuleUpdate(address indexed module, bytes4 indexed selector);

    constructor(address owner_) {
        m_owner = owner_;
        emit OwnershipTransferred(address(0), owner_);
    }

    function owner() external view returns (address) {
        return m_owner;
    }

    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "iexec-kit (not PoCo): hub-0x02 new owner is the zero address");
        emit OwnershipTransferred(m_owner, newOwner);
        m_owner = newOwner;
    }

    function renounceOwnership() external onlyOwner {
        emit OwnershipTransferred(m_owner, address(0));
        m_owner = address(0);
    }

    /// Route `selectors` to `module` (address 0 removes them). Owner only.
    function updateModule(address module, bytes4[] calldata selectors) external onlyOwner {
        require(module == address(0) || module.code.length > 0, "iexec-kit (not PoCo): hub-0x03 module has no code");
        for (uint256 i = 0; i < selectors.length; ++i) {
            if (m_modules[selectors[i]] == address(0) && module != address(0)) {
                m_selectors.push(selectors[i]);
            }
            m_modules[selectors[i]] = module;
            emit ModuleUpdate(module, selectors[i]);
        }
    }

    /// The module a selector routes to (address 0 if none).
    function viewModule(bytes4 selector) external view returns (address) {
        return m_modules[selector];
    }

    /// Every selector ever routed (some may now route to address 0).
    function viewSelectors() external view returns (bytes4[] memory) {
        return m_selectors;
    }

    fallback() external payable {
        address module = m_modules[msg.sig];
        require(module != address(0), "iexec-kit (not PoCo): hub-0x04 no module for this function");
        assembly {
            calldatacopy(0, 0, calldatasize())
            let ok := delegatecall(gas(), module, 0, calldatasize(), 0, 0)
            returndatacopy(0, 0, returndatasize())
            switch ok
            case 0 { revert(0, returndatasize()) }
            default { return(0, returndatasize()) }
        }
    }
}
