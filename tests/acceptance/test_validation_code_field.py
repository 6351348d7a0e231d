"""R18: the field the candidate types the validation code into is bounded by the code it
asks for (a user's tour: it had no `maxlength`); the code typed with a space either side is
still taken."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from adapters.bootstrap import Platform
from app.use_cases import portal
from domain.exam_attempt import AttemptStatus, ExamAttempt
from tests.acceptance.test_mail_language_and_portal_words import PASSWORD, client_of
from tests.acceptance.web import form_token, log_in
from ui.journey import Journey, make_platform


@pytest.fixture
def platform() -> Iterator[Platform]:
    platform = make_platform()
    yield platform
    platform.close()


def test_the_code_field_holds_the_code_and_no_more_r18(platform: Platform) -> None:
    journey = Journey(platform, email="code@example.org")
    journey.enrol()
    journey.set_password(PASSWORD)
    journey.create_session()
    journey.through_checks()
    client = client_of(platform)
    try:
        log_in(client, "/login", "code@example.org", PASSWORD)
        journey.start_exam()
        assert journey.attempt_id is not None
        portal.finish_exam(platform.ctx, journey.attempt_id)
        code = platform.ctx.store.get(journey.attempt_id, ExamAttempt).validation_code
        assert code is not None and len(code) == 4
        page = f"/portal/{journey.attempt_id}"
        field = re.search(r'<input id="code" name="code"[^>]*>', client.get(page).text)
        assert field is not None
        assert f'maxlength="{len(code) + 2}"' in field.group(0)
        sent = client.post(
            f"{page}/validate", data={"_csrf_token": form_token(client, page), "code": f" {code} "}
        )
        assert sent.status_code == 200
        attempt = platform.ctx.store.get(journey.attempt_id, ExamAttempt)
        assert attempt.status is AttemptStatus.VALIDATED
    finally:
        client.__exit__(None, None, None)
