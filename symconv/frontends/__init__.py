"""Front ends: other libraries' models in, symconv layers out (``torch``: :func:`from_torch`).

May import: layers, derive and the vocabulary; the library it reads is imported lazily, so that
``import symconv`` never imports it.
"""
