"""Run a recipe: build its components once, run its stages in order, evaluate, and make it resumable.

The run folder holds ``resolved.toml`` (the recipe as it ran), ``run_state.json`` (finished stages),
``metrics.jsonl``, one folder per stage, and ``results.json`` when the recipe has an ``[eval]`` table.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dlmkit.engine.atomic import write_text_atomic
from dlmkit.engine.context import RunContext, StageResult
from dlmkit.engine.distillation import run_distillation
from dlmkit.engine.progress import console
from dlmkit.engine.run_lock import hold_run_folder
from dlmkit.engine.runtime import Runtime, seed_everything
from dlmkit.engine.teacher_files import load_teacher
from dlmkit.engine.teacher_training import run_teacher_training
from dlmkit.errors import UserError
from dlmkit.interfaces import Teacher, Tokenizer
from dlmkit.plugins import get_plugins, get_registry
from dlmkit.recipe.load import recipe_hash, render, resolved_dict
from dlmkit.recipe.schema import ComponentRef, Recipe

RUNNERS: dict[str, Callable[[RunContext, Any], StageResult]] = {
    "train_teacher": run_teacher_training,
    "distill": run_distillation,
}
STATE_FILE = "run_state.json"


def build(ref: ComponentRef) -> Any:
    """Instantiate a component from its recipe reference."""
    entry = get_registry().get(ref.kind, ref.name)
    return entry.factory(ref.params)


def _teacher(recipe: Recipe, tokenizer: Tokenizer, seq_len: int) -> Teacher:
    if recipe.teacher.checkpoint is not None:
        if not Path(recipe.teacher.checkpoint).exists():
            raise UserError(
                f"{recipe.source}: [teacher] checkpoint {recipe.teacher.checkpoint} does not exist.  Get a teacher by "
                "importing an official DiffuSeq checkpoint (`dlmkit teacher import ema_0.9999_XXXXXX.pt "
                f"{recipe.teacher.checkpoint}`, or point 'checkpoint' at the official ema_*.pt / its folder), or by "
                "training one (recipes/diffuseq_qqp_teacher.toml writes <run>/teacher/teacher.safetensors)"
            )
        teacher = load_teacher(recipe.teacher.checkpoint)
        if teacher.vocab_size != tokenizer.vocab_size:
            raise UserError(
                f"[teacher] checkpoint {recipe.teacher.checkpoint} has a vocabulary of {teacher.vocab_size} "
                "tokens, but "
                f"[data] gives {tokenizer.vocab_size}; use the vocabulary the teacher was trained with"
            )
        return teacher
    return fresh_teacher(recipe, tokenizer, seq_len)


def fresh_teacher(recipe: Recipe, tokenizer: Tokenizer, seq_len: int) -> Teacher:
    """A newly initialised teacher of the recipe's ``[teacher]`` component, sized for ``tokenizer``."""
    entry = get_registry().get("teacher", recipe.teacher.name)
    built: Teacher = entry.factory(
        recipe.teacher.params, vocab_size=tokenizer.vocab_size, seq_len=seq_len, tokens=tokenizer.tokens
    )
    return built


def _read_state(run_dir: Path) -> dict[str, Any]:
    path = run_dir / STATE_FILE
    if not path.is_file():
        return {"stages": {}}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UserError(f"{path}: damaged ({type(exc).__name__}); restore it, or use another --output-dir") from None
    if not isinstance(state, dict) or not isinstance(state.get("stages"), dict):
        raise UserError(f"{path}: not a dlmkit run state (no 'stages' table); restore it, or use another --output-dir")
    return state


def _result_from(data: dict[str, Any], run_dir: Path) -> StageResult:
    paths = {k: run_dir / data[k] if data.get(k) else None for k in ("teacher", "student", "psi")}
    return StageResult(**paths, summary=data.get("summary", {}))


