"""``dlmkit eval FILE...``: score DiffuSeq-format output files as DiffuSeq's evaluation script does.

A directory argument stands for the ``*json`` files in it, the official script's ``--folder``.
``make_eval_command`` takes the metric source (the registry: built-in and plugin metrics alike), so tests
can give their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dlmkit.errors import UserError
from dlmkit.evaluation.report import evaluate
from dlmkit.inference.metric_set import registered_metrics
from dlmkit.interfaces import Metric
from dlmkit.recipe.schema import DEFAULT_METRICS

DIVERSITY_DEFAULTS = ("self_bleu", "div4")


def expand_inputs(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a directory becomes its ``*json`` files, like the official ``--folder``."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*json"))
            if not found:
                raise UserError(f"{path}: directory holds no *json output files")
            files.extend(found)
        else:
            files.append(path)
    return files


def default_metric_names(num_files: int, mbr: bool) -> list[str]:
    """DiffuSeq's report: quality per file, plus selfBLEU and div-4 for several seeds without MBR."""
    names = list(DEFAULT_METRICS)
    if num_files > 1 and not mbr:
        names.extend(DIVERSITY_DEFAULTS)
    return names


def parse_metric_names(text: str) -> list[str]:
    """``"bleu, rouge_l"`` -> ``["bleu", "rouge_l"]``; an empty list is a usage error."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise UserError(f"--metrics {text!r} names no metric; give a comma-separated list such as bleu,rouge_l")
    return names


def render_table(report: Mapping[str, Any], console: Console) -> None:
    """One row per file, then the mean, the MBR picks and the cross-seed diversity, one column per metric."""
    metrics = list(report["summary"])
    files = [Path(name) for name in report["files"]]
    folders = {path.parent for path in files}
    shared = folders.pop() if len(folders) == 1 and len(files) > 1 else None  # show short names under one folder
    where = f" in {shared}" if shared is not None and shared != Path(".") else ""
    table = Table(title=escape(f"dlmkit eval: {report['num_examples']} examples{where}"), title_justify="left")
    table.add_column("outputs", overflow="fold")
    for name in metrics:
        table.add_column(name, justify="right", no_wrap=True, min_width=len(name))

    def add(label: str, values: Mapping[str, float]) -> None:
        table.add_row(escape(label), *(f"{values[m]:.4f}" if m in values else "-" for m in metrics))

    for name, path in zip(report["files"], files, strict=True):
        add(path.name if shared is not None else name, report["per_file"][name])
    count = len(report["files"])
    if count > 1:
        add(f"mean of {count} files", report["mean"])
    if "pooled" in report:
        add(f"pooled over {count} files", report["pooled"])
    if "mbr" in report:
        add(f"MBR over {count} files", report["mbr"])
    if "diversity" in report:
        add(f"across {count} seeds", report["diversity"])
    console.print(table)
    for name, signature in report["signatures"].items():
        console.print(f"{name} signature: {escape(signature)}", highlight=False)


def make_eval_command(metrics_source: Callable[[], Mapping[str, Metric]] = registered_metrics) -> click.Command:
    """Build the ``eval`` command; ``metrics_source`` returns the metrics by name (the registry; tests pass others)."""

    @click.command("eval")
    @click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
    @click.option("--mbr", is_flag=True, help="Score each example's MBR pick among the files (one file per seed).")
    @click.option(
        "--metrics",
        "metric_names",
        default=None,
        metavar="A,B",
        help="Comma-separated metric names [default: bleu,rouge_l,dist1,avg_len, "
        "plus self_bleu,div4 for several files without --mbr; bertscore only when named].",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print JSON with one key per metric instead of a table.")
    def eval_command(files: tuple[Path, ...], mbr: bool, metric_names: str | None, as_json: bool) -> None:
        """Score DiffuSeq-format output FILES (or directories of them), one file per seed.

        Quality metrics are scored per file; with several files, the summary is their mean (pooled
        over all files for share metrics such as mode_tv) plus selfBLEU/div-4 across seeds, or with
        --mbr the metrics of the MBR picks.
        """
        paths = expand_inputs(files)
        names = parse_metric_names(metric_names) if metric_names is not None else default_metric_names(len(paths), mbr)
        report = evaluate(paths, names, mbr=mbr, metrics_by_name=metrics_source())
        if as_json:
            click.echo(json.dumps(report["summary"], indent=2))
        else:
            render_table(report, Console())

    return eval_command


eval_command = make_eval_command()
