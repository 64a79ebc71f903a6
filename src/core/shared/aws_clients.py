"""boto3 clients with bounded timeouts and botocore's standard retries, created on first use so
importing an adapter stays cheap. `total_max_attempts` counts the first call too (botocore's
`max_attempts` would count retries only). Endpoints follow the AWS_ENDPOINT_URL_<SERVICE>
variables, which is how DynamoDB Local is reached without a special code path."""

from __future__ import annotations

from typing import Any


def client(service: str, attempts: int = 3, connect_timeout: float = 2, read_timeout: float = 3) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        config=Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"total_max_attempts": attempts, "mode": "standard"},
        ),
    )
