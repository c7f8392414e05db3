"""The metrics dlmkit ships: one table that both the plugin hook and offline evaluation read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from dlmkit.interfaces import Metric
from dlmkit.metrics.avg_len import AvgLenMetric, AvgLenParams
from dlmkit.metrics.bertscore import BertScoreMetric, BertScoreParams
from dlmkit.metrics.bleu import BleuMetric, BleuParams
from dlmkit.metrics.dist1 import Dist1Metric, Dist1Params
from dlmkit.metrics.div4 import Div4Metric, Div4Params
from dlmkit.metrics.mode_metric import ModeMetricParams
from dlmkit.metrics.mode_tv import ModeTvMetric
from dlmkit.metrics.rouge_l import RougeLMetric, RougeLParams
from dlmkit.metrics.sacrebleu_corpus import SacreBleuMetric, SacreBleuParams
from dlmkit.metrics.self_bleu import SelfBleuMetric, SelfBleuParams
from dlmkit.metrics.validity import ValidityMetric


@attrs.frozen
class MetricSpec:
    """One built-in metric: its registry name, factory ``(params) -> Metric``, params class and summary."""

    name: str
    factory: Callable[[Any], Metric]
    params: type
    summary: str


BUILTIN_METRICS: tuple[MetricSpec, ...] = (
    MetricSpec("bleu", BleuMetric, BleuParams, "DiffuSeq BLEU-4: NLTK sentence_bleu, method-4 smoothing, averaged"),
    MetricSpec("rouge_l", RougeLMetric, RougeLParams, "DiffuSeq ROUGE-L F (torchmetrics rougeL, default normaliser)"),
    MetricSpec("dist1", Dist1Metric, Dist1Params, "distinct unigrams per output, averaged"),
    MetricSpec("avg_len", AvgLenMetric, AvgLenParams, "DiffuSeq output length: len(recover.split(' ')), averaged"),
    MetricSpec("self_bleu", SelfBleuMetric, SelfBleuParams, "pairwise BLEU among the seeds' outputs (lower = diverse)"),
    MetricSpec("div4", Div4Metric, Div4Params, "distinct 4-grams pooled over the seeds' outputs"),
    MetricSpec("sacrebleu", SacreBleuMetric, SacreBleuParams, "sacreBLEU corpus BLEU, 0-100, with signature"),
    MetricSpec("bertscore", BertScoreMetric, BertScoreParams, "BERTScore F1 from a local model (MiniLM-L6 default)"),
    MetricSpec(
        "validity", ValidityMetric, ModeMetricParams, "modes data: share of outputs equal to one of the K answers"
    ),
    MetricSpec("mode_tv", ModeTvMetric, ModeMetricParams, "modes data: TV of the answered modes from uniform"),
)
