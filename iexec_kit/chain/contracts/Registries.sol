// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title The registries and their assets, as PoCo v6.1.0's: each registry is an ERC-721
///        (enumerable, with metadata) whose token ids are the assets' addresses, and an asset's
///        owner is whoever holds its token now. Transferring the token transfers the app, dataset
///        or workerpool: the hub checks order signatures against, and records in the deal, the
///        owner at match time.
/// @notice PoCo creates each asset as an upgradeable proxy (CREATE2 of a proxy's creation code,
///         then `initialize`). The kit deploys the asset contract itself, with no proxy, by CREATE2
///         with PoCo's salt, keccak256(abi.encodePacked(initializer calldata, owner)); the init
///         code differs (the kit's asset, not PoCo's proxy), so the address differs from the one
///         PoCo would give the same asset, and `predictApp` & co. return exactly the address the
///         kit's `createApp` & co. produce.

/// What an asset asks of its registry.
interface IAssetRegistry {
    function ownerOf(uint256 tokenId) external view returns (address);
}

/// ERC-721's receiver hook, called by safeTransferFrom when the receiver is a contract.
interface IERC721Receiver {
    function onERC721Received(address operator, address from, uint256 tokenId, bytes calldata data)
        external returns (bytes4);
}

/// An asset: created and initialized by its registry in one transaction; its owner is read from
/// the registry (the holder of the token whose id is this contract's address).
abstract contract RegistryEntry {
    address public registry;

    function owner() public view returns (address) {
        return IAssetRegistry(registry).ownerOf(uint256(uint160(address(this))));
    }

    function _initialize() internal {
        require(registry == address(0), "iexec-kit (not PoCo): asset-0x01 already initialized");
        registry = msg.sender;
    }
}

contract App is RegistryEntry {
    string public m_appName;
    string public m_appType;
    bytes public m_appMultiaddr;
    bytes32 public m_appChecksum;
    bytes public m_appMREnclave;

    function initialize(string memory _appName, string memory _appType, bytes memory _appMultiaddr,
                        bytes32 _appChecksum, bytes memory _appMREnclave) external {
        _initialize();
        m_appName = _appName;
        m_appType = _appType;
        m_appMultiaddr = _appMultiaddr;
        m_appChecksum = _appChecksum;
        m_appMREnclave = _appMREnclave;
    }
}

contract Dataset is RegistryEntry {
    string public m_datasetName;
    bytes public m_datasetMultiaddr;
    bytes32 public m_datasetChecksum;

    function initialize(string memory _datasetName, bytes memory _datasetMultiaddr, bytes32 _datasetChecksum)
        external
    {
        _initialize();
        m_datasetName = _datasetName;
        m_datasetMultiaddr = _datasetMultiaddr;
        m_datasetChecksum = _datasetChecksum;
    }
}

contract Workerpool is RegistryEntry {
    event PolicyUpdate(uint256 oldWorkerStakeRatioPolicy, uint256 newWorkerStakeRatioPolicy,
                       uint256 oldSchedulerRewardRatioPolicy, uint256 newSchedulerRewardRatioPolicy);

    string public m_workerpoolDescription;
    uint256 public m_workerStakeRatioPolicy;      // % of the workerpool price a worker stakes
    uint256 public m_schedulerRewardRatioPolicy;  // % of the rewards the scheduler keeps

    function initialize(string memory _workerpoolDescription) external {
        _initialize();
        m_workerpoolDescription = _workerpoolDescription;
        m_workerStakeRatioPolicy = 30;
        m_schedulerRewardRatioPolicy = 1;
    }

    /// The current owner only (who holds the token now, not who created the pool).
    function changePolicy(uint256 _newWorkerStakeRatioPolicy, uint256 _newSchedulerRewardRatioPolicy) external {
        require(msg.sender == owner(), "iexec-kit (not PoCo): workerpool-0x01 caller is not the owner");
        require(_newSchedulerRewardRatioPolicy <= 100, "iexec-kit (not PoCo): workerpool-0x02 reward ratio above 100");
        emit PolicyUpdate(m_workerStakeRatioPolicy, _newWorkerStakeRatioPolicy,
                          m_schedulerRewardRatioPolicy, _newSchedulerRewardRatioPolicy);
        m_workerStakeRatioPolicy = _newWorkerStakeRatioPolicy;
        m_schedulerRewardRatioPolicy = _newSchedulerRewardRatioPolicy;
    }
}

