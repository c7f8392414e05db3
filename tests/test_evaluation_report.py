"""evaluate(): per-file quality, diversity across seeds, MBR picks, metric look-up."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from dlmkit.errors import ComponentNotFound, UserError
from dlmkit.evaluation.output_files import OutputRow, write_output_file
from dlmkit.evaluation.report import evaluate
from dlmkit.metrics.bleu import BleuMetric

SPEC_ROWS = [
    OutputRow("[CLS] how can i make friends? [SEP]", "[CLS] how do i make friends? [SEP]", "[CLS] q1 [SEP]"),
    OutputRow(
        "[CLS] what is the best way to learn python? [SEP] [PAD] [PAD] python",
        "[CLS] how do i learn python fast? [SEP]",
        "[CLS] q2 [SEP]",
    ),
    OutputRow("[CLS] [SEP]", "[CLS] why is the sky blue? [SEP]", "[CLS] q3 [SEP]"),
]
# diffuseq.md section 7, averaged over the three rows.
SPEC_MEANS = {
    "bleu": (0.321844 + 0.030602 + 0.0) / 3,
    "rouge_l": (0.8 + 0.266667 + 0.0) / 3,
    "dist1": (1.0 + 1.0 + 0.0) / 3,
    "avg_len": (7 + 13 + 2) / 3,
}
MBR_SET = ["how can i make friends?", "how do you make friends?", "what is the best way to make friends?"]
QUALITY = ["bleu", "rouge_l", "dist1", "avg_len"]


def _seed_files(folder: Path, recovers: Sequence[str], reference: str = "how do i make friends?") -> list[Path]:
    """One file per seed, one example each; names sort in seed order."""
    return [
        write_output_file(folder / f"seed{k}.json", [OutputRow(f"[CLS] {text} [SEP]", reference, "q")])
        for k, text in enumerate(recovers)
    ]


def test_single_file_reports_the_spec_values(tmp_path: Path) -> None:
    path = write_output_file(tmp_path / "seed1.json", SPEC_ROWS)
    report = evaluate([path], QUALITY, mbr=False)
    assert report["files"] == [str(path)] and report["num_examples"] == 3
    assert report["summary"] == pytest.approx(SPEC_MEANS, abs=5e-7)
    assert report["per_file"][str(path)] == report["summary"]
    assert "diversity" not in report and "mbr" not in report


def test_several_files_add_diversity_and_the_mean(tmp_path: Path) -> None:
    files = _seed_files(tmp_path, MBR_SET)
    report = evaluate(files, [*QUALITY, "self_bleu", "div4"], mbr=False)
    assert report["diversity"] == pytest.approx({"self_bleu": 0.089062, "div4": 1.0}, abs=5e-7)
    per_file_bleu = [report["per_file"][str(f)]["bleu"] for f in files]
    assert report["summary"]["bleu"] == pytest.approx(sum(per_file_bleu) / 3)
    assert report["summary"]["self_bleu"] == report["diversity"]["self_bleu"]


def test_mbr_scores_the_pick_against_the_first_file(tmp_path: Path) -> None:
    files = _seed_files(tmp_path, MBR_SET)
    report = evaluate(list(reversed(files)), QUALITY, mbr=True)
    assert report["files"] == [str(f) for f in files]  # sorted, whatever the order given
    assert report["mbr"] == report["per_file"][str(files[0])]  # the spec example picks the first
    assert report["summary"] == report["mbr"]


def test_mbr_ties_go_to_the_first_sorted_file_and_its_reference(tmp_path: Path) -> None:
    # Both candidates have the same words (BLEU ties exactly); the pads change only avg_len.
    a = write_output_file(tmp_path / "a.json", [OutputRow("[CLS] x y z w [SEP]", "ref a words here", "s")])
    b = write_output_file(tmp_path / "b.json", [OutputRow("[CLS] x y z w [PAD] [PAD] [SEP]", "x y z w", "s")])
    report = evaluate([b, a], ["avg_len", "bleu"], mbr=True)
    assert report["mbr"]["avg_len"] == 6  # a's recover, not b's (8)
    assert report["mbr"]["bleu"] == report["per_file"][str(a)]["bleu"]  # a's reference, not b's
    assert report["per_file"][str(b)]["bleu"] == pytest.approx(1.0)


def test_rows_and_mappings_are_accepted() -> None:
    as_dicts = [{"recover": r.recover, "reference": r.reference, "source": r.source} for r in SPEC_ROWS]
    report = evaluate([SPEC_ROWS, as_dicts], ["bleu"], mbr=False)
    assert report["files"] == ["rows[0]", "rows[1]"]
    assert report["summary"]["bleu"] == pytest.approx(SPEC_MEANS["bleu"], abs=5e-7)


def test_metrics_come_from_the_given_mapping() -> None:
    calls: list[list[str]] = []

    class Constant:
        higher_is_better = True
        needs_candidates = False

        def compute(
            self,
            hyps: Sequence[str],
            refs: Sequence[str],
            sources: Sequence[str],
            candidates: Sequence[Sequence[str]] | None = None,
        ) -> float:
            calls.append(list(sources))
            return 0.5

    report = evaluate([SPEC_ROWS], ["mine"], mbr=False, metrics_by_name={"mine": Constant(), "bleu": BleuMetric()})
    assert report["summary"] == {"mine": 0.5}
    assert calls == [[r.source for r in SPEC_ROWS]]


def test_signatures_are_reported() -> None:
    report = evaluate([SPEC_ROWS], ["sacrebleu"], mbr=False)
    assert report["signatures"]["sacrebleu"].startswith("nrefs:1|")


@pytest.mark.parametrize(
    ("metrics", "mbr", "error", "pattern"),
    [
        (["blue"], False, ComponentNotFound, "did you mean 'bleu'"),
        ([], False, UserError, "no metrics requested"),
        (["self_bleu"], False, UserError, "at least two output files"),
        (["bleu"], True, UserError, "at least two output files"),
    ],
)
def test_bad_requests(metrics: list[str], mbr: bool, error: type[Exception], pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        evaluate([SPEC_ROWS], metrics, mbr=mbr)


def test_bad_inputs(tmp_path: Path) -> None:
    path = write_output_file(tmp_path / "a.json", SPEC_ROWS)
    with pytest.raises(UserError, match="not a mixture"):
        evaluate([path, SPEC_ROWS], ["bleu"], mbr=False)
    with pytest.raises(UserError, match="got none"):
        evaluate([], ["bleu"], mbr=False)
    with pytest.raises(UserError, match="differ in length"):
        evaluate([SPEC_ROWS, SPEC_ROWS[:2]], ["bleu"], mbr=False)
    empty = write_output_file(tmp_path / "empty.json", [])
    with pytest.raises(UserError, match=r"empty\.json: no output rows"):
        evaluate([empty], ["bleu"], mbr=False)
