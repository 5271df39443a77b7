// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecEscrow.sol";
import "./IexecSignatures.sol";

interface IWorkerpoolPolicy {
    function owner() external view returns (address);
    function m_workerStakeRatioPolicy() external view returns (uint256);
    function m_schedulerRewardRatioPolicy() external view returns (uint256);
}

interface IRegistry {
    function isRegistered(address entry) external view returns (bool);
}

/// @title Hub module: matchOrders turns four compatible signed orders into a deal and locks the
///        funds (the requester's, or the caller's with sponsorMatchOrders); viewDeal reads it back.
/// @notice The checks run in PoCo v5's order with PoCo's codes (iExecV5-matchOrders-0xNN):
///         compatibility (0x00-0x07), matching and restrictions (0x10-0x1b), authenticity
///         (0x20-0x50), availability (0x60). The kit leaves out ERC-734 group membership in
///         restrictions: a restriction is 0 (anyone) or one exact address.
contract MatchModule is IexecEscrow, IexecSignatures {
    using IexecLibOrders for IexecLibOrders.AppOrder;
    using IexecLibOrders for IexecLibOrders.DatasetOrder;
    using IexecLibOrders for IexecLibOrders.WorkerpoolOrder;
    using IexecLibOrders for IexecLibOrders.RequestOrder;

    event SchedulerNotice(address indexed workerpool, bytes32 dealid);
    event OrdersMatched(bytes32 dealid, bytes32 appHash, bytes32 datasetHash, bytes32 workerpoolHash,
                        bytes32 requestHash, uint256 volume);
    event DealSponsored(bytes32 dealId, address sponsor);

    struct Matching {
        bytes32 appHash;
        address appOwner;
        bytes32 datasetHash;
        address datasetOwner;
        bytes32 workerpoolHash;
        address workerpoolOwner;
        bytes32 requestHash;
        bool hasDataset;
        bytes32 tag;
        address sponsor;
    }

    function viewDeal(bytes32 _id) external view returns (IexecLibCore.Deal memory) {
        return m_deals[_id];
    }

    /// The requester pays: its stake is locked for the deal, and refunded by claim.
    function matchOrders(
        IexecLibOrders.AppOrder calldata app,
        IexecLibOrders.DatasetOrder calldata dataset,
        IexecLibOrders.WorkerpoolOrder calldata pool,
        IexecLibOrders.RequestOrder calldata request
    ) external returns (bytes32) {
        return _matchOrders(app, dataset, pool, request, request.requester);
    }

    /// As matchOrders, but the caller (the sponsor) pays for the requester: the sponsor's stake is
    /// locked, spent by finalize and refunded by claim; the requester's order is still required.
    /// (PoCo v6's warning stands: anyone who sees the request order may call matchOrders instead,
    /// and then the requester pays.)
    function sponsorMatchOrders(
        IexecLibOrders.AppOrder calldata app,
        IexecLibOrders.DatasetOrder calldata dataset,
        IexecLibOrders.WorkerpoolOrder calldata pool,
        IexecLibOrders.RequestOrder calldata request
    ) external returns (bytes32) {
        bytes32 dealid = _matchOrders(app, dataset, pool, request, msg.sender);
        emit DealSponsored(dealid, msg.sender);
        return dealid;
    }

    function _matchOrders(
        IexecLibOrders.AppOrder calldata app,
        IexecLibOrders.DatasetOrder calldata dataset,
        IexecLibOrders.WorkerpoolOrder calldata pool,
        IexecLibOrders.RequestOrder calldata request,
        address sponsor
    ) private returns (bytes32) {
        Matching memory m;
        m.sponsor = sponsor;
        m.tag = app.tag | dataset.tag | request.tag;
        _checkCompatibility(app, dataset, pool, request, m.tag);
        _checkRestrictions(app, dataset, pool, request);
        _checkAuthenticity(app, dataset, pool, request, m);
        uint256 volume = _volume(app, dataset, pool, request, m);
        require(volume > 0, "iExecV5-matchOrders-0x60 an order is fully consumed or cancelled");
        return _record(app, dataset, pool, request, m, volume);
    }

    function _checkCompatibility(
        IexecLibOrders.AppOrder calldata app,
        IexecLibOrders.DatasetOrder calldata dataset,
        IexecLibOrders.WorkerpoolOrder calldata pool,
        IexecLibOrders.RequestOrder calldata request,
        bytes32 tag
    ) private view {
        require(request.category == pool.category, "iExecV5-matchOrders-0x00 category mismatch");
        require(request.category < m_categories.length, "iExecV5-matchOrders-0x01 no such category");
        require(request.trust <= pool.trust, "iExecV5-matchOrders-0x02 workerpool trust too low");
        require(request.appmaxprice >= app.appprice, "iExecV5-matchOrders-0x03 app price above max");
        require(request.datasetmaxprice >= dataset.datasetprice, "iExecV5-matchOrders-0x04 dataset price above max");
        require(request.workerpoolmaxprice >= pool.workerpoolprice, "iExecV5-matchOrders-0x05 workerpool price above max");
        require(tag & ~pool.tag == 0, "iExecV5-matchOrders-0x06 workerpool lacks a tag");
        require((tag ^ app.tag)[31] & 0x01 == 0, "iExecV5-matchOrders-0x07 TEE asked but app not TEE");
    }

    function _checkRestrictions(
        IexecLibOrders.AppOrder calldata app,
        IexecLibOrders.DatasetOrder calldata dataset,
        IexecLibOrders.WorkerpoolOrder calldata pool,
        IexecLibOrders.RequestOrder calldata request
    ) private pure {
        require(request.app == app.app, "iExecV5-matchOrders-0x10 request is for another app");
        require(request.dataset == dataset.dataset, "iExecV5-matchOrders-0x11 request is for another dataset");
        require(_allows(request.workerpool, pool.workerpool), "iExecV5-matchOrders-0x12 request restricts workerpool");
        require(_allows(app.datasetrestrict, dataset.dataset), "iExecV5-matchOrders-0x13 app restricts dataset");
        require(_allows(app.workerpoolrestrict, pool.workerpool), "iExecV5-matchOrders-0x14 app restricts workerpool");
        require(_allows(app.requesterrestrict, request.requester), "iExecV5-matchOrders-0x15 app restricts requester");
        require(_allows(dataset.apprestrict, app.app), "iExecV5-matchOrders-0x16 dataset restricts app");
        require(_allows(dataset.workerpoolrestrict, pool.workerpool), "iExecV5-matchOrders-0x17 dataset restricts workerpool");
        require(_allows(dataset.requesterrestrict, request.requester), "iExecV5-matchOrders-0x18 dataset restricts requester");
        require(_allows(pool.apprestrict, app.app), "iExecV5-matchOrders-0x19 workerpool restricts app");
        require(_allows(pool.datasetrestrict, dataset.dataset), "iExecV5-matchOrders-0x1a workerpool restricts dataset");
        require(_allows(pool.requesterrestrict, request.requester), "iExecV5-matchOrders-0x1b workerpool restricts requester");
    }

    function _allows(address restriction, address account) private pure returns (bool) {
        return restriction == address(0) || restriction == account;
    }

    function _checkAuthenticity(
        IexecLibOrders.AppOrder calldata app,
        IexecLibOrders.DatasetOrder calldata dataset,
        IexecLibOrders.WorkerpoolOrder calldata pool,
        IexecLibOrders.RequestOrder calldata request,
        Matching memory m
    ) private view {
        m.hasDataset = dataset.dataset != address(0);

        require(IRegistry(m_appregistry).isRegistered(app.app), "iExecV5-matchOrders-0x20 app not registered");
        m.appHash = _toTypedDataHash(app.hash());
        m.appOwner = IOwnable(app.app).owner();
        require(_verifySignatureOrPresignature(m.appOwner, m.appHash, app.sign),
                "iExecV5-matchOrders-0x21 app order not signed by the app owner");

        if (m.hasDataset) {
            require(IRegistry(m_datasetregistry).isRegistered(dataset.dataset), "iExecV5-matchOrders-0x30 dataset not registered");
            m.datasetHash = _toTypedDataHash(dataset.hash());
            m.datasetOwner = IOwnable(dataset.dataset).owner();
            require(_verifySignatureOrPresignature(m.datasetOwner, m.datasetHash, dataset.sign),
                    "iExecV5-matchOrders-0x31 dataset order not signed by the dataset owner");
        }

        require(IRegistry(m_workerpoolregistry).isRegistered(pool.workerpool), "iExecV5-matchOrders-0x40 workerpool not registered");
        m.workerpoolHash = _toTypedDataHash(pool.hash());
        m.workerpoolOwner = IOwnable(pool.workerpool).owner();
        require(_verifySignatureOrPresignature(m.workerpoolOwner, m.workerpoolHash, pool.sign),
                "iExecV5-matchOrders-0x41 workerpool order not signed by the workerpool owner");

        m.requestHash = _toTypedDataHash(request.hash());
        require(_verifySignatureOrPresignature(request.requester, m.requestHash, request.sign),
                "iExecV5-matchOrders-0x50 request order not signed by the requester");
    }

    function _volume(
        IexecLibOrders.AppOrder calldata app,
        IexecLibOrders.DatasetOrder calldata dataset,
        IexecLibOrders.WorkerpoolOrder calldata pool,
        IexecLibOrders.RequestOrder calldata request,
        Matching memory m
    ) private view returns (uint256 volume) {
        volume = _left(app.volume, m.appHash);
        if (m.hasDataset) volume = _min(volume, _left(dataset.volume, m.datasetHash));
        volume = _min(volume, _left(pool.volume, m.workerpoolHash));
        volume = _min(volume, _left(request.volume, m.requestHash));
    }

    function _left(uint256 volume, bytes32 h) private view returns (uint256) {
        uint256 used = m_consumed[h];
        return volume > used ? volume - used : 0;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) { return a < b ? a : b; }

    function _record(
        IexecLibOrders.AppOrder calldata app,
        IexecLibOrders.DatasetOrder calldata dataset,
        IexecLibOrders.WorkerpoolOrder calldata pool,
        IexecLibOrders.RequestOrder calldata request,
        Matching memory m,
        uint256 volume
    ) private returns (bytes32 dealid) {
        uint256 botFirst = m_consumed[m.requestHash];
        dealid = keccak256(abi.encodePacked(m.requestHash, botFirst));

        IexecLibCore.Deal storage deal = m_deals[dealid];
        deal.app = IexecLibCore.Resource(app.app, m.appOwner, app.appprice);
        deal.dataset = IexecLibCore.Resource(dataset.dataset, m.datasetOwner, m.hasDataset ? dataset.datasetprice : 0);
        deal.workerpool = IexecLibCore.Resource(pool.workerpool, m.workerpoolOwner, pool.workerpoolprice);
        deal.trust = request.trust > 1 ? request.trust : 1;
        deal.category = request.category;
        deal.tag = m.tag;
        deal.requester = request.requester;
        deal.beneficiary = request.beneficiary;
        deal.callback = request.callback;
        deal.params = request.params;
        deal.startTime = block.timestamp;
        deal.botFirst = botFirst;
        deal.botSize = volume;
        deal.workerStake = pool.workerpoolprice * IWorkerpoolPolicy(pool.workerpool).m_workerStakeRatioPolicy() / 100;
        deal.schedulerRewardRatio = IWorkerpoolPolicy(pool.workerpool).m_schedulerRewardRatioPolicy();
        deal.sponsor = m.sponsor;

        m_consumed[m.appHash] += volume;
        if (m.hasDataset) m_consumed[m.datasetHash] += volume;
        m_consumed[m.workerpoolHash] += volume;
        m_consumed[m.requestHash] += volume;

        lock(m.sponsor, (deal.app.price + deal.dataset.price + deal.workerpool.price) * volume);
        lock(m.workerpoolOwner, (deal.workerpool.price * WORKERPOOL_STAKE_RATIO / 100) * volume);

        emit SchedulerNotice(pool.workerpool, dealid);
        emit OrdersMatched(dealid, m.appHash, m.datasetHash, m.workerpoolHash, m.requestHash, volume);
    }
}
