// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecSignatures.sol";

/// @title Hub module: order signatures, presignatures and cancellations, the EIP-712 domain.
/// @notice manageXOrder(operation): SIGN (0) presigns an order on chain (no signature needed in
///         matchOrders), CLOSE (1) cancels it (its consumed volume is set to its full volume).
///         The sender must be the order's owner, or bring the owner's EIP-712 signature of the
///         operation.
contract OrderModule is IexecSignatures {
    using IexecLibOrders for IexecLibOrders.AppOrder;
    using IexecLibOrders for IexecLibOrders.DatasetOrder;
    using IexecLibOrders for IexecLibOrders.WorkerpoolOrder;
    using IexecLibOrders for IexecLibOrders.RequestOrder;
    using IexecLibOrders for IexecLibOrders.AppOrderOperation;
    using IexecLibOrders for IexecLibOrders.DatasetOrderOperation;
    using IexecLibOrders for IexecLibOrders.WorkerpoolOrderOperation;
    using IexecLibOrders for IexecLibOrders.RequestOrderOperation;

    event SignedAppOrder(bytes32 appHash);
    event SignedDatasetOrder(bytes32 datasetHash);
    event SignedWorkerpoolOrder(bytes32 workerpoolHash);
    event SignedRequestOrder(bytes32 requestHash);
    event ClosedAppOrder(bytes32 appHash);
    event ClosedDatasetOrder(bytes32 datasetHash);
    event ClosedWorkerpoolOrder(bytes32 workerpoolHash);
    event ClosedRequestOrder(bytes32 requestHash);

    // ----- the EIP-712 domain -----
    function domain() external view returns (IexecLibOrders.EIP712Domain memory) {
        return _domain();
    }

    function eip712domain_separator() external view returns (bytes32) {
        return EIP712DOMAIN_SEPARATOR;
    }

    /// Recompute the domain separator from the current chain id (anyone; needed after a fork).
    function updateDomainSeparator() external {
        EIP712DOMAIN_SEPARATOR = IexecLibOrders.hash(_domain());
    }

    // ----- signature checks -----
    function verifySignature(address _identity, bytes32 _hash, bytes calldata _signature) external view returns (bool) {
        return _verifySignature(_identity, _hash, _signature);
    }

    function verifyPresignature(address _identity, bytes32 _hash) external view returns (bool) {
        return _verifyPresignature(_identity, _hash);
    }

    function verifyPresignatureOrSignature(address _identity, bytes32 _hash, bytes calldata _signature)
        external view returns (bool)
    {
        return _verifySignatureOrPresignature(_identity, _hash, _signature);
    }

    function viewConsumed(bytes32 _id) external view returns (uint256) { return m_consumed[_id]; }

    function viewPresigned(bytes32 _id) external view returns (address) { return m_presigned[_id]; }

    // ----- management -----
    function manageAppOrder(IexecLibOrders.AppOrderOperation calldata op) external {
        address owner_ = IOwnable(op.order.app).owner();
        _checkManager(owner_, op.hash(), op.sign);
        bytes32 h = _toTypedDataHash(op.order.hash());
        if (op.operation == IexecLibOrders.OrderOperationEnum.SIGN) {
            m_presigned[h] = owner_;
            emit SignedAppOrder(h);
        } else {
            m_consumed[h] = op.order.volume;
            emit ClosedAppOrder(h);
        }
    }

    function manageDatasetOrder(IexecLibOrders.DatasetOrderOperation calldata op) external {
        address owner_ = IOwnable(op.order.dataset).owner();
        _checkManager(owner_, op.hash(), op.sign);
        bytes32 h = _toTypedDataHash(op.order.hash());
        if (op.operation == IexecLibOrders.OrderOperationEnum.SIGN) {
            m_presigned[h] = owner_;
            emit SignedDatasetOrder(h);
        } else {
            m_consumed[h] = op.order.volume;
            emit ClosedDatasetOrder(h);
        }
    }

    function manageWorkerpoolOrder(IexecLibOrders.WorkerpoolOrderOperation calldata op) external {
        address owner_ = IOwnable(op.order.workerpool).owner();
        _checkManager(owner_, op.hash(), op.sign);
        bytes32 h = _toTypedDataHash(op.order.hash());
        if (op.operation == IexecLibOrders.OrderOperationEnum.SIGN) {
            m_presigned[h] = owner_;
            emit SignedWorkerpoolOrder(h);
        } else {
            m_consumed[h] = op.order.volume;
            emit ClosedWorkerpoolOrder(h);
        }
    }

    function manageRequestOrder(IexecLibOrders.RequestOrderOperation calldata op) external {
        address owner_ = op.order.requester;
        _checkManager(owner_, op.hash(), op.sign);
        bytes32 h = _toTypedDataHash(op.order.hash());
        if (op.operation == IexecLibOrders.OrderOperationEnum.SIGN) {
            m_presigned[h] = owner_;
            emit SignedRequestOrder(h);
        } else {
            m_consumed[h] = op.order.volume;
            emit ClosedRequestOrder(h);
        }
    }

    function _checkManager(address owner_, bytes32 operationHash, bytes calldata sign) private view {
        require(
            owner_ == msg.sender || _verifySignature(owner_, _toTypedDataHash(operationHash), sign),
            "iexec-kit (not PoCo): manageOrder-0x01 sender is not the order's owner and brings no owner signature"
        );
    }
}
