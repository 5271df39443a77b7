// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecStore.sol";

interface IAppFields {
    function owner() external view returns (address);
    function m_appName() external view returns (string memory);
    function m_appType() external view returns (string memory);
    function m_appMultiaddr() external view returns (bytes memory);
    function m_appChecksum() external view returns (bytes32);
    function m_appMREnclave() external view returns (bytes memory);
}

interface IDatasetFields {
    function owner() external view returns (address);
    function m_datasetName() external view returns (string memory);
    function m_datasetMultiaddr() external view returns (bytes memory);
    function m_datasetChecksum() external view returns (bytes32);
}

interface IWorkerpoolFields {
    function owner() external view returns (address);
    function m_workerpoolDescription() external view returns (string memory);
    function m_workerStakeRatioPolicy() external view returns (uint256);
    function m_schedulerRewardRatioPolicy() external view returns (uint256);
}

/// @title Hub module: configuration, work categories, the protocol's constants, and the asset
///        views of PoCo v6 (viewApp, viewDataset, viewWorkerpool read an asset's fields in one call).
contract ConfigModule is IexecStore {
    event CreateCategory(uint256 catid, string name, string description, uint256 workClockTimeRef);

    /// Set the token, the hub token's name/symbol/decimals and the registries. Owner only, once.
    /// The last argument (PoCo v3's hub, for score import) is accepted and ignored: the kit has no v3.
    function configure(
        address token_,
        string calldata name_,
        string calldata symbol_,
        uint8 decimals_,
        address appregistry_,
        address datasetregistry_,
        address workerpoolregistry_,
        address /* v3 hub */
    ) external onlyOwner {
        require(m_baseToken == address(0), "iexec-kit (not PoCo): config-0x01 already configured");
        require(token_ != address(0), "iexec-kit (not PoCo): config-0x02 token is the zero address");
        m_baseToken = token_;
        m_name = name_;
        m_symbol = symbol_;
        m_decimals = decimals_;
        m_appregistry = appregistry_;
        m_datasetregistry = datasetregistry_;
        m_workerpoolregistry = workerpoolregistry_;
        m_callbackgas = 100000;
    }

    function createCategory(string calldata name_, string calldata description, uint256 workClockTimeRef)
        external onlyOwner returns (uint256)
    {
        require(workClockTimeRef > 0, "iexec-kit (not PoCo): config-0x03 work clock must be positive");
        m_categories.push(IexecLibCore.Category(name_, description, workClockTimeRef));
        uint256 catid = m_categories.length - 1;
        emit CreateCategory(catid, name_, description, workClockTimeRef);
        return catid;
    }

    function viewCategory(uint256 catid) external view returns (IexecLibCore.Category memory) {
        require(catid < m_categories.length, "iexec-kit (not PoCo): config-0x04 no such category");
        return m_categories[catid];
    }

    function countCategory() external view returns (uint256) { return m_categories.length; }

    function setCallbackGas(uint256 gas_) external onlyOwner { m_callbackgas = gas_; }
    function callbackgas() external view returns (uint256) { return m_callbackgas; }

    function appregistry() external view returns (address) { return m_appregistry; }
    function datasetregistry() external view returns (address) { return m_datasetregistry; }
    function workerpoolregistry() external view returns (address) { return m_workerpoolregistry; }

    // --- asset views (PoCo v6's IexecPocoAccessors): one call instead of one per field ---
    function viewApp(address app) external view returns (IexecLibCore.AppInfo memory) {
        IAppFields a = IAppFields(app);
        return IexecLibCore.AppInfo(a.owner(), a.m_appName(), a.m_appType(), a.m_appMultiaddr(),
                                    a.m_appChecksum(), a.m_appMREnclave());
    }

    function viewDataset(address dataset) external view returns (IexecLibCore.DatasetInfo memory) {
        IDatasetFields d = IDatasetFields(dataset);
        return IexecLibCore.DatasetInfo(d.owner(), d.m_datasetName(), d.m_datasetMultiaddr(), d.m_datasetChecksum());
    }

    function viewWorkerpool(address workerpool) external view returns (IexecLibCore.WorkerpoolInfo memory) {
        IWorkerpoolFields w = IWorkerpoolFields(workerpool);
        return IexecLibCore.WorkerpoolInfo(w.owner(), w.m_workerpoolDescription(), w.m_workerStakeRatioPolicy(),
                                           w.m_schedulerRewardRatioPolicy());
    }

    function contribution_deadline_ratio() external pure returns (uint256) { return CONTRIBUTION_DEADLINE_RATIO; }
    function reveal_deadline_ratio() external pure returns (uint256) { return REVEAL_DEADLINE_RATIO; }
    function final_deadline_ratio() external pure returns (uint256) { return FINAL_DEADLINE_RATIO; }
    function workerpool_stake_ratio() external pure returns (uint256) { return WORKERPOOL_STAKE_RATIO; }
    function kitty_ratio() external pure returns (uint256) { return KITTY_RATIO; }
    function kitty_min() external pure returns (uint256) { return KITTY_MIN; }
    function kitty_address() external pure returns (address) { return KITTY_ADDRESS; }
    function groupmember_purpose() external pure returns (uint256) { return GROUPMEMBER_PURPOSE; }
}
