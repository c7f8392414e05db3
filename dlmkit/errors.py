"""Errors users see.  ``UserError`` subclasses print as one clear message, exit code 2, no traceback."""

from __future__ import annotations

from collections.abc import Sequence

import attrs


class DlmkitError(Exception):
    """Base of every dlmkit error."""


class UserError(DlmkitError):
    """Bad input (a recipe, a file, a flag): reported without a traceback, exit code 2."""

    exit_code = 2


@attrs.frozen
class Problem:
    """One problem in a recipe: where it is and what would be right."""

    where: str
    message: str
    hint: str = ""

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text}\n      {self.hint}" if self.hint else text


class RecipeError(UserError):
    """Every problem of one recipe, reported together."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{source}: {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([head, *("  " + p.render() for p in self.problems)]))


class ComponentNotFound(UserError):
    """A recipe or command named a component nobody registered."""


class PluginConflict(DlmkitError):
    """Two plugins registered the same component name."""


class PluginLoadError(DlmkitError):
    """A plugin failed to import or validate, in strict mode."""


class PluginContractError(UserError):
    """A plugin's component does not satisfy the interface of its kind (a bug in that plugin)."""


class CheckpointError(UserError):
    """A checkpoint file is missing, unsafe or does not match the model."""


class TrainingDiverged(UserError):
    """Too many non-finite steps in a row, or a stage in which the generator never took a finite step.

    A user error (exit 2): the cure is in the recipe (learning rates, ``max_grad_norm``), and the
    message names the last good checkpoint.
    """


class RunInterrupted(DlmkitError):
    """A run stopped on SIGTERM or Ctrl-C after writing a checkpoint; exit 128 + the signal's number.

    Batch schedulers send SIGTERM before preempting a job: the run finishes its step, saves, says how
    to resume and exits with 143 (SIGTERM) or 130 (SIGINT), as a shell reports a process those signals ended.
    """

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code
