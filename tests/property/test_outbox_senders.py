"""Issue 12: two outbox senders on one store, their steps interleaved in any order, with
crashes between claim and send: each mail decided is delivered once. The one exception is the
documented crash after the SMTP server accepted but before 'sent' was recorded: that mail is
delivered again, under the same Message-ID (the outbox id), and only then."""

from __future__ import annotations

import contextlib
from collections import Counter
from dataclasses import replace
from datetime import timedelta
from uuid import UUID, uuid4

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Platform
from adapters.clock import ManualClock
from app.outbox import OutboxSender, SendReport
from app.ports.event_store import ConcurrencyConflict
from app.ports.mailer import Mail
from domain.candidate import Candidate
from domain.outbound_mail import MailKind, MailStatus, OutboundMail, RecipientKind
from ui.journey import make_platform

MAILS = 3
LEASE_S = 120


class CrashAfterAccept(Exception):
    """The sender's process dies right after the SMTP server said 250."""


class CountingMailer:
    """Counts every hand-over by Message-ID (no de-duplication: duplicates are the point);
    when armed, the sender 'dies' after the server accepted."""

    def __init__(self) -> None:
        self.delivered: Counter[str] = Counter()
        self.crash_next = False

    def send(self, mail: Mail) -> None:
        self.delivered[mail.mail_id] += 1
        if self.crash_next:
            self.crash_next = False
            raise CrashAfterAccept(mail.mail_id)

    def close(self) -> None:
        """Nothing to release."""


def _decide_mails(platform: Platform) -> list[UUID]:
    ctx = platform.ctx
    at = ctx.now()
    candidate = Candidate.register(
        candidate_id=uuid4(), email="camille@example.org", surname="Martin", first_name="C", at=at
    )
    mails = [
        OutboundMail.decide(
            mail_id=uuid4(),
            kind=MailKind.SUBMISSION_RECEIPT,
            recipient_kind=RecipientKind.CANDIDATE,
            recipient_id=candidate.id,
            params={"certification": "Access", "sent_on": "04/03/2025", "review_days": "8"},
            cause=f"test/{n}",
            at=at,
        )
        for n in range(MAILS)
    ]
    ctx.store.save(candidate, *mails)
    return [m.id for m in mails]


# One step of one sender: it moves its own program (load → claim → send, mail after mail, as
# send_due does) by one phase, unless a fault happens instead.
FAULTS = ["none"] * 6 + ["crash-before-send", "crash-after-accept", "wait"]
STEP = st.tuples(st.sampled_from([0, 1]), st.sampled_from(FAULTS))


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(STEP, max_size=50))
def test_two_interleaved_senders_deliver_each_mail_once_except_after_a_crash_past_smtp(
    steps: list[tuple[int, str]],
) -> None:
    platform = make_platform()
    try:
        mailer = CountingMailer()
        ctx = replace(platform.ctx, mailer=mailer)
        clock = ctx.clock
        assert isinstance(clock, ManualClock)
        lease = timedelta(seconds=LEASE_S)
        senders = [OutboxSender(ctx, platform.sender.renderer, lease=lease) for _ in range(2)]
        mail_ids = _decide_mails(platform)
        next_mail = [0, 0]  # the mail each sender's program is at
        loaded: list[OutboundMail | None] = [None, None]  # read, not yet claimed
        held: list[OutboundMail | None] = [None, None]  # claimed, not yet handed to SMTP
        resent_after_crash: Counter[str] = Counter()
        for who, fault in steps:
            sender = senders[who]
            if fault == "wait":
                clock.advance(seconds=LEASE_S + 1)
            elif fault == "crash-before-send":
                loaded[who] = held[who] = None  # a claim stays in the log until its lease ends
            elif held[who] is not None:
                outbound, held[who] = held[who], None
                assert outbound is not None
                mailer.crash_next = fault == "crash-after-accept"
                try:
                    with contextlib.suppress(ConcurrencyConflict):  # as send_due does
                        sender.deliver(outbound, SendReport())
                except CrashAfterAccept as crash:
                    resent_after_crash[str(crash)] += 1
                mailer.crash_next = False
            elif loaded[who] is not None:
                outbound, loaded[who] = loaded[who], None
                assert outbound is not None
                if sender.claim(outbound):
                    held[who] = outbound
            else:
                loaded[who] = ctx.store.get(mail_ids[next_mail[who]], OutboundMail)
                next_mail[who] = (next_mail[who] + 1) % MAILS
        # Both senders restart and drain the outbox once every lease has ended.
        clock.advance(seconds=LEASE_S + 1)
        for sender in senders:
            sender.send_due(mail_ids)
        for mail_id in mail_ids:
            assert ctx.store.get(mail_id, OutboundMail).status is MailStatus.SENT
            key = str(mail_id)
            assert mailer.delivered[key] == 1 + resent_after_crash[key], (key, steps)
    finally:
        platform.close()
