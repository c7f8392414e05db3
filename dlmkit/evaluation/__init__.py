"""Offline evaluation: DiffuSeq output files, MBR selection and metric reports."""

from __future__ import annotations

from dlmkit.evaluation.output_files import (
    OUTPUT_KEYS,
    OutputRow,
    read_output_file,
    read_output_files,
    row_from_mapping,
    write_output_file,
)
from dlmkit.evaluation.report import evaluate, resolve_metrics
from dlmkit.inference.mbr import bleu_matrix, mbr_pick_indices, mbr_select

__all__ = [
    "OUTPUT_KEYS",
    "OutputRow",
    "bleu_matrix",
    "evaluate",
    "mbr_pick_indices",
    "mbr_select",
    "read_output_file",
    "read_output_files",
    "resolve_metrics",
    "row_from_mapping",
    "write_output_file",
]
