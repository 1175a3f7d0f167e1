"""getopt's reading of bundled short options, as the families share it."""

from blastdoor.analyze.commands.getopt import bundle
from blastdoor.analyze.invocation import Word


def _words(*texts: str) -> list[Word]:
    return [Word(t) for t in texts]


def test_a_valued_letter_takes_the_rest_of_its_word() -> None:
    letters, last = bundle(_words("-xvfarchive.tar", "next"), 0, "f")
    assert [(k, v.text if v else None) for k, v in letters] == [
        ("x", None),
        ("v", None),
        ("f", "archive.tar"),
    ]
    assert last == 0


def test_a_valued_letter_at_the_end_of_its_word_takes_the_next_word() -> None:
    letters, last = bundle(_words("ssh-keygen", "-lf", "key.pub", "x"), 1, "f")
    assert letters[-1][0] == "f" and letters[-1][1] == Word("key.pub")
    assert last == 2


def test_a_valued_letter_with_nothing_after_it_has_no_value() -> None:
    letters, last = bundle(_words("-f"), 0, "f")
    assert letters == [("f", None)] and last == 0


def test_an_attached_only_letter_never_takes_the_next_word() -> None:
    letters, last = bundle(_words("-u", "no"), 0, "", attached="u")
    assert letters == [("u", Word(""))] and last == 0
    letters, _ = bundle(_words("-uno"), 0, "", attached="u")
    assert letters == [("u", Word("no"))]


def test_the_value_keeps_the_word_run_time_mark() -> None:
    letters, _ = bundle([Word("-f$OUT", dynamic=True)], 0, "f")
    assert letters == [("f", Word("$OUT", True))]
