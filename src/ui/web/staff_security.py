"""A member of staff's own security page (issue 14): their password, and the optional second
factor (TOTP, RFC 6238) — shown as a secret and an otpauth:// QR code, enabled by a first
code, disabled only with a current one. Changing the password ends every session of theirs
(this one too: they log in again with the new password).

Below, what the log says happened to them: her own password changes, and an administrator's
resets, named as such (« Mot de passe réinitialisé par l'administration (alice) »): a reset
read as her own change, and she could not tell that someone else had set her password.

Every password or code this page checks is counted first, as a log-in's is
(app.login_throttle): ten wrong ones within fifteen minutes, whichever forms, and the page
checks nothing more for that member until the oldest ages out. Without it, whoever sat at a
session left open could try passwords (or codes, to switch the second factor off) for as long
as they liked, unseen by the log-in's counts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
import segno
from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from app.login_throttle import Attempt
from app.passwords import MIN_LENGTH
from app.second_factor import provisioning_uri
from app.use_cases import accounts
from app.use_cases.accounts import SecurityFactKind
from domain.staff import Role, StaffMember
from ui.web.edge import (
    ADDRESS_REFUSED,
    THROTTLED_RETRY_AFTER,
    context,
    kept_bound,
    language_of,
    platform_of,
    second_factors_of,
    staff_guard,
    staff_id,
    throttle_of,
    too_many_attempts,
)
from ui.web.i18n import N_, gettext_for
from ui.web.refusals import password_refusal


class CodeForm(msgspec.Struct):
    code: str = ""


class CurrentPassword(msgspec.Struct):
    # Checked by the handler, said beside its field (a megabyte is refused at the edge).
    current: Annotated[str, kept_bound("password")] = ""


class PasswordChange(msgspec.Struct):
    # Checked by the handler, said beside its field (a megabyte is refused at the edge).
    current: Annotated[str, kept_bound("password")] = ""
    password: Annotated[str, kept_bound("password")] = ""


FORM = Body(media_type=RequestEncodingType.URL_ENCODED)

# F8: the session's mark that its member gave their password to set up a second factor, and
# how long the first code may then wait (scanning and typing it takes a minute or two).
SETUP_SINCE = "second_factor_setup_since"
SETUP_WAIT = timedelta(minutes=10)


def _set_up_in_time(request: Request[Any, Any, Any]) -> bool:
    """Whether this session gave the member's password for the set-up, within SETUP_WAIT."""
    since = request.session.get(SETUP_SINCE)
    if not since:
        return False
    try:
        at = datetime.fromisoformat(str(since))
    except ValueError:
        return False
    return platform_of(request).ctx.clock.now() - at <= SETUP_WAIT


# A fact of the member's account in her words; `who` is the administrator as the log names
# them (the name they gave, or the machine's account they acted as).
HISTORY_WORDS = {
    SecurityFactKind.OWN_PASSWORD: N_("You changed your password"),
    SecurityFactKind.FIRST_PASSWORD: N_("Password given with your account"),
    SecurityFactKind.PASSWORD_RESET: N_("Password reset by the administration (%(who)s)"),
    SecurityFactKind.PASSWORD_UNRECORDED: N_(
        "Password changed, by you or reset by the administration (the log of that time does "
        "not say which)"
    ),
    SecurityFactKind.SECOND_FACTOR_RESET: N_(
        "Second factor removed by the administration (%(who)s)"
    ),
    SecurityFactKind.SECOND_FACTOR_ON: N_("You turned the second factor on"),
    SecurityFactKind.SECOND_FACTOR_OFF: N_("You turned the second factor off"),
}


# This page's checks, one count per member (app.login_throttle: ten failures in fifteen minutes).
AREA = "staff-security"


