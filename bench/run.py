"""`make bench`: every performance target of the product, ours and the baseline side by side.

Each measurement runs in its own worker process (`python -m bench.run --worker NAME`) whose
stdout goes to /dev/null: the handlers write a JSON log line and an EMF metrics blob per request,
as they do in Lambda, and a terminal would make that cost look larger than a Lambda log pipe.
Workers hand their numbers back through a JSON file.

The run prints each step and its rows as it goes, then the table, and writes
`.results/bench.json` (ignored by git): the machine (CPU model, cores, Python, commit) and the rows,
objects with exactly the keys name, ours, baseline, ratio, target, pass. Exit status 1 when a row
misses its target. docs/performance.md keeps a reference copy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_NAME = "bench.json"  # under .results/ (bench/machine.py), ignored by git

# Route event body used everywhere: a canonical key, so both handlers do comparable parsing.
ROUTE_BODY = json.dumps({"resonance_key": "frustrated-burst-seek_advice"})

# Lambda pricing used for the cost row (us-east-1, arm64, published list prices).
PRICE_PER_GB_SECOND_ARM = 0.0000133334
PRICE_PER_MILLION_REQUESTS = 0.20
PRICE_PER_MILLION_REST_API_CALLS = 3.50


# ---- shared helpers --------------------------------------------------------------------------


def route_event(body: str = ROUTE_BODY, request_id: str = "bench") -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Host": "bench.local"}
    return {
        "resource": "/v1/route",
        "path": "/v1/route",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "stage": "bench",
            "httpMethod": "POST",
            "path": "/bench/v1/route",
            "resourcePath": "/v1/route",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": False,
    }


class Context:
    function_name = "persona-router-bench"
    function_version = "1"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:persona-router-bench:live"
    aws_request_id = "bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def rss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def template_memory_mb() -> int:
    """MemorySize of ApiFunction (or Globals) in template.yaml; the cost row depends on it."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    # CloudFormation short tags (!Ref, !Sub, ...) only need to load, not resolve.
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template = yaml.load((ROOT / "template.yaml").read_text(encoding="utf-8"), Loader=Loader)
    function = template["Resources"]["ApiFunction"]["Properties"]
    memory = function.get("MemorySize") or template.get("Globals", {}).get("Function", {}).get("MemorySize")
    return int(memory) if isinstance(memory, int) else 128


# ---- workers (run in a fresh process each) -------------------------------------------------


def _ours() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from handlers.api import lambda_handler

    return lambda_handler


def _baseline() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from bench.baseline_handler import lambda_handler

    return lambda_handler


def _peer() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from bench.peer_handler import lambda_handler

    return lambda_handler


class _ConstantResolver:
    """Stands in for the Powertools resolver: a fixed 200 answer, no routing, no validation."""

    ANSWER = '{"persona":"Lua"}'

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {
            "statusCode": 200,
            "multiValueHeaders": {"Content-Type": ["application/json"]},
            "body": self.ANSWER,
            "isBase64Encoded": False,
        }


def _wrapper_only() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """Our Lambda entry (Powertools Logger context, one EMF document, request guard, headers)
    around a constant answer: what the observability and edge work cost on their own."""
    from handlers.common.app import lambda_entry
    from handlers.common.observability import record_persona

    class WithPersona(_ConstantResolver):
        def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
            record_persona("Lua")  # as a routed request does
            return super().resolve(event, context)

    return lambda_entry(WithPersona())  # type: ignore[arg-type]


def worker_warm(rounds: int, batch: int) -> dict[str, Any]:
    """Warm POST /v1/route, ours, the peer and the bare floor interleaved batch by batch so that
    machine noise hits them alike. `wrapper` and `constant` split our overhead: the Lambda entry around a
    constant answer, and that constant answer alone."""
    constant = _ConstantResolver()
    handlers = {
        "ours": _ours(),
        "peer": _peer(),
        "baseline": _baseline(),
        "wrapper": _wrapper_only(),
        "constant": constant.resolve,
    }
    context = Context()
    event = route_event()
    for name, handler in handlers.items():
        for _ in range(200):  # warm up: catalog loaded, caches filled, code paths hot
            response = handler(event, context)
        if response["statusCode"] != 200:
            raise RuntimeError(f"{name} answered {response['statusCode']}: {response.get('body')}")
    samples: dict[str, list[float]] = {name: [] for name in handlers}
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for name, handler in handlers.items():
            bucket = samples[name]
            for _ in range(batch):
                started = clock()
                handler(event, context)
                bucket.append((clock() - started) / 1000.0)
    return {
        name: {"median_us": statistics.median(v), "p99_us": percentile(v, 0.99), "n": len(v)}
        for name, v in samples.items()
    }


