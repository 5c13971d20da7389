#!/usr/bin/env python3
"""Measure govcloud's import graph: circles, imports that run back up a layer, imports inside functions.

    python scripts/importgraph.py [--verbose]

Every import between the product's modules counts (at module level or inside a function: either
couples the two). A circle is a strongly connected group of two or more modules. Layers, from
the bottom: 0 the domain (models, settings, state tables, pure logic), 1 the cloud package, 2 the
services, 3 the engines (provisioner, backup, monitoring), 4 the web and the command line.
"""
import ast
import pathlib
import sys
from collections import defaultdict

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("portal", "provisioner", "monitoring", "backup", "scheduler")
CLOUD = {"provisioner.errors", "provisioner.naming", "provisioner.ssh"}  # and provisioner.cloud.*
PROCESSES = {"provisioner", "provisioner.worker", "backup.jobs"}  # and monitoring
WEB_LEAVES = {"app", "cli", "entry", "wsgi", "web", "access", "security", "extensions", "i18n", "logs", "audit_hooks",
              "forms_common", "config"}
LAYERS = ("domain", "cloud", "services", "processes", "web")


def layer(module):
    """0 domain (models, settings, state tables, pure logic), 1 the cloud package, 2 services (the
    portal's, the provisioning and backup engines), 3 processes (worker, scheduler and its jobs),
    4 the web and the command line."""
    parts = module.split(".")
    if module in CLOUD or module == "provisioner.cloud" or module.startswith("provisioner.cloud."):
        return 1
    if module.startswith(("portal.models", "portal.schemas", "portal.crypto")):  # tables, inputs, ciphers
        return 0
    if parts[0] in ("monitoring", "scheduler") or module in PROCESSES:
        return 3
    if parts[0] in ("provisioner", "backup") or (len(parts) > 1 and parts[1] == "services") \
            or module == "portal.runtime":
        return 2
    if len(parts) > 1 and parts[1] in WEB_LEAVES or len(parts) > 2:  # a blueprint's modules
        return 4
    return 0


def modules():
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            found[name] = path
    return found


def resolve(module, node, is_package, found):
    """The modules an import statement reads: `from pkg import mod` reads mod, `from mod import name` mod."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[:len(base) - node.level + 1]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [f"{prefix}.{alias.name}" if f"{prefix}.{alias.name}" in found else prefix for alias in node.names]


def edges(found):
    """Return (every import edge, module-level edges, [(module, line, targets)] of imports in functions)."""
    out, top = defaultdict(set), defaultdict(set)
    inner = []
    for module, path in found.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets = {t for t in resolve(module, node, path.name == "__init__.py", found) if t in found and t != module}
            if not targets:
                continue
            out[module] |= targets
            up = node
            while up in parents and not isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)):
                up = parents[up]
            if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner.append((module, node.lineno, sorted(targets)))
            else:
                top[module] |= targets
    return out, top, inner


def reaches(graph, start, goal):
    seen, todo = set(), [start]
    while todo:
        v = todo.pop()
        if v == goal:
            return True
        if v not in seen:
            seen.add(v)
            todo.extend(graph.get(v, ()))
    return False


def circles(graph, nodes):
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                result.append(sorted(group))
    for v in nodes:
        if v not in index:
            visit(v)
    return result


def main(argv):
    verbose = "--verbose" in argv
    found = modules()
    graph, top, inner = edges(found)
    groups = circles(graph, sorted(found))
    upward = sorted((a, b) for a, targets in graph.items() for b in targets if layer(b) > layer(a)
                    and not b.startswith(a + "."))  # a package importing its own modules is not upward
    print(f"modules: {len(found)}, imports between them: {sum(len(t) for t in graph.values())}")
    print(f"circles: {len(groups)}" + (f", the largest {max(len(g) for g in groups)} modules wide" if groups else ""))
    for group in groups:
        print("  circle: " + " ".join(group))
    print(f"imports that run back up a layer: {len(upward)}")
    for a, b in upward:
        print(f"  {a} (layer {layer(a)}) -> {b} (layer {layer(b)})")
    # an import inside a function dodges a cycle when, at module level, it would close one
    dodging = [(m, line, t) for m, line, targets in inner for t in targets if reaches(top, t, m)]
    print(f"imports inside functions: {len(inner)}, of which would close a cycle at module level: {len(dodging)}")
    for module, line, target in dodging:
        print(f"  {module}:{line} -> {target}")
    if verbose:
        for module, line, targets in inner:
            print(f"  inside a function: {module}:{line} -> {', '.join(targets)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