def _counted(
    request: Request[Any, Any, Any], *, beside: str = "error", secret: str = ""
) -> Attempt | Template:
    """A password or code about to be checked, counted as a failure unless `succeeded`; or,
    nothing checked nor counted, the page again with 429 and the words `beside` the form sent
    (the name of its error field; the secret being set up shown again): past the per-address
    limit (app._rate_limited: a minute), or past this page's own count (fifteen minutes)."""
    _ = gettext_for(language_of(request))
    limited = request.scope.get(ADDRESS_REFUSED)
    if isinstance(limited, dict):
        words, wait = too_many_attempts(language_of(request)), limited
    else:
        attempt = throttle_of(request).code_attempt(str(staff_id(request)), AREA)
        if attempt is not None:
            return attempt
        words = _(
            "Too many wrong passwords or codes on this page. Wait 15 minutes, then try again; "
            "if it was not you, tell the platform's administrator."
        )
        wait = THROTTLED_RETRY_AFTER
    page = _page(request, status=429, secret=secret, **{beside: words})
    page.headers.update(wait)
    return page


def _already(request: Request[Any, Any, Any], *, on: bool) -> Template:
    """The second factor was switched on or off since this tab showed the page (in another
    tab or window, or by an administrator): said, nothing checked nor counted. A stale tab
    sending a right code to switch off a factor already off read « This code is not right »,
    a wrong code counted against her (a user's tour with the page in two tabs)."""
    _ = gettext_for(language_of(request))
    if on:
        note = _(
            "The second factor was already on: nothing changed. It may have been set up "
            "in another tab or window."
        )
    else:
        note = _(
            "The second factor was already off: nothing changed. It may have been turned off "
            "in another tab or window, or by the administration."
        )
    return _page(request, note=note)


def _page(
    request: Request[Any, Any, Any],
    *,
    secret: str = "",
    error: str = "",
    done: str = "",
    note: str = "",
    status: int = 200,
    current_error: str = "",
    password_error: str = "",
    setup_error: str = "",
) -> Template:
    member = staff_id(request)
    enabled = second_factors_of(request).enabled(member)
    staff = platform_of(request).ctx.store.get(member, StaffMember)
    _ = gettext_for(language_of(request))
    history = [
        (fact.at, _(HISTORY_WORDS[fact.kind], who=fact.operator))
        for fact in accounts.staff_security_history(platform_of(request).ctx, member)
    ]
    qr = ""
    if secret:
        qr = segno.make(provisioning_uri(secret, staff.email), micro=False).svg_data_uri(scale=4)
    return Template(
        "staff_security.html",
        context=context(
            request,
            enabled=enabled,
            secret=secret,
            qr=qr,
            error=error,
            done=done,
            note=note,
            min_length=MIN_LENGTH,
            # The password form's refusals, each beside its field.
            current_error=current_error,
            password_error=password_error,
            setup_error=setup_error,
            # Issue 16: a member linked to the organisation's provider signs in there (its
            # MFA applies); with no Vigie password, the password and code forms are not theirs.
            through_provider=bool(staff.identities),
            has_password=bool(staff.password_hash),
            history=history,
        ),
        status_code=status,
    )


PAGE_PATH = "/staff/security"


