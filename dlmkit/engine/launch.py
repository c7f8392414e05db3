"""``dlmkit run --nproc N``: hand the command to torchrun (``torch.distributed.run``), standalone rendezvous."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from dlmkit.errors import DlmkitError


def inside_torchrun() -> bool:
    return "TORCHELASTIC_RUN_ID" in os.environ or int(os.environ.get("WORLD_SIZE", "1")) > 1


def launch(nproc: int, run_args: Sequence[str]) -> None:
    """Start ``nproc`` processes running ``python -m dlmkit run <run_args>``; a failed rank stops them all."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    os.environ.setdefault("OMP_NUM_THREADS", "1")  # N processes share the cores
    args = get_args_parser().parse_args(
        ["--standalone", f"--nproc-per-node={nproc}", "--no-python", sys.executable, "-m", "dlmkit", "run", *run_args]
    )
    try:
        run(args)
    except ChildFailedError as exc:
        failure = min(exc.failures.values(), key=lambda f: f.timestamp)  # the root cause: the first to fail
        message = failure.message if isinstance(failure.message, str) else failure.message.get("message", "")
        raise DlmkitError(
            f"rank {failure.local_rank} of {nproc} failed (exit code {failure.exitcode}); all ranks were stopped.\n"
            f"{message or '(no error message; see the output above)'}"
        ) from None
