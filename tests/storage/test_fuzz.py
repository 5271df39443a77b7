"""Garbage in, a kit error out: never a crash of another kind (property tests)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from iexec_kit.storage.auth import Authenticator
from iexec_kit.storage.cids import Cid, parse_cid
from iexec_kit.storage.dagpb import PBNode, UnixfsData
from iexec_kit.storage.errors import (
    InvalidCidError,
    PathEscapeError,
    ProxyAuthError,
    ResultError,
    UnixfsError,
)
from iexec_kit.storage.results import unzip_result

AUTH = Authenticator(1)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_dag_pb_decoding_of_random_bytes(data):
    try:
        node = PBNode.decode(data)
        if node.data is not None:
            UnixfsData.decode(node.data)
    except UnixfsError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), st.binary(max_size=60)))
def test_cid_parsing_of_random_input(value):
    try:
        cid = parse_cid(value)
    except InvalidCidError:
        return
    assert isinstance(cid, Cid) and len(cid.digest) == 32


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_login_and_tokens_with_random_text(text):
    for call in (AUTH.login, AUTH.verify):
        try:
            call(text)
        except ProxyAuthError:
            continue
        raise AssertionError(f"{call.__name__} accepted {text!r}")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_unzip_of_random_bytes(tmp_path_factory, data):
    dest = tmp_path_factory.mktemp("unzip") / "out"
    try:
        unzip_result(b"PK\x03\x04" + data, dest)
    except (ResultError, PathEscapeError):
        assert not dest.exists()
