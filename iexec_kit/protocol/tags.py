"""An order's tag: a bytes32 of feature flags (TEE, GPU ...), as iExec's SDK names its bits."""

from __future__ import annotations

from enum import IntFlag

from iexec_kit.errors import KitValueError


class Tag(IntFlag):
    """Named flags over an order's bytes32 tag (the lowest bits), as iExec's SDK encodes them.

    A requester's tag asks for features; the workerpool's tag must offer every one of them.
    """

    NONE = 0
    TEE = 1 << 0
    SCONE = 1 << 1
    GRAMINE = 1 << 2
    TDX = 1 << 3
    GPU = 1 << 8

    @classmethod
    def parse(cls, value) -> Tag:
        """Tag from a Tag, an int, bytes32, a 0x-hex string, or names like "tee,gpu" / ["tee"]."""
        if isinstance(value, Tag):
            return value
        if isinstance(value, int):
            return cls(value)
        if isinstance(value, (bytes, bytearray)):
            return cls(int.from_bytes(value, "big"))
        if isinstance(value, str) and value.startswith("0x"):
            return cls(int(value, 16))
        names = value.split(",") if isinstance(value, str) else list(value)
        tag = cls.NONE
        for name in (n.strip().upper() for n in names if n.strip()):
            if name not in cls.__members__:
                raise KitValueError(
                    f"unknown tag {name.lower()!r}",
                    expected=", ".join(m.lower() for m in cls.__members__ if m != "NONE"),
                    got=name.lower(),
                )
            tag |= cls[name]
        return tag

    def to_bytes32(self) -> bytes:
        return int(self).to_bytes(32, "big")
