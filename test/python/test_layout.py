"""The source layout is a layering: dialect/ (the IR) includes nothing of
transforms/ (the engines), conversion/ (the lowering) or passes/; transforms/
and conversion/ include the IR only (and themselves); no header includes form
a cycle."""

import glob
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAYER = {"dialect": 0, "transforms": 1, "conversion": 1, "passes": 2}
INCLUDE = re.compile(r'#include "((?:dialect|transforms|conversion|passes)/[^"]+)"')


def _includes():
    graph = {}
    for folder in LAYER:
        for path in glob.glob(os.path.join(ROOT, folder, "*.[ch]*")):
            rel = os.path.relpath(path, ROOT)
            with open(path) as f:
                graph[rel] = [i for i in INCLUDE.findall(f.read())
                              if os.path.exists(os.path.join(ROOT, i))]
    return graph


def test_sources_are_found():
    graph = _includes()
    assert any(p.startswith("dialect/") for p in graph)
    assert any(p.startswith("transforms/") for p in graph)
    assert any(p.startswith("conversion/") for p in graph)


def test_each_folder_includes_only_lower_layers():
    bad = []
    for path, incs in _includes().items():
        here = path.split("/")[0]
        for inc in incs:
            there = inc.split("/")[0]
            if LAYER[there] > LAYER[here] or (LAYER[there] == LAYER[here] and there != here):
                bad.append(f"{path} includes {inc}")
    assert not bad, "\n".join(bad)


def test_no_include_cycles():
    graph = _includes()
    state = {}
    cycles = []

    def visit(node, stack):
        state[node] = "open"
        for nxt in graph.get(node, []):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for node in graph:
        if node not in state:
            visit(node, [node])
    assert not cycles, "\n".join(cycles)
