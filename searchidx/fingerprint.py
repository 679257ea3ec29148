"""Near-duplicate detection: MinHash signatures over word shingles.

News corpora carry the same story many times (syndicated with a new headline, a
trimmed paragraph, a different photo caption). The Jaccard similarity of two
articles' sets of 4-syllable shingles measures that well, and MinHash estimates it
from 64 numbers per article, computed once at index time. Shingles are built from
folded, lower-cased syllables, so a copy that lost or changed its diacritics still
counts as a copy.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import TYPE_CHECKING

from searchidx.analysis import CODE, SYLLABLE, Piece, fold, normalize, syllabify

if TYPE_CHECKING:
    import numpy as np

SHINGLE = 4
PERMUTATIONS = 64
BANDS = 16  # 16 bands of 4 rows: pairs above ~0.5 Jaccard become candidates
#: Estimated Jaccard similarity from which two articles count as near-duplicates.
DUPLICATE_THRESHOLD = 0.7

_PRIME = (1 << 31) - 1
_EMPTY = b"\xff\xff\xff\xff" * PERMUTATIONS  # the signature of a text without shingles


@cache
def _hash_functions() -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) of each universal hash; numpy is imported only by the commands
    that compute signatures, not by every search."""
    import numpy as np

    rng = np.random.default_rng(20240731)  # fixed: signatures must agree across runs
    a = rng.integers(1, _PRIME, PERMUTATIONS, dtype=np.uint64)[:, None]
    b = rng.integers(0, _PRIME, PERMUTATIONS, dtype=np.uint64)[:, None]
    return a, b


@lru_cache(maxsize=200_000)
def _shingle_word(syllable: str) -> bytes:
    return fold(syllable.lower()).encode("utf-8")


def shingle_words(pieces: Iterable[Piece]) -> list[bytes]:
    """The folded, lower-cased syllables and codes of a syllable stream, in UTF-8:
    what shingles are made of."""
    return [_shingle_word(p.text) for p in pieces if p.kind in (SYLLABLE, CODE)]


def shingles(words: list[bytes]) -> set[int]:
    if len(words) < SHINGLE:
        return {zlib.crc32(b" ".join(words))} if words else set()
    return {zlib.crc32(b" ".join(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1)}


def signature(text: str) -> bytes:
    """The MinHash signature of a text, as bytes for storing."""
    return words_signature(shingle_words(syllabify(normalize(text).text)))


def words_signature(words: list[bytes]) -> bytes:
    """The signature from ``shingle_words``: an indexed article's come from the
    syllables its analysis found, field by field (the text's own syllables, since
    no syllable spans the line break between fields)."""
    import numpy as np

    hashes = np.fromiter(shingles(words), dtype=np.uint64)
    if hashes.size == 0:
        return _EMPTY
    a, b = _hash_functions()
    # universal hashing (a*x + b) mod p; every product stays below 2**62
    permuted = (a * (hashes[None, :] % _PRIME) + b) % _PRIME
    return bytes(permuted.min(axis=1).astype(np.uint32).tobytes())


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the texts behind two signatures."""
    import numpy as np

    return float(np.mean(np.frombuffer(a, np.uint32) == np.frombuffer(b, np.uint32)))


def clusters(signatures: Iterable[tuple[str, bytes]], threshold: float = DUPLICATE_THRESHOLD) -> list[list[str]]:
    """Groups of ids whose signatures say they are near-duplicates (LSH banding,
    then every candidate pair checked against the threshold), largest first."""
    items = list(signatures)
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    width = PERMUTATIONS // BANDS * 4  # bytes of signature per band
    for index, (_, sig) in enumerate(items):
        if sig == _EMPTY:
            continue
        for band in range(BANDS):
            buckets[band, sig[band * width : (band + 1) * width]].append(index)
    parent = list(range(len(items)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for members in buckets.values():
        for i, other in enumerate(members[1:], 1):
            for first in members[: min(i, 20)]:  # huge buckets: compare with the first few
                if root(first) != root(other) and similarity(items[first][1], items[other][1]) >= threshold:
                    parent[root(other)] = root(first)
    groups: dict[int, list[str]] = defaultdict(list)
    for index, (doc_id, _) in enumerate(items):
        groups[root(index)].append(doc_id)
    return sorted((g for g in groups.values() if len(g) > 1), key=len, reverse=True)
