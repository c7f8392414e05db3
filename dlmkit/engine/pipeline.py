"""Run a recipe: build its components once, run its stages in order, evaluate, and make it resumable.

The run folder holds ``resolved.toml`` (the recipe as it ran), ``run_state.json`` (finished stages),
``metrics.jsonl``, one folder per stage, and ``results.json`` when the recipe has an ``[eval]`` table.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlmkit.engine import stop_request
from dlmkit.engine.context import RunContext
from dlmkit.engine.progress import console
from dlmkit.engine.run_lock import hold_run_folder
from dlmkit.engine.runtime import Runtime, seed_everything
from dlmkit.engine.size_notes import capped_counts
from dlmkit.engine.stop_request import StopNow, stop_on_signals
from dlmkit.errors import RunInterrupted, UserError
from dlmkit.interfaces import Stage, StageResult, Teacher, Tokenizer
from dlmkit.interfaces.stage import TEACHER_ARTIFACT
from dlmkit.interfaces.teacher import as_module
from dlmkit.plugins import build, get_plugins, replaced_components
from dlmkit.recipe.load import load_recipe
from dlmkit.recipe.render import resolved_dict, text_hash
from dlmkit.recipe.schema import ComponentRef, Recipe
from dlmkit.recipe.toml_writer import dumps
from dlmkit.storage.atomic import write_text_atomic
from dlmkit.storage.memory_budget import TRAINING_COPIES, refuse_unless_fits
from dlmkit.storage.run_guard import check_new_run, check_no_links_out, check_resume
from dlmkit.storage.run_layout import RunFolder
from dlmkit.storage.teacher_files import load_teacher


def build_ref(ref: ComponentRef) -> Any:
    """Instantiate a component from its recipe reference."""
    return build(ref.kind, ref.name, ref.params)


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
    """A newly initialised teacher of the recipe's ``[teacher]`` component, sized for ``tokenizer``.

    It is built on the meta device first, so a size no machine holds is refused before allocation.
    """

    def make(**context: Any) -> Teacher:
        sizes = {"vocab_size": tokenizer.vocab_size, "seq_len": seq_len}
        built: Teacher = build("teacher", recipe.teacher.name, recipe.teacher.params, **sizes, **context)
        return built

    refuse_unless_fits(lambda: as_module(make()), f"{recipe.source}: [teacher]", copies=TRAINING_COPIES)
    return make(tokens=tokenizer.tokens)


def _result_from(data: dict[str, Any], folder: RunFolder) -> StageResult:
    return StageResult(artifacts=folder.artifacts(data), summary=data.get("summary", {}))


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
    if not resume:
        check_new_run(run_dir)  # before the lock file is made: a refused folder is left as it was
    check_no_links_out(run_dir)
    resume_with = f"dlmkit run {recipe.source} --output-dir {run_dir} --resume"
    with hold_run_folder(run_dir), stop_on_signals() as stop:
        try:
            state, finished = _run_locked(recipe, run_dir, resume, device, progress)
        except StopNow as stopped:
            raise RunInterrupted(
                f"stopped by {stopped} during the final evaluation; every stage is saved; finish the evaluation "
                f"with: {resume_with}",
                stop.exit_code,
            ) from None
    if not finished and stop.signal is not None:
        raise RunInterrupted(
            f"stopped by {stop.signal.name} with a checkpoint written; continue with: {resume_with}", stop.exit_code
        )
    return state


def _started_with(path: Path) -> dict[str, Any]:
    """The recipe a run started with, resolved by this dlmkit (so keys added since take their defaults)."""
    try:
        return resolved_dict(load_recipe(path, files=False))
    except UserError as exc:
        raise UserError(f"{path}: the recipe this run started with no longer loads ({exc}); start a new run") from None


def _run_locked(
    recipe: Recipe, run_dir: Path, resume: bool, device: str | None, progress: bool | None
) -> tuple[dict[str, Any], bool]:
    """The run state, and whether the run finished (a stage can stop early: its time ran out, or a signal)."""
    folder = RunFolder(run_dir)
    resolved = resolved_dict(recipe)  # the recipe rendered once: compared on resume, written, hashed, shown to hooks
    text = dumps(resolved)
    if resume and folder.resolved_recipe.is_file():
        check_resume(folder.resolved_recipe, _started_with(folder.resolved_recipe), resolved)
    state = folder.read_state()
    run_dir.mkdir(parents=True, exist_ok=True)
    digest = text_hash(text)
    runtime = Runtime.from_spec(recipe.runtime, device)
    main = runtime.world.is_main
    if main:
        console.print(f"runtime: {runtime.describe()}", markup=False, highlight=False)
        for entry in replaced_components():
            console.print(
                f"note: {entry.kind} '{entry.name}' comes from {entry.provider} {entry.version}, replacing "
                f"{entry.overrides}'s",
                markup=False,
                highlight=False,
            )
        if runtime.precision_warning:
            console.print(f"warning: {runtime.precision_warning}", markup=False, highlight=False, soft_wrap=True)
        write_text_atomic(folder.resolved_recipe, text)
    state["recipe_hash"] = digest
    seed_everything(recipe.header.seed)
    dataset = build_ref(recipe.data)
    if callable(getattr(dataset, "check_files", None)):
        dataset.check_files()  # every split read now (and kept): a malformed test line stops the run before training
    if hasattr(dataset, "save_vocab") and main:
        dataset.save_vocab(folder.vocab)
    if main:
        for note in capped_counts(recipe, dataset):
            console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    teacher = _teacher(recipe, dataset.tokenizer, dataset.seq_len)
    mode = recipe.runtime.progress if progress is None else ("on" if progress else "off")
    ctx = RunContext(
        recipe=recipe,
        folder=folder,
        runtime=runtime,
        dataset=dataset,
        schedule=build_ref(recipe.schedule),
        injector=build_ref(recipe.injector),
        sampler=build_ref(recipe.sampler),
        teacher=teacher,
        progress_mode=mode,
        resume=resume,
    )
    plugins = get_plugins()
    for stage in recipe.stages:
        done = state["stages"].get(stage.name)
        if done and done.get("summary", {}).get("complete"):
            result = _result_from(done, folder)
            missing = build("stage", stage.kind, stage.params).produces - set(result.artifacts)
            if missing:
                raise UserError(
                    f"{folder.state_file}: stage '{stage.name}' is recorded as finished but names no "
                    f"{', '.join(sorted(missing))}; restore the file, or start a new run in another folder"
                )
            if TEACHER_ARTIFACT in result.artifacts:
                ctx.teacher = load_teacher(result.artifacts[TEACHER_ARTIFACT])
            ctx.results[stage.name] = result
            if main:
                console.print(f"[{stage.name}] already finished; skipping", markup=False)
            continue
        if stop_request.current.requested:  # a signal between stages: stop before starting the next
            return state, False
        ctx.stage_dir(stage.name).mkdir(parents=True, exist_ok=True)
        if main:
            plugins.notify("on_stage_start", stage=stage.name, kind=stage.kind, run_dir=run_dir, config=resolved)
        runner: Stage = build("stage", stage.kind, stage.params)
        result = runner.run(ctx, stage.name)
        ctx.results[stage.name] = result
        state["stages"][stage.name] = {
            "kind": stage.kind,
            # recorded relative to the run folder, so a moved run still resolves
            "artifacts": folder.record(result.artifacts),
            "summary": result.summary,
        }
        if main:
            folder.write_state(state)
            plugins.notify("on_stage_end", stage=stage.name, kind=stage.kind, run_dir=run_dir, summary=result.summary)
        if not result.complete:
            if main:
                console.print(
                    f"stage '{stage.name}' is not finished; run again with --resume to continue", markup=False
                )
            return state, False
    if stop_request.current.requested:
        return state, False
    if recipe.eval is not None and main:
        from dlmkit.engine.final_eval import evaluate_run

        with stop_request.current.at_once():  # every stage is saved: a stop has nothing to wait for
            state["results"] = evaluate_run(ctx)
        folder.write_state(state)
    runtime.world.barrier()
    if main:
        console.print(f"run finished: {run_dir}", markup=False)
    return state, True