def _relative(path: Path | None, run_dir: Path) -> str | None:
    """Stage outputs are recorded relative to the run folder, so a moved run still resolves."""
    return os.path.relpath(path, run_dir) if path is not None else None


def run_recipe(
    recipe: Recipe,
    output_dir: Path | None = None,
    resume: bool = False,
    device: str | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Run every stage of ``recipe``; returns the run state (per-stage summaries and results).

    The run folder is locked for the whole run, so a second run on it stops at once.
    """
    run_dir = Path(output_dir or recipe.header.output_dir or Path("runs") / recipe.name)
    with hold_run_folder(run_dir):
        return _run_locked(recipe, run_dir, resume, device, progress)


def _run_locked(
    recipe: Recipe, run_dir: Path, resume: bool, device: str | None, progress: bool | None
) -> dict[str, Any]:
    state = _read_state(run_dir)
    if state["stages"] and not resume:
        raise UserError(f"{run_dir} already holds a run; pass --resume to continue it, or choose another --output-dir")
    run_dir.mkdir(parents=True, exist_ok=True)
    digest = recipe_hash(recipe)
    if resume and state.get("recipe_hash") not in (None, digest):
        console.print(
            f"note: the recipe changed since this run started ({run_dir / 'resolved.toml'} holds the old one)"
        )
    runtime = Runtime.from_spec(recipe.runtime, device)
    main = runtime.world.is_main
    if main:
        write_text_atomic(run_dir / "resolved.toml", render(recipe))
    state["recipe_hash"] = digest
    seed_everything(recipe.header.seed)
    dataset = build(recipe.data)
    if hasattr(dataset, "save_vocab") and main:
        dataset.save_vocab(run_dir / "vocab.txt")
    teacher = _teacher(recipe, dataset.tokenizer, dataset.seq_len)
    mode = recipe.runtime.progress if progress is None else ("on" if progress else "off")
    ctx = RunContext(
        recipe=recipe,
        run_dir=run_dir,
        runtime=runtime,
        dataset=dataset,
        schedule=build(recipe.schedule),
        injector=build(recipe.injector),
        sampler=build(recipe.sampler),
        teacher=teacher,
        progress_mode=mode,
        resume=resume,
    )
    plugins = get_plugins()
    for stage in recipe.stages:
        done = state["stages"].get(stage.name)
        if done and done.get("summary", {}).get("complete"):
            result = _result_from(done, run_dir)
            if result.teacher is not None:
                ctx.teacher = load_teacher(result.teacher)
            ctx.results[stage.name] = result
            if main:
                console.print(f"[{stage.name}] already finished; skipping", markup=False)
            continue
        ctx.stage_dir(stage.name).mkdir(parents=True, exist_ok=True)
        if main:
            plugins.notify(
                "on_stage_start", stage=stage.name, kind=stage.kind, run_dir=run_dir, config=resolved_dict(recipe)
            )
        result = RUNNERS[stage.kind](ctx, stage)
        ctx.results[stage.name] = result
        state["stages"][stage.name] = {
            "kind": stage.kind,
            **{k: _relative(getattr(result, k), run_dir) for k in ("teacher", "student", "psi")},
            "summary": result.summary,
        }
        if main:
            write_text_atomic(run_dir / STATE_FILE, json.dumps(state, indent=2, default=str))
            plugins.notify("on_stage_end", stage=stage.name, kind=stage.kind, run_dir=run_dir, summary=result.summary)
        if not result.summary.get("complete", True):
            if main:
                console.print(
                    f"stage '{stage.name}' is not finished; run again with --resume to continue", markup=False
                )
            return state
    if recipe.eval is not None and main:
        from dlmkit.engine.final_eval import evaluate_run

        state["results"] = evaluate_run(ctx)
        write_text_atomic(run_dir / STATE_FILE, json.dumps(state, indent=2, default=str))
    runtime.world.barrier()
    if main:
        console.print(f"run finished: {run_dir}", markup=False)
    return state
