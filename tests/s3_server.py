"""A local S3 server for the tests (moto's, from PyPI; no internet): one per test process,
started on first use on 127.0.0.1 and a free port; each test gets a bucket of its own."""

from __future__ import annotations

import atexit
import socket
from functools import cache
from uuid import uuid4

import boto3

from adapters.media.s3 import S3Media

# moto accepts any keys; they are set so boto3 never looks for a real account's.
KEYS = {"aws_access_key_id": "vigie-test", "aws_secret_access_key": "vigie-test-secret"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@cache
def endpoint() -> str:
    """The server's URL, started once for the whole test process."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    atexit.register(server.stop)
    return f"http://127.0.0.1:{port}"


def client() -> object:
    return boto3.client("s3", endpoint_url=endpoint(), region_name="us-east-1", **KEYS)


def new_bucket() -> str:
    """A fresh empty bucket."""
    name = f"vigie-{uuid4().hex[:20]}"
    client().create_bucket(Bucket=name)  # type: ignore[attr-defined]
    return name


def keys_in(bucket: str, prefix: str = "") -> list[str]:
    """Every object key in the bucket under `prefix`, read around the adapter."""
    pages = client().get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    return sorted(
        o["Key"]
        for page in pages.paginate(Bucket=bucket, Prefix=prefix)
        for o in page.get("Contents", [])
    )


def s3_media(bucket: str, prefix: str = "media") -> S3Media:
    return S3Media(
        f"s3://{bucket}/{prefix}",
        endpoint_url=endpoint(),
        access_key_id=KEYS["aws_access_key_id"],
        secret_access_key=KEYS["aws_secret_access_key"],
    )
