"""Recipes are strict: every problem is reported at once, naming file, table and key; exit code 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dlmkit.cli.main import cli
from dlmkit.errors import RecipeError
from dlmkit.recipe.load import load_recipe, render

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]
TINY = (REPO / "recipes" / "tiny_cpu.toml").read_text(encoding="utf-8")


DATA = (REPO.parent / "shared" / "data").resolve()


def write(tmp_path: Path, text: str, name: str = "r.toml") -> Path:
    """The recipe text in ``tmp_path``, its data root made absolute, since validation looks for the data."""
    text = text.replace('root = "../../shared/data"', f'root = "{DATA}"')
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


#: GPU recipes whose teacher a user trains or imports first (checkpoints/ ships only the CPU teachers).
NEEDS_A_TEACHER = {"dlm_one_qqp.toml", "dlm_one_qqp_dmd.toml", "dlm_one_quasar_t.toml", "dlm_one_wiki.toml"}


#: GPU teacher recipes whose training split ../shared/data may lack (its README says which files are missing).
MAY_LACK_DATA = {"diffuseq_quasar_t_teacher.toml", "diffuseq_wiki_auto_teacher.toml"}


def test_shipped_recipes_validate() -> None:
    skip = NEEDS_A_TEACHER | MAY_LACK_DATA
    recipes = sorted(p for p in (REPO / "recipes").glob("*.toml") if p.name not in skip)
    code, out = run("validate", *map(str, recipes))
    assert code == 0, out
    assert out.count("ok:") == len(recipes)


@pytest.mark.parametrize("name", sorted(MAY_LACK_DATA))
def test_a_recipe_whose_data_is_absent_is_refused_for_exactly_the_absent_files(name: str) -> None:
    recipe = load_recipe_text(REPO / "recipes" / name)
    root = (REPO / "recipes" / recipe["data"]["root"]).resolve()
    files = [recipe["data"]["train"]] if isinstance(recipe["data"]["train"], str) else recipe["data"]["train"]
    files += [recipe["data"]["valid"], recipe["data"]["test"]]
    absent = [f for f in files if not (root / f).is_file()]
    code, out = run("validate", str(REPO / "recipes" / name))
    if not absent:
        assert code == 0, out
        return
    assert code == 2 and "file not found: " in out
    named = out.split("file not found: ", 1)[1].split(" (", 1)[0]
    assert Path(named).resolve() == (root / absent[0]).resolve()  # the data root may be reached by a symlink
    assert "docs/data.md" in out


def load_recipe_text(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", ["valid", "test", "train", "vocab"])
def test_validate_finds_a_missing_data_file_before_anything_runs(tmp_path: Path, key: str) -> None:
    text = (REPO / "recipes" / "quickstart.toml").read_text(encoding="utf-8")
    text = text.replace('"../checkpoints/', f'"{REPO}/checkpoints/')  # vocab, teacher and its outputs
    path = write(tmp_path, text)
    assert run("validate", str(path))[0] == 0  # the rewritten recipe is whole
    line = next(line for line in text.splitlines() if line.startswith(f"{key} = "))
    broken = text.replace(line, line.replace(".json", "_typo.json").replace("vocab.txt", "vocab_typo.txt"), 1)
    code, out = run("validate", str(write(tmp_path, broken)))
    assert code == 2 and "1 problem" in out
    assert f"[data]: {key}" in out and "file not found" in out and "_typo" in out


def test_validate_refuses_a_data_root_variable_that_is_not_a_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLMKIT_DATA_ROOT", str(tmp_path / "nowhere"))
    code, out = run("validate", str(REPO / "recipes" / "quickstart.toml"))
    assert code == 2 and f"data root {tmp_path / 'nowhere'} (from the DLMKIT_DATA_ROOT environment variable)" in out


@pytest.mark.parametrize("name", sorted(NEEDS_A_TEACHER))
def test_a_paper_recipe_is_refused_only_for_its_missing_teacher_and_says_how_to_get_one(name: str) -> None:
    code, out = run("validate", str(REPO / "recipes" / name))
    assert code == 2
    assert "1 problem" in out and "[teacher]: 'checkpoint': no such file" in out
    assert "dlmkit teacher import" in out


def test_three_problems_reported_together_with_file_table_and_key(tmp_path: Path) -> None:
    text = TINY.replace("steps = 30\n", "stpes = 30\n", 1)  # misspelt key
    text = text.replace("batch_size = 32\nlr = 1e-3", 'batch_size = "thirty-two"\nlr = 1e-3', 1)  # wrong type
    text = text.replace('name = "teacher"\nkind = "train_teacher"', 'kind = "train_teacher"', 1)  # missing name
    path = write(tmp_path, text)
    code, out = run("validate", str(path))
    assert code == 2
    assert "Traceback" not in out
    assert f"{path}: 3 problems" in out
    assert "unknown key 'stpes'" in out and "did you mean 'steps'?" in out and "allowed:" in out
    assert "'batch_size' must be an integer, got 'thirty-two' (string)" in out
    assert "missing required key 'name'" in out
    assert out.count('[[stage]] "0"') == 3


def test_unknown_component_suggests_the_registered_name(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace('name = "sqrt"', 'name = "sqrtt"'))
    code, out = run("validate", str(path))
    assert code == 2
    assert "[schedule]: no schedule named 'sqrtt'" in out and "did you mean 'sqrt'?" in out


def test_component_parameters_are_checked_against_its_params_class(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("num_timesteps = 2000", "num_timesteps = 2000\nnum_timestep = 10"))
    code, out = run("validate", str(path))
    assert code == 2
    assert "[schedule] (schedule 'sqrt'): unknown key 'num_timestep'" in out
    assert "did you mean 'num_timesteps'?" in out


def test_toml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, 'schema_version = 1\nname = "x"\n[data\n')
    code, out = run("run", str(path))
    assert code == 2
    assert "TOML syntax error" in out and "line 3" in out and "column" in out
    assert "Traceback" not in out


def test_validator_message_names_the_rule(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace("t_min = 0\n", "t_min = 1999\n", 1))
    with pytest.raises(RecipeError, match=r"'t_min' .* must be below 't_max'"):
        load_recipe(path)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("stage.stage1.optim.psi.lr=inf", r"'lr' must be a finite number, got inf"),
        ("stage.stage1.optim.generator.lr=nan", r"'lr' must be a finite number, got nan"),
        ("stage.teacher.lr=inf", r"'lr' must be a finite number"),
        ("stage.stage1.max_grad_norm=inf", r"'max_grad_norm' must be a finite number"),
        ("stage.stage1.optim.psi.lr=-1e-4", r"'lr' must be >= 0"),
    ],
)
def test_non_finite_or_negative_rates_are_rejected(tmp_path: Path, override: str, message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        load_recipe(write(tmp_path, TINY), [override])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("seed=18446744073709551616", "'seed' must be <= 4294967295"),
        ('seed=1\nname="x"', "one KEY=VALUE per --set; a value holds no line break"),
        ("...=1", "expected KEY=VALUE"),
        ("runtime.threads=1000000", "'threads' must be <= 1024"),
        ("schedule.num_timesteps=1000000000", "'num_timesteps' must be <= 100000"),
        ("data.seq_len=100000000", "seq_len must be at most 8,192"),
        ("data.custom_vocab_size=1000000000", "custom_vocab_size must be at most 1,000,000"),
    ],
)
def test_absurd_sizes_and_malformed_overrides_exit_2_in_validate(override: str, message: str) -> None:
    code, out = run("validate", str(REPO / "recipes" / "tiny_cpu.toml"), "--set", override)
    assert code == 2, out
    assert message in out and "Traceback" not in out


def test_a_zero_rate_freezes_a_network_for_a_control(tmp_path: Path) -> None:
    recipe = load_recipe(write(tmp_path, TINY), ["stage.stage1.optim.psi.lr=0.0", "stage.stage1.optim.head_lr=1e-2"])
    assert recipe.stage("stage1").params.optim.psi.lr == 0.0
    assert recipe.stage("stage1").params.optim.head_lr == 1e-2


def test_set_overrides_use_toml_values_and_stage_names(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    recipe = load_recipe(path, ["stage.stage1.steps=9", "stage.0.lr=2e-4", "stage.stage2.optim.psi.betas=[0.0, 0.99]"])
    assert recipe.stage("stage1").params.steps == 9
    assert recipe.stage("teacher").params.lr == 2e-4
    assert recipe.stage("stage2").params.optim.psi.betas == [0.0, 0.99]


def test_bad_override_names_the_override(tmp_path: Path) -> None:
    path = write(tmp_path, TINY)
    code, out = run("validate", str(path), "--set", "stage.nope.steps=3")
    assert code == 2
    assert "--set stage.nope.steps=3: no stage 'nope'" in out


def test_relative_paths_resolve_against_the_recipe_folder(tmp_path: Path) -> None:
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    (sub / "data").symlink_to(DATA)
    path = write(sub, TINY.replace('root = "../../shared/data"', 'root = "data"') + "\n", "r.toml")
    recipe = load_recipe(path, ['output_dir="out"'])
    assert recipe.header.output_dir == str(sub / "out")
    assert recipe.data.params.root == str(sub / "data")


def test_show_prints_the_resolved_recipe_with_defaults(tmp_path: Path) -> None:
    code, out = run("show", str(write(tmp_path, TINY)))
    assert code == 0, out
    data = tomllib.loads(out)
    stage1 = next(s for s in data["stage"] if s["name"] == "stage1")
    assert stage1["max_bad_steps"] == 20  # a default the recipe does not set
    assert stage1["objective"]["name"] == "sid_gan"
    assert data["schedule"] == {"name": "sqrt", "num_timesteps": 2000}
    assert tomllib.loads(render(load_recipe(write(tmp_path, out, "again.toml")))) == data


def test_init_student_must_name_an_earlier_stage(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace('init_student = "stage1"', 'init_student = "stage9"'))
    with pytest.raises(RecipeError, match="'init_student' = 'stage9' must be"):
        load_recipe(path)


def test_teacher_checkpoint_excludes_size_keys(tmp_path: Path) -> None:
    path = write(tmp_path, TINY.replace('name = "toy"\n', 'name = "toy"\ncheckpoint = "t.safetensors"\n'))
    with pytest.raises(RecipeError, match="sizes come from the checkpoint; remove"):
        load_recipe(path)


def test_validate_reads_the_data_without_training_a_vocabulary_or_tokenizing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking the data files parses their lines (a malformed one is found) but trains no vocabulary and
    tokenizes nothing, however large the split."""
    import dlmkit.data.diffuseq_jsonl as module

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("validation trained a vocabulary or tokenized")

    read: list[object] = []
    original = module.read_jsonl_pairs
    monkeypatch.setattr(module, "train_wordpiece_vocab", refuse)
    monkeypatch.setattr(module, "pack_batch", refuse)

    def reading(path: str | Path, **kw: Any) -> Any:
        read.append(path)
        return original(path, **kw)

    monkeypatch.setattr(module, "read_jsonl_pairs", reading)
    assert 'vocab = "custom"' in TINY
    code, out = run("validate", str(REPO / "recipes" / "tiny_cpu.toml"), str(REPO / "recipes" / "quickstart.toml"))
    assert code == 0, out
    assert read  # the lines were parsed
