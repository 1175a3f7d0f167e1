"""getopt's reading of bundled short options, as the families share it."""

from blastdoor.analyze.commands.getopt import (
    END,
    GETOPT,
    Option,
    Syntax,
    bundle,
    read_options,
    split_options,
)
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


# --- split_options: one splitter, with the places where parsers differ named by a Syntax ---------
def _split(
    syntax: Syntax, *texts: str, valued: str = "-h --host -c"
) -> tuple[list[str], list[str]]:
    options, operands = split_options(_words(*texts), valued.split(), syntax)
    shown = [o.name if o.value is None else f"{o.name}={o.value.text}" for o in options]
    return shown, [w.text for w in operands]


def test_the_syntax_decides_whether_a_valued_option_takes_an_option_like_word() -> None:
    takes, refuses = Syntax(dash_values=True), Syntax(dash_values=False)
    assert _split(takes, "--host", "--dry-run", "x") == (["--host=--dry-run"], ["x"])
    assert _split(refuses, "--host", "--dry-run", "x") == (["--host", "--dry-run"], ["x"])
    assert _split(refuses, "-h", "-5") == (["-h=-5"], [])  # a negative number is a value to all
    assert _split(refuses, "--host", "-") == (["--host=-"], [])


def test_what_every_parser_agrees_on() -> None:
    plain = Syntax(dash_values=True)
    assert _split(plain, "--host=db", "-", "--", "-c", "x") == (["--host=db"], ["-", "-c", "x"])
    assert _split(plain, "-h") == (["-h"], [])  # a value missing at the end of the line


def test_attached_values_equals_and_numbers_are_per_syntax() -> None:
    assert _split(GETOPT, "-hdb.prod", "-h=x") == (["-h=db.prod", "-h==x"], [])
    assert _split(Syntax(dash_values=True), "-hdb.prod") == (["-hdb.prod"], [])
    go = Syntax(dash_values=True, short_equals=True, numbers=True)
    assert _split(go, "-chdir=infra", "-1") == (["-chdir=infra"], ["-1"])
    assert _split(GETOPT, "-1") == (["-1"], [])  # psql -1: --single-transaction


def test_a_guess_decides_for_long_options_not_listed() -> None:
    options, operands = split_options(
        _words("--zone", "eu", "--all", "x"), (), GETOPT, guess=lambda w, i: w[i].text == "--zone"
    )
    assert [(o.name, o.text) for o in options] == [("--zone", "eu"), ("--all", "")]
    assert [w.text for w in operands] == ["x"]


def test_a_bundling_syntax_reads_each_letter_of_a_bundle() -> None:
    valued = "-c -h -U -e -u"
    assert _split(GETOPT, "-Atc", "DROP TABLE t", "shop", valued=valued) == (
        ["-A", "-t", "-c=DROP TABLE t"],
        ["shop"],
    )
    assert _split(GETOPT, "-XAtcDROP", valued=valued) == (["-X", "-A", "-t", "-c=DROP"], [])
    assert _split(GETOPT, "-uroot", "-Nse", "SQL", valued=valued) == (
        ["-u=root", "-N", "-s", "-e=SQL"],
        [],
    )
    # a whole-word syntax reads the same words as options it does not know
    assert _split(Syntax(dash_values=True), "-Atc", "SQL", valued=valued) == (["-Atc"], ["SQL"])


def test_an_optional_letter_takes_only_an_attached_value() -> None:
    options, operands = split_options(
        _words("-uroot", "-p", "shop", "-psecret", "-Nse", "SQL"), {"-u", "-e"}, GETOPT,
        optional={"-p"},
    )  # fmt: skip
    assert [(o.name, o.text) for o in options] == [
        ("-u", "root"),
        ("-p", ""),
        ("-p", "secret"),
        ("-N", ""),
        ("-s", ""),
        ("-e", "SQL"),
    ]
    assert [w.text for w in operands] == ["shop"]


def test_a_bundle_ending_in_a_valued_letter_follows_the_syntax_for_option_like_words() -> None:
    boost = Syntax(dash_values=False, attached=True, bundles=True)
    assert _split(boost, "-nq", "--host", "x", valued="-q --host") == (
        ["-n", "-q", "--host=x"],
        [],
    )
    assert _split(GETOPT, "-nq", "--host", valued="-q --host") == (["-n", "-q=--host"], [])
    pflag = Syntax(dash_values=True, attached=True, short_equals=True, bundles=True)
    assert _split(pflag, "-iX=DELETE", valued="-X") == (["-i", "-X=DELETE"], [])


def test_an_ordered_syntax_ends_the_options_at_the_first_operand() -> None:
    redis = Syntax(dash_values=True, ordered=True)
    assert _split(redis, "-h", "cache", "get", "-h", valued="-h") == (["-h=cache"], ["get", "-h"])


def test_the_stream_marks_where_the_options_ended() -> None:
    items = list(read_options(_words("-m", "x", "--", "a"), {"-m"}, GETOPT))
    assert items == [Option("-m", Word("x")), END, Word("a")]
    git = Syntax(dash_values=True, bundles=True, end_word="--end-of-options")
    items = list(read_options(_words("--end-of-options", "-f", "--", "a"), (), git))
    assert items == [Option("--end-of-options"), Word("-f"), END, Word("a")]
    found = list(read_options(_words("--har"), (), git, resolve=lambda name: "--hard"))
    assert found == [Option("--hard")]
