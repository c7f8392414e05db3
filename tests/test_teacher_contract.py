"""The reusable teacher contract: the toy teacher passes it, and each kind of broken teacher is caught."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from hypothesis import settings
from torch import Tensor, nn

from dlmkit.testing import ContractViolation, ToyTeacherParams, build_toy_teacher, check_teacher
from dlmkit.testing.teacher_contract import (
    check_denoise,
    check_embeddings,
    check_gradients,
    check_interface,
    check_round_trip,
)
from dlmkit.testing.toy_teacher import ToyTeacher

VOCAB, LENGTH = 30, 10
FEW = settings(max_examples=8, deadline=None)


def toy(cls: type[ToyTeacher] = ToyTeacher, **changes: Any) -> ToyTeacher:
    torch.manual_seed(0)
    params = ToyTeacherParams(embed_dim=8, hidden_size=16, num_heads=2, vocab_size=VOCAB, seq_len=LENGTH, **changes)
    return cls(params)


def test_the_toy_teacher_passes_and_is_left_as_it_was() -> None:
    teacher = build_toy_teacher(ToyTeacherParams(embed_dim=8, hidden_size=16), vocab_size=VOCAB, seq_len=LENGTH)
    teacher.train()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    check_teacher(teacher, VOCAB, LENGTH, profile=FEW)
    assert teacher.training
    assert all(p.grad is None for p in teacher.parameters())
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())


def test_a_teacher_built_for_longer_sequences_and_a_larger_vocabulary_passes() -> None:
    teacher = build_toy_teacher(ToyTeacherParams(embed_dim=8, hidden_size=16, vocab_size=40, seq_len=16), VOCAB, 12)
    check_teacher(teacher, VOCAB, 12, profile=FEW)


class BatchMixing(ToyTeacher):
    """Subtracts the batch mean: a batch statistic that makes samples depend on each other."""

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        out = super().denoise(x_t, t)
        return out - out.mean(dim=0, keepdim=True)

    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        out, hidden = super().denoise_with_features(x_t, t)
        return out - out.mean(dim=0, keepdim=True), hidden


class NanAtTheEnd(ToyTeacher):
    """Takes a log of the time left, which is fine except at the last timestep."""

    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        left = (self.num_timesteps - 1 - t).float()
        return super().denoise(x_t, t) + 0.0 * torch.log(left)[:, None, None]


class DifferentFeatures(ToyTeacher):
    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        out, hidden = super().denoise_with_features(x_t, t)
        return out + 1.0, hidden


class FlatFeatures(ToyTeacher):
    def denoise_with_features(self, x_t: Tensor, t: Tensor) -> tuple[Tensor, Tensor]:
        out, hidden = super().denoise_with_features(x_t, t)
        return out, hidden.flatten(1)


class ScaledEmbedding(ToyTeacher):
    def embed(self, ids: Tensor) -> Tensor:
        return 2.0 * super().embed(ids)


class LogitsWithoutVocab(ToyTeacher):
    def logits(self, x: Tensor) -> Tensor:
        return x


class RoundByLogits(ToyTeacher):
    """Rounds by the logits' argmax, which a large bias on one token hijacks."""

    def __init__(self, config: ToyTeacherParams) -> None:
        super().__init__(config)
        with torch.no_grad():
            self.lm_head.bias.zero_()
            self.lm_head.bias[3] = 1e4

    def round(self, x: Tensor) -> Tensor:
        return self.logits(x).argmax(-1)


class UnusedLayer(ToyTeacher):
    def __init__(self, config: ToyTeacherParams) -> None:
        super().__init__(config)
        self.spare = nn.Linear(4, 4)


class HiddenState(ToyTeacher):
    """Keeps a random offset outside the state_dict: a rebuilt teacher cannot reproduce it."""

    def __init__(self, config: ToyTeacherParams) -> None:
        super().__init__(config)
        self.offset = torch.randn(config.embed_dim)

    def features_at_model_time(self, x_t: Tensor, model_time: Tensor) -> tuple[Tensor, Tensor]:
        out, hidden = super().features_at_model_time(x_t, model_time)
        return out + self.offset, hidden