def worker_dynamodb_calls(requests: int) -> dict[str, Any]:
    """DynamoDB API calls made by warm requests, counted on botocore's event system."""
    import botocore.session

    calls: list[str] = []
    handler = _ours()
    context = Context()
    event = route_event()
    handler(event, context)  # the cold request loads the catalog (one Query)

    from handlers.common import deps

    client = deps.catalog_store()._client

    def count(**kwargs: Any) -> None:
        calls.append(kwargs.get("event_name", "?"))

    client.meta.events.register("before-call.dynamodb", count)
    del botocore.session  # imported only to make the dependency explicit
    for _ in range(requests):
        handler(event, context)
    return {"requests": requests, "calls": len(calls)}


def worker_memory(invocations: int, which: str) -> dict[str, Any]:
    handler = _ours() if which == "ours" else _baseline()
    context = Context()
    bodies = [
        json.dumps({"resonance_key": key})
        for key in (
            "frustrated-burst-seek_advice",
            "calm-medium-learning",
            "analytical-contemplative-planning",
        )
    ]
    events = [route_event(body) for body in bodies]
    for i in range(2000):  # steady state first: caches filled
        handler(events[i % 3], context)
    import gc

    gc.collect()
    before = rss_kib()
    for i in range(invocations):
        handler(events[i % 3], context)
    gc.collect()
    after = rss_kib()
    return {"before_kib": before, "after_kib": after, "growth_kib": after - before}


def worker_routing(personas: int, lookups: int) -> dict[str, Any]:
    """Router.route on a warm key for a catalog of N personas."""
    from bench.catalogs import synthetic_catalog
    from core.persona.resonance import parse_resonance_key
    from core.persona.routing import Router

    router = Router(synthetic_catalog(personas))
    keys = [
        parse_resonance_key(k)
        for k in ("frustrated-burst-seek_advice", "calm-medium-learning", "analytical-contemplative-planning")
    ]
    for key in keys:
        router.route(key)
    clock = time.perf_counter_ns
    samples: list[float] = []
    for i in range(lookups):
        key = keys[i % 3]
        started = clock()
        router.route(key)
        samples.append((clock() - started) / 1000.0)
    return {"median_us": statistics.median(samples), "p99_us": percentile(samples, 0.99)}


def chat_event(body: dict[str, Any], request_id: str, idempotency_key: str | None = None) -> dict[str, Any]:
    event = route_event(json.dumps(body), request_id)
    for name in ("resource", "path"):
        event[name] = "/v1/chat"
    event["requestContext"] = {
        **event["requestContext"],
        "resourcePath": "/v1/chat",
        "path": "/bench/v1/chat",
    }
    if idempotency_key is not None:
        event["headers"] = {**event["headers"], "Idempotency-Key": idempotency_key}
        event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    return event


CHAT_MESSAGE = "요즘 일이 많아서 계획을 어떻게 세워야 할지 막막해요. 조언 부탁해요."


class _DynamoDBCalls:
    """Every DynamoDB API call of the process, whichever client or boto3 session makes it
    (Powertools' idempotency layer builds its own session), by wrapping botocore's one exit."""

    def __init__(self) -> None:
        from botocore.client import BaseClient

        self.calls: list[str] = []
        original = BaseClient._make_api_call
        recorder = self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if client.meta.service_model.service_name == "dynamodb":
                recorder.calls.append(f"{operation}:{params.get('TableName', '?')}")
            return original(client, operation, params)

        BaseClient._make_api_call = counted

    def take(self) -> list[str]:
        taken, self.calls = self.calls, []
        return taken


