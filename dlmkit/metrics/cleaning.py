"""DiffuSeq's clean-up of decoded strings before scoring (``scripts/eval_seq2seq.py``).

The official script strips each field once and then deletes special-token strings with plain
``str.replace``; it never strips again.  The spaces left behind are part of the metric: the
``avg_len`` count sees them, so the clean-up is reproduced exactly rather than tidied.
"""

from __future__ import annotations

import attrs


def _token(_instance: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValueError(f"special token {attribute.name!r} must be a non-empty string, got {value!r}")


@attrs.frozen
class SpecialTokens:
    """The token strings the official script removes (its ``--sos/--eos/--sep/--pad`` flags)."""

    sos: str = attrs.field(default="[CLS]", validator=_token)
    eos: str = attrs.field(default="[SEP]", validator=_token)
    sep: str = attrs.field(default="[SEP]", validator=_token)
    pad: str = attrs.field(default="[PAD]", validator=_token)


BERT_TOKENS = SpecialTokens()


def clean_source(text: str, tokens: SpecialTokens = BERT_TOKENS) -> str:
    """``source``: strip, then remove eos and sos."""
    return text.strip().replace(tokens.eos, "").replace(tokens.sos, "")


def clean_reference(text: str, tokens: SpecialTokens = BERT_TOKENS) -> str:
    """``reference``: strip, then remove eos, sos and sep."""
    return text.strip().replace(tokens.eos, "").replace(tokens.sos, "").replace(tokens.sep, "")


def clean_recover(text: str, tokens: SpecialTokens = BERT_TOKENS) -> str:
    """``recover``: strip, then remove eos, sos, sep and pad (inner pads become extra spaces)."""
    return text.strip().replace(tokens.eos, "").replace(tokens.sos, "").replace(tokens.sep, "").replace(tokens.pad, "")
