"""An example dlmkit observer plugin: ``<run_dir>/<stage>/scalars.csv`` when ``DLMKIT_CSV_LOG`` is set."""

from __future__ import annotations

__version__ = "0.1.0"
