"""Chapter 12, choosing a tool: the head-to-head comparison.

``demos.py`` (the race, start-up and per-task costs), ``gallery.py`` (every tool's
kernel as tabs) and ``checks.py``. It compares the tools, so it may import them.
"""
