"""An example dlmkit objective plugin: ``sid_min_snr``, SiD whose timesteps are weighted by Min-SNR-gamma."""

from __future__ import annotations

__version__ = "0.1.0"
