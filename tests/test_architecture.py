"""The shape of the tree (issue 12): no import cycles inside nncli/, no module over ~600 lines,
only nncli/cli/ imports rich or prints, and `nncli --help` imports no engine module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "nncli"
MAX_LINES = 600


def _modules() -> dict[str, Path]:
    out = {}
    for path in PKG.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path], *, top_level_only: bool) -> set[str]:
    """nncli modules that ``name`` imports (relative and absolute), at module level or anywhere."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    nodes = tree.body if top_level_only else list(_walk_runtime(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                found.add(full if full in modules else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m in modules and m != name}


def _is_type_checking(node) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _walk_runtime(node):
    """ast.walk, minus `if TYPE_CHECKING:` blocks (imports for annotations only never run)."""
    for child in ast.iter_child_nodes(node):
        if _is_type_checking(child):
            continue
        yield child
        yield from _walk_runtime(child)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    cycles, state, stack = [], {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = _modules()
    # a package's __init__ is not a dependency of its submodules in the sense that matters here
    return {name: {m for m in _imports(name, path, modules, top_level_only=top_level_only)
                   if not name.startswith(m + ".")}
            for name, path in modules.items()}


def test_no_import_cycle_at_module_level():
    assert _cycles(_graph(top_level_only=True)) == []


def test_no_import_cycle_even_through_function_level_imports():
    # `nncli` (the package) re-exports train/load_run lazily; a module that needs the version reads
    # nncli.__version__, which is not a cycle through api. Ignore edges into the bare package.
    graph = {k: v - {"nncli"} for k, v in _graph(top_level_only=False).items()}
    assert _cycles(graph) == []


def test_no_module_is_over_the_size_limit():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in PKG.rglob("*.py")}
    assert {p: n for p, n in sizes.items() if n > MAX_LINES} == {}


def test_only_the_cli_imports_rich_or_prints():
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[1] == "cli":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "rich" for a in node.names):
                offenders.append(f"{rel}:{node.lineno}: import rich")
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rich" and not node.level:
                offenders.append(f"{rel}:{node.lineno}: from rich")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                offenders.append(f"{rel}:{node.lineno}: print()")
    assert offenders == []


def test_help_imports_no_engine_module():
    code = ("import sys; from nncli.cli.app import app; "
            "print(sorted(m for m in sys.modules if m.startswith('nncli.') and not m.startswith('nncli.cli')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    loaded = eval(out.stdout)  # a list literal printed by the line above
    heavy = [m for m in loaded if m.split(".")[1] in {"api", "training", "data", "nn", "run", "sweep", "inspect"}]
    assert heavy == [], heavy
    assert "numpy" not in subprocess.run([sys.executable, "-c", "import sys, nncli.cli.app; print(sorted(sys.modules))"],
                                         capture_output=True, text=True, cwd=ROOT, check=True).stdout


def test_help_renders_without_markdown_or_pygments():
    """`nncli --help` must start fast: typer's renderer loads with stand-ins for rich.markdown and
    rich.traceback (markdown-it, pygments), which leave sys.modules so later imports get the real ones."""
    code = ("import sys, io, contextlib; sys.argv = ['nncli', '--help']; from nncli.cli.app import main\n"
            "out = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n"
            "    try: main()\n"
            "    except SystemExit: pass\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('markdown_it', 'pygments') or m in ('rich.markdown', 'rich.traceback'))\n"
            "import rich.markdown\n"
            "print(heavy, 'Usage: nncli' in out.getvalue(), hasattr(rich.markdown, 'MarkdownContext'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["[]", "True", "True"], out.stdout + out.stderr
