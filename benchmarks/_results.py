"""Write a benchmark's results atomically (a temporary file renamed over the old one)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path


def write_json(path: Path, document: dict) -> None:
    """Write ``document`` as indented JSON to ``path``; readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp") as tmp:
        json.dump(document, tmp, indent=1)
        tmp.write("\n")
    os.replace(tmp.name, path)
