"""A crafted index directory cannot run code: Whoosh's pickles are read by an
unpickler that constructs only what Whoosh's own files hold."""

from __future__ import annotations

import ast
import io
import os
import pickle
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import whoosh.index
from whoosh import fields
from whoosh.filedb.filestore import FileStorage

from searchidx import Index, safe_unpickle
from searchidx.errors import CorruptIndex
from searchidx.generations import current_generation

ROOT = Path(__file__).resolve().parent.parent


class _Payload:
    """Runs a shell command when unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (os.system, (f"touch {self.marker}",))


class _EvilSchema(fields.Schema):
    """A schema whose pickle is the payload."""

    def __init__(self, marker: Path) -> None:
        super().__init__()
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return _Payload(self.marker).__reduce__()


def copy_of(index: Index, tmp_path: Path) -> Path:
    shutil.copytree(index.path, tmp_path / "index")
    return tmp_path / "index"


def craft_toc(directory: Path, marker: Path, version: int = whoosh.index._CURRENT_TOC_VERSION) -> None:
    """Rewrite the live generation's TOC with the payload as its schema."""
    storage = FileStorage(str(current_generation(directory)))
    toc = whoosh.index.TOC.read(storage, "MAIN")
    storage.delete_file(f"_MAIN_{toc.generation}.toc")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(whoosh.index, "_CURRENT_TOC_VERSION", version)
        whoosh.index.TOC(_EvilSchema(marker), toc.segments, toc.generation).write(storage, "MAIN")


def run_stats(directory: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "searchidx", "stats", "--index", str(directory)]
    return subprocess.run(command, env=env, capture_output=True, text=True)


def assert_refused(run: subprocess.CompletedProcess[str], marker: Path, reason: str) -> None:
    assert not marker.exists()
    assert run.returncode == 1
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("searchidx: error: ")
    assert reason in run.stderr


def test_a_crafted_table_of_contents_does_not_run_code(tmp_path, sample_index):
    directory, marker = copy_of(sample_index, tmp_path), tmp_path / "ran"
    craft_toc(directory, marker)
    assert_refused(run_stats(directory), marker, "posix.system")


def test_a_crafted_table_of_contents_in_the_old_format_does_not_run_code(tmp_path, sample_index):
    directory, marker = copy_of(sample_index, tmp_path), tmp_path / "ran"
    craft_toc(directory, marker, version=-110)  # Whoosh reads format -110 with an unrestricted unpickler
    assert_refused(run_stats(directory), marker, "old format -110")


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("whoosh.index", "pickle.loads"),  # schema
        ("whoosh.filedb.structfile", "load_pickle"),  # segments, block headers, compound files
        ("whoosh.codec.whoosh3", "loads"),  # posting blocks, inlined postings
        ("whoosh.columns", "loads"),  # stored fields
        ("whoosh.formats", "loads"),  # positions
        ("whoosh.compat", "loads"),
    ],
)
def test_every_unpickling_on_whooshs_read_path_refuses_code(tmp_path, module, name):
    import searchidx.generations  # noqa: F401  (installs the restricted unpickler)

    marker = tmp_path / "ran"
    function = sys.modules[module]
    for part in name.split("."):
        function = getattr(function, part)
    for protocol in (0, 2, pickle.HIGHEST_PROTOCOL):
        data = pickle.dumps(_Payload(marker), protocol)
        with pytest.raises(CorruptIndex, match=r"posix\.system"):
            function(data if name.endswith("loads") else io.BytesIO(data))
    assert not marker.exists()


def test_index_data_unpickles_as_before():
    values = [
        [1, 99, 105, 300],
        {"title": "Chiều 31-7, tại TP. Pleiku", "tags": ["a"]},
        datetime(2024, 7, 31),
        b"\x93c",
    ]
    for protocol in (2, pickle.HIGHEST_PROTOCOL):
        assert [safe_unpickle.loads(pickle.dumps(v, protocol)) for v in values] == values


def test_an_index_that_names_the_text_field_by_its_old_module_still_loads():
    from searchidx.textfield import VietnameseText

    data = pickle.dumps(VietnameseText(), 2)
    assert b"searchidx.textfield\nVietnameseText" in data
    old = data.replace(b"searchidx.textfield\n", b"searchidx.index\n")
    assert isinstance(safe_unpickle.loads(old), VietnameseText)


def test_a_real_index_still_opens_and_answers(sample_index):
    with Index.open(sample_index.path) as index:
        hit = index.search('"Gia Lai" thi đua', facets=True).hits[0]
        assert index.show(hit.id).title and index.similar(hit.id).hits and index.stats().documents >= 30


class _PickleUses(ast.NodeVisitor):
    """Where ``pickle.load``, ``pickle.loads``, ``pickle.Unpickler``, ``whoosh3.loads``
    or ``marshal.loads`` is named: (file, enclosing function or None)."""

    def __init__(self, file: str) -> None:
        self.file, self.function, self.found = file, None, set()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer, self.function = self.function, node.name
        self.generic_visit(node)
        self.function = outer

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in ("load", "loads", "Unpickler") and getattr(node.value, "id", "") in (
            "pickle",
            "whoosh3",
            "marshal",
        ):
            self.found.add((self.file, self.function))
        self.generic_visit(node)


def test_searchidx_unpickles_index_data_only_through_safe_unpickle():
    """Code of our own that reads Whoosh's files (such as ``execute``) calls
    safe_unpickle, never pickle: the exceptions read what searchidx itself wrote
    (the build's job files, the writer's run files of marshalled postings) or
    pyvi's model (an inert unpickler)."""
    allowed = {("writers.py", "_process_file"), ("term_pool.py", "_read_run"), ("pyvi_model.py", None)}
    found = set()
    for path in (ROOT / "searchidx").glob("*.py"):
        if path.name == "safe_unpickle.py":
            continue
        visitor = _PickleUses(path.name)
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
        found |= visitor.found
    assert found - allowed == set()
