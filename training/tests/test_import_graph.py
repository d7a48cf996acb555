from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "annamalai_train"


def package_imports(pkg: Path) -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its source (module level or inside a function)."""
    mods = {p.stem for p in pkg.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for p in pkg.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(p.read_text(), str(p))):
            if isinstance(node, ast.ImportFrom):
                if node.level == 1 and node.module:  # from .x import y
                    deps.add(node.module.split(".")[0])
                elif node.level == 1:  # from . import x
                    deps.update(a.name for a in node.names)
                elif node.module and node.module.startswith("annamalai_train."):
                    deps.add(node.module.split(".")[1])
            elif isinstance(node, ast.Import):
                deps.update(a.name.split(".")[1] for a in node.names if a.name.startswith("annamalai_train."))
        graph[p.stem] = {d for d in deps if d in mods and d != p.stem}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a path of modules (first == last), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(graph.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (c := visit(d)):
                return c
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state and (c := visit(m)):
            return c
    return None


def test_find_cycle_reports_a_cycle_it_is_given() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_training_package_imports_form_no_cycle_even_counting_imports_inside_functions() -> None:
    graph = package_imports(PACKAGE)
    assert {"pipeline", "runall", "report", "yamnet", "dataset"} <= set(graph)
    assert find_cycle(graph) is None


def test_imports_go_one_way_entry_point_run_report_shared() -> None:
    graph = package_imports(PACKAGE)
    assert "runall" in graph["pipeline"] and "report" in graph["runall"] and "dataset" in graph["report"]
    assert not graph["dataset"] & {"pipeline", "runall", "report", "yamnet", "loco", "levels"}
