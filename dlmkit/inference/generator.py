"""Text in, text out: a distilled student (or a teacher with a named sampler) as a Python object.

``Generator.load("runs/quickstart")`` opens a run folder (or a recipe, for its teacher) the way
``dlmkit sample`` does; ``generate(["How can I learn Python?"], num_samples=3, seed=0)`` encodes each
source as the training data was packed (``[CLS] x [SEP] [SEP]`` then the target region), samples,
and returns clean text: special tokens and padding removed.  ``dlmkit generate`` is this class
behind a command, so the same seed and batch size give the same outputs in both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import attrs
import torch

from dlmkit.data.packing import pack_batch, truncated_lengths
from dlmkit.devices import pick_device
from dlmkit.errors import UserError
from dlmkit.inference.bundle import is_bundle, read_bundle
from dlmkit.inference.mbr import mbr_select
from dlmkit.inference.sampler_choice import choose_sampler
from dlmkit.inference.sources import Role, open_source
from dlmkit.interfaces import Batch, Denoiser, NoiseSchedule, Sampler, Tokenizer
from dlmkit.metrics.cleaning import clean_recover
from dlmkit.samplers.noise import SeededNoise


@attrs.frozen
class Encoded:
    """Sources packed for generation, and how many of them lost tokens to the sequence length."""

    batch: Batch
    truncated: int


def check_sources(sources: Sequence[str]) -> list[str]:
    """The sources as given, refusing empty or whitespace-only ones by their position."""
    if isinstance(sources, str):
        raise UserError('generate takes a list of sources, not one string; wrap it: ["..."]')
    bad = [i for i, text in enumerate(sources) if not isinstance(text, str) or not text.strip()]
    if bad:
        where = ", ".join(str(i + 1) for i in bad[:5]) + (" ..." if len(bad) > 5 else "")
        raise UserError(f"source {where} of {len(sources)} is empty or only whitespace; give text to paraphrase")
    return list(sources)


def encode_sources(tokenizer: Tokenizer, sources: Sequence[str], seq_len: int, truncate: bool = True) -> Encoded:
    """Pack each source with an empty target (``[CLS] [SEP]``), as DiffuSeq packs a pair.

    A source longer than the condition can hold loses its last tokens (``truncate``), or is refused.
    """
    src = [tokenizer.encode(text) for text in check_sources(sources)]
    trg = [[tokenizer.cls_id, tokenizer.sep_id]] * len(src)
    budget = seq_len - 3
    room = truncated_lengths(10**9, 1, budget)[0]  # what the condition keeps of a very long source
    long = [i for i, ids in enumerate(src) if len(ids) - 1 > room]
    if long and not truncate:
        raise UserError(
            f"{len(long)} source(s) are longer than the model's condition ({room - 1} word pieces at seq_len "
            f"{seq_len}), the first is source {long[0] + 1}; shorten them, or allow truncation"
        )
    return Encoded(pack_batch(src, trg, seq_len, tokenizer.pad_id, tokenizer.sep_id), len(long))


class Generator:
    """A model, its tokenizer, schedule and sampler, ready to turn sources into outputs."""

    def __init__(
        self,
        model: Denoiser,
        tokenizer: Tokenizer,
        schedule: NoiseSchedule,
        sampler: Sampler,
        seq_len: int,
        device: torch.device,
    ) -> None:
        self.model, self.tokenizer, self.schedule, self.sampler = model, tokenizer, schedule, sampler
        self.seq_len, self.device = seq_len, device

    @classmethod
    def load(
        cls,
        source: str | Path,
        *,
        model: Role | None = None,
        sampler: str | None = None,
        steps: int | None = None,
        device: str | None = None,
        overrides: Iterable[str] = (),
    ) -> Generator:
        """Open a bundle (``dlmkit export``), a run folder (its student by default) or a recipe (its teacher).

        ``sampler`` / ``steps`` pick how to sample (``dpm_solver_pp`` at 10 steps for a teacher; a student
        with ``steps`` > 1 re-noises and denoises again); ``device`` is ``auto``, ``cpu`` or ``cuda``.
        """
        if is_bundle(Path(source)):
            return cls._from_bundle(Path(source), model, sampler, steps, device)
        opened = open_source(source, overrides)
        role: Role = model or opened.default_role
        where = pick_device(device or opened.recipe.runtime.device)
        network = opened.load_model(role, where)
        chosen = choose_sampler(role, sampler, steps, opened.student_sampler, opened.schedule.num_timesteps)
        return cls(network, opened.dataset.tokenizer, opened.schedule, chosen, opened.dataset.seq_len, where)

    @classmethod
    def _from_bundle(
        cls, path: Path, model: Role | None, sampler: str | None, steps: int | None, device: str | None
    ) -> Generator:
        network, tokenizer, schedule, student_sampler, seq_len = read_bundle(path)
        role: Role = model or "student"
        where = pick_device(device or "auto")
        chosen = choose_sampler(role, sampler, steps, student_sampler, schedule.num_timesteps)
        return cls(network.to(where), tokenizer, schedule, chosen, seq_len, where)

    def generate(
        self,
        sources: Sequence[str],
        *,
        num_samples: int = 1,
        seed: int = 0,
        batch_size: int = 64,
        mbr: bool = False,
        truncate: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> list[list[str]]:
        """``num_samples`` clean outputs per source (sample ``k`` draws its noise from ``seed + k``);
        with ``mbr``, the one MBR picks among them (a list of one per source)."""
        if num_samples < 1 or batch_size < 1:
            raise UserError(f"num_samples and batch_size must be >= 1, got {num_samples} and {batch_size}")
        encoded = encode_sources(self.tokenizer, sources, self.seq_len, truncate)
        self.truncated = encoded.truncated
        per_sample = [self._sample(encoded.batch, seed + k, batch_size, progress) for k in range(num_samples)]
        outputs = [list(texts) for texts in zip(*per_sample, strict=True)]
        if mbr:
            return [[candidates[mbr_select(candidates)]] for candidates in outputs]
        return outputs

    def _sample(self, batch: Batch, seed: int, batch_size: int, progress: Callable[[int], None] | None) -> list[str]:
        from dlmkit.data.decoding import recover_texts

        noise = SeededNoise(seed)
        texts: list[str] = []
        with torch.no_grad():
            for lo in range(0, len(batch), batch_size):
                part = batch.slice(lo, lo + batch_size)
                ids = self.sampler.sample(self.model, part.to(self.device), self.schedule, noise).cpu()
                texts += [
                    " ".join(clean_recover(t).split()) for t in recover_texts(self.tokenizer, ids, part.input_mask)
                ]
                if progress is not None:
                    progress(len(part))
        return texts
