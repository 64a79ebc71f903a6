"""Synthetic catalogs for the routing benchmark: the four default personas plus generated ones
with seeded random affinities, so every run routes over the same catalog."""

from __future__ import annotations

import random

from core.persona.default_catalog import default_catalog
from core.persona.personas import Affinity, Catalog, Persona, PromptTemplate
from core.persona.vocabulary import INTENTS, PACES, TONES


def synthetic_catalog(size: int, seed: int = 7) -> Catalog:
    base = default_catalog()
    rng = random.Random(seed)
    extra: list[Persona] = []
    for index in range(max(0, size - len(base.personas))):
        extra.append(
            Persona(
                name=f"Synthetic{index:05d}",
                display_name=f"Synthetic {index}",
                description="generated for the routing benchmark",
                traits=["generated"],
                strengths=["benchmarks"],
                prompt_style="plain",
                affinity=Affinity(
                    tone={t: round(rng.random(), 2) for t in TONES},
                    pace={p: round(rng.random(), 2) for p in PACES},
                    intent={i: round(rng.random(), 2) for i in INTENTS},
                ),
                priority=10 + index,
                prompts={"ko": PromptTemplate(system="{persona}", user="{message}")},
                version=1,
            )
        )
    return Catalog(version=1, config=base.config, personas=(*base.personas, *extra)[:size])
