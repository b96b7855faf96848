"""The long-memory study: MRNN/MLSTM and baselines on long-memory series.

The study, its method and choices: docs/studies/long-memory.md. In this package a section
number (long-memory.md §6.4) or a choice id (A8) cites that page.
"""