class PlainConfig(ToyTeacher):
    def __init__(self, config: ToyTeacherParams) -> None:
        super().__init__(config)
        self.config = {"embed_dim": config.embed_dim}  # type: ignore[assignment]


class StochasticInEval(ToyTeacher):
    def denoise(self, x_t: Tensor, t: Tensor) -> Tensor:
        return super().denoise(x_t, t) + 1e-3 * torch.randn_like(x_t)


Check = Callable[[Any], None]
DENOISE: Check = lambda teacher: check_denoise(teacher, LENGTH, FEW)  # noqa: E731
EMBED: Check = lambda teacher: check_embeddings(teacher, VOCAB, LENGTH, FEW)  # noqa: E731


@pytest.mark.parametrize(
    ("cls", "check", "message"),
    [
        (BatchMixing, DENOISE, "mixes samples of a batch"),
        (NanAtTheEnd, DENOISE, r"non-finite values at timesteps \[0, 1999\]"),
        (DifferentFeatures, DENOISE, "same x0 prediction as denoise"),
        (FlatFeatures, DENOISE, r"hidden states \[B, L, H\]"),
        (StochasticInEval, DENOISE, "not deterministic in eval mode"),
        (ScaledEmbedding, EMBED, r"embed\(ids\) must equal embedding_weight\[ids\]"),
        (LogitsWithoutVocab, EMBED, r"expected \[B, L, vocab_size\]"),
        (RoundByLogits, EMBED, r"round\(embed\(ids\)\) must give back ids"),
        (UnusedLayer, lambda teacher: check_gradients(teacher, VOCAB, LENGTH), "'spare.weight' gets no gradient"),
        (HiddenState, lambda teacher: check_round_trip(teacher, LENGTH), "predicts differently"),
        (UnusedLayer, lambda teacher: check_round_trip(teacher, LENGTH), "cannot be rebuilt.*unexpected keys"),
        (PlainConfig, lambda teacher: check_interface(teacher, VOCAB, LENGTH), "attrs params class"),
    ],
)
def test_broken_teachers_are_caught(cls: type[ToyTeacher], check: Check, message: str) -> None:
    with pytest.raises(ContractViolation, match=message):
        check(toy(cls))


def test_sizes_are_checked_against_the_data() -> None:
    with pytest.raises(ContractViolation, match=r"vocab_size \(30\) is smaller than the data's vocabulary \(31\)"):
        check_interface(toy(), VOCAB + 1, LENGTH)
    with pytest.raises(ContractViolation, match="shorter than the data's sequences"):
        check_interface(toy(), VOCAB, LENGTH + 1)


def test_a_plain_object_is_not_a_teacher() -> None:
    class Stub:
        num_timesteps = seq_len = embed_dim = vocab_size = 4

    with pytest.raises(ContractViolation, match=r"must be a torch\.nn\.Module"):
        check_interface(Stub(), 4, 4)  # type: ignore[arg-type]

    class Module(nn.Module):
        num_timesteps = seq_len = embed_dim = vocab_size = 4

    with pytest.raises(ContractViolation, match=r"does not satisfy dlmkit.interfaces.Teacher: it lacks .*denoise"):
        check_interface(Module(), 4, 4)  # type: ignore[arg-type]


def test_a_zero_initialised_layer_is_allowed_when_named() -> None:
    teacher = toy()
    with torch.no_grad():
        teacher.output_down_proj.weight.zero_()
        teacher.output_down_proj.bias.zero_()
    with pytest.raises(ContractViolation, match="all-zero gradient"):
        check_gradients(teacher, VOCAB, LENGTH)
    zeroed = [n for n, _ in teacher.named_parameters() if n.startswith(("encoder", "time_embed", "input_up_proj"))]
    zeroed += ["position_embeddings.weight", "layer_norm.weight", "layer_norm.bias"]
    check_gradients(teacher, VOCAB, LENGTH, allow_zero_grad=zeroed)