class StaffSecurity(Controller):
    """/staff/security, for every member of staff."""

    path = PAGE_PATH
    guards = [staff_guard(*Role)]

    @get("", sync_to_thread=True)
    def page(self, request: Request[Any, Any, Any]) -> Template:
        return _page(request)

    @post("/second-factor", sync_to_thread=True)
    def begin(
        self, request: Request[Any, Any, Any], data: Annotated[CurrentPassword, FORM]
    ) -> Template:
        """A secret to scan, kept unconfirmed until the first code; only after the member's
        current password (F8: anyone at a session left open could bind their own app, and
        the real member would then be asked for codes only that app gives)."""
        member = staff_id(request)
        factors = second_factors_of(request)
        if factors.enabled(member):
            return _already(request, on=True)
        attempt = _counted(request, beside="setup_error")
        if isinstance(attempt, Template):
            return attempt
        ctx = platform_of(request).ctx
        if not accounts.staff_password_matches(ctx, member, data.current):
            _ = gettext_for(language_of(request))
            wrong = _("Your current password is not this one.")
            return _page(request, setup_error=wrong, status=400)
        throttle_of(request).succeeded(attempt)
        request.session[SETUP_SINCE] = ctx.clock.now().isoformat()
        return _page(request, secret=factors.begin(member))

    @post("/second-factor/confirm", sync_to_thread=True)
    def confirm(self, request: Request[Any, Any, Any], data: Annotated[CodeForm, FORM]) -> Template:
        member = staff_id(request)
        factors = second_factors_of(request)
        _ = gettext_for(language_of(request))
        if factors.enabled(member):
            request.session.pop(SETUP_SINCE, None)
            return _already(request, on=True)
        if not _set_up_in_time(request):
            # The password was not given in this session, or too long ago (F8).
            again = _(
                "Type your current password again to set up the second factor: it is asked "
                "each time, and the first code must follow within 10 minutes."
            )
            return _page(request, setup_error=again, status=400)
        attempt = _counted(request, secret=factors.pending(member) or "")
        if isinstance(attempt, Template):
            return attempt
        if factors.confirm(member, data.code):
            throttle_of(request).succeeded(attempt)
            accounts.record_second_factor_turned_on(platform_of(request).ctx, member)
            request.session.pop(SETUP_SINCE, None)
            return _page(request, done=_("The second factor is on: log-in now asks for a code."))
        return _page(
            request,
            # The secret being set up, shown again; never a new one (that needs the password).
            secret=factors.pending(member) or "",
            error=_("This code is not right. Type the 6 digits your app shows now."),
            status=400,
        )

    @post("/second-factor/disable", sync_to_thread=True)
    def disable(self, request: Request[Any, Any, Any], data: Annotated[CodeForm, FORM]) -> Template:
        member: UUID = staff_id(request)
        _ = gettext_for(language_of(request))
        factors = second_factors_of(request)
        if not factors.enabled(member):
            return _already(request, on=False)
        attempt = _counted(request)
        if isinstance(attempt, Template):
            return attempt
        if factors.check(member, data.code):
            throttle_of(request).succeeded(attempt)
            # Recorded before it is removed, as an administrator's reset is: removed and not
            # recorded (a database gone between the two), nobody would ever read it.
            accounts.record_second_factor_turned_off(platform_of(request).ctx, member)
            factors.reset(member)
            return _page(
                request, done=_("The second factor is off: log-in asks for the password only.")
            )
        return _page(
            request,
            error=_(
                "This code is not right, or was already used: a code opens once, so if you just "
                "used it, wait for the next one your app shows (within 30 seconds)."
            ),
            status=400,
        )

    @post("/password", sync_to_thread=True)
    def change_password(
        self, request: Request[Any, Any, Any], data: Annotated[PasswordChange, FORM]
    ) -> Template:
        """Every session of the member ends, this one included: log in again."""
        member = staff_id(request)
        _ = gettext_for(language_of(request))
        language = language_of(request)
        refused = password_refusal(language, data.password)
        if refused:
            return _page(request, password_error=refused, status=400)
        attempt = _counted(request, beside="current_error")
        if isinstance(attempt, Template):
            return attempt
        ctx = platform_of(request).ctx
        if not accounts.change_staff_password(ctx, member, current=data.current, new=data.password):
            wrong = _("Your current password is not this one.")
            return _page(request, current_error=wrong, status=400)
        throttle_of(request).succeeded(attempt)
        request.set_session({"lang": language})
        notice = _("Your password was changed and every session of yours ended. Log in again.")
        # Back to this page once logged in again, as a tab whose session ended comes back.
        page = context(request, error="", notice=notice, back_to=PAGE_PATH)
        return Template("staff_login.html", context=page)


ROUTES = [StaffSecurity]
