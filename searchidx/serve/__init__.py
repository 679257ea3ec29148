"""``searchidx serve``: the library over HTTP, as a JSON API (under ``/v1/``) and a
one-page search interface (``/``). Needs the ``serve`` extra (Starlette, uvicorn).

The server holds no search logic: each route parses its parameters, calls
``searchidx.api.Index`` in a bounded thread pool and returns the library's
``to_dict()``. ``searchidx.serve.app`` builds the application.
"""
