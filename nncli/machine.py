"""What this machine lets the process use, for the size estimates made before allocating
(config/checks.py: the network; data/tables.py and data/csvread.py: the data)."""

from __future__ import annotations

import os


def memory_bytes() -> int | None:
    """The machine's physical memory in bytes, or less when the process may not use it all (ulimit
    -v: RLIMIT_AS), or None where the system says neither."""
    try:
        phys = int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        phys = None
    limit = address_space_limit()
    return limit if phys is None else (phys if limit is None else min(phys, limit))


def address_space_limit() -> int | None:
    """The soft RLIMIT_AS of this process in bytes (ulimit -v), None when unlimited or unknown."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, ValueError, OSError, AttributeError):
        return None
    return None if soft == resource.RLIM_INFINITY or soft <= 0 else int(soft)
