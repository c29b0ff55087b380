"""A real S3 HTTP endpoint for tests: moto's standalone server on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from moto.server import ThreadedMotoServer

from ortholens.kit.storage.s3 import make_s3_client

ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key"
REGION = "us-east-1"


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    bucket: str


@contextmanager
def running_s3_server(bucket: str = "ortholens-test") -> Iterator[S3Endpoint]:
    """Start moto on 127.0.0.1 (port chosen by the OS), create `bucket`, stop it afterwards."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = S3Endpoint(url=f"http://{host}:{port}", bucket=bucket)
        client = make_s3_client(
            endpoint_url=endpoint.url,
            region=REGION,
            access_key_id=ACCESS_KEY_ID,
            secret_access_key=SECRET_ACCESS_KEY,
        )
        client.create_bucket(Bucket=bucket)
        yield endpoint
    finally:
        server.stop()
