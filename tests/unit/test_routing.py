"""Routing: the SPEC's math, its ranking rules, and that it holds for any catalog."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.persona.default_catalog import default_catalog
from core.persona.personas import Affinity, Catalog, CatalogConfig, Persona, PromptTemplate
from core.persona.resonance import parse_resonance_key
from core.persona.resonance_models import ResonanceKey
from core.persona.routing import Router, confidence
from core.persona.vocabulary import INTENTS, PACES, TONES, all_keys, canonical_key
from core.shared.errors import Unavailable

PROMPTS = {"ko": PromptTemplate(system="{persona}", user="{message}")}


def key(tone: str, pace: str, intent: str) -> ResonanceKey:
    return ResonanceKey(normalized_key=canonical_key(tone, pace, intent), tone=tone, pace=pace, intent=intent)


def persona(name: str, priority: int = 100, enabled: bool = True, **affinity: dict[str, float]) -> Persona:
    return Persona(
        name=name,
        display_name=name,
        description="d",
        affinity=Affinity(**affinity),
        priority=priority,
        enabled=enabled,
        prompts=PROMPTS,
    )


ROUTER = Router(default_catalog())


def test_spec_example() -> None:
    result = ROUTER.route(parse_resonance_key("Frustrated_Burst_Seeking-Advice"))
    assert result.persona == "Lua" and result.secondary_persona == "Riri"
    assert result.confidence == 0.823
    assert result.scores == {"Lua": 1.0, "Elro": 0.44, "Riri": 0.59, "Nana": 0.59}
    assert result.breakdown["Lua"] == {"tone": 0.5, "pace": 0.3, "intent": 0.2, "continuity": 0.0}
    assert "tone (frustrated)" in result.reasoning
    assert result.catalog_version == 1
    assert result.resonance.corrections  # the corrections travel with the result


def test_all_216_keys_route_with_scores_in_range() -> None:
    for tone, pace, intent in all_keys():
        result = ROUTER.route(key(tone, pace, intent))
        assert set(result.scores) == {"Lua", "Elro", "Riri", "Nana"}
        assert all(0.0 <= s <= 1.0 for s in result.scores.values())
        assert 0.0 <= result.confidence <= 1.0
        assert result.persona != result.secondary_persona


def test_the_specs_winners() -> None:
    for tone, pace, intent in all_keys():
        winner = ROUTER.route(key(tone, pace, intent)).persona
        if tone == "frustrated" and pace == "burst":
            assert winner == "Lua"
        if tone == "analytical":
            assert winner in ("Elro", "Riri")
        if tone == "collaborative" and intent == "planning":
            assert winner == "Nana"


def test_confidence_formula_by_hand() -> None:
    # Two personas, weights 0.5/0.3/0.2: A = 0.5*0.8 + 0.3*0.6 + 0.2*1.0 = 0.78,
    # B = 0.5*0.4 + 0.3*0.5 + 0.2*0.5 = 0.45 -> 0.3*(0.78-0.45) + 0.7*0.78 = 0.645
    catalog = Catalog(
        version=3,
        personas=(
            persona("A", tone={"calm": 0.8}, pace={"medium": 0.6}, intent={"learning": 1.0}),
            persona("B", tone={"calm": 0.4}),
        ),
    )
    result = Router(catalog).route(key("calm", "medium", "learning"))
    assert result.scores == {"A": 0.78, "B": 0.45}
    assert result.confidence == round(0.3 * (0.78 - 0.45) + 0.7 * 0.78, 3) == 0.645
    assert confidence(1.0, 1.0) == 0.7


def test_one_persona_means_second_score_zero() -> None:
    catalog = Catalog(version=1, personas=(persona("Solo", tone={"calm": 0.6}),))
    result = Router(catalog).route(key("calm", "medium", "learning"))
    # 0.5*0.6 + 0.3*0.5 + 0.2*0.5 = 0.55 -> 0.3*0.55 + 0.7*0.55 = 0.55
    assert result.secondary_persona is None and result.confidence == 0.55


def test_ties_follow_priority_then_name_on_every_run() -> None:
    same = {"tone": {"calm": 0.7}}
    catalog = Catalog(
        version=1, personas=(persona("Zed", 2, **same), persona("Amy", 2, **same), persona("Bob", 1, **same))
    )
    orders = {Router(catalog).ranking("calm", "medium", "learning") for _ in range(20)}
    assert orders == {("Bob", "Amy", "Zed")}


def test_float_sums_are_compared_at_six_decimals() -> None:
    # 0.25 + 0.18 + 0.16 and 0.59 differ in binary; they must still tie.
    a = persona("A", 1, tone={"calm": 0.5}, pace={"medium": 0.6}, intent={"learning": 0.8})
    b = persona("B", 2, tone={"calm": 1.0}, pace={"medium": 0.3}, intent={"learning": 0.0})
    assert 0.5 * 0.5 + 0.3 * 0.6 + 0.2 * 0.8 != 0.5 * 1.0 + 0.3 * 0.3  # unequal in binary
    result = Router(Catalog(version=1, personas=(b, a))).route(key("calm", "medium", "learning"))
    assert result.scores["A"] == result.scores["B"] == 0.59
    assert result.persona == "A"


def test_a_fifth_persona_routes_without_code_changes() -> None:
    mia = persona(
        "Mia", 5, tone={t: 1.0 for t in TONES}, pace={"contemplative": 1.0}, intent={"reflection": 1.0}
    )
    catalog = default_catalog().model_copy(update={"personas": (*default_catalog().personas, mia)})
    result = Router(catalog).route(key("calm", "contemplative", "reflection"))
    assert result.persona == "Mia" and "Mia" in result.scores


@given(st.sampled_from(all_keys()), st.sampled_from(["Lua", "Elro", "Riri", "Nana"]))
@settings(max_examples=200, deadline=None)
def test_a_disabled_persona_never_wins(parts: tuple[str, str, str], disabled: str) -> None:
    personas = tuple(p.model_copy(update={"enabled": p.name != disabled}) for p in default_catalog().personas)
    result = Router(Catalog(version=2, personas=personas)).route(key(*parts))
    assert result.persona != disabled and disabled not in result.scores


def test_no_enabled_persona_is_unavailable() -> None:
    catalog = Catalog(version=1, personas=(persona("Off", enabled=False),))
    with pytest.raises(Unavailable):
        Router(catalog).route(key("calm", "medium", "learning"))


def test_continuity_bonus_is_applied_capped_and_shown() -> None:
    k = key("curious", "flowing", "learning")  # Elro 0.5+0.24+0.2=0.94, Riri 0.45+0.27+0.18=0.90
    plain = ROUTER.route(k)
    assert plain.persona == "Elro"
    flipped = ROUTER.route(k, previous_persona="Riri")
    assert flipped.persona == "Riri"  # 0.90 + 0.05 = 0.95 beats 0.94
    assert flipped.breakdown["Riri"]["continuity"] == 0.05
    assert flipped.breakdown["Elro"]["continuity"] == 0.0
    assert "previous turn" in flipped.reasoning
    capped = ROUTER.route(key("frustrated", "burst", "seek_advice"), previous_persona="Lua")
    assert capped.scores["Lua"] == 1.0 and capped.breakdown["Lua"]["continuity"] == 0.0
    assert ROUTER.route(k, previous_persona="Ghost").persona == "Elro"  # unknown names change nothing
    assert plain.breakdown["Riri"]["continuity"] == 0.0  # the shared precomputed result is untouched


def test_continuity_bonus_comes_from_the_catalog_config() -> None:
    catalog = default_catalog().model_copy(update={"config": CatalogConfig(continuity_bonus=0.0)})
    assert (
        Router(catalog).route(key("curious", "flowing", "learning"), previous_persona="Riri").persona
        == "Elro"
    )


def test_ten_thousand_personas_route_correctly() -> None:
    rng = random.Random(3)
    personas = [
        persona(
            f"P{i:05d}",
            i % 50,
            tone={t: round(rng.random() * 0.9, 2) for t in TONES},
            pace={p: round(rng.random() * 0.9, 2) for p in PACES},
            intent={n: round(rng.random() * 0.9, 2) for n in INTENTS},
        )
        for i in range(10_000)
    ]
    best = persona("Best", 999, tone={"urgent": 1.0}, pace={"burst": 1.0}, intent={"planning": 1.0})
    router = Router(Catalog(version=1, personas=(*personas, best)))
    result = router.route(key("urgent", "burst", "planning"))
    assert result.persona == "Best" and len(result.scores) == 10_001
    expected_second = max(
        personas,
        key=lambda p: (
            round(
                0.5 * p.affinity.value("tone", "urgent")
                + 0.3 * p.affinity.value("pace", "burst")
                + 0.2 * p.affinity.value("intent", "planning"),
                6,
            ),
            -p.priority,
            [-ord(c) for c in p.name],
        ),
    )
    assert result.secondary_persona == expected_second.name


def test_warm_all_precomputes_every_key() -> None:
    router = Router(default_catalog())
    router.warm_all()
    assert len(router._cache) == 216


# ---- continuity fast path against a full sort -------------------------------------------------


def brute_force(
    catalog: Catalog, parts: tuple[str, str, str], previous: str
) -> tuple[str, str | None, float]:
    """The top two and confidence by scoring every enabled persona and sorting them all."""
    values = dict(zip(("tone", "pace", "intent"), parts, strict=True))
    weights = catalog.config.weights
    enabled = catalog.enabled()
    scores = {
        p.name: round(
            min(
                1.0, max(0.0, sum(weights.of(part) * p.affinity.value(part, values[part]) for part in values))
            ),
            6,
        )
        for p in enabled
    }
    if catalog.config.continuity_bonus > 0:
        scores[previous] = round(min(1.0, max(0.0, scores[previous] + catalog.config.continuity_bonus)), 6)
    priority = {p.name: p.priority for p in enabled}
    order = sorted(scores, key=lambda name: (-scores[name], priority[name], name))
    second = order[1] if len(order) > 1 else None
    return order[0], second, confidence(scores[order[0]], scores[second] if second else 0.0)


def assert_fast_path_matches_full_sort(catalog: Catalog) -> int:
    """Every key x every enabled previous persona; returns how many cases had a tie at the top."""
    router = Router(catalog)
    ties = 0
    for parts in all_keys():
        for previous in (p.name for p in catalog.enabled()):
            result = router.route(key(*parts), previous_persona=previous)
            expected = brute_force(catalog, parts, previous)
            assert (result.persona, result.secondary_persona, result.confidence) == expected, (
                parts,
                previous,
            )
            if result.secondary_persona is not None:
                ties += result.scores[result.persona] == result.scores[result.secondary_persona]
    return ties


@pytest.mark.parametrize("bonus", [0.05, 0.1])
def test_continuity_fast_path_matches_a_full_sort_on_the_default_catalog(bonus: float) -> None:
    catalog = default_catalog().model_copy(update={"config": CatalogConfig(continuity_bonus=bonus)})
    assert_fast_path_matches_full_sort(catalog)


def synthetic_catalog(rng: random.Random, size: int, bonus: float) -> Catalog:
    # Few distinct affinities and priorities, so scores (after the bonus too) tie often.
    grid = [0.0, 0.25, 0.5, 0.75, 1.0]

    def table(values: tuple[str, ...]) -> dict[str, float]:
        return {v: rng.choice(grid) for v in values if rng.random() < 0.7}  # some missing: 0.5

    names = rng.sample([f"{a}{b}" for a in "ABCDEFGH" for b in "xyz"], size)
    return Catalog(
        version=1,
        config=CatalogConfig(continuity_bonus=bonus),
        personas=tuple(
            persona(
                name,
                rng.choice([1, 2, 3]),
                enabled=rng.random() < 0.9 or i == 0,
                tone=table(TONES),
                pace=table(PACES),
                intent=table(INTENTS),
            )
            for i, name in enumerate(names)
        ),
    )


@pytest.mark.parametrize(("seed", "bonus"), [(1, 0.05), (2, 0.1), (3, 0.075)])
def test_continuity_fast_path_matches_a_full_sort_on_a_synthetic_catalog_with_ties(
    seed: int, bonus: float
) -> None:
    ties = assert_fast_path_matches_full_sort(synthetic_catalog(random.Random(seed), 16, bonus))
    assert ties > 0  # the catalog really exercises the priority and name tie-breaks


@given(
    st.integers(0, 2**32), st.integers(1, 6), st.sampled_from([0.0, 0.05, 0.1]), st.sampled_from(all_keys())
)
@settings(max_examples=300, deadline=None)
def test_continuity_fast_path_matches_a_full_sort_on_random_small_catalogs(
    seed: int, size: int, bonus: float, parts: tuple[str, str, str]
) -> None:
    catalog = synthetic_catalog(random.Random(seed), size, bonus)
    router = Router(catalog)
    for previous in (p.name for p in catalog.enabled()):
        result = router.route(key(*parts), previous_persona=previous)
        assert (result.persona, result.secondary_persona, result.confidence) == brute_force(
            catalog, parts, previous
        )


def test_each_key_is_ranked_once_even_when_threads_race() -> None:
    router = Router(default_catalog())
    calls: list[tuple[str, str, str]] = []
    compute = router._compute

    def slow_compute(tone: str, pace: str, intent: str) -> object:
        calls.append((tone, pace, intent))
        time.sleep(0.02)  # widen the window in which a second thread could start computing
        return compute(tone, pace, intent)

    router._compute = slow_compute  # type: ignore[method-assign,assignment]
    barrier = threading.Barrier(8)

    def route() -> str:
        barrier.wait()
        return router.route(key("calm", "medium", "learning")).persona

    with ThreadPoolExecutor(max_workers=8) as pool:
        winners = set(pool.map(lambda _: route(), range(8)))
    assert len(winners) == 1
    assert calls == [("calm", "medium", "learning")]
