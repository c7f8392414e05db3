"""The import graph of dlmkit and of every plugin package has no cycles (module-level imports, TYPE_CHECKING
ones included): a reader can follow any module down to the ones it stands on."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = [REPO / "dlmkit", *sorted(p for p in (REPO / "plugins").glob("*/src/*") if (p / "__init__.py").is_file())]


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(package: Path) -> dict[str, set[str]]:
    """Each module of ``package`` and the modules of the same package it imports (by the names it writes)."""
    modules = {module_name(p, package): p for p in package.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in _module_level(ast.parse(path.read_text(encoding="utf-8")).body):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements run on import, ``if TYPE_CHECKING:`` and ``try:`` blocks included; an import inside a function
    runs when it is called (the way a module defers what would otherwise be a cycle)."""
    out: list[ast.stmt] = []
    for node in body:
        out.append(node)
        if isinstance(node, ast.If | ast.Try):
            out += _module_level([*node.body, *node.orelse, *getattr(node, "finalbody", [])])
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_no_import_cycles(package: Path) -> None:
    assert cycles(imports(package)) == []


def test_the_checker_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.name)
def test_no_file_over_300_lines(package: Path) -> None:
    """One concept per file: a file past 300 lines holds more than one."""
    long = {str(p.relative_to(REPO)): n for p in package.rglob("*.py") if (n := len(p.read_text().splitlines())) > 300}
    assert long == {}


#: docs/architecture.md's layers, top to bottom: a module imports from its own layer or the ones below.
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("facade", frozenset({"dlmkit", "__main__"})),
    ("cli", frozenset({"cli"})),
    ("stages", frozenset({"stages"})),
    ("engine", frozenset({"engine"})),
    ("evaluation", frozenset({"evaluation"})),
    ("inference", frozenset({"inference"})),
    ("recipe", frozenset({"recipe"})),
    ("testing", frozenset({"testing"})),
    ("storage", frozenset({"storage"})),
    (
        "components",
        frozenset(
            {"data", "injectors", "metrics", "nn", "objectives", "samplers", "schedules"}
            | {"teacher_losses", "timestep_samplers"}
        ),
    ),
    (
        "core",
        frozenset(
            {"interfaces", "registry", "plugins", "plugin_blame", "plugin_deadline", "plugin_registration"}
            | {"hookspecs", "hook_errors", "interface_check", "devices", "errors", "randomness", "thread_policy"}
            | {"structuring", "version"}
        ),
    ),
]
#: What a plugin package may not import: the layers that run a recipe, except the public toolkits in them.
PLUGIN_FORBIDDEN = ("dlmkit.cli", "dlmkit.stages", "dlmkit.engine", "dlmkit.evaluation", "dlmkit.inference")
PLUGIN_ALLOWED = ("dlmkit.stages.toolkit",)
DLMKIT = REPO / "dlmkit"


def dlmkit_imports(path: Path) -> set[str]:
    """The dlmkit modules ``path`` imports (``from dlmkit import x`` names ``dlmkit.x`` when x is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "dlmkit"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("dlmkit"):
            if node.module.split(".")[0] != "dlmkit":
                continue
            found.add(node.module)
            for alias in node.names:
                sub = f"{node.module}.{alias.name}".replace(".", "/")
                if (REPO / f"{sub}.py").is_file() or (REPO / sub / "__init__.py").is_file():
                    found.add(f"{node.module}.{alias.name}")
    return found


def layer_of(module: str) -> int:
    """The index in ``LAYERS`` of a dotted dlmkit module (``dlmkit`` alone is the facade)."""
    unit = module.split(".")[1] if "." in module else "dlmkit"
    for index, (_, units) in enumerate(LAYERS):
        if unit in units:
            return index
    raise AssertionError(f"{module} belongs to no layer: add its folder to LAYERS and docs/architecture.md")


def module_of(path: Path) -> str:
    return module_name(path, DLMKIT)


def upward_imports(path: Path) -> list[str]:
    """The imports of ``path`` into a layer above its own; the bare package ``dlmkit`` (which ``from dlmkit import
    submodule`` also names) is left out, the submodule itself is checked."""
    own = layer_of(module_of(path))
    return sorted(m for m in dlmkit_imports(path) if m != "dlmkit" and layer_of(m) < own)


@pytest.mark.parametrize("path", sorted(DLMKIT.rglob("*.py")), ids=lambda p: str(p.relative_to(DLMKIT)))
def test_imports_run_one_way(path: Path) -> None:
    assert upward_imports(path) == [], f"{path.relative_to(REPO)} imports from a layer above its own"


def test_the_layer_check_finds_an_upward_import(tmp_path: Path) -> None:
    offender = DLMKIT / "registry.py"  # core, the bottom layer
    assert layer_of(module_of(offender)) == len(LAYERS) - 1
    copy = tmp_path / "probe.py"
    copy.write_text("from dlmkit.engine.pipeline import run_recipe\nfrom dlmkit import hookspecs\n", encoding="utf-8")
    assert dlmkit_imports(copy) == {"dlmkit.engine.pipeline", "dlmkit", "dlmkit.hookspecs"}
    assert layer_of("dlmkit.engine.pipeline") < layer_of("dlmkit.hookspecs")


@pytest.mark.parametrize("package", PACKAGES[1:], ids=lambda p: p.name)
def test_plugins_stand_on_the_public_layers(package: Path) -> None:
    wrong = {
        str(p.relative_to(REPO)): sorted(
            m for m in dlmkit_imports(p) if m.startswith(PLUGIN_FORBIDDEN) and not m.startswith(PLUGIN_ALLOWED)
        )
        for p in package.rglob("*.py")
    }
    assert {k: v for k, v in wrong.items() if v} == {}


def test_the_architecture_page_lists_these_layers_in_this_order() -> None:
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    block = page.split("## Layers", 1)[1].split("```", 2)[1]
    named = [line.split()[0].rstrip("/") for line in block.splitlines() if line and not line.startswith(" ")]
    assert named == [name for name, _ in LAYERS]
