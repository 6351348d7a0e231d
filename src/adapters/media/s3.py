"""Media on S3-compatible object storage (issue 15): every node of a deployment reads, plays
and deletes the same objects, so erasure and retention run anywhere.

Configured by `VIGIE_MEDIA_URL=s3://bucket/prefix` and the `VIGIE_S3_*` settings (endpoint,
region, keys; boto3's own chain when the keys are unset). Objects are named
`<prefix>/<session>/<kind>-<uuid>` (photos, environment recordings) and
`<prefix>/live/<session>/<segment>` (live segments, uploaded by `keep_live_segment` once the
recorder has finished them on the node's disk); the reference the log records is the key
without the prefix, as the folder adapter names its files.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import UUID, uuid4

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from app.ports.media_capture import MediaNotKept, MediaTooLarge, MediaUnavailable, StoredMedia

MAX_MEDIA_BYTES = 512 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}
# A stalled object store must not hold a web request for minutes: a few seconds to connect,
# boto3's standard retries (throttling, 5xx), then MediaNotKept / MediaUnavailable.
_CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"max_attempts": 3, "mode": "standard"},
    s3={"addressing_style": "path"},
)


class BadMediaUrl(ValueError):
    """VIGIE_MEDIA_URL is not `s3://bucket` or `s3://bucket/prefix`."""


def parse_media_url(url: str) -> tuple[str, str]:
    """The bucket and the key prefix (empty or ending with '/') of an `s3://` media URL."""
    parsed = urlparse(url)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise BadMediaUrl(f"VIGIE_MEDIA_URL: {url!r} is not s3://bucket/prefix")
    prefix = parsed.path.strip("/")
    return parsed.netloc, f"{prefix}/" if prefix else ""


def _missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in _MISSING


class S3Media:
    """`MediaCapture` on one bucket (and key prefix) of an S3-compatible store."""

    LIVE_FOLDER = "live"

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket, self.prefix = parse_media_url(url)
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or "us-east-1",
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=_CLIENT_CONFIG,
        )

    def _key(self, media_id: str) -> str:
        if not media_id or media_id.startswith("/") or ".." in media_id.split("/"):
            raise KeyError(media_id)  # never a key outside this store's prefix
        return self.prefix + media_id

    def store(self, session_id: UUID, kind: str, data: bytes) -> StoredMedia:
        if len(data) > MAX_MEDIA_BYTES:
            raise MediaTooLarge(f"{kind}: {len(data)} bytes is over {MAX_MEDIA_BYTES}")
        digest = hashlib.sha256(data).hexdigest()
        # A fresh name per call: deleting a media a refused command left behind never
        # removes an accepted one with the same bytes. A PUT is atomic: all or nothing.
        stored = StoredMedia(f"{session_id}/{kind}-{uuid4().hex}", f"sha256:{digest}", len(data))
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(stored.media_id), Body=data)
        except (BotoCoreError, ClientError) as error:
            raise MediaNotKept(f"{kind} for session {session_id}: {error}") from error
        return stored

    def _get(self, media_id: str, **extra: str) -> bytes:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(media_id), **extra)
            body: bytes = answer["Body"].read()
        except ClientError as error:
            if _missing(error):
                raise KeyError(media_id) from None
            raise MediaUnavailable(f"{media_id}: {error}") from error
        except BotoCoreError as error:
            raise MediaUnavailable(f"{media_id}: {error}") from error
        return body

    def load(self, media_id: str) -> bytes:
        return self._get(media_id)

    def size(self, media_id: str) -> int:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(media_id))
        except ClientError as error:
            if _missing(error):
                raise KeyError(media_id) from None
            raise MediaUnavailable(f"{media_id}: {error}") from error
        except BotoCoreError as error:
            raise MediaUnavailable(f"{media_id}: {error}") from error
        return int(head["ContentLength"])

    def load_range(self, media_id: str, start: int, stop: int) -> bytes:
        if stop <= start:
            self.size(media_id)  # still a KeyError for an unknown media
            return b""
        try:
            return self._get(media_id, Range=f"bytes={start}-{stop - 1}")
        except MediaUnavailable as error:
            # A range wholly past the end is 416 from S3: nothing there to read.
            cause = error.__cause__
            if isinstance(cause, ClientError) and "InvalidRange" in str(cause):
                return b""
            raise

    def session_media(self, session_id: UUID) -> list[str]:
        found: list[str] = []
        pages = self.client.get_paginator("list_objects_v2")
        try:
            for folder in (f"{session_id}/", f"{self.LIVE_FOLDER}/{session_id}/"):
                for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix + folder):
                    found += [o["Key"][len(self.prefix) :] for o in page.get("Contents", [])]
        except (BotoCoreError, ClientError) as error:
            raise MediaUnavailable(f"session {session_id}: {error}") from error
        return sorted(found)

    def delete(self, media_id: str) -> bool:
        """S3's DELETE answers the same whether the object was there or not: a HEAD first says
        which, so the log records what was deleted and what was not found."""
        try:
            self.size(media_id)
        except KeyError:
            return False
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(media_id))
        except (BotoCoreError, ClientError) as error:
            raise MediaUnavailable(f"{media_id}: {error}") from error
        return True

    def live_segment(self, segment_media_id: str) -> str:
        return f"{self.LIVE_FOLDER}/{segment_media_id}"

    def keep_live_segment(self, segment_media_id: str, path: Path) -> None:
        """Uploaded from the node's disk (multipart for a long segment), then the file goes."""
        try:
            self.client.upload_file(
                str(path), self.bucket, self._key(self.live_segment(segment_media_id))
            )
        except (BotoCoreError, ClientError) as error:
            raise MediaNotKept(f"live segment {segment_media_id}: {error}") from error
        path.unlink(missing_ok=True)

    def reachable(self) -> bool:
        """Whether the bucket answers (for a readiness check)."""
        return self.problem() is None

    def problem(self) -> str | None:
        """What is wrong with the bucket, in a sentence naming the setting to check (None:
        it answers). « the bucket revb-medai does not answer » for a bucket that does not
        exist sent an operator looking at the network (an operator's review)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                return f"no bucket {self.bucket} there: check the bucket in VIGIE_MEDIA_URL"
            if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return (
                    f"the bucket {self.bucket} refuses these keys ({code}): check "
                    "VIGIE_S3_ACCESS_KEY_ID and VIGIE_S3_SECRET_ACCESS_KEY"
                )
            return f"the bucket {self.bucket} answered {code or error}"
        except BotoCoreError as error:
            return f"the S3 server does not answer ({error}): check VIGIE_S3_ENDPOINT_URL"
        return None
