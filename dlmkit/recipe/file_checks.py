"""The checks of a recipe that open files: what ``validate --no-files`` skips and ``show`` reports as warnings.

A recipe can be read and checked apart from its files (a laptop preparing a run for a GPU machine
where the data and checkpoints live); these checks say, separately, which of the files it names are
not there yet or cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs

from dlmkit.errors import Problem, UserError
from dlmkit.recipe.schema import ComponentRef, EvalSpec, StageSpec, TeacherRef
from dlmkit.registry import Registry
from dlmkit.storage.teacher_files import check_teacher_file
from dlmkit.structuring import PATH_METADATA

#: What ``validate --no-files`` leaves out, in the words it prints.
FILE_CHECKS = (
    "[teacher] checkpoint exists and its header reads",
    "[eval] teacher_outputs exist",
    "files named by stage keys (student_from, psi_from, ...) exist",
    "[data] is built, which finds its files",
)

TEACHER_HINT = "train one with a train_teacher recipe, or convert an official one with `dlmkit teacher import`"
OUTPUTS_HINT = "write them with `dlmkit sample`, or remove teacher_outputs to sample the teacher in the run"


def named_files(teacher: Any, eval_spec: Any, stages: list[StageSpec]) -> list[tuple[str, str, str, str]]:
    """``(where, key, path, hint)`` of every input file the recipe names."""
    paths = []
    checkpoint = teacher.checkpoint if isinstance(teacher, TeacherRef) else None
    if checkpoint is not None and "://" not in checkpoint:
        paths.append(("[teacher]", "checkpoint", checkpoint, TEACHER_HINT))
    if isinstance(eval_spec, EvalSpec):
        paths += [("[eval]", "teacher_outputs", p, OUTPUTS_HINT) for p in eval_spec.teacher_outputs or []]
    for stage in stages:
        params = stage.params
        if params is None or not attrs.has(type(params)):
            continue
        for field in attrs.fields(type(params)):
            value = getattr(params, field.name)
            keywords = field.metadata.get(PATH_METADATA)
            if keywords is not None and isinstance(value, str) and value not in keywords:
                paths.append((f'[[stage]] "{stage.name}"', field.name, value, "write it first, or remove the key"))
    return paths


def missing_files(teacher: Any, eval_spec: Any, stages: list[StageSpec]) -> list[Problem]:
    """A problem for each named input file that does not exist, and for a teacher file whose header fails."""
    problems = [
        Problem(where, f"'{key}': no such file {path}", hint)
        for where, key, path, hint in named_files(teacher, eval_spec, stages)
        if not Path(path).exists()
    ]
    if isinstance(teacher, TeacherRef) and teacher.checkpoint is not None and Path(teacher.checkpoint).exists():
        try:
            check_teacher_file(Path(teacher.checkpoint))
        except UserError as exc:
            problems.append(Problem("[teacher]", f"'checkpoint': {exc}"))
    return problems


def data_problems(data: ComponentRef, registry: Registry) -> list[Problem]:
    """Build the data set (which locates its files) and report what fails."""
    try:
        registry.build(data.kind, data.name, data.params)
    except UserError as exc:
        return [Problem("[data]", str(exc).removeprefix("[data] "))]
    except Exception as exc:
        return [Problem("[data]", f"building dataset '{data.name}' failed: {type(exc).__name__}: {exc}")]
    return []