def worker_chat(requests: int) -> dict[str, Any]:
    """Warm POST /v1/chat with backend `none`: without a session, in a session (turn 2 onwards),
    and with a fresh Idempotency-Key, then the DynamoDB calls of one turn of each kind and of a
    replay (same key, same body)."""
    import uuid

    counter = _DynamoDBCalls()
    handler = _ours()
    context = Context()
    from handlers.routes import chat as chat_routes

    model_calls = {"n": 0}
    original_run = chat_routes._run

    def run(body: dict[str, Any]) -> dict[str, Any]:
        model_calls["n"] += 1  # the pipeline (prompt + model backend) ran
        return original_run(body)

    chat_routes._run = run
    session = uuid.uuid4().hex
    bodies = {
        "no_session": lambda i: chat_event({"message": CHAT_MESSAGE}, f"ns-{i}"),
        "session": lambda i: chat_event({"message": CHAT_MESSAGE, "session_id": session}, f"s-{i}"),
        "idempotency_key": lambda i: chat_event({"message": CHAT_MESSAGE}, f"k-{i}", uuid.uuid4().hex),
    }
    for name, make in bodies.items():  # warm up each path
        for i in range(30):
            response = handler(make(i), context)
            if response["statusCode"] != 200:
                raise RuntimeError(f"chat {name} answered {response['statusCode']}: {response.get('body')}")
    samples: dict[str, list[float]] = {name: [] for name in bodies}
    # This process's CPU time per request: the work Lambda's CPU share slows down, apart from the
    # wait on DynamoDB Local (scripts/capacity_model.py uses both).
    cpu: dict[str, list[float]] = {name: [] for name in bodies}
    clock, cpu_clock = time.perf_counter_ns, time.process_time_ns
    for i in range(requests):
        for name, make in bodies.items():
            event = make(i)
            started, cpu_started = clock(), cpu_clock()
            handler(event, context)
            samples[name].append((clock() - started) / 1000.0)
            cpu[name].append((cpu_clock() - cpu_started) / 1000.0)
    counter.take()
    calls: dict[str, list[str]] = {}
    for name, make in bodies.items():
        handler(make(10**6), context)
        calls[name] = counter.take()
    key = uuid.uuid4().hex
    first = chat_event({"message": CHAT_MESSAGE, "session_id": session}, "first", key)
    handler(first, context)
    counter.take()
    before = model_calls["n"]
    replay = handler(chat_event({"message": CHAT_MESSAGE, "session_id": session}, "replay", key), context)
    calls["replay"] = counter.take()
    result = {
        name: {
            "median_us": statistics.median(v),
            "p99_us": percentile(v, 0.99),
            "cpu_median_us": statistics.median(cpu[name]),
            "n": len(v),
        }
        for name, v in samples.items()
    }
    return {
        "latency": result,
        "calls": calls,
        "replay_status": replay["statusCode"],
        "replay_model_calls": model_calls["n"] - before,
    }


DETECT_MESSAGE = ("오늘 회의에서 계획이 또 바뀌어서 너무 답답하고 어떻게 해야 할지 모르겠어요. " * 20)[:500]


def worker_detect(lookups: int) -> dict[str, Any]:
    """Key detection on a 500-character Korean message: the core function and the whole handler."""
    from core.persona.inference import detect

    assert len(DETECT_MESSAGE) == 500
    handler = _ours()
    context = Context()
    event = route_event(json.dumps({"message": DETECT_MESSAGE}))
    event["resource"] = event["path"] = "/v1/resonance/detect"
    for _ in range(50):
        detect(DETECT_MESSAGE)
        response = handler(event, context)
    if response["statusCode"] != 200:
        raise RuntimeError(f"detect answered {response['statusCode']}: {response.get('body')}")
    clock = time.perf_counter_ns
    core: list[float] = []
    whole: list[float] = []
    for _ in range(lookups):
        started = clock()
        detect(DETECT_MESSAGE)
        core.append((clock() - started) / 1000.0)
        started = clock()
        handler(event, context)
        whole.append((clock() - started) / 1000.0)
    # The lexicon detector the trained model replaced (scripts/lexicon_baseline.py), same message.
    from scripts.lexicon_baseline import detect as old_detect

    old_detect(DETECT_MESSAGE)
    previous: list[float] = []
    for _ in range(lookups):
        started = clock()
        old_detect(DETECT_MESSAGE)
        previous.append((clock() - started) / 1000.0)
    return {
        "core_median_us": statistics.median(core),
        "handler_median_us": statistics.median(whole),
        "handler_p99_us": percentile(whole, 0.99),
        "old_core_median_us": statistics.median(previous),
    }


COLD_OURS = """
import time
t0 = time.perf_counter()
from handlers.api import lambda_handler
from bench.run import route_event, Context
response = lambda_handler(route_event(), Context())
t1 = time.perf_counter()
assert response["statusCode"] == 200, response
print((t1 - t0) * 1000.0, file=open(__import__("sys").argv[1], "w"))
"""

COLD_BASELINE = """
import time
t0 = time.perf_counter()
import os, boto3
from bench.baseline_handler import lambda_handler
client = boto3.client("dynamodb")
client.get_item(TableName=os.environ["CATALOG_TABLE"], Key={"pk": {"S": "CATALOG"}, "sk": {"S": "META"}})
from bench.run import route_event, Context
response = lambda_handler(route_event(), Context())
t1 = time.perf_counter()
assert response["statusCode"] == 200, response
print((t1 - t0) * 1000.0, file=open(__import__("sys").argv[1], "w"))
"""


