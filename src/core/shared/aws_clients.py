"""AWS clients (botocore) with bounded timeouts and botocore's standard retries, created on first use so
importing an adapter stays cheap. `total_max_attempts` counts the first call too (botocore's
`max_attempts` would count retries only). Endpoints follow the AWS_ENDPOINT_URL_<SERVICE>
variables, which is how DynamoDB Local is reached without a special code path.

Every client of the service is built here (or, for Bedrock, with the same kind of Config), so
no call can fall back on botocore's 60 s read timeout. The worst case of one call against a
dependency that accepts connections and never answers is

    attempts x read_timeout + back-off between attempts (standard mode: at most 1 s before
    the first retry, 2 s before the second)

docs/architecture.md ("Client timeouts and retries") lists each client's numbers and how they
fit in the function timeouts; tests/unit/test_client_timeouts.py keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any


@dataclass(frozen=True)
class ClientLimits:
    connect_timeout: float
    read_timeout: float
    attempts: int  # the first call included

    def _backoff(self) -> float:
        # botocore's standard mode: random jitter up to 2**retry seconds, capped at 20 s.
        return sum(min(2.0**retry, 20.0) for retry in range(self.attempts - 1))

    def worst_case_seconds(self) -> float:
        """Longest one call can take before botocore gives up: every attempt waits out both
        the connect and the read timeout."""
        return self.attempts * (self.connect_timeout + self.read_timeout) + self._backoff()

    def stalled_seconds(self) -> float:
        """One call against an endpoint that accepts connections and never answers."""
        return self.attempts * self.read_timeout + self._backoff()


# DynamoDB on the request path (catalog, sessions, idempotency records): single-digit
# millisecond calls when healthy, so 1.5 s of silence means a hung endpoint. Two attempts keep
# one call on a stalled table (connections accepted, never answered) within 1.5 + 1 + 1.5 = 4 s.
DYNAMODB = ClientLimits(connect_timeout=1, read_timeout=1.5, attempts=2)
# Control-plane and reporting clients (release controller, hooks, seed): off the request path.
DEFAULT = ClientLimits(connect_timeout=2, read_timeout=3, attempts=3)

_BY_SERVICE = {"dynamodb": DYNAMODB}


def limits_for(service: str) -> ClientLimits:
    return _BY_SERVICE.get(service, DEFAULT)


def boto_config(limits: ClientLimits) -> Any:
    from botocore.config import Config

    return Config(
        connect_timeout=limits.connect_timeout,
        read_timeout=limits.read_timeout,
        retries={"total_max_attempts": limits.attempts, "mode": "standard"},
    )


def client(
    service: str,
    attempts: int | None = None,
    connect_timeout: float | None = None,
    read_timeout: float | None = None,
) -> Any:
    base = limits_for(service)
    limits = ClientLimits(
        connect_timeout=base.connect_timeout if connect_timeout is None else connect_timeout,
        read_timeout=base.read_timeout if read_timeout is None else read_timeout,
        attempts=base.attempts if attempts is None else attempts,
    )
    return _new_session().create_client(service, config=boto_config(limits))


# botocore directly, not boto3: for the services used here a boto3 client is the botocore client,
# and importing boto3 (with s3transfer) cost about 0.1 s of every cold start (docs/performance.md).
# Each client gets its own session, so credentials are resolved afresh for each client (as after a
# SnapStart restore); the data loader, which caches the parsed service models, is shared.
@cache
def _loader() -> Any:
    from botocore.loaders import create_loader

    return create_loader()


def _new_session() -> Any:
    import botocore.session

    session = botocore.session.get_session()
    session.register_component("data_loader", _loader())
    return session
