"""Orders: PoCo's type strings, EIP-712 hashes that eth-account and the hub agree on, params,
tags."""

import random
from dataclasses import replace

import pytest
from eth_account.messages import _hash_eip191_message, encode_typed_data
from eth_utils import keccak

from iexec_kit.errors import KitValueError
from iexec_kit.poco.orders import (
    AppOrder,
    DatasetOrder,
    RequestOrder,
    RequestParams,
    WorkerpoolOrder,
    new_salt,
    operation_hash,
)
from iexec_kit.protocol.tags import Tag

# PoCo v5's IexecLibOrders_v5 constants (facts from the real protocol)
POCO_TYPEHASHES = {
    AppOrder: "60815a0eeec47dddf1615fe53b31d016c31444e01b9d796db365443a6445d008",
    DatasetOrder: "6cfc932a5a3d22c4359295b9f433edff52b60703fa47690a04a83e40933dd47c",
    WorkerpoolOrder: "aa3429fb281b34691803133d3d978a75bb77c617ed6bc9aa162b9b30920022bb",
    RequestOrder: "f24e853034a3a450aba845a82914fbb564ad85accca6cf62be112a154520fae0",
}
POCO_OPERATION_TYPEHASH_APP = "0638bb0702457e2b4b01be8a202579b8bf97e587fb4f2cc4d4aad01f21a06ee0"


@pytest.mark.parametrize("cls", list(POCO_TYPEHASHES), ids=lambda c: c.__name__)
def test_typehashes_are_pocos(cls):
    assert cls.typehash().hex() == POCO_TYPEHASHES[cls]


def test_operation_typehash_is_pocos():
    s = "AppOrderOperation(AppOrder order,uint256 operation)" + AppOrder.type_string()
    assert keccak(s.encode()).hex() == POCO_OPERATION_TYPEHASH_APP


def test_hash_agrees_with_eth_account(kit):
    domain = kit.hub.domain()
    for order in (kit.app(), kit.pool(), kit.request(params='{"iexec_args":"héllo"}')):
        assert order.hash(domain) == _hash_eip191_message(
            encode_typed_data(full_message=order.typed_data(domain))
        )


def test_domain_separator_matches_the_hub(sandbox):
    assert (
        sandbox.hub.chain.call(sandbox.hub.fn.eip712domain_separator())
        == sandbox.hub.domain().separator()
    )
    name, version, chain_id, verifying = sandbox.hub.chain.call(sandbox.hub.fn.domain())
    assert (name, version, chain_id, verifying) == (
        "iExecODB",
        "5.0.0",
        sandbox.chain.chain_id,
        sandbox.deployment.hub,
    )


def test_hub_verifies_kit_signatures(kit):
    domain, hub = kit.hub.domain(), kit.hub
    order = kit.request()
    assert order.signer(domain) == kit.sb.requester.address
    assert hub.chain.call(
        hub.fn.verifySignature(kit.sb.requester.address, order.hash(domain), order.sign)
    )
    assert not hub.chain.call(
        hub.fn.verifySignature(kit.sb.app_developer.address, order.hash(domain), order.sign)
    )
    tampered = replace(order, volume=order.volume + 1)
    assert tampered.signer(domain) != kit.sb.requester.address
    assert not hub.chain.call(
        hub.fn.verifySignature(kit.sb.requester.address, tampered.hash(domain), tampered.sign)
    )


def test_hub_accepts_compact_eip2098_signatures(kit):
    domain, hub = kit.hub.domain(), kit.hub
    order = kit.app()
    r, s, v = order.sign[:32], order.sign[32:64], order.sign[64]
    vs = (int.from_bytes(s, "big") | ((v - 27) << 255)).to_bytes(32, "big")
    assert hub.chain.call(
        hub.fn.verifySignature(kit.sb.app_developer.address, order.hash(domain), r + vs)
    )


def test_hub_refuses_malleable_signatures(kit):
    """(r, n - s, v ^ 1) recovers the same signer in plain ecrecover; the hub refuses it."""
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    domain, hub = kit.hub.domain(), kit.hub
    order = kit.app()
    r, s, v = order.sign[:32], int.from_bytes(order.sign[32:64], "big"), order.sign[64]
    flipped = r + (n - s).to_bytes(32, "big") + bytes([55 - v])
    assert not hub.chain.call(
        hub.fn.verifySignature(kit.sb.app_developer.address, order.hash(domain), flipped)
    )


def test_salts_repeat_with_a_seeded_rng():
    a, b = random.Random(7), random.Random(7)
    assert new_salt(a) == new_salt(b) and len(new_salt()) == 32 and new_salt() != new_salt()


def test_order_round_trips_through_dict():
    o = RequestOrder(
        app="0x" + "11" * 20,
        appmaxprice=3,
        requester="0x" + "22" * 20,
        tag=Tag.parse("tee,gpu").to_bytes32(),
    )
    assert RequestOrder.from_dict(o.as_dict()) == o


@pytest.mark.parametrize(
    "bad", [dict(appprice=-1), dict(appprice=1.5), dict(tag=b"\x01"), dict(app="0x123")]
)
def test_bad_fields_are_refused(bad):
    with pytest.raises(KitValueError):
        AppOrder(**({"app": "0x" + "11" * 20, "appprice": 1} | bad))


def test_tags_parse_names_and_bytes():
    t = Tag.parse("tee, gpu")
    assert t == Tag.TEE | Tag.GPU and Tag.parse(t.to_bytes32()) == t and Tag.parse("0x101") == t
    with pytest.raises(KitValueError, match="unknown tag 'sgx'"):
        Tag.parse("sgx")


def test_request_params_json():
    p = RequestParams(
        args="--style cartoon --mask-radius 7",
        input_files=("https://x/y.png",),
        encryption=True,
        storage_proxy="http://127.0.0.1:3000",
    )
    d = __import__("json").loads(p.to_json())
    assert d == {
        "iexec_args": "--style cartoon --mask-radius 7",
        "iexec_input_files": ["https://x/y.png"],
        "iexec_result_storage_provider": "ipfs",
        "iexec_result_storage_proxy": "http://127.0.0.1:3000",
        "iexec_result_encryption": True,
    }
    assert RequestParams.from_json(p.to_json()) == p
    assert p.args_list() == ["--style", "cartoon", "--mask-radius", "7"]
    with pytest.raises(KitValueError, match="'ipfs' or 'dropbox'"):
        RequestParams(storage_provider="s3")
    with pytest.raises(KitValueError, match="JSON object"):
        RequestParams.from_json("[1]")


def test_operation_hash_signed_by_owner_lets_another_account_cancel(kit):
    """manageAppOrder from a relayer, with the owner's signature of the CLOSE operation."""
    hub, domain = kit.hub, kit.hub.domain()
    order = kit.app()
    digest = operation_hash(order, 1, domain)
    from eth_account import Account

    sig = Account.unsafe_sign_hash(digest, kit.sb.app_developer.key).signature
    hub.manage_order(order, 1, kit.sb.requester, sign=bytes(sig))
    assert hub.consumed(order) == order.volume
