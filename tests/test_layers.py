"""The code's shape is checked, not hoped for: the import contracts in `.importlinter` hold,
and no module imports itself back through any chain (not even through a view)."""
import os
import subprocess
import sys

import grimp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_import_contracts_are_kept():
    lint = os.path.join(os.path.dirname(sys.executable), "lint-imports")
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def module_cycles(graph):
    """[(module, imported)] for every direct import that the imported module chains back from."""
    return sorted((module, imported) for module in graph.modules
                  for imported in graph.find_modules_directly_imported_by(module)
                  if graph.chain_exists(importer=imported, imported=module))


def test_no_module_imports_itself_back():
    cycles = module_cycles(grimp.build_graph("avycenna", cache_dir=None))
    assert cycles == [], "import cycles between modules: " + ", ".join(f"{a} -> {b}" for a, b in cycles)


def test_the_cycle_finder_finds_a_cycle(tmp_path, monkeypatch):
    package = tmp_path / "loopy"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from loopy import b\n")
    (package / "b.py").write_text("from loopy import a\n")
    (package / "c.py").write_text("from loopy import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert module_cycles(grimp.build_graph("loopy", cache_dir=None)) == [("loopy.a", "loopy.b"), ("loopy.b", "loopy.a")]
