"""What a DynamoDB call that cannot complete becomes: core.shared.errors.Unavailable (503 with
Retry-After at the HTTP edge), never an exception the handlers do not know.

botocore raises its connection and timeout errors (EndpointConnectionError, ConnectTimeoutError,
ReadTimeoutError, ConnectionClosedError) as BotoCoreError, not ClientError, once its bounded
retries (core.shared.aws_clients) are spent; a throttled or failing table answers a ClientError
with a retryable code after the same retries. Both mean "try again shortly". Other ClientErrors
(a condition failed, a missing table) stay with the caller, which knows what they mean.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from core.shared.errors import Unavailable

RETRY_AFTER_SECONDS = 2

_RETRYABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


@contextmanager
def dynamodb_call(what: str) -> Iterator[None]:
    """Run one store operation; `what` names it in the client-facing message."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except BotoCoreError as exc:
        raise Unavailable(
            f"the {what} did not answer; retry shortly", retry_after=RETRY_AFTER_SECONDS
        ) from exc
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _RETRYABLE_CODES:
            raise Unavailable(f"the {what} is busy; retry shortly", retry_after=RETRY_AFTER_SECONDS) from exc
        raise
