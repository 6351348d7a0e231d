"""Issue 12, policies survive a bad event, on the served platform: the two workers meet a
reaction that cannot succeed (a welcome mail for a candidate erased meanwhile); it is parked
once, and the candidates enrolled after it get their invitations."""

from __future__ import annotations

from datetime import timedelta

from app.privacy import erase_candidate
from app.use_cases import enrolment
from domain.parked_reaction import ParkedReaction
from tests.concurrency.served import Served
from ui.journey import Journey
from ui.serve import CENTRE_EMAIL, SUPPORT_EMAIL

LATER = ("lou.durand@example.org", "sam.petit@example.org")


def test_a_poisoned_reaction_is_parked_once_and_the_next_candidates_mails_are_sent(
    served: Served,
) -> None:
    platform = served.platform(served.now() - timedelta(minutes=5))
    try:
        journey = Journey(platform, email="forgotten@example.org")
        journey.enrol()
        assert journey.enrollment_id is not None and journey.candidate_id is not None
        erase_candidate(
            platform.ctx, platform.keys, platform.projections, journey.candidate_id, reason="x"
        )
        # The welcome mail of this session cannot be decided: its candidate is erased.
        enrolment.create_exam_session(platform.ctx, journey.enrollment_id)
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
