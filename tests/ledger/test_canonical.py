"""The canonical bytes of an entry: the fast path Blastdoor takes for plain payloads writes exactly
what the rfc8785 library writes, on generated payloads and on the awkward corners."""

from __future__ import annotations

from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from blastdoor.ledger.entry import canonical

text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)  # no lone surrogates
plain = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(text, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(text, plain, max_size=8))
def test_plain_payloads_are_written_as_rfc8785_writes_them(payload: dict[str, Any]) -> None:
    assert canonical(payload) == rfc8785.dumps(payload)


@pytest.mark.parametrize("payload", [
    {"\U0001f600": 1, "\ue000": 2, "a": 3},  # key order by UTF-16 code units differs from code points
    {"x": 1.5}, {"x": -0.0}, {"x": 1e21},
    {"s": "\x00\x1f\x7f\u2028\u2029\"\\/\b\f\n\r\t"},
])  # fmt: skip
def test_the_corners_match_too(payload: dict[str, Any]) -> None:
    assert canonical(payload) == rfc8785.dumps(payload)


@pytest.mark.parametrize("payload", [{"s": "\ud800"}, {"n": 2**60}])
def test_what_rfc8785_cannot_write_is_refused(payload: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        canonical(payload)