# The restore path SnapStart users get: what runs after a restore (handlers/common/snapstart.py)
# plus the first route. The snapshot itself (imports, catalog, warm-up) is taken untimed.
COLD_RESTORE = """
import time
from handlers.api import lambda_handler
from handlers.common import snapstart
from bench.run import route_event, Context
snapstart.run_before_snapshot()
t0 = time.perf_counter()
snapstart.run_after_restore()
response = lambda_handler(route_event(), Context())
t1 = time.perf_counter()
assert response["statusCode"] == 200, response
print((t1 - t0) * 1000.0, file=open(__import__("sys").argv[1], "w"))
"""

PY311_VENV = ROOT / ".venv-py311"


def python311() -> str | None:
    """A Python 3.11 with the runtime requirements, for the 3.11 vs 3.13 row: `.venv-py311`,
    created from pyenv's 3.11 when missing. None (the row is skipped, with a message) when there
    is no 3.11 on this machine or its packages cannot be installed."""
    interpreter = PY311_VENV / "bin" / "python"
    if interpreter.exists():
        return str(interpreter)
    try:
        prefix = subprocess.run(
            ["pyenv", "prefix", "3.11"], capture_output=True, text=True, check=True
        ).stdout.split()[0]
        print("    creating .venv-py311 from pyenv's 3.11 (first time only, about a minute)", flush=True)
        subprocess.run([f"{prefix}/bin/python3.11", "-m", "venv", str(PY311_VENV)], check=True)
        subprocess.run(
            [
                str(interpreter),
                "-m",
                "pip",
                "install",
                "--quiet",
                "-r",
                str(ROOT / "src" / "requirements.txt"),
            ],
            check=True,
        )
    except (OSError, IndexError, subprocess.CalledProcessError) as error:
        print(f"    no Python 3.11 available ({type(error).__name__}): the 3.11 row is skipped", flush=True)
        return None
    return str(interpreter)


