"""Every benchmark under bench/ at least compiles: `make bench` runs them only on demand, so a broken
one (an indentation slip in provision_concurrency.py went unseen) would wait for the next measurement."""
import pathlib
import py_compile

import pytest

BENCH = pathlib.Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("script", sorted(BENCH.glob("*.py")), ids=lambda p: p.name)
def test_the_benchmark_compiles(script, tmp_path):
    py_compile.compile(str(script), cfile=str(tmp_path / "out.pyc"), doraise=True)
