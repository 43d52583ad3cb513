"""The layout's rules, read from the code: imports run one way and never in a circle.

web -> segments -> catalog, and the ``ml`` package imports no app (nor Django): services read
the database, hand arrays to it and write its answers back. Production code never imports
test support or benchmarks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ml", "catalog", "segments", "web", "segrec_site")
# What each package may not import (by top-level name).
FORBIDDEN = {
    "ml": {"django", "rest_framework", "catalog", "segments", "web", "segrec_site", "tests"},
    "catalog": {"segments", "web", "tests", "bench"},
    "segments": {"web", "tests", "bench"},
    "web": {"tests", "bench"},
}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports(path: Path, module: str, known: frozenset[str] = frozenset()) -> Iterator[str]:
    """Every module ``path`` imports, at the top or inside a function; ``from pkg import
    sub`` counts as importing the submodule ``pkg.sub`` when it is one of ``known``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            subs = [f"{base}.{alias.name}" for alias in node.names]
            if not all(sub in known for sub in subs):
                yield base
            yield from subs


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_run_one_way(package: str) -> None:
    bad = [
        f"{name} imports {target}"
        for name, path in modules().items()
        if name.split(".")[0] == package
        for target in imports(path, name)
        if target.split(".")[0] in FORBIDDEN[package]
    ]
    assert not bad, "\n".join(bad)


def test_no_module_imports_itself_through_others() -> None:
    known = modules()
    graph = {
        name: {t for t in imports(path, name, frozenset(known)) if t in known and t != name}
        for name, path in known.items()
    }
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join([*trail[trail.index(nxt) :], nxt]))
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "\n".join(cycles)


def test_starting_django_loads_no_numeric_library() -> None:
    """Web processes start fast: the admin, pages and API import no scikit-learn or torch."""
    import subprocess
    import sys

    code = (
        "import django, sys; django.setup(); from django.urls import resolve; resolve('/');"
        "print(sorted(m for m in ('sklearn', 'torch', 'transformers') if m in sys.modules))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "segrec_site.settings", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_template_comments_fit_on_one_line() -> None:
    """Django's {# #} comments cannot span lines: a multi-line one is printed on the page."""
    root = Path(__file__).resolve().parents[1] / "templates"
    broken = [
        str(path.relative_to(root))
        for path in root.rglob("*.html")
        for line in path.read_text().splitlines()
        if "{#" in line and "#}" not in line
    ]
    assert not broken, f"use {{% comment %}} for these: {broken}"
