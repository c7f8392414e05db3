"""A run folder's layout, written and read through one object.

``RUN/resolved.toml`` is the recipe as it ran, ``run_state.json`` the finished stages with their
artifacts (relative to the folder, so a moved run still resolves), ``vocab.txt`` the vocabulary,
``metrics.jsonl`` every logged scalar, ``results.json`` the final evaluation, and one folder per stage
(``RUN/STAGE/ckpt/step_NNNNNNN`` its checkpoints).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import attrs

from dlmkit.errors import UserError
from dlmkit.storage.atomic import write_text_atomic

#: A stage checkpoint folder sits three levels below its run: RUN/STAGE/ckpt/step_N.
CHECKPOINT_DEPTH = 2


@attrs.frozen
class RunFolder:
    """Where every file of one run lives."""

    root: Path

    @property
    def resolved_recipe(self) -> Path:
        return self.root / "resolved.toml"

    @property
    def state_file(self) -> Path:
        return self.root / "run_state.json"

    @property
    def vocab(self) -> Path:
        return self.root / "vocab.txt"

    @property
    def metrics_log(self) -> Path:
        return self.root / "metrics.jsonl"

    @property
    def results(self) -> Path:
        return self.root / "results.json"

    @property
    def lock_file(self) -> Path:
        """Where ``dlmkit.engine.run_lock`` holds the run's OS lock."""
        return self.root / ".lock"

    @classmethod
    def of_checkpoint(cls, folder: Path) -> RunFolder:
        """The run a stage checkpoint folder (``RUN/STAGE/ckpt/step_N``) belongs to (a relative path is resolved
        first, so ``step_N`` given from inside ``ckpt`` works)."""
        parents = folder.resolve().parents
        if len(parents) <= CHECKPOINT_DEPTH:
            raise UserError(f"{folder}: not a stage checkpoint folder (RUN/STAGE/ckpt/step_N)")
        return cls(parents[CHECKPOINT_DEPTH])

    def stage_dir(self, name: str) -> Path:
        """``RUN/NAME``; recipes allow only slug names, and this refuses anything that would leave the run."""
        path = self.root / name
        if path.resolve().parent != self.root.resolve():
            raise ValueError(f"stage name {name!r} would write outside the run folder {self.root}")
        return path

    def ckpt_dir(self, name: str) -> Path:
        return self.stage_dir(name) / "ckpt"

    def read_state(self) -> dict[str, Any]:
        """The run state (``{"stages": {}}`` before the first stage ends); a damaged file is named, not overwritten."""
        path = self.state_file
        if not path.is_file():
            return {"stages": {}}
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError, OSError) as exc:
            raise UserError(
                f"{path}: damaged ({type(exc).__name__}); restore it, or use another --output-dir"
            ) from None
        if not isinstance(state, dict) or not isinstance(state.get("stages"), dict):
            raise UserError(
                f"{path}: not a dlmkit run state (no 'stages' table); restore it, or use another --output-dir"
            )
        return state

    def write_state(self, state: dict[str, Any]) -> None:
        write_text_atomic(self.state_file, json.dumps(state, indent=2, default=str))

    def record(self, artifacts: dict[str, Path]) -> dict[str, str]:
        """Artifact paths as ``run_state.json`` keeps them: relative to the run folder."""
        return {name: os.path.relpath(path, self.root) for name, path in artifacts.items()}

    def artifacts(self, done: dict[str, Any]) -> dict[str, Path]:
        """A finished stage's artifacts, as ``run_state.json`` records them, found inside the folder."""
        try:
            recorded = recorded_artifacts(done)
        except ValueError as exc:
            raise UserError(f"{self.state_file}: {exc}; restore it, or start a new run in another folder") from None
        return {k: self.stored_path(v) for k, v in recorded.items()}

    def finished(self) -> dict[str, dict[str, Path]]:
        """Each finished stage's artifacts, found inside the folder even if it moved, in run order."""
        out: dict[str, dict[str, Path]] = {}
        for name, done in self.read_state()["stages"].items():
            if isinstance(done, dict) and done.get("summary", {}).get("complete"):
                out[name] = self.artifacts(done)
        return out

    def last_artifact(self, artifact: str) -> Path | None:
        """The last finished stage's ``artifact`` (a ``teacher``, a ``student``), if any stage left one."""
        found = [made[artifact] for made in self.finished().values() if artifact in made]
        return found[-1] if found else None

    def stored_path(self, recorded: str) -> Path:
        """A file that ``run_state.json`` names, found inside the folder even if the folder moved.

        Older runs recorded paths as they were given (often relative to the working directory the run
        was started from), so the tail of the recorded path is looked up inside the run folder, and only
        there: a file of the same name under the working directory belongs to another run.
        """
        path = Path(recorded)
        parts = path.parts[1:] if path.is_absolute() else path.parts
        for start in range(len(parts)):
            candidate = self.root.joinpath(*parts[start:])
            if candidate.is_file():
                return candidate
        raise UserError(
            f"{self.state_file} names {recorded}, which is not in {self.root}; a run reads only its own files (was "
            "one deleted?), so restore it or start a new run"
        )


def recorded_artifacts(data: dict[str, Any]) -> dict[str, str]:
    """A finished stage's artifacts as ``run_state.json`` records them.

    Runs written before artifacts were named kept ``teacher``/``student``/``psi`` at the top level.
    """
    named = data.get("artifacts")
    if named is not None:
        if not isinstance(named, dict) or not all(isinstance(v, str) and v for v in named.values()):
            raise ValueError(f"'artifacts' must map each artifact to a file, found {str(named)[:60]}")
        return {str(k): v for k, v in named.items()}
    return {k: str(data[k]) for k in ("teacher", "student", "psi") if data.get(k)}
