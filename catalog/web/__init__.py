"""``synthcat serve``: a local, read-only-by-default web app over a catalog.

:func:`catalog.web.app.create_app` builds the Starlette app; :func:`catalog.web.serve.serve` runs it
with uvicorn. Pages read through the :class:`catalog.Catalog` API; templates and the stylesheet and
script ship inside this package (no CDN or remote assets).
"""
