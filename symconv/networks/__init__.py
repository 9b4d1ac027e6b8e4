"""Whole networks: per-layer rows (``rows``), the registry of counting conventions, ours and
five tools' (``conventions``), why the tools differ (``reconcile``), and the MobileNets (``zoo``).

May import: derive, layers and the vocabulary; never execute or render.
"""
