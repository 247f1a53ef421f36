"""The pre-commit hooks and CI samples call featmesh with options it has."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import yaml

from featmesh.connector.cli import COMMANDS, cli

ROOT = Path(__file__).resolve().parents[2]


def _parses(argv: list[str]) -> None:
    """Parse argv as the CLI would, without running the command."""
    group_ctx = cli.make_context("featmesh", list(argv), resilient_parsing=True)
    name = argv[0]
    command = cli.get_command(group_ctx, name)
    assert command is not None, name
    args = argv[1:]
    if isinstance(command, click.Group):
        sub = command.get_command(group_ctx, args[0])
        assert sub is not None, args[0]
        command, args = sub, args[1:]
    args = [re.sub(r"\$\([^)]*\)", "staging", a) for a in args]  # pipeline variables
    command.make_context(name, args or ["x"])


def test_pre_commit_hooks() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {
        "featmesh-check",
        "featmesh-check-changed",
        "featmesh-validate-policies",
    }
    for hook in hooks:
        words = hook["entry"].split()
        assert words[0] == "featmesh" and words[1] in COMMANDS
        _parses(words[1:] + hook.get("args", []) + (["policy.yaml"] if hook["pass_filenames"] else []))
    files = re.compile(next(h for h in hooks if h["id"] == "featmesh-validate-policies")["files"])
    assert files.search("policies/payments.yaml") and files.search("waivers.yaml")
    assert files.search("team-policy.yml") and not files.search("features/card_txn.yaml")


def test_ci_samples_use_real_options() -> None:
    found = 0
    for path in sorted((ROOT / "samples" / "ci").glob("*.y*ml")):
        text = path.read_text()
        yaml.safe_load(text)
        text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        commands = "|".join(COMMANDS)
        for match in re.finditer(rf"featmesh ((?:{commands}) [^\n]*(?:\n\s+--[^\n]*)*)", text):
            command = " ".join(match.group(1).split())
            command = command.split(">")[0]  # drop a shell redirection
            _parses(shlex.split(command))
            found += 1
    assert found >= 7
