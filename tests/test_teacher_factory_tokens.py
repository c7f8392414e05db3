"""Teacher factories receive the tokenizer's token strings, so a teacher can start from a pretrained table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from dlmkit.data.wordpiece import read_vocab_file
from dlmkit.engine.pipeline import run_recipe
from dlmkit.hookspecs import Register, hookimpl
from dlmkit.recipe.load import load_recipe
from dlmkit.testing.temporary_plugin import temporary_plugin
from dlmkit.testing.toy_teacher import ToyTeacher, ToyTeacherParams, build_toy_teacher
from tests.test_pipeline import SHORT, TINY

SEEN: list[Sequence[str] | None] = []


def build_recording_teacher(
    params: ToyTeacherParams, vocab_size: int, seq_len: int, tokens: Sequence[str] | None = None
) -> ToyTeacher:
    SEEN.append(tokens)
    return build_toy_teacher(params, vocab_size=vocab_size, seq_len=seq_len)


class RecordingPlugin:
    @hookimpl
    def register_teachers(self, register: Register) -> None:
        register("recording", build_recording_teacher, params=ToyTeacherParams, summary="toy that records tokens")


@pytest.fixture
def recording() -> Iterator[list[Sequence[str] | None]]:
    with temporary_plugin(RecordingPlugin(), "recording-test"):
        SEEN.clear()
        yield SEEN


def test_the_factory_gets_the_run_vocabulary_in_id_order(tmp_path: Path, recording: list[Sequence[str] | None]) -> None:
    overrides = [*SHORT, 'teacher.name = "recording"', "stage.teacher.steps=1", "stage.stage1.steps=1",
                 "stage.stage1.eval_every=0", "stage.stage2.steps=1", "stage.stage2.eval_every=0"]  # fmt: skip
    run_recipe(load_recipe(TINY, overrides), output_dir=tmp_path / "run", progress=False)
    built_fresh = [tokens for tokens in recording if tokens is not None]
    assert built_fresh, "the teacher was never built with tokens"
    vocab = read_vocab_file(tmp_path / "run" / "vocab.txt")
    assert list(built_fresh[0]) == vocab
