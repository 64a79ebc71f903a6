"""Word lists and catalog text as JSON data files, shipped inside the package (sam build copies
src/; pyproject's package-data covers a wheel) and read with the standard library only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent


def load_data(name: str) -> Any:
    """One data file of this folder, parsed."""
    with (DATA_DIR / name).open(encoding="utf-8") as handle:
        return json.load(handle)
