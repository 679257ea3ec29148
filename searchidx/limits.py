"""Limits the library enforces and the CLI shows in its help, in a module that
imports nothing, so that ``searchidx --help`` loads none of the library."""

#: Records longer than this (characters of their JSON, CSV or text) are rejected:
#: ten times the longest real article seen (VNTC, ~100,000), where one record of
#: 828,000 characters took a worker 700 MB and 27 s to index.
MAX_RECORD_CHARS = 1_000_000

#: A rebuild that rejects more than this share of its records is refused (the index
#: it would replace is kept; a first build keeps its good records instead).
MAX_REJECTED = 0.5

#: Seconds one request to ``searchidx serve`` may take before it is answered 503.
REQUEST_TIMEOUT = 10.0

#: Articles per task of a Dask build, each written as one segment: large enough that
#: Dask's cost per task is small beside the analysis (some 20-40 ms an article),
#: small enough to spread evenly; a corpus of N articles ends with N / CLUSTER_BATCH
#: segments (Whoosh's merge would cost about 40% of the build to join them).
CLUSTER_BATCH = 250
