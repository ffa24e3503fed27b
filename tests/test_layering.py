"""Dependencies run one way: each part of ``sfdc`` imports only the parts below it.

The order, top to bottom (DESIGN.md): ``web`` and ``ops`` → ``orgs`` and
``client`` → ``tokens`` → ``salesforce`` → ``settings`` → ``errors``;
``telemetry`` and ``clock`` are used by all and use none; ``emulator`` shares nothing with
the client code. Each package's ``__init__`` docstring says the same in words.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SFDC = Path(__file__).resolve().parent.parent / "sfdc"

_GROUND = {"sfdc.errors", "sfdc.clock", "sfdc.telemetry"}
_SETTINGS = _GROUND | {"sfdc.settings"}
_WIRE = _SETTINGS | {"sfdc.salesforce"}
_TOKENS = _WIRE | {"sfdc.tokens"}
_CORE = _TOKENS | {"sfdc.orgs", "sfdc.client"}
_ACCESS = _TOKENS | {"sfdc.orgs"}

# Part -> the parts it may import (its own modules are always allowed).
ALLOWED: dict[str, set[str]] = {
    "sfdc.errors": set(),
    "sfdc.clock": set(),
    "sfdc.telemetry": set(),
    "sfdc.settings": _GROUND,
    "sfdc.salesforce": _SETTINGS,
    "sfdc.tokens": _WIRE,
    "sfdc.client": _TOKENS,
    "sfdc.orgs": _TOKENS,
    "sfdc.access": _ACCESS,
    "sfdc.web": _CORE | {"sfdc.access", "sfdc.__init__"},
    "sfdc.ops": _CORE | {"sfdc.access", "sfdc.__init__", "sfdc.emulator"},
    "sfdc.emulator": set(),
    "sfdc.__init__": _CORE - {"sfdc.orgs"},
    "sfdc.__main__": {"sfdc.ops"},
}


def _part(module: str) -> str:
    """``sfdc.tokens.provider`` -> ``sfdc.tokens``; ``sfdc.errors`` -> itself."""
    pieces = module.split(".")
    return ".".join(pieces[:2])


def _module_name(path: Path) -> str:
    relative = path.relative_to(SFDC.parent).with_suffix("")
    name = ".".join(relative.parts)
    return name.removesuffix(".__init__") if path.parent != SFDC else name


def _package(name: str) -> str:
    """``sfdc`` itself, or a name it defines (``sfdc.__version__``), is ``sfdc/__init__.py``."""
    if name == "sfdc" or name.startswith("sfdc.__"):
        return "sfdc.__init__"
    return name


def _imports(module: str, source: str, *, is_package: bool) -> set[str]:
    """Every ``sfdc`` module a source imports, at the top or inside a function."""
    found: set[str] = set()
    package = module if is_package else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(_package(alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                found.add(".".join([*base, node.module] if node.module else base))
            elif node.module == "sfdc":
                found.update(_package(f"sfdc.{alias.name}") for alias in node.names)
            elif node.module:
                found.add(node.module)
    return {name for name in found if name.startswith("sfdc.")}


def _upward(module: str, source: str, *, is_package: bool = False) -> set[str]:
    own = _part(module)
    return {
        name
        for name in _imports(module, source, is_package=is_package)
        if _part(name) != own and _part(name) not in ALLOWED[own]
    }


def _sources() -> list[Path]:
    return sorted(p for p in SFDC.rglob("*.py") if "migrations" not in p.parts)


def test_every_part_of_the_package_is_in_the_table() -> None:
    parts = {_part(_module_name(p)) for p in _sources()}
    assert parts <= set(ALLOWED), parts - set(ALLOWED)


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(SFDC.parent)))
def test_imports_run_down_the_layers(path: Path) -> None:
    module = _module_name(path)
    upward = _upward(module, path.read_text(), is_package=path.name == "__init__.py")
    assert not upward, f"{_part(module)} may import only {sorted(ALLOWED[_part(module)])}"


def test_the_check_sees_upward_imports_even_inside_functions() -> None:
    source = "def later():\n    from sfdc.tokens.token import Token\n"
    assert _upward("sfdc.settings.hosts", source) == {"sfdc.tokens.token"}
    assert _upward("sfdc.tokens.token", "from sfdc.settings import hosts\n") == set()
    assert _upward("sfdc.emulator.rest", "from .state import X\n") == set()
    assert _upward("sfdc.emulator.rest", "from sfdc.tokens import token\n") == {"sfdc.tokens"}
    # The package itself re-exports the core: only the top parts may import it.
    assert _upward("sfdc.tokens.token", "import sfdc\n") == {"sfdc.__init__"}
    assert _upward("sfdc.salesforce.pools", "from sfdc import __version__\n") == {"sfdc.__init__"}
    assert _upward("sfdc.web.openapi", "from sfdc import __version__\n") == set()


def test_importing_the_core_does_not_import_flask() -> None:
    probe = "import sys, sfdc, sfdc.ops.cli, sfdc.orgs.connections; print('flask' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
