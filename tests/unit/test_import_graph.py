"""Issue 14: the import graph has no circle, nothing imports back up a layer, and no import sits in a
function only to dodge a cycle (scripts/importgraph.py measures it; it prints the same figures)."""
import importlib.util
import pathlib

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "importgraph.py"


def _graph():
    spec = importlib.util.spec_from_file_location("importgraph", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_circles_no_upward_imports_no_cycle_dodging():
    ig = _graph()
    found = ig.modules()
    graph, top, inner = ig.edges(found)
    assert len(found) > 100 and sum(len(t) for t in graph.values()) > 500  # it did read the product
    assert ig.circles(graph, sorted(found)) == []
    upward = [(a, b) for a, targets in graph.items() for b in targets
              if ig.layer(b) > ig.layer(a) and not b.startswith(a + ".")]
    assert upward == []
    assert [(m, t) for m, _line, targets in inner for t in targets if ig.reaches(top, t, m)] == []


def test_the_measure_finds_a_circle_and_an_upward_import():
    ig = _graph()
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert ig.circles(graph, ["a", "b", "c", "d"]) == [["a", "b", "c"]]
    assert ig.layer("portal.models") == 0 and ig.layer("provisioner.cloud") == 1
    assert ig.layer("portal.services.audit") == 2 and ig.layer("backup.engine") == 2
    assert ig.layer("scheduler.process") == 3 and ig.layer("portal.calendar.views") == 4
