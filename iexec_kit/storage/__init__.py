"""Storage: an IPFS node with real CIDs and the Kubo API, results, encryption, the result proxy.

The names below load lazily (FastAPI, uvicorn, eth-account and cryptography are imported only
by the parts that need them)::

    from iexec_kit.storage import IpfsDaemon, zip_result, result_digest
    with IpfsDaemon(".sandbox/ipfs") as ipfs:          # embedded node + Kubo RPC API + gateway
        cid = ipfs.node.add_bytes(zip_result("iexec_out"))
        print(f"{ipfs.gateway_url}/ipfs/{cid}")

Modules: cids, dagpb, blockstore, unixfs (the IPFS data model); node (the embedded node), api +
server + daemon (its HTTP side), kubo (the same interface over any Kubo API); results,
encryption; oracle, auth, proxy (the result proxy); sms (the SMS: web2 secrets); service
(LocalStorage: all of it for a Sandbox); errors, messages.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "IpfsNode": "node",
    "IpfsBackend": "node",
    "IpfsDaemon": "daemon",
    "BackgroundServer": "server",
    "KuboClient": "kubo",
    "open_ipfs": "kubo",
    "Cid": "cids",
    "parse_cid": "cids",
    "read_computed": "results",
    "result_digest": "results",
    "zip_result": "results",
    "unzip_result": "results",
    "digest_of_zip": "results",
    "generate_beneficiary_keys": "encryption",
    "encrypt_result": "encryption",
    "decrypt_result": "encryption",
    "TaskOracle": "oracle",
    "StaticTaskOracle": "oracle",
    "TaskView": "oracle",
    "ContributionView": "oracle",
    "ResultProxy": "proxy",
    "ResultProxyClient": "proxy",
    "UploadReceipt": "proxy",
    "SignIn": "proxy",
    "Authenticator": "auth",
    "LocalStorage": "service",
    "HubTaskOracle": "chain_oracle",
    "Sms": "sms",
    "SmsClient": "sms",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"iexec_kit.storage.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'iexec_kit.storage' has no attribute {name!r}")


def __dir__():
    return __all__
