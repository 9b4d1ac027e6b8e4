"""What a command reports, as data: the founding comparison (``compare``), the general formulas of
a layer kind (``kinds``), and a network's analysis (``analysis``). Renderers turn these into text,
Markdown, LaTeX or JSON.

May import: networks, derive, layers and the vocabulary; never execute or render.
"""
