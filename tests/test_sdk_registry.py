"""The SDK-fix registry (bot/sdk/registry.py): one list that names a real test per row, patches applied once and put
back exactly, and no code outside bot/sdk/patch.py assigning to a botbuilder, botframework or msrest attribute."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.sdk import registry
from bot.sdk.patch import Patch, apply, restore

ROOT = Path(__file__).resolve().parent.parent
SDK_PACKAGES = ("botbuilder", "botframework", "msrest")


def test_every_row_names_an_existing_test_and_a_way_to_switch_it_off():
    assert len(registry.FIXES) >= 16
    for name, fix in registry.FIXES.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name)
        assert fix.patches or fix.stock, name
        assert fix.defect and fix.place and fix.installed and fix.tests, name
        for test in fix.tests:
            path, function = test.split("::")
            assert re.search(rf"^(async )?def {function}\(", (ROOT / path).read_text(), re.MULTILINE), test


class Target:
    kept = "stock"


def test_a_patch_is_applied_once_and_put_back_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []

    def ours(stock: object) -> object:
        built.append(stock)
        return f"ours over {stock}"

    replaced, added = Patch(Target, "kept", ours), Patch(Target, "added", ours)
    for _ in range(2):
        apply(replaced)
        apply(added)
    assert (Target.kept, Target.added) == ("ours over stock", "ours over None")  # type: ignore[attr-defined]
    assert built == ["stock", None]  # built once, from the SDK's value
    with monkeypatch.context() as one_test:
        restore(replaced, one_test)
        restore(added, one_test)
        assert Target.kept == "stock" and not hasattr(Target, "added")
    assert (Target.kept, Target.added) == ("ours over stock", "ours over None")  # type: ignore[attr-defined]


def test_switching_a_patch_fix_off_keeps_create_app_from_reinstalling_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from botbuilder.core.bot_state import CachedBotState

    registry.install()
    patched = CachedBotState.__dict__["compute_hash"]
    with monkeypatch.context() as one_test:
        registry.switch_off("state-hash", one_test)
        registry.install()
        assert CachedBotState.__dict__["compute_hash"] is not patched
    assert CachedBotState.__dict__["compute_hash"] is patched


def _sdk_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in SDK_PACKAGES:
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.asname or alias.name.split(".")[0] for alias in node.names
                         if alias.name.split(".")[0] in SDK_PACKAGES)
    return names


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def test_nothing_outside_the_patch_module_assigns_to_an_sdk_attribute():
    files = [ROOT / "app.py", ROOT / "config.py"]
    for package in ("bot", "dialogs", "graph", "manifest"):
        files += sorted((ROOT / package).rglob("*.py"))
    offenders = []
    for path in files:
        if path == ROOT / "bot" / "sdk" / "patch.py":
            continue
        tree = ast.parse(path.read_text())
        sdk = _sdk_names(tree)
        for node in ast.walk(tree):
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("setattr", "delattr"):
                targets = [ast.Attribute(value=node.args[0], attr="?")] if node.args else []
            for target in targets:
                if isinstance(target, ast.Attribute) and _root_name(target) in sdk:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
