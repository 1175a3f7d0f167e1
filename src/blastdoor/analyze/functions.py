"""Shell functions and aliases: what a definition makes a later name run.

``aliases_defined`` reads ``alias name='words'``.

The walker follows a function call into its body once; a call to the function from inside its own
body is recursion, which Blastdoor cannot unroll. A function that starts copies of itself in the
background or on both sides of a pipe (``:(){ :|:& };:``) multiplies until the machine has no
processes left: a fork bomb, which takes the machine down.
"""

from __future__ import annotations

from tree_sitter import Node

from blastdoor.analyze.bash_tree import command_name
from blastdoor.analyze.commands.process import machine
from blastdoor.analyze.invocation import Invocation, unknown
from blastdoor.analyze.words import split_words
from blastdoor.model import Effect


def forks_itself(name: str, body: Node) -> bool:
    """Whether ``body`` runs the function ``name`` in a pipeline or in the background."""
    stack = [body]
    while stack:
        node = stack.pop()
        if node.type == "command" and command_name(node) == name and _forked(node, body):
            return True
        stack.extend(node.named_children)
    return False


def _forked(command: Node, body: Node) -> bool:
    after = command.next_sibling
    if after is not None and after.type == "&":
        return True
    node = command.parent
    while node is not None and node != body:
        if node.type == "pipeline":
            return True
        node = node.parent
    return False


def recursion(inv: Invocation, *, forks: bool) -> Effect:
    """The effect of a function calling itself."""
    if forks:
        return machine(
            inv, f"{inv.name} starts copies of itself without end (a fork bomb): the machine stops"
        )
    return unknown(
        inv, f"the function {inv.name} calls itself; Blastdoor cannot tell when it stops"
    )


def aliases_defined(inv: Invocation) -> dict[str, list[str]]:
    """The aliases ``alias name='words' ...`` defines, each as the words it stands for."""
    found: dict[str, list[str]] = {}
    for word in inv.args:
        name, sep, value = word.text.partition("=")
        if sep:
            found[name] = split_words(value)
    return found
