"""Read, override, validate and resolve a recipe; every problem is reported in one ``RecipeError``."""

from __future__ import annotations

import difflib
import hashlib
import importlib.metadata as metadata
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from dlmkit.errors import Problem, RecipeError, UserError
from dlmkit.interfaces.stage import TEACHER_ARTIFACT, StagesBefore
from dlmkit.recipe.file_checks import missing_files
from dlmkit.recipe.overrides import apply_overrides
from dlmkit.recipe.schema import (
    ComponentRef,
    EvalSpec,
    Recipe,
    RecipeHeader,
    RuntimeSpec,
    StageSpec,
    TeacherRef,
    sampler_t_init,
)
from dlmkit.recipe.structure import MISSING, Structurer, resolve_path, unstructure
from dlmkit.recipe.toml_writer import dumps
from dlmkit.registry import Registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TOP_LEVEL_TABLES = ("data", "teacher", "schedule", "injector", "sampler", "runtime", "eval", "stage")
DEFAULT_COMPONENTS = {
    "data": "diffuseq_jsonl",
    "schedule": "sqrt",
    "injector": "replace_condition",
    "sampler": "one_step",
}
#: What a light component needs to be built at validation time besides its params.
BUILD_CHECK_CONTEXT: dict[str, dict[str, Any]] = {"timestep_sampler": {"num_timesteps": 1}}
KIND_OF_TABLE = {"data": "dataset", "schedule": "schedule", "injector": "injector", "sampler": "sampler"}


