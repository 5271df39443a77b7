"""Which TCP sockets a process listens on, read from /proc (Linux): [(host, port)]."""

from __future__ import annotations

import ipaddress
import os

from iexec_kit.ui.voila_server import _children as _descendants  # the one /proc walk


def _inodes(pid: int) -> set[str]:
    found = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return found
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            found.add(target[8:-1])
    return found


def _host(hexaddr: str) -> str:
    raw = bytes.fromhex(hexaddr)
    if len(raw) == 4:
        return str(ipaddress.IPv4Address(raw[::-1]))
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    addr = ipaddress.IPv6Address(words)
    return str(addr.ipv4_mapped) if addr.ipv4_mapped else str(addr)


def listening(pid: int, *, children: bool = True) -> list[tuple[str, int]]:
    """(host, port) of every TCP socket in LISTEN state that ``pid`` (and its descendants)
    hold."""
    pids = [pid, *(_descendants(pid) if children else [])]
    inodes = set().union(*(_inodes(p) for p in pids))
    out = []
    for table in ("tcp", "tcp6"):
        try:
            with open(f"/proc/{pid}/net/{table}") as fh:
                rows = fh.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            f = row.split()
            local, state, inode = f[1], f[3], f[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                host, port = local.split(":")
                out.append((_host(host), int(port, 16)))
    return out
