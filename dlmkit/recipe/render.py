"""A loaded recipe as plain data and TOML: every default filled in (``dlmkit show``, ``resolved.toml``), and its
hash (what a resumed run is compared by)."""

from __future__ import annotations

import hashlib
from typing import Any

import attrs

from dlmkit.recipe.schema import KIND_OF_TABLE, ComponentRef, Recipe
from dlmkit.recipe.toml_writer import dumps
from dlmkit.structuring import unstructure


def _component_table(ref: ComponentRef) -> dict[str, Any]:
    return {"name": ref.name, **(unstructure(ref.params) if ref.params is not None else {})}


def resolved_dict(recipe: Recipe) -> dict[str, Any]:
    """The recipe with every default filled in, as plain data."""
    out: dict[str, Any] = dict(unstructure(recipe.header))
    for table in KIND_OF_TABLE:
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
                elif field.name == "t_init" and value == recipe.t_init:
                    continue  # the loader gave the stage the [sampler]'s: written once, there
                elif value is not None:
                    data[field.name] = unstructure(value)
        stages.append(data)
    out["stage"] = stages
    return out


def render(recipe: Recipe) -> str:
    """The resolved recipe as TOML text."""
    return dumps(resolved_dict(recipe))


def recipe_hash(recipe: Recipe) -> str:
    return text_hash(render(recipe))


def text_hash(text: str) -> str:
    """The hash a run records of its rendered recipe."""
    return hashlib.sha256(text.encode()).hexdigest()
