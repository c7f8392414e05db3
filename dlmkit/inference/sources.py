"""Open what a user points at (a run folder, a recipe, or a checkpoint) as models plus data.

``dlmkit sample`` and ``dlmkit bench`` take any of the three:

* a **run folder** (made by ``dlmkit run``): ``resolved.toml`` is the recipe as it ran,
  ``run_state.json`` names each finished stage's files, and ``vocab.txt`` is the vocabulary the
  models were trained with.  The teacher is the recipe's ``[teacher] checkpoint`` or the last
  finished ``train_teacher`` stage's file; the student is the last finished distill stage's.
* a **recipe** file: data and schedule from it, the teacher from ``[teacher] checkpoint``; no student.
* a **checkpoint** (a dlmkit ``.safetensors`` or any format a plugin reads): the model only.  A
  checkpoint carries neither data nor a schedule, so a recipe or run folder must supply them
  (``data_from``); the checkpoint then stands for whichever model is asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import attrs
import torch

from dlmkit.errors import UserError
from dlmkit.interfaces import Dataset, Denoiser, NoiseSchedule
from dlmkit.interfaces.stage import STUDENT_ARTIFACT, TEACHER_ARTIFACT
from dlmkit.plugins import build
from dlmkit.recipe.load import load_recipe
from dlmkit.recipe.schema import ComponentRef, Recipe
from dlmkit.storage.run_layout import RunFolder
from dlmkit.storage.teacher_files import load_teacher

RESOLVED_RECIPE = RunFolder(Path()).resolved_recipe.name

Role = Literal["teacher", "student"]
SourceKind = Literal["run", "recipe", "checkpoint"]


@attrs.define
class OpenedSource:
    """A recipe, the data and schedule it names, and where its teacher and student weights are."""

    kind: SourceKind
    path: Path
    recipe: Recipe
    run_dir: Path | None
    dataset: Dataset
    schedule: NoiseSchedule
    teacher_path: Path | None = None
    student_path: Path | None = None
    notes: list[str] = attrs.field(factory=list)

    @property
    def default_role(self) -> Role:
        """The student when there is one; a checkpoint whose file name starts with ``student`` is one."""
        if self.kind == "checkpoint":
            return "student" if self.path.name.startswith("student") else "teacher"
        return "student" if self.student_path is not None else "teacher"

    @property
    def student_sampler(self) -> ComponentRef:
        """The recipe's ``[sampler]``: how the student was evaluated (its ``t_init`` in particular)."""
        return self.recipe.sampler

    def model_path(self, role: Role) -> Path:
        """The weights file of ``role``, or a ``UserError`` saying what the source lacks."""
        path = self.teacher_path if role == "teacher" else self.student_path
        if path is not None:
            return path
        if role == "student":
            where = (
                f"run folder {self.path} has no finished distill stage"
                if self.kind == "run"
                else f"recipe {self.path} names no student (only a run folder has one)"
            )
            raise UserError(f"{where}; use --model teacher, or give the run folder of a finished distillation")
        raise UserError(
            f"{self.path} has no teacher: set [teacher] checkpoint in the recipe, or give the run folder of a "
            "run whose train_teacher stage finished"
        )

    def load_model(self, role: Role, device: torch.device) -> Denoiser:
        """The model of ``role`` in eval mode on ``device``, checked against the data's vocabulary."""
        path = self.model_path(role)
        model = load_teacher(path)
        vocab = self.dataset.tokenizer.vocab_size
        if model.vocab_size != vocab:
            raise UserError(
                f"{path}: the {role} has a vocabulary of {model.vocab_size} tokens but [data] gives {vocab}; "
                "use the data settings (and vocab.txt) it was trained with"
            )
        if model.seq_len < self.dataset.seq_len:
            raise UserError(
                f"{path}: the {role} handles sequences of {model.seq_len} tokens but [data] seq_len is "
                f"{self.dataset.seq_len}; set --set data.seq_len={model.seq_len}"
            )
        moved: Denoiser = model.to(device)
        return moved


