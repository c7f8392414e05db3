"""An example dlmkit teacher plugin: ``adaln_transformer``, a pre-LN transformer with adaLN time conditioning."""

from __future__ import annotations

__version__ = "0.1.0"