#: A recipe is a short text file; anything larger is not one (and ``/dev/zero`` would never end).
MAX_RECIPE_BYTES = 1 << 20


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; syntax errors name the line and column, and non-recipes are refused before reading."""

    def refuse(message: str) -> RecipeError:
        return RecipeError(str(path), [Problem("", message)])

    try:
        if not path.exists():
            raise refuse("file not found")
        if not path.is_file():
            raise refuse("not a regular file (a recipe is a TOML text file)")
        if path.stat().st_size > MAX_RECIPE_BYTES:
            raise refuse(f"{path.stat().st_size:,} bytes; a recipe is a TOML text file of at most {MAX_RECIPE_BYTES:,}")
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise refuse(f"cannot read the file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise refuse(f"not UTF-8 text (byte {exc.start}); a recipe is a TOML text file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise refuse(f"TOML syntax error: {exc}") from None
    except RecursionError:
        raise refuse("tables or arrays nested too deeply") from None


def load_recipe(
    path: str | Path, overrides: Iterable[str] = (), registry: Registry | None = None, files: bool = True
) -> Recipe:
    """A validated ``Recipe`` from a TOML file, or a ``RecipeError`` listing every problem.

    ``files=False`` leaves out the checks that open data and checkpoint files (``file_checks``).
    """
    if registry is None:
        from dlmkit.plugins import get_registry

        registry = get_registry()
    source = Path(path)
    raw = read_toml(source)
    problems: list[Problem] = []
    raw = apply_overrides(raw, overrides, problems)
    return RecipeLoader(source, registry, problems, files).load(raw)


class RecipeLoader:
    """Turns one parsed recipe into a ``Recipe``, recording problems as it goes."""

    def __init__(self, source: Path, registry: Registry, problems: list[Problem], files: bool = True):
        self.files = files  # False: leave out the checks that open files (file_checks.FILE_CHECKS)
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
            for table in ("data", "schedule", "injector", "sampler")
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
            self.check_requires(header.requires)
        self.cross_check(teacher, stages)
        stages = self.shared_t_init(refs["sampler"], stages)
        self.check_times(refs["schedule"], refs["sampler"], stages)
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

    def cross_check(self, teacher: Any, stages: list[StageSpec]) -> None:
        """Names are unique; each stage kind checks itself against the stages before it."""
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
                found = stage.check(spec.name, StagesBefore(dict(made), has_teacher, self.registry))
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

    def shared_t_init(self, sampler: Any, stages: list[StageSpec]) -> list[StageSpec]:
        """Resolve every stage's ``t_init``, here and nowhere else: set, it must agree with the ``[sampler]``'s;
        unset, it becomes the sampler's (or, for a sampler without one, the one-step sampler's default).

        The student is trained from ``t_init`` and evaluated by the recipe's sampler from its ``t_init``;
        two values that disagree would score a student at a point it was never trained for.
        """
        own = sampler_t_init(sampler)
        fallback = own if own is not None else self.registry.get("sampler", "one_step").make_params().t_init
        resolved = []
        for spec in stages:
            value = getattr(spec.params, "t_init", MISSING)
            if isinstance(value, int) and own is not None and value != own:
                self.problems.append(
                    Problem(
                        f'[[stage]] "{spec.name}"',
                        f"'t_init' = {value} differs from [sampler] t_init = {own}",
                        "set t_init once, in [sampler]; the stages take it from there",
                    )
                )
            if value is None and attrs.has(type(spec.params)):
                spec = attrs.evolve(spec, params=attrs.evolve(spec.params, t_init=fallback))
            resolved.append(spec)
        return resolved

    def check_times(self, schedule: Any, sampler: Any, stages: list[Any]) -> None:
        """Every timestep a stage or the sampler names must exist in the schedule (found now, not after training)."""
        total = getattr(getattr(schedule, "params", None), "num_timesteps", None)
        if not isinstance(total, int):
            return
        shared = sampler_t_init(sampler) if sampler is not MISSING else None
        named = [
            (f'[[stage]] "{s.name}"', key, getattr(s.params, key, None))
            for s in stages
            for key in ("t_init", "t_max")
            if not (key == "t_init" and getattr(s.params, key, None) == shared)  # the sampler's, said once below
        ]
        if sampler is not MISSING:
            named.append(("[sampler]", "t_init", getattr(sampler.params, "t_init", None)))
        for where, key, value in named:
            if isinstance(value, int) and value >= total:
                self.problems.append(
                    Problem(
                        where,
                        f"'{key}' = {value} is past the schedule's last step; [schedule] has {total} steps "
                        f"(0 to {total - 1})",
                    )
                )

    def check_builds(self, refs: dict[str, Any], stages: list[Any]) -> None:
        """Build the light components now (data set, schedule, injector, sampler, each stage's objective): a
        plugin whose factory fails or returns something that lacks a member of its interface, or a data file
        that is missing or malformed, is found before any stage trains (a data set with ``check_files`` reads its
        splits as the run will); teachers and metrics load weights and are built by the run."""
        tables = ("data", "schedule", "injector", "sampler") if self.files else ("schedule", "injector", "sampler")
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
                if ref.kind == "dataset" and callable(getattr(built, "check_files", None)):
                    built.check_files()  # a malformed line is found now, not after every stage has trained
            except UserError as exc:
                message = str(exc)
                self.problems.append(Problem(where, message.removeprefix(f"{where} ")))
            except Exception as exc:
                self.problems.append(
                    Problem(where, f"building {ref.kind} '{ref.name}' failed: {type(exc).__name__}: {exc}")
                )

    def check_requires(self, requires: list[str]) -> None:
        for requirement in requires:
            try:
                from packaging.requirements import Requirement

                req = Requirement(requirement)
            except Exception as exc:
                self.problems.append(
                    Problem("[top level] 'requires'", f"{requirement!r} is not a valid requirement: {exc}")
                )
                continue
            try:
                version = metadata.version(req.name)
            except metadata.PackageNotFoundError:
                self.problems.append(
                    Problem(
                        "[top level] 'requires'",
                        f"needs {requirement}, which is not installed",
                        f"pip install '{requirement}'",
                    )
                )
                continue
            if req.specifier and not req.specifier.contains(version, prereleases=True):
                self.problems.append(
                    Problem("[top level] 'requires'", f"needs {requirement}, but {req.name} {version} is installed")
                )


def _component_table(ref: ComponentRef) -> dict[str, Any]:
    return {"name": ref.name, **(unstructure(ref.params) if ref.params is not None else {})}


def eval_sampler_problems(spec: EvalSpec, registry: Registry) -> list[str]:
    """``teacher_sampler`` is registered, and has a ``rounding`` key when ``teacher_unrounded`` asks to turn it off."""
    name = spec.teacher_sampler
    if name is not None and name not in registry.entries["sampler"]:
        return [registry.missing_message("sampler", name)]
    params = registry.entries["sampler"][name].params if name is not None else None
    if spec.teacher_unrounded and (params is None or "rounding" not in attrs.fields_dict(params)):
        return [f"'teacher_unrounded' needs a teacher_sampler with a 'rounding' key (ancestral), not {name!r}"]
    return []


def resolved_dict(recipe: Recipe) -> dict[str, Any]:
    """The recipe with every default filled in, as plain data."""
    out: dict[str, Any] = dict(unstructure(recipe.header))
    for table in ("data", "schedule", "injector", "sampler"):
        out[table] = _component_table(getattr(recipe, table))
    teacher = {"name": recipe.teacher.name}
    if recipe.teacher.checkpoint is not None:
        teacher["checkpoint"] = recipe.teacher.checkpoint
    elif recipe.teacher.params is not None:
        teacher.update(unstructure(recipe.teacher.params))
    out["teacher"] = teacher
    out["runtime"] = unstructure(recipe.runtime)
    if recipe.eval is not None:
        out["eval"] = unstructure(recipe.eval)
    stages = []
    for spec in recipe.stages:
        data: dict[str, Any] = {"name": spec.name, "kind": spec.kind}
        if spec.params is not None:
            for field in attrs.fields(type(spec.params)):
                value = getattr(spec.params, field.name)
                if isinstance(value, ComponentRef):
                    data[field.name] = _component_table(value)
                elif value is not None:
                    data[field.name] = unstructure(value)
        stages.append(data)
    out["stage"] = stages
    return out


def render(recipe: Recipe) -> str:
    """The resolved recipe as TOML text."""
    return dumps(resolved_dict(recipe))


def recipe_hash(recipe: Recipe) -> str:
    return hashlib.sha256(render(recipe).encode()).hexdigest()
