"""dlmkit hook implementations of the example objective plugin (the module the entry point names)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlmkit.hookspecs import Register, hookimpl
from dlmkit_example_objective.params import SidMinSnrParams

if TYPE_CHECKING:
    from dlmkit_example_objective.objective import SidMinSnr


def build_objective(params: SidMinSnrParams) -> SidMinSnr:
    """A ``sid_min_snr`` objective (torch is imported only when one is built)."""
    from dlmkit_example_objective.objective import build_sid_min_snr

    return build_sid_min_snr(params)


@hookimpl
def register_objectives(register: Register) -> None:
    register(
        "sid_min_snr",
        build_objective,
        params=SidMinSnrParams,
        summary="SiD with a Min-SNR-gamma timestep weight on the generator and psi losses (example plugin)",
    )
