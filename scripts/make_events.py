"""Writes events/*.json: an API Gateway REST proxy event per route, valid and invalid, built by
the same code as the local server (scripts/apigw.py). They serve `make invoke`, `sam local
invoke -e`, the handler tests and — copied into src/handlers/smoke/ so they ship with the
code — the deploy-time traffic hooks.

    python scripts/make_events.py          # rewrite the files
    python scripts/make_events.py --check  # exit 1 if a file is missing or stale
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scripts.apigw import proxy_event  # noqa: E402

EVENTS_DIR = ROOT / "events"
SMOKE_DIR = ROOT / "src" / "handlers" / "smoke"
JSON = {"Content-Type": "application/json", "Host": "localhost:3000", "User-Agent": "persona-router-events"}

MIA = {
    "display_name": "Mia",
    "description": "A quiet, reflective companion for slow thinking and looking back.",
    "traits": ["reflective", "patient"],
    "strengths": ["reflection", "journaling prompts"],
    "prompt_style": "short questions that invite the person to think further",
    "affinity": {
        "tone": {"calm": 1.0, "curious": 0.9, "anxious": 0.6},
        "pace": {"contemplative": 1.0, "flowing": 0.8, "burst": 0.1},
        "intent": {"reflection": 1.0, "learning": 0.5},
    },
    "priority": 5,
    "enabled": True,
    "prompts": {
        "ko": {
            "system": "당신은 {display_name}입니다. 천천히 생각하도록 돕는 조용한 동반자예요. "
            "어조 {tone}, 속도 {pace}.",
            "user": "{history}\n\n{message}",
        },
        "en": {
            "system": "You are {display_name}, a quiet companion for slow thinking. "
            "Tone {tone}, pace {pace}.",
            "user": "{history}\n\n{message}",
        },
    },
}

V2 = "/api/v2/{proxy+}"

# The replaced service's v1/v2 API (docs/legacy_api.md), as its clients call it.
LEGACY_EVENTS: dict[str, tuple[str, str, str, str, dict[str, str] | None, dict[str, str], Any, int]] = {
    "legacy_v1_process": (
        "ApiFunction",
        "POST",
        "/api/persona/process",
        "/api/persona/process",
        None,
        JSON,
        {"user_input": "시험이 내일인데 하나도 모르겠어요", "resonance_key": "anxious-burst-seeking_advice"},
        200,
    ),
    "legacy_v2_health": ("ApiFunction", "GET", "/api/v2/health", V2, {"proxy": "health"}, JSON, None, 200),
    "legacy_v2_status": ("ApiFunction", "GET", "/api/v2/status", V2, {"proxy": "status"}, JSON, None, 200),
    "legacy_v2_process": (
        "ApiFunction",
        "POST",
        "/api/v2/process",
        V2,
        {"proxy": "process"},
        JSON,
        {
            "user_input": "How should I structure this migration plan?",
            "resonance_key": {"tone": "analytical", "pace": "medium", "intent": "inquiry"},
            "context": {"user_id": "u-42", "session_id": "legacy-demo-1", "message_history": []},
            "include_metadata": True,
            "use_cache": True,
        },
        200,
    ),
    "legacy_v2_process_empty_input": (
        "ApiFunction",
        "POST",
        "/api/v2/process",
        V2,
        {"proxy": "process"},
        JSON,
        {"user_input": "", "resonance_key": "calm-medium-learning"},
        422,
    ),
    "legacy_v2_recommend": (
        "ApiFunction",
        "POST",
        "/api/v2/recommend",
        V2,
        {"proxy": "recommend"},
        JSON,
        {"scenario": "팀 프로젝트 일정을 다시 계획하고 모두에게 알려야 해요"},
        200,
    ),
    "legacy_v2_bulk_process": (
        "ApiFunction",
        "POST",
        "/api/v2/bulk-process",
        V2,
        {"proxy": "bulk-process"},
        JSON,
        {
            "requests": [
                {
                    "user_input": "I keep failing this test",
                    "resonance_key": "frustrated-burst-seeking_advice",
                },
                {"user_input": "What is a monad?", "resonance_key": "curious-flowing-inquiry"},
                {"user_input": "This one has a bad key", "resonance_key": "banana-burst-statement"},
            ],
            "parallel": True,
        },
        200,
    ),
    "legacy_v2_personas": (
        "ApiFunction",
        "GET",
        "/api/v2/personas",
        V2,
        {"proxy": "personas"},
        JSON,
        None,
        200,
    ),
    "legacy_v2_persona_lowercase": (
        "ApiFunction",
        "GET",
        "/api/v2/personas/lua",
        V2,
        {"proxy": "personas/lua"},
        JSON,
        None,
        200,
    ),
    "legacy_v2_cache_stats": (
        "ApiFunction",
        "GET",
        "/api/v2/cache-stats",
        V2,
        {"proxy": "cache-stats"},
        JSON,
        None,
        200,
    ),
}

# name -> (function, method, path, resource, path parameters, headers, body, expected status)
EVENTS: dict[str, tuple[str, str, str, str, dict[str, str] | None, dict[str, str], Any, int]] = {
    "route_valid": (
        "ApiFunction",
        "POST",
        "/v1/route",
        "/v1/route",
        None,
        JSON,
        {"resonance_key": "frustrated-burst-seek_advice"},
        200,
    ),
    "route_corrected": (
        "ApiFunction",
        "POST",
        "/v1/route",
        "/v1/route",
        None,
        JSON,
        {"resonance_key": "Frustrated_Burst_Seeking-Advice"},
        200,
    ),
    "route_default": (
        "ApiFunction",
        "POST",
        "/v1/route",
        "/v1/route",
        None,
        JSON,
        {"resonance_key": "banana-burst", "on_invalid": "default"},
        200,
    ),
    "route_invalid_key": (
        "ApiFunction",
        "POST",
        "/v1/route",
        "/v1/route",
        None,
        JSON,
        {"resonance_key": "banana-brust-seek_advice"},
        422,
    ),
    "route_malformed_json": (
        "ApiFunction",
        "POST",
        "/v1/route",
        "/v1/route",
        None,
        JSON,
        '{"resonance_key": ',
        400,
    ),
    "route_wrong_content_type": (
        "ApiFunction",
        "POST",
        "/v1/route",
        "/v1/route",
        None,
        {**JSON, "Content-Type": "text/plain"},
        "resonance_key=calm",
        415,
    ),
    "validate_valid": (
        "ApiFunction",
        "POST",
        "/v1/resonance/validate",
        "/v1/resonance/validate",
        None,
        JSON,
        {"resonance_key": "calm_Medium_leanning"},
        200,
    ),
    "validate_invalid": (
        "ApiFunction",
        "POST",
        "/v1/resonance/validate",
        "/v1/resonance/validate",
        None,
        JSON,
        {"resonance_key": "banana-medium"},
        200,
    ),
    "detect": (
        "ApiFunction",
        "POST",
        "/v1/resonance/detect",
        "/v1/resonance/detect",
        None,
        JSON,
        {"message": "이거 왜 또 안 돼?? 급해요!!"},
        200,
    ),
    "detect_missing_message": (
        "ApiFunction",
        "POST",
        "/v1/resonance/detect",
        "/v1/resonance/detect",
        None,
        JSON,
        {"text": "the field is called message"},
        422,
    ),
    "personas_list": ("ApiFunction", "GET", "/v1/personas", "/v1/personas", None, JSON, None, 200),
    "persona_get": (
        "ApiFunction",
        "GET",
        "/v1/personas/Lua",
        "/v1/personas/{name}",
        {"name": "Lua"},
        JSON,
        None,
        200,
    ),
    "persona_get_unknown": (
        "ApiFunction",
        "GET",
        "/v1/personas/Nobody",
        "/v1/personas/{name}",
        {"name": "Nobody"},
        JSON,
        None,
        404,
    ),
    "recommend": (
        "ApiFunction",
        "POST",
        "/v1/personas/recommend",
        "/v1/personas/recommend",
        None,
        JSON,
        {"scenario": "Our team needs a plan to coordinate the launch with three departments"},
        200,
    ),
    "recommend_empty_scenario": (
        "ApiFunction",
        "POST",
        "/v1/personas/recommend",
        "/v1/personas/recommend",
        None,
        JSON,
        {"scenario": ""},
        422,
    ),
    "chat_none_backend": (
        "ApiFunction",
        "POST",
        "/v1/chat",
        "/v1/chat",
        None,
        JSON,
        {"message": "How should I plan my study week?", "session_id": "events-demo", "locale": "en"},
        200,
    ),
    # Rejected at the key check, before any model call: the traffic hooks run it on every deploy.
    "chat_invalid_key": (
        "ApiFunction",
        "POST",
        "/v1/chat",
        "/v1/chat",
        None,
        JSON,
        {
            "message": "Smoke test: this key is invalid on purpose.",
            "resonance_key": "banana-brust-seek_advice",
        },
        422,
    ),
    "health": ("ApiFunction", "GET", "/health", "/health", None, JSON, None, 200),
    "ready": ("ApiFunction", "GET", "/health/ready", "/health/ready", None, JSON, None, 200),
    "openapi": ("ApiFunction", "GET", "/v1/openapi.json", "/v1/openapi.json", None, JSON, None, 200),
    "docs": ("ApiFunction", "GET", "/v1/docs", "/v1/docs", None, JSON, None, 200),
    "unknown_route": (
        "ApiFunction",
        "GET",
        "/v1/nothing-here",
        "/{proxy+}",
        {"proxy": "v1/nothing-here"},
        JSON,
        None,
        404,
    ),
    "wrong_method": ("ApiFunction", "DELETE", "/v1/route", "/v1/route", None, JSON, None, 405),
    "admin_put_persona": (
        "AdminFunction",
        "PUT",
        "/v1/admin/personas/Mia",
        "/v1/admin/personas/{name}",
        {"name": "Mia"},
        JSON,
        MIA,
        201,
    ),
    "admin_put_stale": (
        "AdminFunction",
        "PUT",
        "/v1/admin/personas/Lua",
        "/v1/admin/personas/{name}",
        {"name": "Lua"},
        {**JSON, "If-Match": '"999"'},
        {**MIA, "display_name": "Lua"},
        409,
    ),
    "admin_put_without_if_match": (
        "AdminFunction",
        "PUT",
        "/v1/admin/personas/Lua",
        "/v1/admin/personas/{name}",
        {"name": "Lua"},
        JSON,
        {**MIA, "display_name": "Lua"},
        428,
    ),
    "admin_delete_without_if_match": (
        "AdminFunction",
        "DELETE",
        "/v1/admin/personas/Nana",
        "/v1/admin/personas/{name}",
        {"name": "Nana"},
        JSON,
        None,
        428,
    ),
    "admin_delete": (
        "AdminFunction",
        "DELETE",
        "/v1/admin/personas/Nana",
        "/v1/admin/personas/{name}",
        {"name": "Nana"},
        {**JSON, "If-Match": '"1"'},
        None,
        204,
    ),
    # Batch routing: order kept, a bad item fails alone; an empty batch is 422.
    "route_batch": (
        "ApiFunction",
        "POST",
        "/v1/route:batch",
        "/v1/route:batch",
        None,
        JSON,
        {
            "items": [
                {"resonance_key": "frustrated-burst-seek_advice"},
                {"resonance_key": "Calm_Medium_Leanning"},
                {"resonance_key": "banana-burst-seek_advice"},
            ]
        },
        200,
    ),
    "route_batch_empty": (
        "ApiFunction",
        "POST",
        "/v1/route:batch",
        "/v1/route:batch",
        None,
        JSON,
        {"items": []},
        422,
    ),
    **LEGACY_EVENTS,
}

# Run by the traffic hooks against a new version: read-only, deterministic, fast, no model call.
SMOKE = (
    "route_valid",
    "route_invalid_key",
    "chat_invalid_key",
    "validate_valid",
    "personas_list",
    "health",
    "unknown_route",
)


def build(name: str) -> dict[str, Any]:
    _, method, path, resource, parameters, headers, body, _ = EVENTS[name]
    raw = None if body is None else (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False))
    event = proxy_event(
        method,
        path,
        resource,
        parameters,
        headers,
        body=raw.encode() if raw else None,
        stage="dev",
        request_id=f"event-{name}",
    )
    # Fixed times keep the files stable between runs.
    event["requestContext"]["requestTime"] = "24/Nov/2026:00:00:00 +0000"
    event["requestContext"]["requestTimeEpoch"] = 1795478400000
    return event


def render(name: str) -> str:
    return json.dumps(build(name), indent=2, ensure_ascii=False) + "\n"


def expected_files() -> dict[Path, str]:
    files = {EVENTS_DIR / f"{name}.json": render(name) for name in EVENTS}
    files.update({SMOKE_DIR / f"{name}.json": render(name) for name in SMOKE})
    files[EVENTS_DIR / "persona_mia.json"] = json.dumps(MIA, indent=2, ensure_ascii=False) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    options = parser.parse_args(argv)
    stale = []
    for path, text in expected_files().items():
        if options.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path.relative_to(ROOT)))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    if stale:
        print("stale or missing (run python scripts/make_events.py):\n  " + "\n  ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
