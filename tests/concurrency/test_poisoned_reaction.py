"""Issue 12, policies survive a bad event, on the served platform: the two workers meet a
reaction that cannot succeed (a welcome mail for an exam session whose candidate is not in the
log); it is parked once, and the candidates enrolled after it get their invitations. (A
candidate erased meanwhile is no such case any longer: her session is refused, and a mail to
her is settled unsent, never parked.)"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from domain.enrollment import Enrollment
from domain.parked_reaction import ParkedReaction
from domain.rules import CURRENT_RULES
from tests.concurrency.served import Served
from ui.serve import CENTRE_EMAIL, SUPPORT_EMAIL

LATER = ("lou.durand@example.org", "sam.petit@example.org")


def test_a_poisoned_reaction_is_parked_once_and_the_next_candidates_mails_are_sent(
    served: Served,
) -> None:
    platform = served.platform(served.now() - timedelta(minutes=5))
    try:
        # An enrolment naming a candidate the log does not hold (bypassing the use cases), and
        # its exam session: the welcome mail cannot be decided.
        at = platform.ctx.now()
        certification = platform.ctx.catalogue.get("ENI-ACCESS")
        enrollment = Enrollment.enrol(
            enrollment_id=uuid4(),
            centre_id=uuid4(),
            candidate_id=uuid4(),
            certification_code=certification.code,
            exam_duration_minutes=certification.duration_minutes,
            rules=CURRENT_RULES,
            at=at,
        )
        enrollment.create_exam_session(exam_session_id=uuid4(), at=at)
        platform.ctx.store.save(enrollment)
    finally:
        platform.close()
    centre = served.staff_client(CENTRE_EMAIL)  # already open: closed below
    try:
        for email in LATER:
            reply = served.post_form(
                centre,
                "/operator/enrol",
                {
                    "email": email,
                    "surname": "Durand",
                    "first_name": "Lou",
                    "certification_code": "ENI-ACCESS",
                    "language": "fr",
                },
                token_from="/operator",
            )
            assert reply.status_code in (302, 303), reply.text
        served.wait_until_sent(len(served.capture.deliveries()) + len(LATER), timeout=60)
    finally:
        centre.close()
    # Parked reactions may name any centre's candidate: the hotline's page lists them (issue 14).
    hotline = served.staff_client(SUPPORT_EMAIL)
    try:
        page = hotline.get("/operator").text
    finally:
        hotline.close()
    received = [str(m["To"]) for m in served.capture.messages()]
    assert all(received.count(email) == 1 for email in LATER), received
    store = served.store()
    try:
        parked = [
            r.event
            for r in store.read(0, store.head())
            if isinstance(r.event, ParkedReaction.ReactionParked)
        ]
    finally:
        store.close()
    assert [(p.policy, p.event_type) for p in parked] == [
        ("mail-decisions", "Enrollment.ExamSessionCreated")
    ]
    assert f"/operator/parked/{parked[0].originator_id}/retry" in page
    assert "parked its reaction" in served.output()
