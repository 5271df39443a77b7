// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title The assets: an app, a dataset, a workerpool, each a small contract owned by its creator.
/// @notice PoCo makes registries ERC-721 so assets can change hands; the kit keeps the owner
///         fixed at creation (no transfers), which is all the tutorial needs.
contract App {
    address private immutable i_owner;
    string public m_appName;
    string public m_appType;
    bytes public m_appMultiaddr;
    bytes32 public m_appChecksum;
    bytes public m_appMREnclave;

    constructor(address owner_, string memory name_, string memory type_, bytes memory multiaddr,
                bytes32 checksum, bytes memory mrenclave) {
        i_owner = owner_;
        m_appName = name_;
        m_appType = type_;
        m_appMultiaddr = multiaddr;
        m_appChecksum = checksum;
        m_appMREnclave = mrenclave;
    }

    function owner() external view returns (address) { return i_owner; }
}

contract Dataset {
    address private immutable i_owner;
    string public m_datasetName;
    bytes public m_datasetMultiaddr;
    bytes32 public m_datasetChecksum;

    constructor(address owner_, string memory name_, bytes memory multiaddr, bytes32 checksum) {
        i_owner = owner_;
        m_datasetName = name_;
        m_datasetMultiaddr = multiaddr;
        m_datasetChecksum = checksum;
    }

    function owner() external view returns (address) { return i_owner; }
}

contract Workerpool {
    event PolicyUpdate(uint256 oldWorkerStakeRatioPolicy, uint256 newWorkerStakeRatioPolicy,
                       uint256 oldSchedulerRewardRatioPolicy, uint256 newSchedulerRewardRatioPolicy);

    address private immutable i_owner;
    string public m_workerpoolDescription;
    uint256 public m_workerStakeRatioPolicy = 30;      // % of the workerpool price a worker stakes
    uint256 public m_schedulerRewardRatioPolicy = 1;   // % of the rewards the scheduler keeps

    constructor(address owner_, string memory description) {
        i_owner = owner_;
        m_workerpoolDescription = description;
    }

    function owner() external view returns (address) { return i_owner; }

    function changePolicy(uint256 _newWorkerStakeRatioPolicy, uint256 _newSchedulerRewardRatioPolicy) external {
        require(msg.sender == i_owner, "iExecV5-workerpool-0x01 caller is not the workerpool owner");
        require(_newSchedulerRewardRatioPolicy <= 100, "iExecV5-workerpool-0x02 scheduler reward ratio above 100");
        emit PolicyUpdate(m_workerStakeRatioPolicy, _newWorkerStakeRatioPolicy,
                          m_schedulerRewardRatioPolicy, _newSchedulerRewardRatioPolicy);
        m_workerStakeRatioPolicy = _newWorkerStakeRatioPolicy;
        m_schedulerRewardRatioPolicy = _newSchedulerRewardRatioPolicy;
    }
}

/// Shared bookkeeping of the three registries: who registered what, in order.
abstract contract Registry {
    mapping(address => bool) private m_registered;
    mapping(address => address[]) private m_entries;

    function isRegistered(address _entry) external view returns (bool) { return m_registered[_entry]; }

    function viewCount(address _owner) external view returns (uint256) { return m_entries[_owner].length; }

    function viewEntry(address _owner, uint256 _index) external view returns (address) {
        require(_index < m_entries[_owner].length, "iExecV5-registry-0x01 no entry at this index");
        return m_entries[_owner][_index];
    }

    function _record(address owner_, address entry) internal {
        m_registered[entry] = true;
        m_entries[owner_].push(entry);
    }
}

/// @notice Assets are created with CREATE2 and a salt over their fields, as PoCo does: the same
///         asset cannot be registered twice (the second creation reverts).
contract AppRegistry is Registry {
    event CreateApp(address indexed appOwner, address app);

    function createApp(address _appOwner, string calldata _appName, string calldata _appType,
                       bytes calldata _appMultiaddr, bytes32 _appChecksum, bytes calldata _appMREnclave)
        external returns (address)
    {
        bytes32 salt = keccak256(abi.encode(_appOwner, _appName, _appType, _appMultiaddr, _appChecksum, _appMREnclave));
        address app = address(new App{salt: salt}(_appOwner, _appName, _appType, _appMultiaddr, _appChecksum, _appMREnclave));
        _record(_appOwner, app);
        emit CreateApp(_appOwner, app);
        return app;
    }
}

contract DatasetRegistry is Registry {
    event CreateDataset(address indexed datasetOwner, address dataset);

    function createDataset(address _datasetOwner, string calldata _datasetName,
                           bytes calldata _datasetMultiaddr, bytes32 _datasetChecksum)
        external returns (address)
    {
        bytes32 salt = keccak256(abi.encode(_datasetOwner, _datasetName, _datasetMultiaddr, _datasetChecksum));
        address dataset = address(new Dataset{salt: salt}(_datasetOwner, _datasetName, _datasetMultiaddr, _datasetChecksum));
        _record(_datasetOwner, dataset);
        emit CreateDataset(_datasetOwner, dataset);
        return dataset;
    }
}

contract WorkerpoolRegistry is Registry {
    event CreateWorkerpool(address indexed workerpoolOwner, address indexed workerpool, string workerpoolDescription);

    function createWorkerpool(address _workerpoolOwner, string calldata _workerpoolDescription)
        external returns (address)
    {
        bytes32 salt = keccak256(abi.encode(_workerpoolOwner, _workerpoolDescription));
        address pool = address(new Workerpool{salt: salt}(_workerpoolOwner, _workerpoolDescription));
        _record(_workerpoolOwner, pool);
        emit CreateWorkerpool(_workerpoolOwner, pool, _workerpoolDescription);
        return pool;
    }
}
