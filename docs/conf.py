"""Sphinx configuration: Markdown pages through MyST, warnings are errors."""

project = "livedata"
author = "livedata developers"
extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
html_theme = "alabaster"
html_title = "livedata"
suppress_warnings: list[str] = []
