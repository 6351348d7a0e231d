"""R18: the field the candidate types the validation code into is bounded by the code it
asks for (a user's tour: it had no `maxlength`); the code typed with a space either side is
still taken."""

from __future__ import annotations

import re

from adapters.bootstrap import Platform
from app.use_cases import portal
from domain.exam_attempt import AttemptStatus, ExamAttempt
from tests.acceptance.web import Browsers, candidate, form_token


def test_the_code_field_holds_the_code_and_no_more_r18(
    platform: Platform, browser: Browsers
) -> None:
    journey = candidate(platform, "code@example.org")
    journey.through_checks()
    client = browser.open(journey)
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
