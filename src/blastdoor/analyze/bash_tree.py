"""tree-sitter-bash: parsing a script, and the node facts the walker needs.

``parse`` keeps one parser per process. ``first_error`` says where a script stops being bash;
``command_name`` is the program a ``command`` node names; ``stage_name`` names a pipeline stage
for the stream it writes.
"""

from __future__ import annotations

from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

from blastdoor.analyze.words import text_of

# Nodes that hold no command: comments, and heredoc text (data, unless fed to a program).
STRUCTURAL_SKIP = frozenset({"comment", "heredoc_body", "heredoc_end", "heredoc_start"})


@lru_cache(maxsize=1)
def parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


def parse(script: str) -> Node:
    return parser().parse(script.encode("utf-8", "surrogatepass")).root_node


def first_error(root: Node) -> str:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            row, col = node.start_point
            return f"near line {row + 1}, column {col + 1}"
        stack.extend(reversed(node.children))
    return "syntax error"


def command_name(command: Node) -> str | None:
    """The name a ``command`` node runs, as written (None when it has none)."""
    name = command.child_by_field_name("name")
    return text_of(name) if name is not None else None


def stage_name(stage: Node) -> str:
    node = stage
    while node.type != "command" and node.named_children:
        node = node.named_children[0]
    name = command_name(node)
    return f"the output of {name}" if name is not None else "a pipe"
