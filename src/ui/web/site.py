"""Pages every visitor reaches, logged in or not: the home link, the support page (R26) and
the icon browsers ask for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, get
from litestar.datastructures import CacheControlHeader
from litestar.response import File, Redirect, Template

from ui.web.edge import STAFF_HOME, context

ICON = Path(__file__).parent / "static" / "favicon.ico"


@get("/", sync_to_thread=False)
def home(request: Request[Any, Any, Any]) -> Redirect:
    if request.session.get("staff"):
        return Redirect(STAFF_HOME.get(request.session.get("role", ""), "/staff/login"))
    return Redirect("/exams" if request.session.get("candidate") else "/login")


@get("/support", sync_to_thread=False)
def support_page(request: Request[Any, Any, Any]) -> Template:
    """R26: the hotline's e-mail, phone and chat, in the reader's language."""
    return Template("support.html", context=context(request))


@get("/favicon.ico", sync_to_thread=False, cache_control=CacheControlHeader(max_age=86400))
def favicon() -> File:
    """Served from the package (never a CDN): every page asked for it and got a 404."""
    return File(ICON, media_type="image/x-icon", content_disposition_type="inline")


ROUTES = [home, support_page, favicon]
