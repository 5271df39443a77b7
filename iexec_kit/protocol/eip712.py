"""EIP-712 typed data as the kit's wallets sign it: the domain's fields and the message shape.

Two domains are in use. iExec's hub and order book sign under (name, version, chainId,
verifyingContract); the sign-in challenges of iExec's services (the result proxy, the market
API) under (name, version, chainId) only, since no contract verifies them.
"""

from __future__ import annotations

DOMAIN_FIELDS = (("name", "string"), ("version", "string"), ("chainId", "uint256"))
CONTRACT_FIELD = ("verifyingContract", "address")


def domain_type(*, contract: bool) -> list[dict]:
    """The EIP712Domain type: with ``verifyingContract`` for the hub's domain, else without."""
    fields = DOMAIN_FIELDS + ((CONTRACT_FIELD,) if contract else ())
    return [{"name": n, "type": t} for n, t in fields]


def typed_data(
    primary: str, fields, domain: dict, message: dict, *, contract: bool | None = None
) -> dict:
    """The whole typed-data object a wallet shows and signs (eth-account's
    ``encode_typed_data(full_message=...)`` shape). ``fields``: (name, type) pairs of
    ``primary``; the domain type follows ``domain`` (with ``verifyingContract`` when it has
    one) unless ``contract`` says otherwise."""
    with_contract = "verifyingContract" in domain if contract is None else contract
    return {
        "types": {
            "EIP712Domain": domain_type(contract=with_contract),
            primary: [{"name": n, "type": t} for n, t in fields],
        },
        "domain": dict(domain),
        "primaryType": primary,
        "message": dict(message),
    }


def challenge_typed_data(challenge: str, chain_id: int, *, name: str, version: str) -> dict:
    """A service's sign-in challenge: ``Challenge(string challenge)`` under (name, version,
    chainId), as iExec's result proxy and market API send it."""
    return typed_data(
        "Challenge",
        (("challenge", "string"),),
        {"name": name, "version": version, "chainId": chain_id},
        {"challenge": challenge},
    )
