"""An exam launcher on libvirt: one virtual machine (a libvirt domain) per attempt.

Each attempt gets a domain named `{name_prefix}{attempt_id}`, defined from a domain XML
template (`{name}` and `{uuid}` are substituted) and started; the workspace's URL opens the
machine's VNC screen through noVNC. Teardown destroys and undefines the domain. Only domains
whose name starts with the prefix are ever touched: a ref naming any other domain is not
alive to `heartbeat` and left alone by `teardown`.

Operator set-up (also in docs/libvirt.md)
-----------------------------------------
1. libvirt-python builds against the system's libvirt:
   `apt-get install -y libvirt-dev pkg-config` then `pip install libvirt-python`;
   for real machines also `apt-get install -y libvirt-daemon-system qemu-system-x86`, and
   add the account running the Vigie worker to the `libvirt` group.
2. Point the launcher at the system hypervisor: `LibvirtLauncher(uri="qemu:///system",
   template_xml=Path("/etc/vigie/exam-vm.xml"), token_dir=Path("/var/lib/vigie/vnc-tokens"))`.
   Start from `templates/exam-vm.xml` (next to this module) and add the exam's disk. Give
   each attempt its own throw-away overlay on a shared base image with
   `<transient shareBacking='yes'/>` inside the `<disk>` element (libvirt ≥ 7.4), so that
   no candidate ever sees another's changes; use `<domain type='qemu'>` on a host without
   /dev/kvm.
3. The console: `apt-get install -y novnc` and `pip install websockify`, then
   `websockify --web /usr/share/novnc --token-plugin TokenFile
   --token-source /var/lib/vigie/vnc-tokens 127.0.0.1:6080` (behind the site's TLS proxy).
   With `token_dir` set, the launcher writes one `<name>: 127.0.0.1:<vnc port>` file per
   running workspace there and removes it at teardown; the workspace URL is
   `{console_base_url}?path=websockify%3Ftoken%3D<name>&autoconnect=true` (noVNC ≥ 1.0
   takes websockify's token inside `path`).

The libvirt module is imported on first use, so importing this module never needs it;
without it every call raises WorkspaceFailed saying how to install it. libvirt's default
error handler (which prints every error to stderr) is replaced by a silent one: errors
arrive as exceptions, whose messages end up in WorkspaceFailed.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from uuid import UUID
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from app.ports.exam_launcher import Workspace, WorkspaceFailed, WorkspaceTimeout

DEFAULT_TEMPLATE = Path(__file__).parent / "templates" / "exam-vm.xml"
INSTALL_HINT = (
    "the libvirt launcher needs the libvirt-python package: "
    "`apt-get install -y libvirt-dev pkg-config` then `pip install libvirt-python`"
)


def _libvirt() -> Any:
    """The libvirt module, imported on first use (WorkspaceFailed when it is missing)."""
    try:
        import libvirt
    except ImportError as exc:
        raise WorkspaceFailed(INSTALL_HINT) from exc
    if not getattr(libvirt, "_vigie_quiet", False):
        libvirt.registerErrorHandler(lambda _context, _error: None, None)
        libvirt._vigie_quiet = True
    return libvirt


def _read_template(template_xml: str | Path) -> str:
    """A Path (or a string not starting with `<`) names a file; otherwise it is the XML."""
    if isinstance(template_xml, str) and template_xml.lstrip().startswith("<"):
        return template_xml
    return Path(template_xml).read_text(encoding="utf-8")


class LibvirtLauncher:
    """Workspaces as libvirt domains on `uri` (see the module's documentation)."""

    def __init__(
        self,
        uri: str = "qemu:///system",
        template_xml: str | Path = DEFAULT_TEMPLATE,
        console_base_url: str = "http://127.0.0.1:6080/vnc.html",
        name_prefix: str = "vigie-exam-",
        *,
        token_dir: Path | None = None,
        poll_interval_s: float = 0.1,
    ) -> None:
        if not name_prefix:
            raise ValueError("name_prefix must not be empty: it keeps other domains safe")
        self.uri = uri
        self.template = _read_template(template_xml)
        if "{name}" not in self.template:
            raise ValueError("the domain template has no {name} placeholder")
        self.console_base_url = console_base_url
        self.name_prefix = name_prefix
        self.token_dir = token_dir
        self.poll_interval_s = poll_interval_s
        self._connection: Any = None
        self._lock = threading.Lock()

    # --- the port ------------------------------------------------------------------------

    def provision(self, attempt_id: UUID, timeout_s: float = 120.0) -> Workspace:
        libvirt = _libvirt()
        name = self.name_for(attempt_id)
        deadline = time.monotonic() + timeout_s
        try:
            domain, started = self._find_or_start(name)
        except libvirt.libvirtError as exc:
            raise WorkspaceFailed(f"workspace {name} could not start: {exc}") from exc
        try:
            self._wait_until_running(domain, name, deadline, timeout_s)
            port, listen = self._vnc_address(domain)
        except (WorkspaceFailed, libvirt.libvirtError) as exc:
            if started:
                try:
                    self._discard(name)
                except libvirt.libvirtError as cleanup:
                    exc.add_note(f"and it could not be torn down: {cleanup}")
            if isinstance(exc, WorkspaceFailed):
                raise
            raise WorkspaceFailed(f"workspace {name} could not start: {exc}") from exc
        if port is not None:
            self._write_token(name, listen, port)
        return Workspace(ref=name, url=self.console_url(name))

    def heartbeat(self, ref: str) -> bool:
        if not self._ours(ref):
            return False
        libvirt = _libvirt()
        try:
            with self._lock:
                connection = self._open()
            state = connection.lookupByName(ref).state()[0]
        except libvirt.libvirtError:
            return False
        return bool(state == libvirt.VIR_DOMAIN_RUNNING)

    def owns(self, ref: str) -> bool:
        """Every machine of this prefix on the hypervisor, whichever process started it."""
        return self._ours(ref)

    def silent(self, refs: Collection[str]) -> frozenset[str]:
        return frozenset(r for r in refs if self._ours(r) and not self.heartbeat(r))

    def teardown(self, ref: str) -> None:
        if not self._ours(ref):
            return
        libvirt = _libvirt()
        try:
            self._discard(ref)
        except libvirt.libvirtError as exc:
            raise WorkspaceFailed(f"workspace {ref} could not be torn down: {exc}") from exc

    # --- helpers -------------------------------------------------------------------------

    def name_for(self, attempt_id: UUID) -> str:
        """The domain name of an attempt's workspace."""
        return f"{self.name_prefix}{attempt_id}"

    def console_url(self, name: str) -> str:
        """The noVNC page showing the workspace's screen (websockify's token is its name).

        Unlike the built-in exam tab (ui.web.workspace, sec-findings F6), this address is not
        tied to the candidate's Vigie session: websockify and noVNC run apart from the
        platform (another port or host, behind the site's proxy) and never see its session
        cookie, so whoever holds the address reaches the console. Binding it to her browser
        is the console proxy's job (an authenticating proxy in front of websockify), or the
        machine's own log-in; the token is also the domain's name, not a secret."""
        query = urlencode({"path": f"websockify?token={name}", "autoconnect": "true"})
        separator = "&" if "?" in self.console_base_url else "?"
        return f"{self.console_base_url}{separator}{query}"

    def domain_xml(self, name: str) -> str:
        """The template with this workspace's name and a fresh UUID."""
        return self.template.replace("{name}", escape(name)).replace("{uuid}", str(uuid.uuid4()))

    def close(self) -> None:
        """Closes the connection (the next call opens a new one)."""
        libvirt = _libvirt()
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is not None:
                with contextlib.suppress(libvirt.libvirtError):  # already closed or dead
                    connection.close()

    def _ours(self, ref: str) -> bool:
        return ref.startswith(self.name_prefix) and len(ref) > len(self.name_prefix)

    def _open(self) -> Any:
        """The live connection, opened (again) when there is none or it died. Lock held."""
        libvirt = _libvirt()
        if self._connection is not None:
            try:
                if self._connection.isAlive():
                    return self._connection
            except libvirt.libvirtError:
                pass  # closed underneath us: open a new one
            self._connection = None
        self._connection = libvirt.open(self.uri)
        return self._connection

    def _find_or_start(self, name: str) -> tuple[Any, bool]:
        """The attempt's domain, defined and started when missing; and whether this call
        started it (and so must destroy it on failure)."""
        libvirt = _libvirt()
        with self._lock:
            connection = self._open()
            try:
                domain = connection.lookupByName(name)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
            else:
                state = domain.state()[0]
                if state == libvirt.VIR_DOMAIN_PAUSED:
                    domain.resume()
                elif not domain.isActive():
                    domain.create()
                    return domain, True
                return domain, False
            domain = connection.defineXML(self.domain_xml(name))
            try:
                domain.create()
            except libvirt.libvirtError:
                self._destroy_and_undefine(domain)
                raise
            return domain, True

    def _wait_until_running(
        self, domain: Any, name: str, deadline: float, timeout_s: float
    ) -> None:
        libvirt = _libvirt()
        while True:
            state = domain.state()[0]
            if state == libvirt.VIR_DOMAIN_RUNNING:
                return
            if state in (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_CRASHED):
                raise WorkspaceFailed(f"workspace {name} stopped while starting (state {state})")
            now = time.monotonic()
            if now >= deadline:
                raise WorkspaceTimeout(f"workspace {name} was not running after {timeout_s:g}s")
            time.sleep(min(self.poll_interval_s, deadline - now))

    def _vnc_address(self, domain: Any) -> tuple[int | None, str]:
        """The running domain's VNC port (None when it has none yet) and listen address."""
        graphics = ElementTree.fromstring(domain.XMLDesc(0)).find("devices/graphics[@type='vnc']")
        if graphics is None:
            return None, "127.0.0.1"
        port = int(graphics.get("port", "-1"))
        listen = graphics.get("listen") or "127.0.0.1"
        if listen in ("0.0.0.0", "::"):
            listen = "127.0.0.1"
        return (port if port > 0 else None), listen

    def _discard(self, name: str) -> None:
        """Destroys and undefines the domain if it exists, and forgets its console token."""
        libvirt = _libvirt()
        with self._lock:
            try:
                domain = self._open().lookupByName(name)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise
            else:
                self._destroy_and_undefine(domain)
        self._remove_token(name)

    @staticmethod
    def _destroy_and_undefine(domain: Any) -> None:
        libvirt = _libvirt()
        gone = (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID)
        try:
            if domain.isActive():
                domain.destroy()
        except libvirt.libvirtError as exc:
            if exc.get_error_code() not in gone:  # stopped or vanished meanwhile
                raise
        flags = (
            libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            | libvirt.VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
            | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
        )
        try:
            try:
                domain.undefineFlags(flags)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_INVALID_ARG:
                    raise
                domain.undefine()  # a driver without those flags (the test driver)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                raise

    def _write_token(self, name: str, listen: str, port: int) -> None:
        if self.token_dir is None:
            return
        self.token_dir.mkdir(parents=True, exist_ok=True)
        partial = self.token_dir / f".{name}.partial"
        partial.write_text(f"{name}: {listen}:{port}\n", encoding="utf-8")
        os.replace(partial, self.token_dir / name)

    def _remove_token(self, name: str) -> None:
        if self.token_dir is not None:
            (self.token_dir / name).unlink(missing_ok=True)
