"""How dlmkit's CPU threads behave when the machine is shared.

OpenMP threads spin for a while after every parallel region, waiting for the next one.  Alone that
saves a wake-up; beside another busy process the spinning threads take the cores that process needs,
and both crawl.  Measured on 2 cores (``benchmarks/shared_machine.py``, quickstart teacher steps):
a competing process slowed a run 3.4-3.9x with OpenMP's default spin, 2.05x (a fair share) with
``GOMP_SPINCOUNT=10000``, which costs nothing alone.  The command line sets that unless the user set
a wait policy; it must happen before torch starts its OpenMP runtime, so before torch is imported.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

#: Variables that already say how OpenMP threads should wait; dlmkit leaves them alone.
WAIT_VARIABLES = ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")
QUIET_SPINCOUNT = "10000"


def quiet_openmp_spin(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Shorten OpenMP's spin-wait unless a wait policy is set; ``True`` when this set it."""
    if any(name in environ for name in WAIT_VARIABLES):
        return False
    environ["GOMP_SPINCOUNT"] = QUIET_SPINCOUNT
    return True


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, which containers and ``taskset`` narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - platforms without affinity masks
        return os.cpu_count() or 1


def default_threads(processes: int, environ: MutableMapping[str, str] = os.environ) -> int | None:
    """Intra-op threads when ``[runtime] threads`` is unset: this process's share of its usable cores.

    ``None`` (leave torch's choice) when ``OMP_NUM_THREADS`` is set, as ``torchrun`` does for each worker.
    """
    if "OMP_NUM_THREADS" in environ:
        return None
    return max(1, usable_cores() // max(1, processes))
