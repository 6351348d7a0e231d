"""Safe Exam Browser (issue 16, point 3): a certification may require its exam to be taken in
SEB, the lockdown browser of ETH Zürich. Vigie writes the certification's `.seb`
configuration, knows its Config Key, and checks the two hashes SEB sends with every request
of the exam tab (docs/seb.md).

SEB's documented algorithms (safeexambrowser.org/developer/seb-config-key.html and the
Browser Exam Key specification):

- the **Config Key** is the SHA-256, in lower-case hex, of the settings written as
  « SEB-JSON »: JSON without any whitespace or character escaping, every dictionary's keys
  sorted without regard to case, empty dictionaries left out, `originatorVersion` removed,
  `<data>` as Base64 and `<date>` as ISO 8601;
- with every request SEB sends `X-SafeExamBrowser-ConfigKeyHash`, the SHA-256 of the absolute
  URL (without its fragment) followed by the Config Key, and
  `X-SafeExamBrowser-RequestHash`, the same over the URL followed by the Browser Exam Key
  (which depends on the SEB build as well as on the settings: it cannot be computed here, so
  the accepted ones are listed per certification).

Pure functions over values: no clock, no I/O (plistlib only writes bytes in memory).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import plistlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

# The named rule a refusal cites (a reference for the curious: people read a sentence).
RULE = "SafeExamBrowserRequired"

CONFIG_KEY_HEADER = "x-safeexambrowser-configkeyhash"
REQUEST_HASH_HEADER = "x-safeexambrowser-requesthash"
# Metadata of the SEB version that saved a file: left out of the Config Key by SEB's rules.
ORIGINATOR_VERSION = "originatorVersion"


@dataclass(frozen=True)
class SafeExamBrowser:
    """A certification's requirement: its exam tab opens only in SEB with its settings.

    `browser_exam_keys` are the Browser Exam Keys accepted (each SEB build has its own; none
    listed: the Browser Exam Key is not checked, only the Config Key). `config_keys` are more
    Config Keys accepted beside the one of the configuration Vigie writes (a configuration an
    operator edited in SEB's own tool and handed out instead)."""

    browser_exam_keys: tuple[str, ...] = ()
    config_keys: tuple[str, ...] = ()
    quit_password_hash: str = ""


class SebRefusal(Enum):
    """Why a request was refused: each is a sentence on the refusal page."""

    NOT_SEB = "not-seb"  # no SEB header: another browser
    CONFIG_KEY = "config-key"  # SEB, but not with this certification's configuration
    BROWSER_EXAM_KEY = "browser-exam-key"  # SEB with the settings, but not an accepted build


def seb_json(value: Any) -> str:
    """One value in SEB-JSON (the Config Key's serialisation, see the module's docstring)."""
    match value:
        case bool():
            return "true" if value else "false"
        case int():
            return str(value)
        case float():
            return repr(value)
        case str():
            return f'"{value}"'  # SEB's rule: no escaping at all
        case bytes() | bytearray():
            return f'"{base64.b64encode(bytes(value)).decode("ascii")}"'
        case datetime():
            return f'"{value.isoformat()}"'
        case list() | tuple():
            return "[" + ",".join(seb_json(item) for item in value) + "]"
        case Mapping():
            kept = [key for key in value if not _empty_dictionary(value[key])]
            ordered = sorted(kept, key=lambda key: (str(key).lower(), str(key)))
            return "{" + ",".join(f'"{key}":{seb_json(value[key])}' for key in ordered) + "}"
    raise TypeError(f"no SEB-JSON form for {type(value).__name__}")


def _empty_dictionary(value: Any) -> bool:
    return isinstance(value, Mapping) and not value


def config_key(settings: Mapping[str, Any]) -> str:
    """The Config Key of a configuration (its settings as a dictionary)."""
    kept = {key: value for key, value in settings.items() if key != ORIGINATOR_VERSION}
    return hashlib.sha256(seb_json(kept).encode("utf-8")).hexdigest()


def config_key_of_file(content: bytes) -> str:
    """The Config Key of an unencrypted `.seb` file (a plist)."""
    settings = plistlib.loads(content)
    if not isinstance(settings, dict):
        raise ValueError("a .seb file holds a dictionary of settings")
    return config_key(settings)


def request_hash(url: str, key: str) -> str:
    """What SEB sends for `url` and a key: SHA-256 of the URL (fragment removed) and the key."""
    absolute = url.split("#", 1)[0]
    return hashlib.sha256((absolute + key).encode("utf-8")).hexdigest()


def exam_settings(
    start_url: str, requirement: SafeExamBrowser = SafeExamBrowser()
) -> dict[str, Any]:
    """The settings of a certification's `.seb` file: SEB opens the platform (the candidate
    logs in, passes the checks and opens the exam tab in it), sends the keys with every
    request, lets the proctoring page use the camera and microphone, and keeps the candidate
    away from other applications, screens and virtual machines."""
    settings: dict[str, Any] = {
        "startURL": start_url,
        "sebConfigPurpose": 0,  # starting an exam (not configuring a client)
        "sendBrowserExamKey": True,  # the two hash headers, with every request
        # The classic web view for the platform's own host, which sends the headers (SEB 3
        # for macOS/iOS); a page of another host may open in the modern one.
        "browserWindowWebView": 2,
        "browserMediaCaptureCamera": True,  # the proctoring page's camera and microphone
        "browserMediaCaptureMicrophone": True,
        "browserMediaAutoplay": True,
        "allowQuit": True,
        "quitURL": "",
        "allowPreferencesWindow": False,
        "allowSpellCheck": False,
        "allowDictionaryLookup": False,
        "allowDictation": False,
        "allowSiri": False,
        "allowScreenSharing": False,
        "allowDisplayMirroring": False,
        "allowedDisplaysMaxNumber": 1,
        "allowVirtualMachine": False,
        "allowSwitchToApplications": False,
        "allowDownUploads": False,
        "enablePrintScreen": False,
        "enablePrivateClipboard": True,
        "enableRightMouse": False,
        "enableJavaScript": True,
        "newBrowserWindowByLinkPolicy": 2,  # the exam tab opens in a new SEB window
        "newBrowserWindowByScriptPolicy": 2,
        "browserWindowAllowReload": True,
        "showReloadButton": True,
        "showTime": True,
        "showTaskBar": True,
        "URLFilterEnable": False,
    }
    # SEB mixes this salt into the Browser Exam Key: a fixed one (from the start URL, the same
    # on every node) keeps the key of a SEB build the same for every download of the file.
    settings["examKeySalt"] = hashlib.sha256(f"vigie-seb:{start_url}".encode()).digest()
    if requirement.quit_password_hash:
        settings["hashedQuitPassword"] = requirement.quit_password_hash
    return settings


def seb_file(settings: Mapping[str, Any]) -> bytes:
    """The `.seb` file of a configuration: an unencrypted XML property list."""
    return plistlib.dumps(dict(settings), fmt=plistlib.FMT_XML, sort_keys=True)


def _matches(sent: str, urls: Collection[str], keys: Collection[str]) -> bool:
    sent_bytes = sent.strip().lower().encode("ascii", "replace")
    return any(
        hmac.compare_digest(sent_bytes, request_hash(url, key).encode("ascii"))
        for url in urls
        for key in keys
    )


def refusal(
    requirement: SafeExamBrowser,
    own_config_key: str,
    urls: Collection[str],
    headers: Mapping[str, str],
) -> SebRefusal | None:
    """Why this request may not open the exam tab, or None when SEB sent the right hashes.

    `urls` are the request's absolute URL as the platform sees it and as the candidate's
    browser asked it (behind a proxy they may differ: either is SEB's if its hash matches)."""
    config_hash = headers.get(CONFIG_KEY_HEADER, "")
    browser_hash = headers.get(REQUEST_HASH_HEADER, "")
    if not config_hash and not browser_hash:
        return SebRefusal.NOT_SEB
    config_keys = (own_config_key, *requirement.config_keys)
    if not config_hash or not _matches(config_hash, urls, config_keys):
        return SebRefusal.CONFIG_KEY
    if requirement.browser_exam_keys and not (
        browser_hash and _matches(browser_hash, urls, requirement.browser_exam_keys)
    ):
        return SebRefusal.BROWSER_EXAM_KEY
    return None
