"""The distillation proof in CI, at the recipes' own settings: distilling must raise validity, a frozen psi must not.

The first stage of ``recipes/proof_modes.toml`` (the shipped learned teacher) and of
``recipes/proof_modes_oracle.toml`` (the exact teacher) run for their first ``steps`` iterations with
every rate, objective and batch as the recipe sets them (a rate the recipe anneals over the whole
stage stays at its start, where the recipe's first iterations have it), once as they are and once as
the negative control (psi a frozen copy of the teacher, its discriminator head at learning rate 0,
so the score difference, DMD's or SiD's ``A - B``, is zero; a regression term, where a recipe has
one, off).  The learned rung runs ``dmd`` and the exact rung
``sid``, so both gradients are covered.  Validation at step 0 scores the undistilled student and at
the last step the distilled one, on the same sources and noise.  If any part of the mechanism breaks
(the objective's gradient, psi's DSM update, condition replacement, the generator's optimiser), the
gain falls to the control's.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.engine.pipeline import run_recipe
from dlmkit.recipe.load import load_recipe
from dlmkit.recipe.toml_writer import dumps
from dlmkit.stages.lr_anneal import factor_at

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
RECIPES = REPO / "recipes"
#: Validity the distilled student must gain over the undistilled one; the control must stay below it.
MARGIN = 0.10
#: (recipe, iterations): measured gains at these lengths are in docs/results.md ("CI proof tests").
CASES = [("proof_modes.toml", 100), ("proof_modes_oracle.toml", 150)]
PATH_KEYS = ("student_from", "psi_from")


def _stage1_recipe(tmp_path: Path, name: str, steps: int, control: bool) -> Path:
    """The recipe's first stage alone, validated on 200 sources at step 0 and at ``steps``; no final eval."""
    data: dict[str, Any] = tomllib.loads((RECIPES / name).read_text(encoding="utf-8"))
    data["teacher"]["checkpoint"] = str((RECIPES / data["teacher"]["checkpoint"]).resolve())
    data.pop("eval")
    stage = data["stage"][0]
    for key in PATH_KEYS:
        if key in stage:
            stage[key] = str((RECIPES / stage[key]).resolve())
    for spec in stage.get("optim", {}).values():
        if isinstance(spec, dict) and "lr_final" in spec:
            # The recipe's first `steps` iterations run at its starting rate: its anneal over the whole stage
            # has hardly begun by then.  Squeezing the anneal into `steps` would test another schedule.
            assert factor_at(spec["lr"], spec["lr_final"], steps, stage["steps"]) > 0.97, name
            del spec["lr_final"]
    stage.update(steps=steps, eval_every=steps, eval_samples=200, log_every=steps, ckpt_every=0)
    if control:
        # psi frozen at the teacher itself, so the score difference is zero on both rungs: on the exact rung
        # a frozen psi_from network would leave `A - B` the oracle's correction of that network, a signal
        stage.pop("psi_from", None)
        stage["optim"]["psi"]["lr"] = 0.0
        stage.setdefault("optim", {})["head_lr"] = 0.0
        stage.pop("regression", None)  # the teacher's map is a signal about the student too: off in the control
    data["stage"] = [stage]
    path = tmp_path / f"{'control' if control else 'proof'}_{name}"
    path.write_text(dumps(data), encoding="utf-8")
    return path


def _validity_gain(tmp_path: Path, name: str, steps: int, control: bool) -> float:
    run_dir = tmp_path / f"{'control' if control else 'proof'}_{Path(name).stem}"
    run_recipe(load_recipe(_stage1_recipe(tmp_path, name, steps, control)), output_dir=run_dir, progress=False)
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    scores = {row["step"]: row["val_validity"] for row in lines if "val_validity" in row}
    assert sorted(scores) == [0, steps]
    return scores[steps] - scores[0]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "steps"), CASES)
def test_distillation_raises_validity_and_a_frozen_psi_does_not(tmp_path: Path, name: str, steps: int) -> None:
    gain = _validity_gain(tmp_path, name, steps, control=False)
    control = _validity_gain(tmp_path, name, steps, control=True)
    print(f"{name}: validity gain {gain:+.3f} in {steps} iterations, frozen-psi control {control:+.3f}")
    assert gain >= MARGIN, (
        f"{name}: distillation gained {gain:+.3f} validity in {steps} iterations (needs {MARGIN:+.2f})"
    )
    assert control < MARGIN, f"{name}: the frozen-psi control gained {control:+.3f}: the gain is not the mechanism's"


def test_a_psi_with_nothing_to_train_is_refused_unless_frozen(tmp_path: Path) -> None:
    """The exact rung's control (psi a copy of the oracle, which has no parameters) with psi's rate back
    on: learning such a psi is an error that names the fix; frozen, it is the control above."""
    path = _stage1_recipe(tmp_path, "proof_modes_oracle.toml", 30, control=True)
    args = ["run", str(path), "--set", "stage.stage1.optim.psi.lr=3e-4", "--output-dir", str(tmp_path / "run")]
    result = CliRunner().invoke(cli, [*args, "--no-progress"])
    assert result.exit_code == 2, result.output
    assert "psi has no parameters to train" in result.output and "psi_from" in result.output
    assert "Traceback" not in result.output
