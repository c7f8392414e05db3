"""The ``[stage.objective]`` parameters of ``sid_min_snr`` (torch-free, so recipes validate quickly)."""

from __future__ import annotations

import math
from typing import Any

import attrs


def _finite(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"'{attribute.name}' must be a finite number, got {value!r}")


def _positive(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    _finite(instance, attribute, value)
    if value <= 0:
        raise ValueError(f"'{attribute.name}' must be > 0, got {value!r}")


def _boolean(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"'{attribute.name}' must be true or false, got {value!r}")


@attrs.frozen
class SidMinSnrParams:
    """SiD's ``alpha`` (DLM-One's mu) and loss scales, plus the Min-SNR clamp ``gamma``.

    A sample at timestep ``t`` is weighted ``min(SNR_t, gamma) / gamma``: 1 where the noise is
    light (``SNR_t >= gamma``), ``SNR_t / gamma`` where it is heavy.  ``normalise`` keeps SiD's
    per-sample ``1 / mean_m |x_g - A|`` on top (as the built-in ``sid`` does by default);
    ``weight_psi`` applies the same time weight to psi's denoising loss.
    """

    alpha: float = attrs.field(default=1.2, validator=_finite)
    gamma: float = attrs.field(default=5.0, validator=_positive)
    normalise: bool = attrs.field(default=True, validator=_boolean)
    weight_psi: bool = attrs.field(default=True, validator=_boolean)
    lambda_g: float = attrs.field(default=1.0, validator=_positive)
    lambda_psi: float = attrs.field(default=1.0, validator=_positive)
