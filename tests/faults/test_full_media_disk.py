"""Issue 14, recovery: the media folder of a real `vigie serve` is a small tmpfs, filled up.
A candidate's photo then gets a clear page in French that asks to try again (not an
unhandled JSON 500), the failure is logged, nothing else is lost (another candidate's answers
are stored meanwhile, the photo is taken once there is room again)."""

from __future__ import annotations

import contextlib
import errno
from datetime import timedelta
from pathlib import Path

import pytest

from domain.exam_attempt import ExamAttempt
from domain.proctored_session import ProctoredSession
from tests.faults import prepared, tally
from tests.faults.conftest import SmallDisk
from ui.journey import FACE_PHOTO

pytestmark = [pytest.mark.faults, pytest.mark.postgres]


def fill(folder: Path) -> Path:
    """Write a file until the filesystem is full; returns it (delete it to make room)."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:  # unbuffered: nothing left to flush
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as full:
            assert full.errno == errno.ENOSPC, full
    return filler


def test_a_full_media_disk_gives_the_candidate_a_clear_page_and_loses_nothing_else(
    small_disk_server: SmallDisk,
) -> None:
    served, media = small_disk_server.served, small_disk_server.media
    platform = served.platform(served.now() - timedelta(minutes=5))
    try:
        photographed = prepared.at_the_photos(platform, "photo@example.org")
    finally:
        platform.close()
    [answering] = prepared.in_exam(served, ["reponses@example.org"])
    assert answering.attempt_id is not None
    filler = fill(media)

    with (
        served.client() as candidate,
        served.client() as other,
        contextlib.ExitStack() as cleanup,
    ):
        cleanup.callback(filler.unlink, missing_ok=True)  # room again, whatever happens
        for client, who in ((candidate, photographed), (other, answering)):
            reply = served.post_form(
                client, "/login", {"email": who.email, "password": prepared.PASSWORD}
            )
            assert reply.status_code in (302, 303), reply.text
        photo_page = f"/exams/{photographed.session_id}"
        token = served.form_token(candidate, photo_page)
        refused = candidate.post(
            f"{photo_page}/do/face-photo",
            files={"photo": ("visage.jpg", FACE_PHOTO, "image/jpeg")},
            data={"_csrf_token": token},
        )
        # Another candidate's exam goes on meanwhile: each answer acknowledged is stored.
        question = answering.questions[0]
        answered = other.post(
            f"/api/attempts/{answering.attempt_id}/answers",
            json={"question_id": question, "answer": "pendant la panne"},
            headers={"x-csrftoken": other.cookies.get("vigie_csrf") or ""},
        )
        filler.unlink()  # room again: the candidate tries again
        token = served.form_token(candidate, photo_page)
        retried = candidate.post(
            f"{photo_page}/do/face-photo",
            files={"photo": ("visage.jpg", FACE_PHOTO, "image/jpeg")},
            data={"_csrf_token": token},
        )
    output = served.output()
    store = served.store()
    try:
        session = store.get(photographed.session_id, ProctoredSession)
        taken = [
            e
            for e in store.history(photographed.session_id)
            if type(e).__name__ == "FacePhotoTaken"
        ]
        stored_answer = store.get(answering.attempt_id, ExamAttempt).answers.get(question)
    finally:
        store.close()
    # Her session's folder: the demo's sent exam keeps its photos and recordings beside it.
    folder = media / str(photographed.session_id)
    kept = [p.read_bytes() for p in folder.rglob("*") if p.is_file()]
    print(
        f"\nfull media disk: the photo got {refused.status_code} "
        f"({refused.headers.get('content-type')}), another candidate's answer "
        f"{answered.status_code}, the photo again with room {retried.status_code}"
    )
    tally.count("full-disk uploads refused")
    tally.count("answers checked")
    # Nothing else lost: the other candidate's answer, the retried photo.
    assert answered.status_code == 201 and stored_answer == "pendant la panne"
    assert retried.status_code in (302, 303), retried.text[-2000:]
    # The refused photo recorded nothing; the one taken with room is recorded once, its file
    # on the disk.
    assert session.face_photo_taken and len(taken) == 1
    assert kept == [FACE_PHOTO]
    # It is logged, with the cause.
    assert "No space left on device" in output, output[-3000:]
    # What the candidate sees: a page (HTML, not JSON) in French that asks to try again, with
    # a button back to the step — a 503 (the platform could not keep it), not a 500 (a fault).
    # (The page is w/integrity's edge for a media store that could not write, issue 14.)
    assert refused.headers.get("content-type", "").startswith("text/html"), refused.text[:500]
    assert 'lang="fr"' in refused.text
    assert "essayez" in refused.text, refused.text[-2000:]
    assert refused.status_code == 503, refused.text[-2000:]
    assert f'href="{photo_page}" role="button">Réessayer</a>' in refused.text
