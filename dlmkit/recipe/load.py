"""Read, override, validate and resolve a recipe; every problem is reported in one ``RecipeError``."""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from dlmkit.errors import Problem, RecipeError, UserError
from dlmkit.interfaces.stage import TEACHER_ARTIFACT, StagesBefore
from dlmkit.recipe.eval_checks import eval_sampler_problems
from dlmkit.recipe.file_checks import missing_files
from dlmkit.recipe.overrides import apply_overrides
from dlmkit.recipe.render import recipe_hash, render, resolved_dict
from dlmkit.recipe.requires import requirement_problems
from dlmkit.recipe.schema import (
    DEFAULT_COMPONENTS,
    KIND_OF_TABLE,
    ComponentRef,
    EvalSpec,
    Recipe,
    RecipeHeader,
    RuntimeSpec,
    StageSpec,
    TeacherRef,
)
from dlmkit.recipe.timesteps import check_times, shared_t_init
from dlmkit.recipe.toml_reader import read_toml
from dlmkit.registry import Registry
from dlmkit.structuring import MISSING, Structurer, resolve_path

TOP_LEVEL_TABLES = ("data", "teacher", "schedule", "injector", "sampler", "runtime", "eval", "stage")
#: What a light component needs to be built at validation time besides its params.
BUILD_CHECK_CONTEXT: dict[str, dict[str, Any]] = {"timestep_sampler": {"num_timesteps": 1}}


def load_recipe(
    path: str | Path,
    overrides: Iterable[str] = (),
    registry: Registry | None = None,
    files: bool = True,
    read_data: bool = False,
) -> Recipe:
    """A validated ``Recipe`` from a TOML file, or a ``RecipeError`` listing every problem.

    ``files=False`` leaves out the checks that open data and checkpoint files (``file_checks``);
    ``read_data=True`` (``dlmkit validate``) also parses every data split, as a run reads it at its start.
    Commands that only open a recipe (``generate``, ``sample``, ``run`` itself) leave it off: reading a
    whole training set there is a second read, or one nothing needs.
    """
    if registry is None:
        from dlmkit.plugins import get_registry

        registry = get_registry()
    source = Path(path)
    raw = read_toml(source)
    problems: list[Problem] = []
    raw = apply_overrides(raw, overrides, problems)
    return RecipeLoader(source, registry, problems, files, read_data and files).load(raw)


