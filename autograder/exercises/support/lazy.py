"""TensorFlow, imported on first use.

The exercise modules declare their contract (names, signatures, points) next to their
probes and reference-side code, and the instructor's commands (``tfgrade --help``,
reports, the gradebook, ``tfgrade check``) read that contract: importing TensorFlow
for it would cost them seconds and hundreds of megabytes. ``tf`` below stands for the
module and imports it the first time one of its attributes is used.
"""
from __future__ import annotations

import importlib


class LazyModule:
    """A module imported when an attribute of it is first looked up."""

    def __init__(self, name: str):
        self._module_name = name

    def __getattr__(self, attribute: str):
        return getattr(importlib.import_module(self._module_name), attribute)


tf = LazyModule("tensorflow")
