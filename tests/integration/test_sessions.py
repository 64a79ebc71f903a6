"""Sessions in DynamoDB (moto): order, last-3 window, turns at one instant, TTL, and continuity."""

from __future__ import annotations

from typing import Any

import pytest

from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
from core.persona.adapters.dynamodb_sessions import DynamoDBSessionStore
from core.persona.catalog_cache import CatalogCache
from core.persona.chat_pipeline import ChatInput, ChatService
from core.persona.default_catalog import default_catalog
from core.persona.model_backends import NoModelBackend
from core.persona.prompts import Turn
from tests.integration.conftest import CallCounter


def create_sessions_table(client: Any, name: str = "sessions") -> str:
    client.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "session_id", "KeyType": "HASH"},
            {"AttributeName": "turn", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "session_id", "AttributeType": "S"},
            {"AttributeName": "turn", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now


@pytest.fixture
def sessions(dynamodb: Any) -> DynamoDBSessionStore:
    return DynamoDBSessionStore(create_sessions_table(dynamodb), client=dynamodb, clock=Clock())


def test_history_is_oldest_first_and_keeps_the_last_three(sessions: DynamoDBSessionStore) -> None:
    for i in range(5):
        sessions.append("s1", Turn(user=f"q{i}", assistant=f"a{i}", persona="Lua"))
    history = sessions.history("s1", limit=3)
    assert [t.user for t in history] == ["q2", "q3", "q4"]
    assert [t.assistant for t in history] == ["a2", "a3", "a4"]


def test_history_is_one_query(sessions: DynamoDBSessionStore, dynamodb: Any) -> None:
    for i in range(4):
        sessions.append("s1", Turn(user=f"q{i}"))
    counter = CallCounter(dynamodb)
    sessions.history("s1")
    assert counter.calls == ["Query"]


def test_sessions_do_not_mix(sessions: DynamoDBSessionStore) -> None:
    sessions.append("a", Turn(user="for a"))
    sessions.append("b", Turn(user="for b"))
    assert [t.user for t in sessions.history("a")] == ["for a"]
    assert sessions.history("nobody") == []


def test_turn_without_reply_is_kept_as_such(sessions: DynamoDBSessionStore) -> None:
    sessions.append("s", Turn(user="hello", assistant=None, persona="Nana"))
    (turn,) = sessions.history("s")
    assert turn.assistant is None and turn.persona == "Nana"


def test_twenty_turns_at_one_instant_are_all_stored(dynamodb: Any) -> None:
    # The same clock value for every write: the random suffix alone must keep the keys apart.
    # Sequential here; the threaded version runs against DynamoDB Local (moto is not thread-safe):
    # tests/e2e/test_store_concurrency.py.
    frozen = DynamoDBSessionStore(
        create_sessions_table(dynamodb), client=dynamodb, clock=lambda: 1_800_000_000.0
    )
    for i in range(20):
        frozen.append("busy", Turn(user=f"turn {i}"))
    stored = frozen.history("busy", limit=100)
    assert sorted(t.user for t in stored) == sorted(f"turn {i}" for i in range(20))


def test_turns_carry_a_ttl(sessions: DynamoDBSessionStore, dynamodb: Any) -> None:
    sessions.append("s", Turn(user="x"), user_id="u-1")
    item = dynamodb.scan(TableName="sessions")["Items"][0]
    created = int(item["created_at"]["N"])
    assert int(item["expires_at"]["N"]) - created == 30 * 86400
    assert item["user_id"]["S"] == "u-1"


def test_expired_turns_are_not_read_before_dynamodb_deletes_them(dynamodb: Any) -> None:
    clock = Clock()
    store = DynamoDBSessionStore(create_sessions_table(dynamodb), client=dynamodb, ttl_days=1, clock=clock)
    store.append("s", Turn(user="old question", assistant="old answer", persona="Lua"))
    store.append("s", Turn(user="old follow-up"))
    clock.now += 2 * 86400  # two days later: both turns are past their one-day TTL
    store.append("s", Turn(user="new question", persona="Riri"))

    items = dynamodb.scan(TableName="sessions")["Items"]
    expires = sorted(int(item["expires_at"]["N"]) for item in items)
    assert len(items) == 3 and expires[1] < clock.now < expires[2]  # still stored, two of them expired
    assert [t.user for t in store.history("s")] == ["new question"]


def test_a_session_whose_turns_all_expired_has_no_history(dynamodb: Any) -> None:
    clock = Clock()
    store = DynamoDBSessionStore(create_sessions_table(dynamodb), client=dynamodb, ttl_days=1, clock=clock)
    for i in range(3):
        store.append("s", Turn(user=f"q{i}"))
    assert len(store.history("s")) == 3
    clock.now += 86400  # exactly one day on: the TTL time has been reached for every turn
    assert store.history("s") == []


def test_a_turn_written_with_an_expiry_in_the_past_is_ignored(
    sessions: DynamoDBSessionStore, dynamodb: Any
) -> None:
    sessions.append("s", Turn(user="live"))
    dynamodb.put_item(
        TableName="sessions",
        Item={
            "session_id": {"S": "s"},
            "turn": {"S": "9999999999999999#ffffffffffff"},  # sorts newest
            "user": {"S": "stale"},
            "expires_at": {"N": "1000"},
        },
    )
    assert [t.user for t in sessions.history("s")] == ["live"]


# ---- the pipeline with sessions: continuity ---------------------------------------------------


@pytest.fixture
def service(dynamodb: Any, catalog_table: str, sessions: DynamoDBSessionStore) -> ChatService:
    store = DynamoDBCatalogStore(catalog_table, client=dynamodb)
    store.seed(default_catalog())
    cache = CatalogCache(store)
    return ChatService(cache.get, NoModelBackend(), sessions, new_session_id=lambda: "fresh-session")


def test_chat_without_session_gets_a_new_one(service: ChatService) -> None:
    answer = service.chat(ChatInput(message="hello", resonance_key="calm-medium-learning"))
    assert answer["session_id"] == "fresh-session"
    assert answer["content"] is None
    assert answer["llm"]["backend"] == "none"


def test_continuity_bonus_is_applied_and_shown(service: ChatService) -> None:
    key = "curious-flowing-learning"  # Elro 0.9, Riri 0.87, close enough for a 0.05 bonus to flip
    first = service.chat(ChatInput(message="first", resonance_key=key, session_id="s-cont"))
    plain_scores = first["routing"]["scores"]
    assert first["routing"]["breakdown"][first["persona"]]["continuity"] == 0.0

    # Force the previous turn's persona to the runner-up, then ask again in the same session.
    runner_up = first["routing"]["secondary_persona"]
    service._sessions.append("s-cont", Turn(user="again", persona=runner_up))  # type: ignore[union-attr]
    second = service.chat(ChatInput(message="third", resonance_key=key, session_id="s-cont"))
    bonus = default_catalog().config.continuity_bonus
    assert second["routing"]["breakdown"][runner_up]["continuity"] == pytest.approx(bonus)
    assert second["routing"]["scores"][runner_up] == pytest.approx(min(1.0, plain_scores[runner_up] + bonus))
    if plain_scores[first["persona"]] - plain_scores[runner_up] < bonus:
        assert second["persona"] == runner_up


def test_history_feeds_the_prompt(service: ChatService) -> None:
    for i in range(4):
        service.chat(
            ChatInput(message=f"message number {i}", resonance_key="calm-medium-learning", session_id="h")
        )
    answer = service.chat(ChatInput(message="latest", resonance_key="calm-medium-learning", session_id="h"))
    user_prompt = answer["prompt"]["user"] + answer["prompt"]["system"]
    assert "message number 0" not in user_prompt, "only the last 3 turns"
    for i in (1, 2, 3):
        assert f"message number {i}" in user_prompt
