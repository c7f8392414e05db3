"""Write throwaway installed distributions (a .dist-info with entry points) for plugin tests."""

from __future__ import annotations

import importlib
from pathlib import Path


def make_distribution(root: Path, dist: str, module: str, source: str, entry_name: str | None = None) -> Path:
    """A distribution ``dist`` whose ``dlmkit`` entry point loads ``module`` (written from ``source``)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{module}.py").write_text(source, encoding="utf-8")
    info = root / f"{dist.replace('-', '_')}-0.0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.0.1\n", encoding="utf-8")
    (info / "entry_points.txt").write_text(f"[dlmkit]\n{entry_name or module} = {module}\n", encoding="utf-8")
    importlib.invalidate_caches()
    return root
