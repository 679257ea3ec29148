"""Unpickling that cannot run code, for everything Whoosh reads from an index.

Whoosh keeps an index's schema and segment list (the TOC file), its block headers,
inlined postings, positions and stored fields as pickles, and a pickle can call any
function: a crafted index directory could run code as soon as it is opened. After
``install``, every unpickling on Whoosh's read path goes through an unpickler that
constructs only the classes Whoosh's own files hold for a searchidx index (and a
plain Whoosh one with its standard analyzer); anything else raises ``CorruptIndex``.
A pre-2.7 TOC, which Whoosh would read with an unrestricted unpickler, is refused.

Importing this module installs it, so that no code path can read index data with
Whoosh before the restriction is in place; code of our own that unpickles index data
(``execute``) calls ``load``/``loads`` here.
"""

from __future__ import annotations

import io
import pickle
import re
from types import SimpleNamespace
from typing import IO, Any, NoReturn

from searchidx.errors import CorruptIndex

#: (module, name) as the pickles spell them: protocol 2 writes Python 2 names
#: ("__builtin__ long"), which the unpickler maps to today's.
ALLOWED = frozenset(
    [
        ("__builtin__", "bytes"), ("__builtin__", "frozenset"), ("__builtin__", "long"), ("__builtin__", "set"),
        ("builtins", "bytes"), ("builtins", "frozenset"), ("builtins", "int"), ("builtins", "set"),
        ("_codecs", "encode"),  # how protocol 2 spells bytes
        ("collections", "defaultdict"),
        ("datetime", "datetime"),
        ("re", "_compile"),  # a tokenizer's pattern
        ("searchidx.analysis", "VietnameseTokenizer"),
        ("searchidx.textfield", "VietnameseText"),
        ("whoosh.analysis.analyzers", "CompositeAnalyzer"),
        ("whoosh.analysis.filters", "LowercaseFilter"),
        ("whoosh.analysis.filters", "StopFilter"),
        ("whoosh.analysis.filters", "StripFilter"),
        ("whoosh.analysis.tokenizers", "IDTokenizer"),
        ("whoosh.analysis.tokenizers", "RegexTokenizer"),
        ("whoosh.codec.whoosh3", "W3Codec"),
        ("whoosh.codec.whoosh3", "W3Segment"),
        ("whoosh.columns", "NumericColumn"),
        ("whoosh.columns", "VarBytesColumn"),
        ("whoosh.fields", "COLUMN"), ("whoosh.fields", "DATETIME"), ("whoosh.fields", "ID"),
        ("whoosh.fields", "KEYWORD"), ("whoosh.fields", "STORED"), ("whoosh.fields", "Schema"),
        ("whoosh.fields", "TEXT"),
        ("whoosh.formats", "Existence"), ("whoosh.formats", "Frequency"), ("whoosh.formats", "Positions"),
    ]
)  # fmt: skip


#: Classes that moved: indexes written before the move name them by their old home.
MOVED = {("searchidx.index", "VietnameseText"): ("searchidx.textfield", "VietnameseText")}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        module, name = MOVED.get((module, name), (module, name))
        if (module, name) not in ALLOWED:
            raise CorruptIndex(
                f"the index holds a pickled {module}.{name}, which searchidx never loads: "
                "the index is corrupt or was not written by searchidx; rebuild it"
            )
        return super().find_class(module, name)


#: The opcodes that look up a class or function: GLOBAL, INST, EXT1, EXT2, EXT4 and
#: STACK_GLOBAL. Without them no callable can reach the stack, so nothing can run.
_NAMES_A_GLOBAL = re.compile(rb"[ci\x82\x83\x84\x93]")


def loads(data: bytes) -> Any:
    """Unpickle index data. Most positions and many block pickles hold no byte that
    could be such an opcode; the plain unpickler, 4 µs faster a call, reads those."""
    if _NAMES_A_GLOBAL.search(data) is None:
        return pickle.loads(data)
    return _Unpickler(io.BytesIO(data)).load()


def load(file: IO[bytes]) -> Any:
    return _Unpickler(file).load()


def _refuse_old_toc(stream: object, generation: int, schema: object, version: int) -> NoReturn:
    raise CorruptIndex(f"the index's table of contents is in Whoosh's old format {version}; rebuild the index")


def install() -> None:
    """Route Whoosh's unpickling through ``loads`` and ``load``: each module that
    unpickles index data bound pickle's functions to a name of its own at import."""
    import whoosh.codec.whoosh3
    import whoosh.columns
    import whoosh.compat
    import whoosh.filedb.structfile
    import whoosh.formats
    import whoosh.index
    import whoosh.legacy

    whoosh.index.pickle = SimpleNamespace(loads=loads, dumps=pickle.dumps, PicklingError=pickle.PicklingError)
    whoosh.filedb.structfile.load_pickle = load  # StructFile.read_pickle: segments, block headers
    whoosh.compat.load = load
    for module in (whoosh.compat, whoosh.codec.whoosh3, whoosh.columns, whoosh.formats):
        module.loads = loads
    for version in whoosh.legacy.toc_loaders:
        whoosh.legacy.toc_loaders[version] = _refuse_old_toc


install()
