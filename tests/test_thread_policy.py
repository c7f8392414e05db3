"""On a shared machine dlmkit's threads wait quietly, and use this process's share of its cores."""

from __future__ import annotations

import os
import subprocess
import sys

from dlmkit.thread_policy import QUIET_SPINCOUNT, default_threads, quiet_openmp_spin, usable_cores


def test_the_spin_wait_is_shortened_only_when_the_user_set_no_wait_policy() -> None:
    environ: dict[str, str] = {}
    assert quiet_openmp_spin(environ) and environ == {"GOMP_SPINCOUNT": QUIET_SPINCOUNT}
    for mine in ({"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "300000"}, {"KMP_BLOCKTIME": "200"}):
        environ = dict(mine)
        assert not quiet_openmp_spin(environ) and environ == mine


def test_default_threads_share_the_usable_cores_and_respect_omp_num_threads() -> None:
    cores = usable_cores()
    assert default_threads(1, {}) == cores
    assert default_threads(cores * 4, {}) == 1  # never zero
    assert default_threads(1, {"OMP_NUM_THREADS": "1"}) is None  # torchrun's per-worker setting wins


def test_the_command_line_sets_the_policy_before_torch_is_imported() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "KMP_BLOCKTIME")}
    code = "import os, sys, dlmkit.cli; print('torch' in sys.modules, os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", QUIET_SPINCOUNT]
