// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title The protocol's records, with PoCo's field names and order (viewDeal, viewTask...
///        return these structs, so their ABI matches the real IexecInterfaceToken of
///        PoCo 6.1.0 (npm iexec/poco), whose IexecLibCore_v5 keeps v5's records and adds Deal.sponsor).
library IexecLibCore {
    /// An escrow account: stake is the free balance, locked the frozen part.
    struct Account {
        uint256 stake;
        uint256 locked;
    }

    /// A work category: its clock (seconds) scales every task deadline.
    struct Category {
        string name;
        string description;
        uint256 workClockTimeRef;
    }

    /// One side of a deal: the asset, its owner, and the price agreed for it.
    struct Resource {
        address pointer;
        address owner;
        uint256 price;
    }

    struct Deal {
        Resource app;
        Resource dataset;
        Resource workerpool;
        uint256 trust;
        uint256 category;
        bytes32 tag;
        address requester;
        address beneficiary;
        address callback;
        string params;
        uint256 startTime;
        uint256 botFirst;
        uint256 botSize;
        uint256 workerStake;
        uint256 schedulerRewardRatio;
        address sponsor; // who paid the locks (the requester, or the caller of sponsorMatchOrders)
    }

    /// What viewApp / viewDataset / viewWorkerpool return: an asset's owner and fields.
    struct AppInfo {
        address owner;
        string m_appName;
        string m_appType;
        bytes m_appMultiaddr;
        bytes32 m_appChecksum;
        bytes m_appMREnclave;
    }

    struct DatasetInfo {
        address owner;
        string m_datasetName;
        bytes m_datasetMultiaddr;
        bytes32 m_datasetChecksum;
    }

    struct WorkerpoolInfo {
        address owner;
        string m_workerpoolDescription;
        uint256 m_workerStakeRatioPolicy;
        uint256 m_schedulerRewardRatioPolicy;
    }

    enum TaskStatusEnum { UNSET, ACTIVE, REVEALING, COMPLETED, FAILED }

    struct Task {
        TaskStatusEnum status;
        bytes32 dealid;
        uint256 idx;
        uint256 timeref;
        uint256 contributionDeadline;
        uint256 revealDeadline;
        uint256 finalDeadline;
        bytes32 consensusValue;
        uint256 revealCounter;
        uint256 winnerCounter;
        address[] contributors;
        bytes32 resultDigest;
        bytes results;
        uint256 resultsTimestamp; // never set, as in PoCo 6.1.0 (kept for the struct's layout)
        bytes resultsCallback;
    }

    enum ContributionStatusEnum { UNSET, CONTRIBUTED, PROVED, REJECTED }

    struct Contribution {
        ContributionStatusEnum status;
        bytes32 resultHash;
        bytes32 resultSeal;
        address enclaveChallenge;
        uint256 weight;
    }

    /// The off-chain consensus of one task: weight per result hash, and the total.
    struct Consensus {
        mapping(bytes32 => uint256) group;
        uint256 total;
    }
}
