"""The default catalog (SPEC section 3): Lua, Elro, Riri and Nana with the spec's affinity
tables and prompt templates in Korean (default) and English, kept as data in
core/persona/data/default_catalog.json.

Seeded into an empty catalog table only; after that the table is the source of truth and
operators edit personas through the admin API.
"""

from __future__ import annotations

from core.persona.data import load_data
from core.persona.personas import Catalog, CatalogConfig, Persona

_DATA = load_data("default_catalog.json")


def default_personas() -> tuple[Persona, ...]:
    return tuple(Persona.model_validate(item) for item in _DATA["personas"])


def default_catalog() -> Catalog:
    return Catalog(version=1, config=CatalogConfig(), personas=default_personas())
