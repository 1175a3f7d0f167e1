"""Valid bash that tree-sitter-bash cannot parse, rewritten into an equivalent it can.

tree-sitter-bash rejects a few forms bash accepts (each checked with ``bash -n``):

- a line continuation at the very end of the text (``find . -exec rm {} \\``): bash drops it
  (in a script) or passes a lone backslash (``bash -c``); either way nothing else changes;
- a substring expansion whose offset is a variable (``${name:$i:1}``): the offset is arithmetic,
  so ``${name:i :1}`` means the same;
- the read-write redirection ``3<>file``: like ``3>>file`` it opens the file, creating it when
  missing, without truncating it;
- a heredoc whose delimiter line never comes (``ssh host <<'EOF'`` as the last line): bash reads
  to the end of the text and warns.

Each rewrite keeps every other character where it was (or only appends), so what the walker
reports still quotes the command as written. The rewritten text is used only when the original
does not parse and the rewrite does.
"""

from __future__ import annotations

import re

_SUBSTRING_OFFSET = re.compile(r"(\$\{#?\w+):\$(\w+)")
_READ_WRITE = re.compile(r"(?<=[\d\s])<>(?=\s*[^\s>])")
_HEREDOC = re.compile(r"(?<!<)<<-?\s*(?:'(\w+)'|\"(\w+)\"|\\(\w+)|(\w+))")


def repaired(script: str) -> str:
    """``script`` with the forms above rewritten; ``script`` itself when none applies."""
    text = _SUBSTRING_OFFSET.sub(r"\1:\2 ", script)
    text = _READ_WRITE.sub(">>", text)
    text = _without_final_continuation(text)
    return _with_heredoc_ends(text)


def _without_final_continuation(text: str) -> str:
    body = text.rstrip()
    trailing = len(body) - len(body.rstrip("\\"))
    if trailing % 2 == 0:  # no backslash, or an escaped one (``\\``): a literal backslash
        return text
    cut = len(body) - 1
    return text[:cut] + " " + text[cut + 1 :]


def _with_heredoc_ends(text: str) -> str:
    for match in _HEREDOC.finditer(text):
        delimiter = next(group for group in match.groups() if group)
        after = text[match.end() :].split("\n")[1:]
        if not any(line.strip() == delimiter for line in after):
            text = text.rstrip("\n") + "\n" + delimiter + "\n"
    return text
