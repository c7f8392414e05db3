"""Offline evaluation of generation output files, following DiffuSeq's ``eval_seq2seq.py``.

Per file (one file per seed): the quality metrics.  Across files, without MBR: the diversity
metrics (those that need every seed's candidates).  With MBR: the quality metrics of each
example's MBR pick, scored against the first file's reference, files in sorted-name order.
Metrics are looked up by name in ``metrics_by_name`` so the plugin registry can supply them.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from dlmkit.errors import ComponentNotFound, UserError
from dlmkit.evaluation.output_files import OutputRow, read_output_files, row_from_mapping
from dlmkit.inference.mbr import mbr_pick_indices
from dlmkit.inference.metric_set import registered_metrics
from dlmkit.interfaces import Metric
from dlmkit.interfaces.metric import is_pooled
from dlmkit.metrics.inputs import mean

RowsLike: TypeAlias = Sequence[OutputRow | Mapping[str, Any]]
FilesOrRows: TypeAlias = Sequence[str | os.PathLike[str] | RowsLike]


def resolve_metrics(names: Sequence[str], metrics_by_name: Mapping[str, Metric]) -> dict[str, Metric]:
    """The requested metrics in order (duplicates dropped); an unknown name suggests the closest."""
    if not names:
        raise UserError("no metrics requested; name at least one, e.g. bleu")
    chosen: dict[str, Metric] = {}
    for name in names:
        if name in metrics_by_name:
            chosen[name] = metrics_by_name[name]
            continue
        close = difflib.get_close_matches(name, list(metrics_by_name), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ComponentNotFound(f"unknown metric {name!r}{hint}; known metrics: {', '.join(sorted(metrics_by_name))}")
    return chosen


def _rows(name: str, rows: RowsLike) -> list[OutputRow]:
    return [row if isinstance(row, OutputRow) else row_from_mapping(row, f"{name}[{j}]") for j, row in enumerate(rows)]


def _load(files_or_rows: FilesOrRows) -> tuple[list[str], list[list[OutputRow]]]:
    """Named row sets: files sorted by path (as the official glob is), row lists kept in order."""
    if isinstance(files_or_rows, str | os.PathLike) or not files_or_rows:
        raise UserError("give a list of output files (or of row lists) to evaluate; got none")
    paths: list[str | os.PathLike[str]] = []
    row_lists: list[RowsLike] = []
    for item in files_or_rows:
        if isinstance(item, str | os.PathLike):
            paths.append(item)
        else:
            row_lists.append(item)
    if paths and row_lists:
        raise UserError("give either output files or row lists, not a mixture of both")
    if paths:
        paths.sort(key=os.fspath)
        file_names = [os.fspath(path) for path in paths]
        return file_names, _non_empty(file_names, read_output_files(paths))
    names = [f"rows[{i}]" for i in range(len(row_lists))]
    sets = [_rows(name, rows) for name, rows in zip(names, row_lists, strict=True)]
    if len({len(rows) for rows in sets}) > 1:
        counts = ", ".join(f"{n} has {len(rows)}" for n, rows in zip(names, sets, strict=True))
        raise UserError(f"row lists differ in length ({counts}); item k of every list must be the same example")
    return names, _non_empty(names, sets)


def _non_empty(names: list[str], sets: list[list[OutputRow]]) -> list[list[OutputRow]]:
    for name, rows in zip(names, sets, strict=True):
        if not rows:
            raise UserError(f"{name}: no output rows; it must hold one JSON object per generated example")
    return sets


def _score(metrics: Mapping[str, Metric], rows: Sequence[OutputRow]) -> dict[str, float]:
    hyps = [row.recover for row in rows]
    refs = [row.reference for row in rows]
    sources = [row.source for row in rows]
    return {name: float(metric.compute(hyps, refs, sources)) for name, metric in metrics.items()}


def evaluate(
    files_or_rows: FilesOrRows,
    metrics: Sequence[str],
    mbr: bool = False,
    metrics_by_name: Mapping[str, Metric] | None = None,
) -> dict[str, Any]:
    """Score output files (one per seed) or row lists.

    Returns ``files`` (names in evaluation order), ``num_examples``, ``per_file`` (name -> metric ->
    value), ``mean`` (quality metrics averaged over files), ``diversity`` (candidate metrics, when
    requested), ``mbr`` (quality metrics of the MBR picks, with ``mbr=True``), ``pooled`` (with several
    files, pooled metrics scored on every file's rows together: ``is_pooled``), ``summary`` (one headline
    value per requested metric: the MBR value with ``mbr``, else the pooled value, else the mean over files) and
    ``signatures`` (metric -> settings string, for metrics that expose one).
    """
    chosen = resolve_metrics(metrics, registered_metrics() if metrics_by_name is None else metrics_by_name)
    quality = {name: m for name, m in chosen.items() if not m.needs_candidates}
    diverse = {name: m for name, m in chosen.items() if m.needs_candidates}
    names, sets = _load(files_or_rows)
    if diverse and len(sets) < 2:
        raise UserError(
            f"{', '.join(diverse)} compare the outputs of several seeds; give at least two output files (one per seed)"
        )
    if mbr and len(sets) < 2:
        raise UserError("MBR picks among several seeds' outputs; give at least two output files (one per seed)")

    per_file = {name: _score(quality, rows) for name, rows in zip(names, sets, strict=True)}
    result: dict[str, Any] = {
        "files": names,
        "num_examples": len(sets[0]),
        "per_file": per_file,
        "mean": {metric: mean(scores[metric] for scores in per_file.values()) for metric in quality},
    }
    if diverse:
        candidates = [[row.recover for row in rows] for rows in sets]
        first = sets[0]
        hyps, refs, sources = [r.recover for r in first], [r.reference for r in first], [r.source for r in first]
        result["diversity"] = {
            name: float(metric.compute(hyps, refs, sources, candidates=candidates)) for name, metric in diverse.items()
        }
    if mbr:
        picks = mbr_pick_indices([[row.recover for row in rows] for rows in sets])
        chosen_rows = [
            OutputRow(recover=sets[seed][i].recover, reference=sets[0][i].reference, source=sets[0][i].source)
            for i, seed in enumerate(picks)
        ]
        result["mbr"] = _score(quality, chosen_rows)
    pooled = {name: m for name, m in quality.items() if is_pooled(m)}
    if pooled and len(sets) > 1:
        result["pooled"] = _score(pooled, [row for rows in sets for row in rows])
    headline = result["mbr"] if mbr else {**result["mean"], **result.get("pooled", {})}
    result["summary"] = {name: (result["diversity"][name] if name in diverse else headline[name]) for name in chosen}
    result["signatures"] = {}
    for name, metric in chosen.items():
        signature = getattr(metric, "signature", None)  # optional: sacreBLEU and BERTScore settings strings
        if isinstance(signature, str):
            result["signatures"][name] = signature
    return result