/// ERC-721 with the enumerable and metadata extensions, written for the kit: tokens are only
/// minted (by creating an asset) and transferred, never burnt, so the global list only grows.
abstract contract Registry {
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);

    string private s_name;
    string private s_symbol;

    mapping(uint256 => address) private m_holder;                       // token -> owner
    mapping(address => uint256[]) private m_owned;                      // owner -> its tokens
    mapping(uint256 => uint256) private m_ownedIndex;                   // token -> index in m_owned[owner]
    uint256[] private m_all;                                            // every token, in creation order
    mapping(uint256 => address) private m_approved;                     // token -> approved spender
    mapping(address => mapping(address => bool)) private m_operators;   // owner -> operator -> yes

    constructor(string memory name_, string memory symbol_) {
        s_name = name_;
        s_symbol = symbol_;
    }

    // ----- ERC-165 ----------------------------------------------------------------------------
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == 0x01ffc9a7     // ERC-165
            || interfaceId == 0x80ac58cd     // ERC-721
            || interfaceId == 0x5b5e139f     // ERC-721 metadata
            || interfaceId == 0x780e9d63;    // ERC-721 enumerable
    }

    // ----- metadata ---------------------------------------------------------------------------
    function name() external view returns (string memory) { return s_name; }

    function symbol() external view returns (string memory) { return s_symbol; }

    /// The kit sets no base URI (PoCo's `setBaseURI` is the owner's): every asset's URI is empty.
    function tokenURI(uint256 tokenId) external view returns (string memory) {
        ownerOf(tokenId);
        return "";
    }

    // ----- the registry -----------------------------------------------------------------------
    function isRegistered(address _entry) external view returns (bool) {
        return m_holder[uint256(uint160(_entry))] != address(0);
    }

    // ----- ERC-721 ----------------------------------------------------------------------------
    function balanceOf(address owner_) external view returns (uint256) {
        require(owner_ != address(0), "iexec-kit (not PoCo): registry-0x08 the zero address owns nothing");
        return m_owned[owner_].length;
    }

    function ownerOf(uint256 tokenId) public view returns (address) {
        address holder = m_holder[tokenId];
        require(holder != address(0), "iexec-kit (not PoCo): registry-0x03 no such asset in this registry");
        return holder;
    }

    function approve(address to, uint256 tokenId) external {
        address holder = ownerOf(tokenId);
        require(msg.sender == holder || m_operators[holder][msg.sender],
                "iexec-kit (not PoCo): registry-0x04 caller is neither the asset's owner nor approved");
        m_approved[tokenId] = to;
        emit Approval(holder, to, tokenId);
    }

    function getApproved(uint256 tokenId) external view returns (address) {
        ownerOf(tokenId);
        return m_approved[tokenId];
    }

    function setApprovalForAll(address operator, bool approved) external {
        m_operators[msg.sender][operator] = approved;
        emit ApprovalForAll(msg.sender, operator, approved);
    }

    function isApprovedForAll(address owner_, address operator) external view returns (bool) {
        return m_operators[owner_][operator];
    }

    function transferFrom(address from, address to, uint256 tokenId) public {
        address holder = ownerOf(tokenId);
        require(msg.sender == holder || m_approved[tokenId] == msg.sender || m_operators[holder][msg.sender],
                "iexec-kit (not PoCo): registry-0x04 caller is neither the asset's owner nor approved");
        require(from == holder, "iexec-kit (not PoCo): registry-0x05 from is not the asset's owner");
        require(to != address(0), "iexec-kit (not PoCo): registry-0x06 transfer to the zero address");
        delete m_approved[tokenId];
        _removeFromOwner(from, tokenId);
        _addToOwner(to, tokenId);
        emit Transfer(from, to, tokenId);
    }

    function safeTransferFrom(address from, address to, uint256 tokenId) external {
        safeTransferFrom(from, to, tokenId, "");
    }

    function safeTransferFrom(address from, address to, uint256 tokenId, bytes memory data) public {
        transferFrom(from, to, tokenId);
        if (to.code.length > 0) {
            bytes4 answer = IERC721Receiver(to).onERC721Received(msg.sender, from, tokenId, data);
            require(answer == IERC721Receiver.onERC721Received.selector,
                    "iexec-kit (not PoCo): registry-0x07 the receiving contract does not accept ERC-721 tokens");
        }
    }

    // ----- enumerable -------------------------------------------------------------------------
    function totalSupply() external view returns (uint256) { return m_all.length; }

    function tokenByIndex(uint256 index) external view returns (uint256) {
        require(index < m_all.length, "iexec-kit (not PoCo): registry-0x01 no asset at this index");
        return m_all[index];
    }

    function tokenOfOwnerByIndex(address owner_, uint256 index) external view returns (uint256) {
        require(index < m_owned[owner_].length, "iexec-kit (not PoCo): registry-0x01 no asset at this index");
        return m_owned[owner_][index];
    }

    // ----- creation ---------------------------------------------------------------------------
    /// PoCo's salt: the initializer calldata, then the owner, packed.
    function _salt(address owner_, bytes memory initializer) private pure returns (bytes32) {
        return keccak256(abi.encodePacked(initializer, owner_));
    }

    /// The CREATE2 address of an asset made by this registry from `creationCode`.
    function _predict(address owner_, bytes memory initializer, bytes memory creationCode)
        internal view returns (address)
    {
        bytes32 h = keccak256(abi.encodePacked(bytes1(0xff), address(this), _salt(owner_, initializer),
                                               keccak256(creationCode)));
        return address(uint160(uint256(h)));
    }

    /// Deploy the asset (CREATE2), initialize it (which makes this registry its registry), and
    /// mint its token to `owner_`: Transfer(0, owner_, uint256(asset)).
    function _mintCreate(address owner_, bytes memory initializer, bytes memory creationCode)
        internal returns (address entry)
    {
        require(owner_ != address(0), "iexec-kit (not PoCo): registry-0x06 an asset cannot be owned by the zero address");
        bytes32 salt = _salt(owner_, initializer);
        assembly {
            entry := create2(0, add(creationCode, 0x20), mload(creationCode), salt)
        }
        require(entry != address(0),
                "iexec-kit (not PoCo): registry-0x02 this asset is already registered (same owner, same fields)");
        (bool ok, ) = entry.call(initializer);
        require(ok, "iexec-kit (not PoCo): registry-0x09 the asset refused its initialization");
        uint256 tokenId = uint256(uint160(entry));
        m_all.push(tokenId);
        _addToOwner(owner_, tokenId);
        emit Transfer(address(0), owner_, tokenId);
    }

    function _addToOwner(address to, uint256 tokenId) private {
        m_holder[tokenId] = to;
        m_ownedIndex[tokenId] = m_owned[to].length;
        m_owned[to].push(tokenId);
    }

    /// Swap-and-pop: the owner's last token takes the leaving one's slot.
    function _removeFromOwner(address from, uint256 tokenId) private {
        uint256[] storage owned = m_owned[from];
        uint256 i = m_ownedIndex[tokenId];
        uint256 last = owned[owned.length - 1];
        owned[i] = last;
        m_ownedIndex[last] = i;
        owned.pop();
        delete m_ownedIndex[tokenId];
    }
}

