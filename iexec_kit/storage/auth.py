"""Sign-in to the result proxy: an EIP-712 challenge, then an expiring JWT.

1. ``GET /results/challenge?chainId=N`` gives typed data: domain {name "iExec Result
   Repository", version "1", chainId N}, type ``Challenge(string challenge)``, a random
   challenge. It expires after ``challenge_ttl`` seconds and can be used once.
2. The wallet signs it and sends ``<typed-data hash>_<signature>_<address>`` (the shape
   iexec-result-proxy reads) to ``POST /results/login?chainId=N``.
3. The proxy checks the hash is a live challenge it issued, that the signature recovers to the
   address, burns the challenge and returns a JWT (HS256, this proxy's secret; ``sub`` = the
   address, ``exp`` = now + ``token_ttl``).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

from iexec_kit.storage import messages as M
from iexec_kit.storage.errors import ProxyAuthError

DOMAIN_NAME = "iExec Result Repository"
DOMAIN_VERSION = "1"
ISSUER = "iexec-kit-result-proxy"
#: Challenges outstanding at once; past it the oldest is dropped (a flood of GETs cannot grow
#: the proxy's memory, and a wallet signs within seconds).
MAX_CHALLENGES = 1024


def challenge_typed_data(challenge: str, chain_id: int, domain: str = DOMAIN_NAME) -> dict:
    """The EIP-712 message a wallet signs to sign in (``domain``: the service's name, so a
    signature for one service cannot sign in to another)."""
    from iexec_kit.protocol.eip712 import challenge_typed_data as typed

    return typed(challenge, chain_id, name=domain, version=DOMAIN_VERSION)


def typed_data_hash(typed: dict) -> str:
    """The EIP-712 digest (0x-hex) that the wallet signs."""
    from eth_account.messages import encode_typed_data
    from eth_utils import keccak

    msg = encode_typed_data(full_message=typed)
    return "0x" + keccak(b"\x19" + msg.version + msg.header + msg.body).hex()


def sign_challenge(typed: dict, private_key) -> str:
    """The login string ``hash_signature_address`` for a challenge, signed with a key."""
    from eth_account import Account

    signed = Account.sign_typed_data(private_key, full_message=typed)
    address = Account.from_key(private_key).address
    return f"{typed_data_hash(typed)}_0x{signed.signature.hex().removeprefix('0x')}_{address}"


def recover_typed(typed: dict, signature: str) -> str:
    """The address that signed EIP-712 typed data (ProxyAuthError if the signature is malformed)."""
    from eth_account import Account
    from eth_account.messages import encode_typed_data

    try:
        return Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
    except Exception as exc:  # eth_account raises several kinds for bad signatures
        raise ProxyAuthError(M.SIGNATURE_BAD, got=str(exc)[:80], hint=M.HINT_CHALLENGE) from None


def sign_personal(message: bytes, private_key) -> str:
    """An EIP-191 ("personal_sign") signature of ``message``'s bytes (0x-hex), as ethers'
    ``signer.signMessage(bytes)``: what a worker signs to upload, and an owner to push a secret
    to the SMS."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    signed = Account.sign_message(encode_defunct(primitive=message), private_key)
    return "0x" + signed.signature.hex().removeprefix("0x")


def recover_personal(message: bytes, signature: str) -> str | None:
    """The address that EIP-191-signed ``message``, or None when the signature is malformed."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    try:
        return Account.recover_message(encode_defunct(primitive=message), signature=signature)
    except Exception:  # malformed signatures raise several kinds
        return None


@dataclass(frozen=True)
class TokenClaims:
    """Who a valid token speaks for, and until when."""

    address: str
    expires: float
    jti: str


class Authenticator:
    """Issues challenges and tokens; checks them against a clock (injectable for tests)."""

    def __init__(
        self,
        chain_id: int,
        *,
        challenge_ttl: float = 300,
        token_ttl: float = 3600,
        secret: bytes | None = None,
        clock=time.time,
        max_challenges: int = MAX_CHALLENGES,
        domain: str = DOMAIN_NAME,
        issuer: str = ISSUER,
    ):
        self.chain_id = chain_id
        self.domain, self.issuer = domain, issuer
        self.max_challenges = max_challenges
        self.challenge_ttl, self.token_ttl = challenge_ttl, token_ttl
        self._secret = secret or secrets.token_bytes(32)
        self._clock = clock
        self._live: dict[str, tuple[dict, float]] = {}  # typed-data hash -> (typed, expiry)
        self._lock = threading.Lock()

    def issue_challenge(self, chain_id: int | None = None) -> dict:
        """A fresh EIP-712 challenge for this proxy's chain, live for ``challenge_ttl`` seconds."""
        if chain_id is not None and chain_id != self.chain_id:
            raise ProxyAuthError(
                "Wrong chain.",
                expected=f"chainId {self.chain_id}",
                got=str(chain_id),
                hint="ask the proxy of your chain",
            )
        typed = challenge_typed_data("0x" + secrets.token_hex(32), self.chain_id, self.domain)
        with self._lock:
            now = self._clock()
            self._live = {h: v for h, v in self._live.items() if v[1] > now}
            while len(self._live) >= self.max_challenges:  # the oldest goes (dicts keep order)
                del self._live[next(iter(self._live))]
            self._live[typed_data_hash(typed)] = (typed, now + self.challenge_ttl)
        return typed

    def login(self, signed: str) -> str:
        """A JWT for ``hash_signature_address``; the challenge is burnt whatever happens next."""
        import jwt
        from eth_utils import to_checksum_address

        parts = signed.strip().strip('"').split("_")
        if len(parts) != 3:
            raise ProxyAuthError(
                M.CHALLENGE_UNKNOWN,
                expected="hash_signature_address",
                got=signed[:60],
                hint=M.HINT_CHALLENGE,
            )
        digest, signature, address = parts
        with self._lock:
            entry = self._live.pop(digest.lower(), None)
        if entry is None or entry[1] <= self._clock():
            raise ProxyAuthError(
                M.CHALLENGE_UNKNOWN, got=digest[:20] + "...", hint=M.HINT_CHALLENGE
            )
        recovered = recover_typed(entry[0], signature)
        if recovered.lower() != address.lower():
            raise ProxyAuthError(
                M.SIGNATURE_BAD, expected=address, got=recovered, hint=M.HINT_CHALLENGE
            )
        now = self._clock()
        claims = {
            "sub": to_checksum_address(recovered),
            "iat": int(now),
            "exp": now + self.token_ttl,
            "iss": self.issuer,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def verify(self, token: str | None) -> TokenClaims:
        """The claims of a token this proxy issued and that has not expired."""
        import jwt

        if not token:
            raise ProxyAuthError(M.TOKEN_MISSING, hint=M.HINT_TOKEN)
        token = token.removeprefix("Bearer ").strip()
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={"verify_exp": False, "require": ["sub", "exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise ProxyAuthError(M.TOKEN_BAD, got=type(exc).__name__, hint=M.HINT_TOKEN) from None
        if float(claims["exp"]) <= self._clock():
            raise ProxyAuthError(M.TOKEN_BAD, got="expired", hint=M.HINT_TOKEN)
        return TokenClaims(claims["sub"], float(claims["exp"]), claims.get("jti", ""))
