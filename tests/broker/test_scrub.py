"""The scrubber removes a secret in every form it leaks in, even split across reads."""

from __future__ import annotations

import base64
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from blastdoor.broker.scrub import Scrubber

SECRET = "pa55w0rd-with/odd+chars?"


def streamed(scrubber: Scrubber, data: bytes, cuts: list[int]) -> bytes:
    out, start = b"", 0
    for cut in sorted(set(cuts)):
        out += scrubber.feed(data[start:cut])
        start = cut
    return out + scrubber.feed(data[start:]) + scrubber.flush()


def test_every_common_encoding_is_removed() -> None:
    forms = [SECRET, quote(SECRET, safe=""), base64.b64encode(SECRET.encode()).decode(),
             base64.urlsafe_b64encode(SECRET.encode()).decode(), SECRET.encode().hex(),
             base64.b64encode(b"admin:" + SECRET.encode()).decode(),  # HTTP Basic: the secret mid-stream
             base64.b64encode(b"ab:" + SECRET.encode() + b"!").decode()]  # fmt: skip
    text = "\n".join(f"line {n}: {form}" for n, form in enumerate(forms))
    cleaned = Scrubber([("DB_PASSWORD", SECRET)]).text(text)
    assert cleaned.count("[secret removed: DB_PASSWORD]") == len(forms)
    for form in forms:
        assert form not in cleaned
    assert "line 6:" in cleaned  # the rest of the output is kept


def test_ordinary_output_is_untouched() -> None:
    text = "SELECT 3\nid\tname\n1\talice\n(1 row)\n"
    assert Scrubber([("DATABASE_URL", "postgresql://u:longpassword@db/app")]).text(text) == text


@settings(max_examples=200, deadline=None)
@given(prefix=st.binary(max_size=200), suffix=st.binary(max_size=200),
       cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=8))  # fmt: skip
def test_a_secret_split_across_reads_is_still_caught(prefix: bytes, suffix: bytes, cuts: list[int]) -> None:
    data = prefix + SECRET.encode() + suffix
    out = streamed(Scrubber([("S", SECRET)]), data, [c % (len(data) + 1) for c in cuts])
    assert SECRET.encode() not in out
    whole = Scrubber([("S", SECRET)])
    assert out == whole.feed(data) + whole.flush()  # streaming loses and changes nothing else
    assert b"[secret removed: S]" in out


def test_output_without_a_secret_in_the_making_passes_on_at_once() -> None:
    """A progress line reaches the agent when it is printed, not when enough output follows it."""
    scrubber = Scrubber([("API_TOKEN", "tok-" + SECRET)])
    assert scrubber.feed(b"step one\n") == b"step one\n"
    assert scrubber.feed(b"then tok-pa55") == b"then "  # what could still be the secret waits
    assert scrubber.feed(b"w0rd-with/odd+chars?!\n") == b"[secret removed: API_TOKEN]!\n"