class RecipeLoader:
    """Turns one parsed recipe into a ``Recipe``, recording problems as it goes."""

    def __init__(
        self, source: Path, registry: Registry, problems: list[Problem], files: bool = True, read_data: bool = False
    ):
        self.files = files  # False: leave out the checks that open files (file_checks.FILE_CHECKS)
        self.read_data = read_data
        self.source = source
        self.registry = registry
        self.problems = problems
        self.structurer = Structurer(source.resolve().parent, problems, self.component)
        self.raw_kinds: list[Any] = []

    def component(self, kind: str, table: Any, where: str, default: str | None = None) -> Any:
        """A ``ComponentRef`` from a table whose ``name`` picks a registered component."""
        if isinstance(table, str):
            table = {"name": table}  # `loss = "diffuseq"`: a component without parameters named inline
        if not isinstance(table, Mapping):
            self.problems.append(Problem(where, f"must be a table with a 'name' key, got {table!r}"))
            return MISSING
        name = table.get("name", default)
        if name is None:
            names = ", ".join(self.registry.names(kind))
            self.problems.append(
                Problem(where, f"missing required key 'name' (the {kind} to use; registered: {names})")
            )
            return MISSING
        if not isinstance(name, str):
            self.problems.append(Problem(where, f"'name' must be a string, got {name!r}"))
            return MISSING
        if name not in self.registry.entries[kind]:
            from dlmkit.plugins import failed_plugins_note

            self.problems.append(Problem(where, self.registry.missing_message(kind, name) + failed_plugins_note()))
            return MISSING
        entry = self.registry.get(kind, name)
        rest = {k: v for k, v in table.items() if k != "name"}
        if entry.params is None:
            if rest:
                self.problems.append(Problem(where, f"{kind} '{name}' takes no parameters, got {', '.join(rest)}"))
                return MISSING
            return ComponentRef(kind, name, None)
        params = self.structurer.structure(entry.params, rest, f"{where} ({kind} '{name}')", skip=frozenset({"name"}))
        return MISSING if params is MISSING else ComponentRef(kind, name, params)

    def load(self, raw: dict[str, Any]) -> Recipe:
        top = {k: v for k, v in raw.items() if k not in TOP_LEVEL_TABLES}
        header = self.structurer.structure(RecipeHeader, top, "[top level]", skip=frozenset(TOP_LEVEL_TABLES))
        refs = {
            table: self.component(KIND_OF_TABLE[table], raw.get(table, {}), f"[{table}]", DEFAULT_COMPONENTS[table])
            for table in KIND_OF_TABLE
        }
        teacher = self.teacher(raw.get("teacher"))
        runtime = self.structurer.structure(RuntimeSpec, raw.get("runtime", {}), "[runtime]")
        eval_spec = None
        if "eval" in raw:
            eval_spec = self.structurer.structure(EvalSpec, raw["eval"], "[eval]")
            if eval_spec is not MISSING:
                for metric in eval_spec.metrics:
                    if metric not in self.registry.entries["metric"]:
                        self.problems.append(Problem("[eval]", self.registry.missing_message("metric", metric)))
                self.problems += [Problem("[eval]", p) for p in eval_sampler_problems(eval_spec, self.registry)]
        stages = self.stages(raw.get("stage"))
        if header is not MISSING:
            self.problems += requirement_problems(header.requires)
        stages = shared_t_init(refs["sampler"], stages, self.registry, self.problems)  # stages check resolved t_init
        self.cross_check(teacher, stages, refs["sampler"])
        check_times(refs["schedule"], refs["sampler"], stages, self.problems)
        if self.files:
            self.problems += missing_files(teacher, eval_spec, stages)
        if not self.problems:
            self.check_builds(refs, stages)
        if self.problems:
            raise RecipeError(str(self.source), self.problems)
        return Recipe(
            source=self.source,
            header=header,
            data=refs["data"],
            teacher=teacher,
            schedule=refs["schedule"],
            injector=refs["injector"],
            sampler=refs["sampler"],
            runtime=runtime,
            eval=eval_spec,
            stages=tuple(stages),
            raw=raw,
        )

    def teacher(self, table: Any) -> Any:
        where = "[teacher]"
        if table is None:
            self.problems.append(
                Problem(
                    where,
                    "missing table [teacher]",
                    'add [teacher] with name = "diffuseq" (or see `dlmkit components teacher`)',
                )
            )
            return MISSING
        if not isinstance(table, Mapping):
            self.problems.append(Problem(where, f"must be a table, got {table!r}"))
            return MISSING
        checkpoint = table.get("checkpoint")
        if checkpoint is not None and not isinstance(checkpoint, str):
            self.problems.append(Problem(where, f"'checkpoint' must be a string path, got {checkpoint!r}"))
            return MISSING
        rest = {k: v for k, v in table.items() if k != "checkpoint"}
        if checkpoint is not None:
            extra = sorted(set(rest) - {"name"})
            if extra:
                self.problems.append(
                    Problem(where, f"with 'checkpoint' the sizes come from the checkpoint; remove {', '.join(extra)}")
                )
                return MISSING
            checkpoint = resolve_path(checkpoint, self.source.resolve().parent)
        ref = self.component("teacher", rest, where)
        if ref is MISSING:
            return MISSING
        return TeacherRef(ref.name, checkpoint, ref.params)

    def stages(self, tables: Any) -> list[StageSpec]:
        kinds = self.registry.names("stage")
        if tables is None or tables == []:
            self.problems.append(
                Problem("[[stage]]", "a recipe needs at least one [[stage]]", "kinds: " + ", ".join(kinds))
            )
            return []
        if not isinstance(tables, list):
            self.problems.append(Problem("[[stage]]", "stages are an array of tables: write [[stage]], not [stage]"))
            return []
        out: list[StageSpec] = []
        for index, table in enumerate(tables):
            label = table.get("name", index) if isinstance(table, Mapping) else index
            where = f'[[stage]] "{label}"'
            if not isinstance(table, Mapping):
                self.problems.append(Problem(where, "must be a table"))
                continue
            kind = table.get("kind")
            self.raw_kinds.append(kind)
            if not isinstance(kind, str) or kind not in kinds:
                message = f"'kind' must be one of {', '.join(repr(k) for k in kinds)}, got {kind!r}"
                close = difflib.get_close_matches(str(kind), kinds, n=1)
                self.problems.append(Problem(where, message, f"did you mean {close[0]!r}?" if close else ""))
                continue
            head = {k: table[k] for k in ("name", "kind") if k in table}
            spec = self.structurer.structure(StageSpec, head, where)
            entry = self.registry.get("stage", kind)
            rest = {k: v for k, v in table.items() if k not in ("name", "kind")}
            params = (
                self.structurer.structure(entry.params, rest, where, skip=frozenset({"name", "kind"}))
                if entry.params is not None
                else None
            )
            if entry.params is None and rest:
                self.problems.append(Problem(where, f"stage kind '{kind}' takes no parameters, got {', '.join(rest)}"))
                continue
            if spec is not MISSING and params is not MISSING:
                out.append(attrs.evolve(spec, params=params))
        return out

    def cross_check(self, teacher: Any, stages: list[StageSpec], sampler_ref: Any) -> None:
        """Names are unique; each stage kind checks itself against the stages before it and the ``[sampler]``."""
        sampler = None
        if sampler_ref is not MISSING:
            with contextlib.suppress(Exception):  # a sampler that fails to build is reported by check_builds
                sampler = self.registry.build(
                    "sampler", sampler_ref.name, sampler_ref.params, **BUILD_CHECK_CONTEXT.get("sampler", {})
                )
        seen: list[str] = []
        made: dict[str, frozenset[str]] = {}
        all_stages_valid = len(stages) == len(self.raw_kinds)  # otherwise the cross-checks would only echo those errors
        has_teacher: bool | None = None
        if all_stages_valid and teacher is not MISSING:
            has_teacher = teacher.checkpoint is not None
        for spec in stages:
            where = f'[[stage]] "{spec.name}"'
            if spec.name in seen:
                self.problems.append(Problem(where, f"stage name '{spec.name}' is used twice; names must be unique"))
            try:
                stage = self.registry.build("stage", spec.kind, spec.params)
                found = stage.check(spec.name, StagesBefore(dict(made), has_teacher, self.registry, sampler))
            except UserError as exc:
                self.problems.append(Problem(where, str(exc)))
                continue
            except Exception as exc:
                self.problems.append(
                    Problem(where, f"stage kind '{spec.kind}' failed its check: {type(exc).__name__}: {exc}")
                )
                continue
            self.problems += [Problem(where, problem) for problem in found]
            seen.append(spec.name)
            made[spec.name] = frozenset(stage.produces)
            if has_teacher is not None and TEACHER_ARTIFACT in made[spec.name]:
                has_teacher = True

    def check_builds(self, refs: dict[str, Any], stages: list[Any]) -> None:
        """Build the light components now (data set, schedule, injector, sampler, each stage's objective): a
        plugin whose factory fails or returns something that lacks a member of its interface, or a data file
        that is missing, is found before any stage trains (with ``read_data``, a data set with ``check_files`` also
        reads its splits); teachers and metrics load weights and are built by the run."""
        tables = [t for t in KIND_OF_TABLE if self.files or t != "data"]
        light = [(f"[{t}]", refs[t]) for t in tables]
        for s in stages:
            light += [
                (f'[[stage]] "{s.name}" {field.name}', getattr(s.params, field.name))
                for field in attrs.fields(type(s.params))
                if s.params is not None and isinstance(getattr(s.params, field.name), ComponentRef)
            ]
        for where, ref in light:
            try:
                built = self.registry.build(ref.kind, ref.name, ref.params, **BUILD_CHECK_CONTEXT.get(ref.kind, {}))
                if self.read_data and ref.kind == "dataset" and callable(getattr(built, "check_files", None)):
                    built.check_files()  # a malformed line is found now, not after every stage has trained
            except UserError as exc:
                message = str(exc)
                self.problems.append(Problem(where, message.removeprefix(f"{where} ")))
            except Exception as exc:
                self.problems.append(
                    Problem(where, f"building {ref.kind} '{ref.name}' failed: {type(exc).__name__}: {exc}")
                )


__all__ = ["RecipeLoader", "load_recipe", "read_toml", "recipe_hash", "render", "resolved_dict"]
