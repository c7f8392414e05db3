"""DiffuSeq (Gong et al., 2023) as a dlmkit teacher, compatible with the official checkpoints."""

from __future__ import annotations

from dlmkit_diffuseq.params import DiffuSeqParams

__version__ = "0.1.0"

__all__ = ["DiffuSeqParams", "__version__"]
