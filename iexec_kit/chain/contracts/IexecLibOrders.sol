// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title The four orders of the marketplace and their EIP-712 struct hashes.
/// @notice Type strings are PoCo v5's, so an order signed for iExec's hub hashes the same here.
///         `sign` travels with an order but is not part of its typed data.
library IexecLibOrders {
    bytes32 internal constant EIP712DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 internal constant APPORDER_TYPEHASH = keccak256(
        "AppOrder(address app,uint256 appprice,uint256 volume,bytes32 tag,address datasetrestrict,address workerpoolrestrict,address requesterrestrict,bytes32 salt)");
    bytes32 internal constant DATASETORDER_TYPEHASH = keccak256(
        "DatasetOrder(address dataset,uint256 datasetprice,uint256 volume,bytes32 tag,address apprestrict,address workerpoolrestrict,address requesterrestrict,bytes32 salt)");
    bytes32 internal constant WORKERPOOLORDER_TYPEHASH = keccak256(
        "WorkerpoolOrder(address workerpool,uint256 workerpoolprice,uint256 volume,bytes32 tag,uint256 category,uint256 trust,address apprestrict,address datasetrestrict,address requesterrestrict,bytes32 salt)");
    bytes32 internal constant REQUESTORDER_TYPEHASH = keccak256(
        "RequestOrder(address app,uint256 appmaxprice,address dataset,uint256 datasetmaxprice,address workerpool,uint256 workerpoolmaxprice,address requester,uint256 volume,bytes32 tag,uint256 category,uint256 trust,address beneficiary,address callback,string params,bytes32 salt)");
    bytes32 internal constant APPORDEROPERATION_TYPEHASH = keccak256(
        "AppOrderOperation(AppOrder order,uint256 operation)AppOrder(address app,uint256 appprice,uint256 volume,bytes32 tag,address datasetrestrict,address workerpoolrestrict,address requesterrestrict,bytes32 salt)");
    bytes32 internal constant DATASETORDEROPERATION_TYPEHASH = keccak256(
        "DatasetOrderOperation(DatasetOrder order,uint256 operation)DatasetOrder(address dataset,uint256 datasetprice,uint256 volume,bytes32 tag,address apprestrict,address workerpoolrestrict,address requesterrestrict,bytes32 salt)");
    bytes32 internal constant WORKERPOOLORDEROPERATION_TYPEHASH = keccak256(
        "WorkerpoolOrderOperation(WorkerpoolOrder order,uint256 operation)WorkerpoolOrder(address workerpool,uint256 workerpoolprice,uint256 volume,bytes32 tag,uint256 category,uint256 trust,address apprestrict,address datasetrestrict,address requesterrestrict,bytes32 salt)");
    bytes32 internal constant REQUESTORDEROPERATION_TYPEHASH = keccak256(
        "RequestOrderOperation(RequestOrder order,uint256 operation)RequestOrder(address app,uint256 appmaxprice,address dataset,uint256 datasetmaxprice,address workerpool,uint256 workerpoolmaxprice,address requester,uint256 volume,bytes32 tag,uint256 category,uint256 trust,address beneficiary,address callback,string params,bytes32 salt)");

    enum OrderOperationEnum { SIGN, CLOSE }

    struct EIP712Domain {
        string name;
        string version;
        uint256 chainId;
        address verifyingContract;
    }

    struct AppOrder {
        address app;
        uint256 appprice;
        uint256 volume;
        bytes32 tag;
        address datasetrestrict;
        address workerpoolrestrict;
        address requesterrestrict;
        bytes32 salt;
        bytes sign;
    }

    struct DatasetOrder {
        address dataset;
        uint256 datasetprice;
        uint256 volume;
        bytes32 tag;
        address apprestrict;
        address workerpoolrestrict;
        address requesterrestrict;
        bytes32 salt;
        bytes sign;
    }

    struct WorkerpoolOrder {
        address workerpool;
        uint256 workerpoolprice;
        uint256 volume;
        bytes32 tag;
        uint256 category;
        uint256 trust;
        address apprestrict;
        address datasetrestrict;
        address requesterrestrict;
        bytes32 salt;
        bytes sign;
    }

    struct RequestOrder {
        address app;
        uint256 appmaxprice;
        address dataset;
        uint256 datasetmaxprice;
        address workerpool;
        uint256 workerpoolmaxprice;
        address requester;
        uint256 volume;
        bytes32 tag;
        uint256 category;
        uint256 trust;
        address beneficiary;
        address callback;
        string params;
        bytes32 salt;
        bytes sign;
    }

    struct AppOrderOperation { AppOrder order; OrderOperationEnum operation; bytes sign; }
    struct DatasetOrderOperation { DatasetOrder order; OrderOperationEnum operation; bytes sign; }
    struct WorkerpoolOrderOperation { WorkerpoolOrder order; OrderOperationEnum operation; bytes sign; }
    struct RequestOrderOperation { RequestOrder order; OrderOperationEnum operation; bytes sign; }

    function hash(EIP712Domain memory d) internal pure returns (bytes32) {
        return keccak256(abi.encode(EIP712DOMAIN_TYPEHASH, keccak256(bytes(d.name)), keccak256(bytes(d.version)),
                                    d.chainId, d.verifyingContract));
    }

    function hash(AppOrder calldata o) internal pure returns (bytes32) {
        return keccak256(abi.encode(APPORDER_TYPEHASH, o.app, o.appprice, o.volume, o.tag, o.datasetrestrict,
                                    o.workerpoolrestrict, o.requesterrestrict, o.salt));
    }

    function hash(DatasetOrder calldata o) internal pure returns (bytes32) {
        return keccak256(abi.encode(DATASETORDER_TYPEHASH, o.dataset, o.datasetprice, o.volume, o.tag, o.apprestrict,
                                    o.workerpoolrestrict, o.requesterrestrict, o.salt));
    }

    function hash(WorkerpoolOrder calldata o) internal pure returns (bytes32) {
        return keccak256(abi.encode(WORKERPOOLORDER_TYPEHASH, o.workerpool, o.workerpoolprice, o.volume, o.tag,
                                    o.category, o.trust, o.apprestrict, o.datasetrestrict, o.requesterrestrict, o.salt));
    }

    /// The request order's 15 fields are encoded in two halves (the same bytes as one abi.encode).
    function hash(RequestOrder calldata o) internal pure returns (bytes32) {
        bytes memory head = abi.encode(REQUESTORDER_TYPEHASH, o.app, o.appmaxprice, o.dataset, o.datasetmaxprice,
                                       o.workerpool, o.workerpoolmaxprice);
        bytes memory tail = abi.encode(o.requester, o.volume, o.tag, o.category, o.trust, o.beneficiary, o.callback,
                                       keccak256(bytes(o.params)), o.salt);
        return keccak256(bytes.concat(head, tail));
    }

    function hash(AppOrderOperation calldata op) internal pure returns (bytes32) {
        return keccak256(abi.encode(APPORDEROPERATION_TYPEHASH, hash(op.order), uint256(op.operation)));
    }

    function hash(DatasetOrderOperation calldata op) internal pure returns (bytes32) {
        return keccak256(abi.encode(DATASETORDEROPERATION_TYPEHASH, hash(op.order), uint256(op.operation)));
    }

    function hash(WorkerpoolOrderOperation calldata op) internal pure returns (bytes32) {
        return keccak256(abi.encode(WORKERPOOLORDEROPERATION_TYPEHASH, hash(op.order), uint256(op.operation)));
    }

    function hash(RequestOrderOperation calldata op) internal pure returns (bytes32) {
        return keccak256(abi.encode(REQUESTORDEROPERATION_TYPEHASH, hash(op.order), uint256(op.operation)));
    }
}
