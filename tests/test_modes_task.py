"""The known-answer ``modes`` task: its data, and the ``validity`` and ``mode_tv`` metrics on it."""

from __future__ import annotations

import pytest

from dlmkit.data.decoding import output_records
from dlmkit.data.modes import TRANSFORMS, ModesDataset, ModesParams, answers, matched_modes
from dlmkit.metrics.mode_tv import ModeTvMetric
from dlmkit.metrics.validity import ValidityMetric


def test_every_target_is_its_mode_applied_to_the_source() -> None:
    data = ModesDataset(ModesParams(num_train=400))
    pairs = data.pairs("train")
    for source, target, mode in pairs:
        assert 4 <= len(source) <= 8 and target == TRANSFORMS[mode](source)
    shares = {m: sum(p[2] == m for p in pairs) / len(pairs) for m in TRANSFORMS}
    assert all(0.18 < s < 0.32 for s in shares.values())


def test_packed_split_decodes_back_to_the_pairs() -> None:
    data = ModesDataset(ModesParams(num_test=20))
    batch = data.split("test")
    rows = output_records(data.tokenizer, batch.input_ids, batch)
    hyps = [r["reference"] for r in rows]
    sources = [r["source"] for r in rows]
    assert ValidityMetric().compute(hyps, hyps, sources) == 1.0


def test_the_mean_of_the_modes_is_not_valid() -> None:
    source = ["w1", "w2", "w3", "w4"]
    assert len({tuple(a) for a in answers(source)}) == 4
    assert matched_modes(["w1", "w2", "w3", "w4"], source) == ["copy"]
    assert matched_modes(["w2", "w2", "w3", "w3"], source) == []


def _rows(outputs: list[list[str]], source: list[str]) -> tuple[list[str], list[str]]:
    src = "[CLS] " + " ".join(source) + " [SEP] [SEP]"
    return ["[CLS] " + " ".join(o) + " [SEP]" for o in outputs], [src] * len(outputs)


@pytest.mark.parametrize(
    ("picks", "validity", "tv"),
    [
        (["copy", "reverse", "rotate", "swap_halves"] * 5, 1.0, 0.0),
        (["copy"] * 20, 1.0, 0.75),
        (["copy", "reverse"] * 10, 1.0, 0.5),
    ],
)
def test_validity_and_mode_tv_on_known_outputs(picks: list[str], validity: float, tv: float) -> None:
    source = ["w1", "w2", "w3", "w4", "w5", "w6"]
    hyps, sources = _rows([TRANSFORMS[m](source) for m in picks], source)
    assert ValidityMetric().compute(hyps, hyps, sources) == pytest.approx(validity)
    assert ModeTvMetric().compute(hyps, hyps, sources) == pytest.approx(tv)


def test_invalid_outputs_lower_validity_and_leave_no_share_to_balance() -> None:
    source = ["w1", "w2", "w3", "w4"]
    hyps, sources = _rows([["w9"] * 4] * 3 + [source], source)
    assert ValidityMetric().compute(hyps, hyps, sources) == pytest.approx(0.25)
    assert ModeTvMetric().compute(hyps, hyps, sources) == pytest.approx(0.75)
    none, srcs = _rows([["w9"]], source)
    assert ModeTvMetric().compute(none, none, srcs) == pytest.approx(0.75)


def test_bad_params_are_named() -> None:
    with pytest.raises(ValueError, match="seq_len"):
        ModesParams(max_words=10, seq_len=20)
    with pytest.raises(ValueError, match="modes"):
        ModesParams(modes=["copy", "shuffle"])
