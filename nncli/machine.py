"""What this machine lets the process use, for the size estimates made before allocating
(config/checks.py: the network; data/tables.py and data/csvread.py: the data)."""

from __future__ import annotations

import os


def memory_bytes() -> int | None:
    """Bytes of memory this process can use: what the system says is available now (Linux
    MemAvailable; elsewhere the physical memory), or less under ulimit -v (RLIMIT_AS); None where
    the system says nothing. Not the physical memory alone: other processes hold part of it, and
    the kernel kills a process that takes more (exit 137, no message)."""
    found = available_bytes()
    if found is None:
        try:
            found = int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            found = None
    limit = address_space_limit()
    return limit if found is None else (found if limit is None else min(found, limit))


def available_bytes() -> int | None:
    """MemAvailable of /proc/meminfo in bytes (Linux), else None."""
    try:
        with open("/proc/meminfo", "rb") as fh:
            for line in fh.read(1 << 16).splitlines():
                if line.startswith(b"MemAvailable:"):
                    parts = line.split()
                    return int(parts[1]) * (1024 if parts[2:3] == [b"kB"] else 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def address_space_limit() -> int | None:
    """The soft RLIMIT_AS of this process in bytes (ulimit -v), None when unlimited or unknown."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, ValueError, OSError, AttributeError):
        return None
    return None if soft == resource.RLIM_INFINITY or soft <= 0 else int(soft)
