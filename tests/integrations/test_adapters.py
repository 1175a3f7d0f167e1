"""Each adapter run the way its agent runs it: exact output bytes and exit codes per decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from blastdoor.config import Settings
from blastdoor.ledger.ledger import Ledger
from tests.integrations.conftest import run_client

DENY_HOME = ("Blastdoor denied this action: Delete ~ and everything under it: it deletes the root "
             "folder, the home folder or system files. (rules: fs.system-delete). Do not try to work "
             "around this block; tell the user what you meant to do and why.")  # fmt: skip


def claude(command: str, cwd: Path, tool: str = "Bash", **tool_input: object) -> dict[str, object]:
    return {"session_id": "sess-1", "transcript_path": "/x.jsonl", "cwd": str(cwd), "permission_mode": "default",
            "hook_event_name": "PreToolUse", "tool_name": tool,
            "tool_input": tool_input or {"command": command, "description": "x"}, "tool_use_id": "toolu_01"}  # fmt: skip


def test_claude_code_deny_is_exact(isolated_home: Path, workspace: Path, user_home: Path) -> None:
    ran = run_client(
        "claude-code", claude("rm -rf ~", workspace), home=isolated_home, cwd=workspace
    )
    expected = {"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny",
                                       "permissionDecisionReason": DENY_HOME}}  # fmt: skip
    assert (ran.code, ran.stdout) == (0, json.dumps(expected) + "\n")


def test_claude_code_allow_is_silent_so_its_own_permissions_still_apply(
    isolated_home: Path, workspace: Path
) -> None:
    ran = run_client(
        "claude-code", claude("git status", workspace), home=isolated_home, cwd=workspace
    )
    assert (ran.code, ran.stdout, ran.stderr) == (0, "", "")


def test_claude_code_ask_uses_its_prompt(isolated_home: Path, workspace: Path) -> None:
    ran = run_client("claude-code", claude("", workspace, tool="Write", file_path=".env", content="A=1"),
                     home=isolated_home, cwd=workspace)  # fmt: skip
    output = ran.json["hookSpecificOutput"]
    assert ran.code == 0 and output["permissionDecision"] == "ask"
    assert output["permissionDecisionReason"].startswith(
        "Blastdoor asks for confirmation: Write .env"
    )


def test_claude_code_hold_names_the_request_and_the_same_action_names_the_same_one(
    isolated_home: Path, workspace: Path
) -> None:
    first = run_client(
        "claude-code",
        claude("terraform destroy -auto-approve", workspace),
        home=isolated_home,
        cwd=workspace,
    )
    again = run_client(
        "claude-code",
        claude("terraform destroy -auto-approve", workspace),
        home=isolated_home,
        cwd=workspace,
    )
    other = run_client(
        "claude-code",
        claude("terraform destroy -auto-approve -target=x", workspace),
        home=isolated_home,
        cwd=workspace,
    )
    reason = first.json["hookSpecificOutput"]["permissionDecisionReason"]
    assert first.json["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert (
        "until a person approves it out of band" in reason
        and "retry exactly the same action" in reason
    )
    request = reason.split("Approval request ")[1].split(".")[0]
    assert request.startswith("r-") and request in again.stdout and request not in other.stdout


def test_claude_code_mcp_and_protected_files(isolated_home: Path, workspace: Path) -> None:
    mcp = claude(
        "",
        workspace,
        tool="mcp__supabase__execute_sql",
        project_id="prod",
        query="DROP TABLE executives",
    )
    held = run_client("claude-code", mcp, home=isolated_home, cwd=workspace)
    assert "Approval request r-" in held.stdout and "executives" in held.stdout
    rules = claude(
        "", workspace, tool="Edit", file_path="CLAUDE.md", old_string="a", new_string="b"
    )
    denied = run_client("claude-code", rules, home=isolated_home, cwd=workspace)
    assert denied.json["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "guard.self-protection" in denied.stdout


def test_unjudged_tools_get_no_opinion(isolated_home: Path, workspace: Path) -> None:
    ran = run_client(
        "claude-code",
        claude("", workspace, tool="Read", file_path="x"),
        home=isolated_home,
        cwd=workspace,
    )
    assert (ran.code, ran.stdout) == (0, "")


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"\x00\xff\xfe", b"[1,2]", b'{"tool_name": 5}', b"{" * 100_000]
)
def test_unreadable_input_is_a_deny_with_a_reason(
    isolated_home: Path, workspace: Path, raw: bytes
) -> None:
    ran = run_client("claude-code", raw, home=isolated_home, cwd=workspace)
    output = ran.json["hookSpecificOutput"]
    assert ran.code == 0 and output["permissionDecision"] == "deny"
    assert output["permissionDecisionReason"].startswith(
        "Blastdoor blocked this call because it could not judge it"
    )
    assert "Traceback" not in ran.stderr


def test_codex_turns_ask_into_a_deny_with_a_reason(isolated_home: Path, workspace: Path) -> None:
    payload = {"session_id": "c-1", "turn_id": "t", "transcript_path": None, "cwd": str(workspace),
               "hook_event_name": "PreToolUse", "model": "gpt", "permission_mode": "default",
               "tool_name": "apply_patch", "tool_use_id": "call_1",
               "tool_input": {"command": "*** Begin Patch\n*** Update File: .env\n@@\n-A=1\n+A=2\n*** End Patch\n"}}  # fmt: skip
    ran = run_client("codex", payload, home=isolated_home, cwd=workspace)
    output = ran.json["hookSpecificOutput"]
    assert ran.code == 0 and output["permissionDecision"] == "deny"
    assert output["permissionDecisionReason"].startswith(
        "Blastdoor needs a person to confirm this action and Codex hooks cannot ask"
    )
    allowed = run_client(
        "codex",
        {**payload, "tool_name": "Bash", "tool_input": {"command": "ls"}},
        home=isolated_home,
        cwd=workspace,
    )
    assert (allowed.code, allowed.stdout) == (0, "")


def test_gemini_deny_and_subfolder(isolated_home: Path, workspace: Path, user_home: Path) -> None:
    payload = {"session_id": "g-1", "transcript_path": "/t", "cwd": str(workspace), "hook_event_name": "BeforeTool",
               "timestamp": "2026-01-01T00:00:00Z", "tool_name": "run_shell_command",
               "tool_input": {"command": "rm -rf ~", "description": "clean"}}  # fmt: skip
    ran = run_client("gemini", payload, home=isolated_home, cwd=workspace)
    assert (ran.code, ran.stdout) == (
        0,
        json.dumps({"decision": "deny", "reason": DENY_HOME}) + "\n",
    )
    build = {**payload, "tool_input": {"command": "rm -rf node_modules", "dir_path": "web"}}
    assert run_client("gemini", build, home=isolated_home, cwd=workspace).stdout == ""


def test_cursor_answers_every_event_in_json(
    isolated_home: Path, workspace: Path, user_home: Path
) -> None:
    base = {"conversation_id": "cur-1", "generation_id": "gen-1", "model": "m", "cursor_version": "1.7.2",
            "workspace_roots": [str(workspace)], "user_email": None, "transcript_path": None}  # fmt: skip
    shell = run_client("cursor", {**base, "hook_event_name": "beforeShellExecution", "command": "git status",
                                  "cwd": str(workspace), "sandbox": False}, home=isolated_home, cwd=workspace)  # fmt: skip
    assert (shell.code, shell.stdout) == (0, '{"permission": "allow"}\n')
    deny = run_client("cursor", {**base, "hook_event_name": "beforeShellExecution", "command": "rm -rf ~",
                                 "cwd": str(workspace)}, home=isolated_home, cwd=workspace)  # fmt: skip
    assert (
        deny.stdout
        == json.dumps({"permission": "deny", "user_message": DENY_HOME, "agent_message": DENY_HOME})
        + "\n"
    )
    ask = run_client("cursor", {**base, "hook_event_name": "beforeShellExecution", "command": "git reset --hard",
                                "cwd": str(workspace)}, home=isolated_home, cwd=workspace)  # fmt: skip
    assert ask.json["permission"] == "ask"
    mcp = run_client("cursor", {**base, "hook_event_name": "beforeMCPExecution", "tool_name": "delete_repository",
                                "tool_input": json.dumps({"owner": "acme", "repo": "shop"}), "url": "https://api.githubcopilot.com/mcp"},
                     home=isolated_home, cwd=workspace)  # fmt: skip
    assert mcp.json["permission"] == "deny" and "Approval request r-" in mcp.json["agent_message"]
    edit = run_client("cursor", {**base, "hook_event_name": "preToolUse", "tool_name": "Write", "tool_use_id": "t1",
                                 "cwd": str(workspace), "tool_input": {"file_path": ".env"}}, home=isolated_home, cwd=workspace)  # fmt: skip
    assert edit.json["permission"] == "deny" and "cannot ask" in edit.json["agent_message"]


def test_copilot_reads_tool_args_as_a_json_string(
    isolated_home: Path, workspace: Path, user_home: Path
) -> None:
    payload = {"sessionId": "cp-1", "timestamp": 1704614600000, "cwd": str(workspace), "toolName": "bash",
               "toolArgs": json.dumps({"command": "rm -rf ~", "description": "Clean"})}  # fmt: skip
    ran = run_client("copilot", payload, home=isolated_home, cwd=workspace)
    assert (ran.code, ran.stdout) == (
        0,
        json.dumps({"permissionDecision": "deny", "permissionDecisionReason": DENY_HOME}) + "\n",
    )
    safe = run_client(
        "copilot",
        {**payload, "toolArgs": json.dumps({"command": "git log -1"})},
        home=isolated_home,
        cwd=workspace,
    )
    assert (safe.code, safe.stdout) == (0, "")


def test_every_call_is_in_the_ledger_with_its_session_and_run(
    isolated_home: Path, workspace: Path
) -> None:
    for command in ("git status", "rm -rf /"):
        run_client("claude-code", claude(command, workspace), home=isolated_home, cwd=workspace)
    (workspace / "CLAUDE.md").write_text("be careful\n")
    run_client("claude-code", claude("ls", workspace), home=isolated_home, cwd=workspace)
    with Ledger.open(Settings.resolve(home=str(isolated_home))) as ledger:
        entries = [json.loads(row.body) for row in ledger.store.scan()]
    decisions = [e for e in entries if e["type"] == "decision"]
    assert [e["action"]["input"] for e in decisions] == ["git status", "rm -rf /", "ls"]
    assert {e["source"] for e in decisions} == {"hook:claude-code"}
    assert {e["session"] for e in decisions} == {"sess-1"} and {
        e["tool_use"] for e in decisions
    } == {"toolu_01"}
    assert len({e["run"] for e in decisions}) == 1 and decisions[0]["run"].startswith("run-")
    assert decisions[2]["rules_files"]["CLAUDE.md"].startswith("sha256:")


def test_a_run_opened_by_blastdoor_run_wins(isolated_home: Path, workspace: Path) -> None:
    run_client(
        "claude-code",
        claude("ls", workspace),
        home=isolated_home,
        cwd=workspace,
        env={"BLASTDOOR_RUN_ID": "run-fixed"},
    )
    with Ledger.open(Settings.resolve(home=str(isolated_home))) as ledger:
        entries = [json.loads(row.body) for row in ledger.store.scan()]
    assert entries[-1]["run"] == "run-fixed"