contract AppRegistry is Registry {
    constructor() Registry("iExec Application Registry (V5)", "iExecAppsV5") {}

    function _init(string calldata _appName, string calldata _appType, bytes calldata _appMultiaddr,
                   bytes32 _appChecksum, bytes calldata _appMREnclave) private pure returns (bytes memory) {
        return abi.encodeWithSignature("initialize(string,string,bytes,bytes32,bytes)",
                                       _appName, _appType, _appMultiaddr, _appChecksum, _appMREnclave);
    }

    function createApp(address _appOwner, string calldata _appName, string calldata _appType,
                       bytes calldata _appMultiaddr, bytes32 _appChecksum, bytes calldata _appMREnclave)
        external returns (address)
    {
        return _mintCreate(_appOwner, _init(_appName, _appType, _appMultiaddr, _appChecksum, _appMREnclave),
                           type(App).creationCode);
    }

    function predictApp(address _appOwner, string calldata _appName, string calldata _appType,
                        bytes calldata _appMultiaddr, bytes32 _appChecksum, bytes calldata _appMREnclave)
        external view returns (address)
    {
        return _predict(_appOwner, _init(_appName, _appType, _appMultiaddr, _appChecksum, _appMREnclave),
                        type(App).creationCode);
    }
}

contract DatasetRegistry is Registry {
    constructor() Registry("iExec Dataset Registry (V5)", "iExecDatasetsV5") {}

    function _init(string calldata _datasetName, bytes calldata _datasetMultiaddr, bytes32 _datasetChecksum)
        private pure returns (bytes memory)
    {
        return abi.encodeWithSignature("initialize(string,bytes,bytes32)",
                                       _datasetName, _datasetMultiaddr, _datasetChecksum);
    }

    function createDataset(address _datasetOwner, string calldata _datasetName,
                           bytes calldata _datasetMultiaddr, bytes32 _datasetChecksum)
        external returns (address)
    {
        return _mintCreate(_datasetOwner, _init(_datasetName, _datasetMultiaddr, _datasetChecksum),
                           type(Dataset).creationCode);
    }

    function predictDataset(address _datasetOwner, string calldata _datasetName,
                            bytes calldata _datasetMultiaddr, bytes32 _datasetChecksum)
        external view returns (address)
    {
        return _predict(_datasetOwner, _init(_datasetName, _datasetMultiaddr, _datasetChecksum),
                        type(Dataset).creationCode);
    }
}

contract WorkerpoolRegistry is Registry {
    constructor() Registry("iExec Workerpool Registry (V5)", "iExecWorkerpoolV5") {}

    function _init(string calldata _workerpoolDescription) private pure returns (bytes memory) {
        return abi.encodeWithSignature("initialize(string)", _workerpoolDescription);
    }

    function createWorkerpool(address _workerpoolOwner, string calldata _workerpoolDescription)
        external returns (address)
    {
        return _mintCreate(_workerpoolOwner, _init(_workerpoolDescription), type(Workerpool).creationCode);
    }

    function predictWorkerpool(address _workerpoolOwner, string calldata _workerpoolDescription)
        external view returns (address)
    {
        return _predict(_workerpoolOwner, _init(_workerpoolDescription), type(Workerpool).creationCode);
    }
}