def open_source(path: str | Path, overrides: Iterable[str] = (), data_from: str | Path | None = None) -> OpenedSource:
    """Open a run folder, a recipe file or a checkpoint; ``overrides`` are ``--set`` values for the recipe.

    ``data_from`` (a recipe or a run folder) gives the data and schedule of a checkpoint; for a
    run folder or recipe it is not allowed, since they name their own data.
    """
    source = Path(path)
    if not source.exists():
        raise UserError(f"{source}: no such file or folder; give a run folder, a recipe .toml or a checkpoint")
    overrides = list(overrides)
    if source.is_dir() and (source / RESOLVED_RECIPE).is_file():
        _refuse_data_from(source, data_from)
        return _open_run(source, overrides)
    if source.is_file() and source.suffix == ".toml":
        _refuse_data_from(source, data_from)
        return _open_recipe(source, overrides)
    if data_from is None:
        if source.is_dir():
            raise UserError(
                f"{source} is not a run folder: it has no {RESOLVED_RECIPE} (a run folder is the --output-dir of "
                "`dlmkit run`); for a checkpoint folder, also pass --recipe RECIPE_OR_RUN for its data"
            )
        raise UserError(
            f"{source}: a checkpoint holds no data or schedule; pass --recipe RECIPE_OR_RUN (a recipe file or a "
            "run folder) to say which data set and noise schedule to use"
        )
    base = open_source(data_from, overrides)
    return attrs.evolve(base, kind="checkpoint", path=source, teacher_path=source, student_path=source, notes=[])


def _refuse_data_from(source: Path, data_from: str | Path | None) -> None:
    if data_from is not None:
        raise UserError(
            f"--recipe is only for a checkpoint SOURCE; {source} names its own data (use --set data.KEY=VALUE to "
            "change it)"
        )


def _open_recipe(path: Path, overrides: list[str]) -> OpenedSource:
    recipe = load_recipe(path, overrides)
    teacher = Path(recipe.teacher.checkpoint) if recipe.teacher.checkpoint is not None else None
    notes = []
    if teacher is None:
        run_dir = Path(recipe.header.output_dir or Path("runs") / recipe.name)
        where = f" ({run_dir} holds one)" if (run_dir / RESOLVED_RECIPE).is_file() else ""
        notes.append(f"{path} trains its own teacher; give its run folder{where} to use that teacher")
    return _opened("recipe", path, recipe, None, teacher, None, notes)


def _open_run(run_dir: Path, overrides: list[str]) -> OpenedSource:
    folder = RunFolder(run_dir)
    recipe = load_recipe(folder.resolved_recipe, overrides)
    finished = folder.finished()
    notes: list[str] = []
    teacher = Path(recipe.teacher.checkpoint) if recipe.teacher.checkpoint is not None else None
    student: Path | None = None
    student_stage: str | None = None
    for stage in recipe.stages:
        artifacts = finished.get(stage.name, {})
        if TEACHER_ARTIFACT in artifacts:
            teacher = artifacts[TEACHER_ARTIFACT]
        if STUDENT_ARTIFACT in artifacts:
            student, student_stage = artifacts[STUDENT_ARTIFACT], stage.name
    students = [s.name for s in recipe.stages if STUDENT_ARTIFACT in build("stage", s.kind, s.params).produces]
    if student_stage is not None and students and student_stage != students[-1]:
        notes.append(f"stage '{students[-1]}' has not finished; the student is stage '{student_stage}'s")
    return _opened("run", run_dir, recipe, run_dir, teacher, student, notes)


def _opened(
    kind: SourceKind,
    path: Path,
    recipe: Recipe,
    run_dir: Path | None,
    teacher: Path | None,
    student: Path | None,
    notes: list[str],
) -> OpenedSource:
    """The source with the recipe's data and schedule built (a run's own vocabulary when it has one)."""
    dataset = build_dataset(recipe, run_dir)
    schedule = build("schedule", recipe.schedule.name, recipe.schedule.params)
    return OpenedSource(kind, path, recipe, run_dir, dataset, schedule, teacher, student, notes)


def build_dataset(recipe: Recipe, run_dir: Path | None) -> Dataset:
    """The recipe's dataset; a ``custom`` vocabulary is the run's ``vocab.txt``, not a fresh retraining."""
    ref = recipe.data
    params = ref.params
    vocab_file = RunFolder(run_dir).vocab if run_dir is not None else None
    if vocab_file is not None and vocab_file.is_file() and getattr(params, "vocab", None) == "custom":
        params = attrs.evolve(params, vocab=str(vocab_file.resolve()))
    dataset: Dataset = build("dataset", ref.name, params)
    return dataset
