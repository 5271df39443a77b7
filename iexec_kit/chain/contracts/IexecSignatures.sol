// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import "./IexecStore.sol";
import "./IexecLibOrders.sol";

interface IERC1271 {
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4);
}

interface IOwnable {
    function owner() external view returns (address);
}

/// @title How the hub decides that `identity` approved `hash`: a presignature first (an owner's
///        manageXOrder SIGN), else an ECDSA signature (65 bytes, or 64 in EIP-2098's compact
///        form), else, when `identity` is a contract, its ERC-1271 isValidSignature.
abstract contract IexecSignatures is IexecStore {
    bytes32 private constant HALF_ORDER =
        0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    /// EIP-712 digest of a struct hash under the hub's domain.
    function _toTypedDataHash(bytes32 structHash) internal view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", EIP712DOMAIN_SEPARATOR, structHash));
    }

    function _domain() internal view returns (IexecLibOrders.EIP712Domain memory) {
        return IexecLibOrders.EIP712Domain("iExecODB", "5.0.0", block.chainid, address(this));
    }

    /// The signer of `hash` (address 0 for a malformed or malleable signature).
    function _recover(bytes32 hash, bytes calldata sign) internal pure returns (address) {
        bytes32 r;
        bytes32 s;
        uint8 v;
        if (sign.length == 65) {
            r = bytes32(sign[0:32]);
            s = bytes32(sign[32:64]);
            v = uint8(sign[64]);
        } else if (sign.length == 64) {
            r = bytes32(sign[0:32]);
            bytes32 vs = bytes32(sign[32:64]);
            s = vs & bytes32(0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff);
            v = uint8(uint256(vs >> 255)) + 27;
        } else {
            return address(0);
        }
        if (v < 27) v += 27;
        if ((v != 27 && v != 28) || uint256(s) > uint256(HALF_ORDER)) return address(0);
        return ecrecover(hash, v, r, s);
    }

    function _verifySignature(address identity, bytes32 hash, bytes calldata sign) internal view returns (bool) {
        if (identity == address(0)) return false;
        if (identity.code.length > 0) {
            (bool ok, bytes memory ret) = identity.staticcall(
                abi.encodeWithSelector(IERC1271.isValidSignature.selector, hash, sign));
            return ok && ret.length >= 32 && abi.decode(ret, (bytes4)) == IERC1271.isValidSignature.selector;
        }
        return _recover(hash, sign) == identity;
    }

    function _verifyPresignature(address identity, bytes32 hash) internal view returns (bool) {
        return identity != address(0) && m_presigned[hash] == identity;
    }

    function _verifySignatureOrPresignature(address identity, bytes32 hash, bytes calldata sign)
        internal view returns (bool)
    {
        return _verifyPresignature(identity, hash) || _verifySignature(identity, hash, sign);
    }
}
