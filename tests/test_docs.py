"""The examples in the library's docstrings run, against the shipped sample."""

from __future__ import annotations

import doctest

import searchidx.api
from searchidx import Index


def test_the_api_docstring_examples_run(sample_index: Index) -> None:
    results = doctest.testmod(
        searchidx.api, extraglobs={"index": sample_index, "sample_path": sample_index.path}, report=True
    )
    assert results.attempted >= 7 and results.failed == 0
