"""Policy layers, observe mode, freeze and failing closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from blastdoor.errors import ConfigError
from blastdoor.judge import judge
from blastdoor.model import Action, Effect, Scope, Target, Verb
from blastdoor.policy import load
from blastdoor.policy.engine import Policy


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_user_rules_come_before_the_builtin_ones(tmp_path: Path) -> None:
    user = write(
        tmp_path / "user.toml",
        '[[rule]]\nid = "me.src"\nverb = "delete"\ntags = "recursive"\ndecision = "allow"\nreason = "mine"\n',
    )
    assert judge(Action.shell("rm -rf src"), load()).kind.value == "ask"
    assert judge(Action.shell("rm -rf src"), load(user=user)).kind.value == "allow"


def test_a_repository_policy_can_only_tighten(tmp_path: Path) -> None:
    loosen = write(
        tmp_path / "loose.toml",
        '[[rule]]\nid = "repo.loose"\nverb = "delete"\ndecision = "allow"\nreason = "x"\n',
    )
    tighten = write(
        tmp_path / "tight.toml",
        '[[rule]]\nid = "repo.tight"\nverb = "delete"\ndecision = "deny"\nreason = "no deletes here"\n',
    )
    assert judge(Action.shell("rm -rf ~"), load(repo=loosen)).kind.value == "deny"
    decision = judge(Action.shell("rm notes.txt"), load(repo=tighten))
    assert decision.kind.value == "deny"
    assert decision.rule_ids == ("repo.tight",)


def test_a_repository_cannot_switch_to_observe_mode(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo.toml", 'mode = "observe"\n')
    assert load(repo=repo).mode == "enforce"


def test_observe_mode_decides_but_does_not_enforce(tmp_path: Path) -> None:
    user = write(tmp_path / "user.toml", 'mode = "observe"\n')
    decision = judge(Action.shell("rm -rf ~"), load(user=user))
    assert decision.kind.value == "deny"
    assert decision.enforced is False


def test_freeze_denies_writes_to_production() -> None:
    action = Action.shell(
        "psql -c 'DELETE FROM users'", env={"DATABASE_URL": "postgres://db.prod.internal/app"}
    )
    effect = Effect(
        verb=Verb.MODIFY,
        target=Target("database", "db.prod.internal"),
        detail="change rows",
        evidence="x",
        scope=Scope.PRODUCTION,
    )
    assert load(frozen=True).decide([effect]).kind.value == "deny"
    assert load(frozen=False).decide([effect]).kind.value == "hold"
    assert judge(Action.shell("rm -rf build"), load(frozen=True)).kind.value == "allow"
    results = judge(Action.shell("kubectl exec pod -- rm -rf /data/results.out"), load(frozen=True))
    assert results.kind.value == "deny"  # not build output: the freeze holds
    del action


def test_an_effect_no_rule_matches_is_asked() -> None:
    policy = Policy(rules=())
    effect = Effect(verb=Verb.READ, target=Target("file", "x"), detail="read x", evidence="cat x")
    decision = policy.decide([effect])
    assert decision.kind.value == "ask"
    assert decision.rule_ids == ("policy.no-match",)


def test_every_decision_explains_itself() -> None:
    decision = judge(Action.shell("rm -rf ~/"), load())
    assert decision.reasons and decision.rule_ids
    assert "home" in decision.reasons[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mode = 'yolo'", "mode"),
        ("[[rule]]\ndecision = 'allow'", "no id"),
        ("[[rule]]\nid = 'x'\ndecision = 'perhaps'", "decision"),
        ("[[rule]]\nid = 'x'\ndecision = 'allow'\nverb = 'obliterate'", "verb"),
        ("[[rule]]\nid = 'x'\ndecision = 'allow'\ncolour = 'red'", "unknown keys"),
        ("not toml [", "not valid TOML"),
        ("[scope]\nprod = ['x']", "not a scope"),
    ],
)
def test_invalid_policy_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "bad.toml", text)
    with pytest.raises(ConfigError) as raised:
        load(user=path)
    assert message in raised.value.diagnostics()


def test_configured_names_decide_scope(tmp_path: Path) -> None:
    user = write(
        tmp_path / "user.toml",
        '[scope]\nproduction = ["billing-db*"]\ndevelopment = ["*.prod-like.test"]\n',
    )
    effect = Effect(
        verb=Verb.DELETE, target=Target("database", "billing-db-7"), detail="drop", evidence="x"
    )
    from blastdoor.scope import resolve

    policy = load(user=user)
    assert resolve(effect, env={}, config=policy.scope).scope is Scope.PRODUCTION


def test_a_local_git_discard_is_decided_by_the_git_pack_not_the_filesystem_pack() -> None:
    policy = load()
    discard = Effect(verb=Verb.DELETE, target=Target("git-worktree", "."), detail="reset --hard",
                     evidence="git reset --hard", scope=Scope.LOCAL, tags=frozenset({"git", "discards-uncommitted"}))  # fmt: skip
    assert policy.explain(discard).id == "git.discard-work"
    plain = Effect(verb=Verb.DELETE, target=Target("path", "/w/a.txt"), detail="rm a.txt", evidence="rm a.txt",
                   scope=Scope.LOCAL)  # fmt: skip
    assert policy.explain(plain).id == "fs.local-delete"


def test_system_disruption_has_its_own_rule_whatever_the_scope() -> None:
    policy = load()
    for scope in Scope:
        found = Effect(verb=Verb.MODIFY, target=Target("service", "sshd"), detail="stop sshd", evidence="x",
                       scope=scope, tags=frozenset({"system-disruption"}))  # fmt: skip
        assert policy.explain(found).id == "guard.system-disruption"


def test_remembered_verdicts_stay_with_their_own_policy() -> None:
    """Two policies judging the same effect shape one after the other each answer by their rules,
    however often they alternate and however many distinct effects were seen in between."""
    from blastdoor.model import DecisionKind
    from blastdoor.policy.rules import Rule

    allow = Policy(rules=(Rule(id="a", decision=DecisionKind.ALLOW, reason="ok", verbs=frozenset({Verb.READ})),))
    deny = Policy(rules=(Rule(id="d", decision=DecisionKind.DENY, reason="no", verbs=frozenset({Verb.READ})),))
    read = Effect(verb=Verb.READ, target=Target("file", "x"), detail="read x", evidence="cat x")
    for _ in range(3):
        assert allow.decide([read]).rule_ids == ("a",)
        assert deny.decide([read]).rule_ids == ("d",)
    for n in range(5000):  # more distinct tag sets than the memo keeps
        tagged = Effect(verb=Verb.READ, target=Target("file", "x"), detail="read", evidence="x",
                        tags=frozenset({f"t{n}"}))  # fmt: skip
        assert allow.decide([tagged]).kind is DecisionKind.ALLOW
    write_x = Effect(verb=Verb.CREATE, target=Target("file", "x"), detail="write x", evidence="x")
    assert allow.decide([write_x]).rule_ids == ("policy.no-match",)


def test_a_frozen_copy_of_a_policy_answers_with_the_freeze_rule_first() -> None:
    policy = load()
    change = Effect(verb=Verb.MODIFY, target=Target("database", "db.prod.internal"),
                    detail="change rows", evidence="x", scope=Scope.PRODUCTION)  # fmt: skip
    assert policy.decide([change]).kind.value == "hold"
    frozen = Policy(**{**policy.__dict__, "frozen": True})  # the same rules tuple, frozen
    assert frozen.decide([change]).rule_ids == ("freeze",)
    assert policy.decide([change]).kind.value == "hold"
