"""DiffuSeq's cleaning: strip once, plain replace, no re-strip."""

from __future__ import annotations

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dlmkit.metrics.avg_len import diffuseq_length
from dlmkit.metrics.cleaning import SpecialTokens, clean_recover, clean_reference, clean_source

SPECIALS = ["[CLS]", "[SEP]", "[PAD]"]
words = st.text(alphabet="abcxyz?'.", min_size=1, max_size=5)
tokens = st.lists(st.one_of(words, st.sampled_from(SPECIALS)), min_size=1, max_size=12)


def test_recover_keeps_spaces_and_text_after_an_inner_sep() -> None:
    assert clean_recover("  [CLS] a b [SEP] [PAD] [PAD] c  ") == " a b    c"


def test_reference_keeps_pad_and_source_keeps_pad() -> None:
    assert clean_reference("[CLS] a [PAD] [SEP]") == " a [PAD] "
    assert clean_source("[CLS] a [SEP] [SEP] [PAD]") == " a   [PAD]"


def test_removal_is_one_pass_per_token_in_the_script_order() -> None:
    # eos is removed first, then sos: a [CLS] split by a [SEP] is joined and then removed.
    assert clean_recover("[CL[SEP]S] a") == " a"
    # sep is removed before pad, so a [SEP] that only appears after removing [PAD] survives.
    assert clean_recover("[SE[PAD]P] a") == "[SEP] a"


def test_custom_tokens() -> None:
    tokens_ = SpecialTokens(sos="<s>", eos="</s>", sep="</s>", pad="<pad>")
    assert clean_recover("<s> a </s> <pad>", tokens_) == " a  "
    with pytest.raises(ValueError, match="pad"):
        SpecialTokens(pad="")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        tokens_.pad = "x"  # type: ignore[misc]


@given(tokens)
def test_single_space_length_counts_every_token_even_removed_ones(toks: list[str]) -> None:
    # Tokens joined by single spaces have no outer whitespace, so removal leaves one piece per token.
    assert diffuseq_length(clean_recover(" ".join(toks))) == len(toks)


@given(tokens)
def test_whitespace_split_sees_only_the_words(toks: list[str]) -> None:
    assert clean_recover(" ".join(toks)).split() == [t for t in toks if t not in SPECIALS]