def import_time_top(env: dict[str, str], count: int = 10) -> list[dict[str, Any]]:
    """`python -X importtime` over our cold start (import + first route): the imports that cost
    the most, cumulative, in milliseconds."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", COLD_OURS, out.name],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
    entries: list[dict[str, Any]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|", 2)
        depth = (len(name) - len(name.lstrip()) - 1) // 2  # one space after "|", two per level
        entries.append(
            {
                "module": name.strip(),
                "self_ms": int(self_us) / 1000,
                "cumulative_ms": int(cumulative_us) / 1000,
                "depth": depth,
            }
        )
    # importtime prints a module after everything it imported: the depth-1 lines before a
    # top-level line are its children. Our entry module is split into its direct imports (the
    # parts of our cold start one could make lazier); the bench's own helpers are left out.
    candidates: list[dict[str, Any]] = []
    children: list[dict[str, Any]] = []
    for entry in entries:
        if entry["depth"] == 1:
            children.append(entry)
        elif entry["depth"] == 0:
            if entry["module"] == "handlers.api":
                candidates.extend(children)
            elif not entry["module"].startswith("bench"):
                candidates.append(entry)
            children = []
    top = sorted(candidates, key=lambda e: float(e["cumulative_ms"]), reverse=True)
    return top[:count]


# The X-Ray SDK decision (docs/performance.md): what Powertools' Tracer costs in a fresh process.
COLD_TRACER = """
import time
t0 = time.perf_counter()
from aws_lambda_powertools import Tracer
Tracer(service="persona-router", disabled=True)
t1 = time.perf_counter()
print((t1 - t0) * 1000.0, file=open(__import__("sys").argv[1], "w"))
"""


def _compile_sources(python: str = sys.executable) -> None:
    """Bytecode for src/ and bench/ before timing fresh interpreters, as `make build` ships it to
    Lambda: with PYTHONDONTWRITEBYTECODE set (as on these machines) every sample would otherwise
    compile our modules from source, a cost the deployed function does not pay."""
    subprocess.run([python, "-m", "compileall", "-q", "src", "bench"], cwd=ROOT, check=True)


def _run_script(code: str, env: dict[str, str], python: str = sys.executable) -> float:
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        subprocess.run(
            [python, "-c", code, out.name],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return float(Path(out.name).read_text(encoding="ascii"))


def _run_worker(name: str, env: dict[str, str], *args: str) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        subprocess.run(
            [sys.executable, "-m", "bench.run", "--worker", name, "--out", out.name, *args],
            cwd=ROOT,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        result: dict[str, Any] = json.loads(Path(out.name).read_text(encoding="utf-8"))
        return result


# ---- the run ---------------------------------------------------------------------------------


def row(
    name: str, ours: float, baseline: float, target: str, passed: bool, digits: int = 3
) -> dict[str, Any]:
    ratio = round(ours / baseline, 3) if baseline else None
    return {
        "name": name,
        "ours": round(ours, digits),
        "baseline": round(baseline, digits),
        "ratio": ratio,
        "target": target,
        "pass": bool(passed),
    }


# Steps `--only` can run alone (the two SPEC targets with a same-run reference, and the detector
# rows beside the old lexicon detector).
ONLY_STEPS = ("warm", "cold", "detect")


def measure(
    env: dict[str, str], quick: bool, extra: dict[str, Any], only: frozenset[str] | None = None
) -> list[dict[str, Any]]:
    """Every row; with `only` (a subset of ONLY_STEPS) just those steps' rows."""

    def wanted(name: str) -> bool:
        return only is None or name in only

    rows: list[dict[str, Any]] = []
    scale = 0.1 if quick else 1.0
    steps = 12

    def step(number: int, text: str, seconds: float) -> None:
        # Each step runs silently in a worker process: say what it is and how long it takes.
        print(f"==> [{number}/{steps}] {text} (about {max(1, round(seconds * scale))} s)", flush=True)

    def add(result: dict[str, Any]) -> None:
        rows.append(result)
        verdict = "ok" if result["pass"] else "MISSES TARGET"
        print(
            f"    {result['name'].strip()}: {result['ours']} vs {result['baseline']}"
            f" (target {result['target']}) {verdict}",
            flush=True,
        )

    if wanted("warm"):
        step(1, "warm POST /v1/route: ours, the peer, the bare floor and the Lambda entry interleaved", 80)
        warm = _run_worker("warm", env, str(max(4, int(20 * scale))), "1000")
        ours, peer, floor = warm["ours"], warm["peer"], warm["baseline"]
        add(
            row(
                "warm POST /v1/route median vs peer (us)",
                ours["median_us"],
                peer["median_us"],
                "<= 1.0x",
                ours["median_us"] <= peer["median_us"],
            )
        )
        add(row("warm POST /v1/route p99 vs peer (us)", ours["p99_us"], peer["p99_us"], "reported", True))
        add(
            row(
                "warm POST /v1/route median vs bare floor (us)",
                ours["median_us"],
                floor["median_us"],
                "reported",
                True,
            )
        )
        add(row("  peer vs bare floor median (us)", peer["median_us"], floor["median_us"], "reported", True))
        wrapper, constant = warm["wrapper"], warm["constant"]
        add(
            row(
                "  of which Lambda entry: logs, EMF, guard, headers (us)",
                wrapper["median_us"] - constant["median_us"],
                floor["median_us"],
                "reported",
                True,
            )
        )

    if wanted("cold"):
        step(
            2, "cold starts on python3.13: a fresh interpreter per sample, ours and baseline interleaved", 40
        )
        cold_ours: list[float] = []
        cold_base: list[float] = []
        _compile_sources()
        # One unrecorded pair first: the first fresh interpreter pays for a cold file cache.
        _run_script(COLD_OURS, env)
        _run_script(COLD_BASELINE, env)
        for _ in range(max(5, int(15 * scale))):  # interleaved, fresh interpreter each time
            cold_ours.append(_run_script(COLD_OURS, env))
            cold_base.append(_run_script(COLD_BASELINE, env))
        ours_cold, base_cold = statistics.median(cold_ours), statistics.median(cold_base)
        add(
            row(
                "cold start: import + first route (ms)",
                ours_cold,
                base_cold,
                "<= 1.10x",
                ours_cold <= 1.10 * base_cold,
            )
        )

    if wanted("detect"):
        step(10, "detect on a 500-character Korean message", 15)
        try:
            detected = _run_worker("detect", env, str(max(500, int(5000 * scale))))
        except subprocess.CalledProcessError:
            # The detector is under active development: a broken one fails this row, not the run.
            detected = {"handler_median_us": float("nan"), "core_median_us": float("nan"), "failed": True}
        extra["detect"] = detected
        add(
            row(
                "detect on a 500-character Korean message: whole handler vs core median (us)",
                detected["handler_median_us"],
                detected["core_median_us"],
                "reported (fails if detect fails)",
                not detected.get("failed", False),
            )
        )
        add(
            row(
                "detect on a 500-character message: trained model vs old lexicon detector, median (us)",
                detected["core_median_us"],
                detected.get("old_core_median_us", float("nan")),
                "reported",
                not detected.get("failed", False),
            )
        )

    if only is not None:
        return rows  # `--only`: just the selected rows, for a quick check

    step(3, "restore path (SnapStart): after-restore hook + first route, ours", 20)
    _run_script(COLD_RESTORE, env)
    restore = statistics.median(_run_script(COLD_RESTORE, env) for _ in range(max(3, int(9 * scale))))
    add(row("restore path: after-restore hook + first route (ms)", restore, base_cold, "reported", True))

    step(4, "cold start on python3.11 (.venv-py311) vs python3.13, ours and baseline", 40)
    py311 = python311()
    if py311 is not None:
        _compile_sources(py311)  # its own cpython-311 .pyc files, as a 3.11 build would ship
        _run_script(COLD_OURS, env, py311)
        _run_script(COLD_BASELINE, env, py311)
        old_ours: list[float] = []
        old_base: list[float] = []
        for _ in range(max(3, int(9 * scale))):
            old_ours.append(_run_script(COLD_OURS, env, py311))
            old_base.append(_run_script(COLD_BASELINE, env, py311))
        add(
            row(
                "cold start ours: python3.13 vs python3.11 (ms)",
                ours_cold,
                statistics.median(old_ours),
                "reported",
                True,
            )
        )
        add(
            row(
                "cold start baseline: python3.13 vs python3.11 (ms)",
                base_cold,
                statistics.median(old_base),
                "reported",
                True,
            )
        )

    step(5, "python -X importtime over our cold start", 3)
    extra["import_time_top10"] = import_time_top(env)
    for entry in extra["import_time_top10"]:
        print(f"    {entry['cumulative_ms']:8.1f} ms  {entry['module']}", flush=True)

    step(6, "X-Ray SDK import cost", 5)
    tracer = statistics.median(_run_script(COLD_TRACER, env) for _ in range(3 if quick else 5))
    add(
        row(
            "X-Ray SDK (Powertools Tracer) import at cold start (ms)",
            tracer,
            base_cold,
            "reported",
            True,
        )
    )

    step(7, "routing with 4, 100, 1,000 and 10,000 personas", 40)
    lookups = max(20_000, int(200_000 * scale))
    small = _run_worker("routing", env, "4", str(lookups))
    for size in (100, 1000, 10_000):
        big = _run_worker("routing", env, str(size), str(lookups))
        passed = big["median_us"] <= 2 * small["median_us"]
        target = "<= 2x (4 personas)" if size == 10_000 else "reported"
        add(
            row(
                f"routing {size} vs 4 personas median (us)",
                big["median_us"],
                small["median_us"],
                target,
                passed,
            )
        )

    step(8, "DynamoDB calls per warm request", 5)
    calls = _run_worker("dynamodb_calls", env, "1000")
    per_request = calls["calls"] / calls["requests"]
    add(row("DynamoDB calls per warm request", per_request, 0.0, "0", per_request == 0))

    step(9, "warm POST /v1/chat (backend none, DynamoDB Local): no session, session, Idempotency-Key", 60)
    chat = _run_worker("chat", env, str(max(50, int(500 * scale))))
    extra["chat"] = chat
    plain_chat = chat["latency"]["no_session"]
    for statistic in ("median_us", "p99_us"):
        label = statistic.split("_")[0]
        add(
            row(
                f"warm POST /v1/chat without session_id {label} vs route (us)",
                plain_chat[statistic],
                ours[statistic],
                "reported",
                True,
            )
        )
        for name, text in (("session", "with session_id"), ("idempotency_key", "with Idempotency-Key")):
            add(
                row(
                    f"warm POST /v1/chat {text} {label} vs without (us)",
                    chat["latency"][name][statistic],
                    plain_chat[statistic],
                    "reported",
                    True,
                )
            )
    turn = chat["calls"]["session"]
    reads = sum(call.split(":")[0] in ("GetItem", "Query", "BatchGetItem") for call in turn)
    writes = len(turn) - reads
    add(row("chat session turn: DynamoDB reads (calls)", reads, 1, "<= 1", reads <= 1, 0))
    add(row("chat session turn: DynamoDB writes (calls)", writes, 1, "<= 1", writes <= 1, 0))
    keyed = chat["calls"]["idempotency_key"]
    plain = chat["calls"]["no_session"]
    idempotency_writes = [c for c in keyed if c.startswith(("PutItem", "UpdateItem")) and "Idempotency" in c]
    other_extra = len(keyed) - len(plain) - len(idempotency_writes)
    # Powertools' idempotency writes its record twice: a conditional put that locks the key while
    # the first request runs (what lets a retry in flight get 409 instead of a second model call)
    # and an update with the answer. One write would need dropping that lock (docs/performance.md).
    add(
        row(
            "chat with Idempotency-Key: idempotency record writes (lock + answer)",
            len(idempotency_writes),
            2,
            "<= 2, nothing else",
            len(idempotency_writes) <= 2 and other_extra == 0,
            0,
        )
    )
    replay = chat["calls"]["replay"]
    session_writes = len([c for c in replay if c.startswith("PutItem") and "Sessions" in c])
    add(
        row(
            "idempotent replay: model calls + session writes",
            chat["replay_model_calls"] + session_writes,
            0,
            "0",
            chat["replay_status"] == 200 and chat["replay_model_calls"] == 0 and session_writes == 0,
            0,
        )
    )

    step(11, "memory growth over many invocations, ours then baseline", 60)
    invocations = max(10_000, int(100_000 * scale))
    mem_ours = _run_worker("memory", env, str(invocations), "ours")
    mem_base = _run_worker("memory", env, str(invocations), "baseline")
    growth_ours = mem_ours["growth_kib"] / 1024
    growth_base = mem_base["growth_kib"] / 1024
    add(
        row(
            f"RSS growth after {invocations:,} invocations (MB)",
            growth_ours,
            growth_base,
            "< 5 MB",
            growth_ours < 5,
        )
    )

    step(12, "local server: POST /v1/route at 1,000 requests/s, keep-alive (bench/load.py)", 75)
    seconds = 10 if quick else 60
    subprocess.run(
        [sys.executable, "-m", "bench.load", "--seconds", str(seconds)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": env["PYTHONPATH"]},
        check=False,  # its verdict is read from the file below
        stdout=subprocess.DEVNULL,
    )
    load = json.loads((ROOT / ".results" / "load.json").read_text(encoding="utf-8"))["result"]
    extra["load"] = load
    add(
        row(
            f"local server POST /v1/route at {load['target_rps']:,.0f} req/s for {seconds} s: p99 (ms)",
            load["p99_ms"],
            50.0,
            "< 50 ms, 0 errors",
            bool(load["pass"]),
        )
    )

    memory_mb = template_memory_mb()
    extra["memory_mb"] = memory_mb
    extra["cold_start_ms"] = {"ours": ours_cold, "baseline": base_cold, "restore": restore}
    extra["warm_route_us"] = {"ours": ours, "peer": peer, "floor": floor}

    def cost(duration_us: float) -> float:
        billed_ms = max(1, -(-int(duration_us) // 1000))  # Lambda bills whole milliseconds, rounded up
        compute = billed_ms / 1000 * memory_mb / 1024 * PRICE_PER_GB_SECOND_ARM * 1_000_000
        return compute + PRICE_PER_MILLION_REQUESTS + PRICE_PER_MILLION_REST_API_CALLS

    add(
        row(
            "cost per million route requests, Lambda + API Gateway (USD; ours vs peer)",
            cost(ours["median_us"]),
            cost(peer["median_us"]),
            "printed",
            True,
        )
    )
    add(
        row(
            "cost per million chat requests, Lambda + API Gateway (USD; session vs no session)",
            cost(chat["latency"]["session"]["median_us"]),
            cost(chat["latency"]["no_session"]["median_us"]),
            "printed",
            True,
        )
    )
    print(
        f"cost assumptions: arm64 at ${PRICE_PER_GB_SECOND_ARM}/GB-s, "
        f"${PRICE_PER_MILLION_REQUESTS}/M requests, API Gateway REST ${PRICE_PER_MILLION_REST_API_CALLS}/M, "
        f"{memory_mb} MB (template.yaml), billed duration = measured warm median rounded up to 1 ms; "
        "cold starts, SnapStart, logs and DynamoDB: scripts/capacity_model.py adds them."
    )
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    header = ("name", "ours", "baseline", "ratio", "target", "pass")
    cells = [[str(r[h]) for h in header] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    print(line)
    print("-" * len(line))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))


def bench_env(endpoint: str, tables: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "CATALOG_TABLE": tables["CatalogTable"],
            "SESSIONS_TABLE": tables["SessionsTable"],
            "IDEMPOTENCY_TABLE": tables["IdempotencyTable"],
            "STAGE": "dev",  # a valid stage for the settings model; nothing depends on it here
            "POWERTOOLS_SERVICE_NAME": "persona-router",
            "POWERTOOLS_METRICS_NAMESPACE": "PersonaRouter",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "CATALOG_CACHE_TTL_SECONDS": "3600",
            "LLM_BACKEND": "none",
            "PYDANTIC_DISABLE_PLUGINS": "__all__",  # as template.yaml sets it for every function
        }
    )
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (smoke run)")
    parser.add_argument(
        "--markdown", action="store_true", help="print the last run (.results/bench.json) as docs tables"
    )
    parser.add_argument(
        "--only",
        help=f"comma-separated steps to run alone ({', '.join(ONLY_STEPS)}); not written to bench.json",
    )
    parser.add_argument("--worker")
    parser.add_argument("--out")
    parser.add_argument("args", nargs="*")
    options = parser.parse_args(argv)

    if options.worker:
        workers: dict[str, Callable[..., dict[str, Any]]] = {
            "warm": lambda r, b: worker_warm(int(r), int(b)),
            "dynamodb_calls": lambda n: worker_dynamodb_calls(int(n)),
            "memory": lambda n, which: worker_memory(int(n), which),
            "routing": lambda n, k: worker_routing(int(n), int(k)),
            "chat": lambda n: worker_chat(int(n)),
            "detect": lambda n: worker_detect(int(n)),
        }
        result = workers[options.worker](*options.args)
        Path(options.out).write_text(json.dumps(result), encoding="utf-8")
        return 0

    if options.markdown:
        return print_markdown(ROOT / ".results" / RESULTS_NAME)

    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    # Imported here, not at the top: the cold-start scripts import this module inside their timing.
    from bench.machine import describe, machine, write_results
    from scripts.dynamodb_local import DynamoDBLocal, create_tables, seed_catalog

    info = machine()
    print(f"==> machine: {describe(info)}", flush=True)
    print("==> starting DynamoDB Local with the template's tables and the seeded catalog", flush=True)
    with DynamoDBLocal() as local:
        tables = create_tables(local.endpoint)
        seed_catalog(local.endpoint, tables["CatalogTable"])
        extra: dict[str, Any] = {}
        only = frozenset(options.only.split(",")) if options.only else None
        if only is not None and not only <= set(ONLY_STEPS):
            parser.error(f"--only takes {', '.join(ONLY_STEPS)}")
        rows = measure(bench_env(local.endpoint, tables), options.quick, extra, only)
    print()
    print_table(rows)
    if only is not None:
        return report_failures(rows)  # a partial run never replaces the full one
    written = write_results(RESULTS_NAME, {"machine": info, "quick": options.quick, "rows": rows, **extra})
    print(f"\nwritten to {written.relative_to(ROOT) if written.is_relative_to(ROOT) else written}")
    return report_failures(rows)


def print_markdown(path: Path) -> int:
    """The tables of docs/performance.md from a run, so the doc's numbers come from a command."""
    data = json.loads(path.read_text(encoding="utf-8"))
    machine = data["machine"]
    print(
        f"Run of {machine['date_utc']} on {machine['cpu_model']}, {machine['cores']} cores, "
        f"{machine['implementation']} {machine['python']}, load {machine['load_average_1m_at_start']} "
        f"at start, commit {machine['commit']}{' (--quick)' if data.get('quick') else ''}.\n"
    )
    print("| benchmark | ours | reference | ratio | target | pass |")
    print("|---|---|---|---|---|---|")
    for r in data["rows"]:
        ratio = "—" if r["ratio"] is None else r["ratio"]
        verdict = "yes" if r["pass"] else "**no**"
        print(
            f"| {r['name'].strip()} | {r['ours']} | {r['baseline']} | {ratio} | {r['target']} | {verdict} |"
        )
    if "import_time_top10" in data:
        print("\n| module (import + first route) | cumulative (ms) | self (ms) |")
        print("|---|---|---|")
        for entry in data["import_time_top10"]:
            print(f"| `{entry['module']}` | {entry['cumulative_ms']:.1f} | {entry['self_ms']:.1f} |")
    if "chat" in data:
        print("\nDynamoDB calls per chat request (operation:table):\n")
        for name, calls in data["chat"]["calls"].items():
            print(f"- {name}: {', '.join(calls) or 'none'}")
    return 0


def report_failures(rows: list[dict[str, Any]]) -> int:
    """Exit status of the run: 1 when any row misses its target, named on stderr."""
    failed = [r["name"].strip() for r in rows if not r["pass"]]
    if failed:
        print(f"{len(failed)} row(s) miss their target: {'; '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
