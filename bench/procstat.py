"""Per-process figures read from /proc, so each bot's CPU and memory are measured apart from everything else.

`os.times()` only sees reaped children; /proc/<pid>/stat sees a live process, all its threads included.
"""

from __future__ import annotations

import math
import os
import platform
import socket
from pathlib import Path
from typing import Any

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a live process (all threads), from fields 14 and 15 of /proc/<pid>/stat."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    fields = raw[raw.rindex(")") + 2 :].split()  # the command name may contain spaces; field 3 starts here
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def memory_mib(pid: int, key: str = "VmHWM") -> float:
    """A memory line of /proc/<pid>/status in MiB: VmHWM is the peak resident set, VmRSS the current one."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def machine() -> dict[str, Any]:
    """What the figures were measured on: they only compare within one run on one machine."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cpu_model": model,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100); NaN for no values, so a missing figure is visible, not zero."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


_NET_TABLES = ("tcp", "tcp6", "udp", "udp6")


def _address(hex_address: str) -> str:
    """`0100007F:1F90` (IPv4, little-endian words) or the 32-digit IPv6 form -> the address without its port."""
    host = hex_address.split(":")[0]
    raw = bytes.fromhex(host)
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw[::-1])
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
    return socket.inet_ntop(socket.AF_INET6, words)


def socket_addresses(pid: int) -> set[tuple[str, str, str]]:
    """(protocol, local address, remote address) of every TCP/UDP socket the process holds now, from /proc: which
    hosts it listens on and talks to. A vanished process or socket yields nothing rather than an error."""
    try:
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:  # closed meanwhile (the listing's own descriptor, for one)
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        found = set()
        for table in _NET_TABLES:
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[9] in inodes:
                    found.add((table, _address(fields[1]), _address(fields[2])))
        return found
    except OSError:
        return set()


def is_loopback(address: str) -> bool:
    """127.0.0.0/8, ::1, or the unspecified peer of a listening socket (0.0.0.0 / ::)."""
    return address.startswith("127.") or address in ("::1", "0.0.0.0", "::") or address.startswith("::ffff:127.")
