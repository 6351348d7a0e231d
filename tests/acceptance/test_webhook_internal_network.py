"""A centre's webhook never makes the worker post into the platform's own network (server-side
request forgery, issue 16): an internal address typed on the centre's page is refused beside
the field, in French and English, nothing recorded; a name that resolves to this machine is
resolved by the worker, refused before any connection, recorded as a failed attempt saying
why, and given up (not retried). An operator lets named networks through
(VIGIE_WEBHOOK_ALLOWED_NETWORKS), as the other webhook tests do for their receivers."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import pytest
from litestar.testing import TestClient

from adapters.bootstrap import Platform, Settings, bootstrap
from adapters.clock import ManualClock
from adapters.ids import SeededIds
from adapters.webhooks.http import HttpPoster, Resolver, system_resolver
from app import integrations
from app.mail_rendering import SupportContact
from app.tenancy import centre_of_operator
from app.use_cases import accounts
from domain.integrations import WebhookEvent
from domain.internal_network import NONE_ALLOWED, AllowedNetworks
from domain.staff import Role
from domain.webhook_delivery import DeliveryStatus, WebhookDelivery
from tests.acceptance.web import form_token, log_in, plain
from ui.journey import PARIS, Journey
from ui.web.app import create_app
from vigie_contracts.webhook_poster import LocalReceiver

SECRET = b"n" * 32
PASSWORD = "centre-pass-1"
PATH = "/operator/integrations"
# A name that looks public, and that the platform's resolver answers with 127.0.0.1 (a
# centre's DNS record pointing there, or a rebinding attacker's).
SNEAKY = "hooks.centre-exemple.fr"


def sneaky_resolver(host: str, port: int) -> Sequence[str]:
    return ["127.0.0.1"] if host == SNEAKY else system_resolver(host, port)


def make(resolver: Resolver = system_resolver, allowed: str = "") -> Platform:
    networks = AllowedNetworks.parse(allowed)
    platform = bootstrap(
        Settings(
            database_url="memory:",
            media_root=None,
            secret_key=SECRET.decode(),
            webhook_allowed_networks=networks,
        ),
        clock=ManualClock(datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),
        ids=SeededIds(31),
        poster=HttpPoster(5.0, 2.0, allowed=networks, resolver=resolver),
    )
    accounts.register_staff(
        platform.ctx, email="centre@example.org", name="C", role=Role.CENTRE, password=PASSWORD
    )
    return platform


@pytest.fixture
def receiver() -> Iterator[LocalReceiver]:
    """A real HTTP receiver on 127.0.0.1: whatever reaches it got into this machine."""
    found = LocalReceiver()
    yield found
    found.close()


@pytest.fixture
def platform() -> Iterator[Platform]:
    made = make(sneaky_resolver)
    yield made
    made.close()


@contextlib.contextmanager
def logged_in(platform: Platform) -> Iterator[TestClient[Any]]:
    """The centre's manager on the web app."""
    with TestClient(create_app(platform, secret=SECRET, support=SupportContact())) as client:
        log_in(client, "/staff/login", "centre@example.org", PASSWORD)
        yield client


@pytest.fixture
def client(platform: Platform) -> Iterator[TestClient[Any]]:
    with logged_in(platform) as client:
        yield client


def subscribe(client: TestClient[Any], url: str) -> Any:
    return client.post(
        f"{PATH}/webhooks",
        data={
            "url": url,
            "events": ["session.created"],
            "_csrf_token": form_token(client, PATH),
        },
    )


def manager(platform: Platform) -> UUID:
    platform.projections.catch_up(platform.ctx.store)
    return platform.projections.staff_by_email["centre@example.org"]


def subscriptions(platform: Platform) -> list[str]:
    centre = centre_of_operator(manager(platform))
    found = integrations.integrations_of(platform.ctx, centre)
    return [s.url for s in found.subscriptions.values()] if found else []


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("http://127.0.0.1:8000/hooks", "127.0.0.1"),
        ("http://localhost/hooks", "localhost"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
        ("http://[::1]:8080/", "[::1]"),
        ("http://192.168.1.20/", "192.168.1.20"),
        ("http://0x7f.1/", "0x7f.1 (127.0.0.1)"),
        ("http://metadata.google.internal/", "metadata.google.internal"),
    ],
)
def test_an_internal_address_typed_on_the_page_is_refused_beside_the_field_in_both_languages(
    platform: Platform, client: TestClient[Any], url: str, shown: str
) -> None:
    for language, words in (
        (
            "fr",
            f"« Adresse du récepteur (URL) » : {shown} est dans le réseau interne de la "
            "plateforme, où les webhooks ne sont pas envoyés. Donnez une adresse de votre "
            "récepteur joignable depuis Internet",
        ),
        (
            "en",
            f"“Receiver's address (URL)”: {shown} is in the platform's internal network, "
            "where webhooks are not sent. Give an address of your receiver that is reachable "
            "from the internet",
        ),
    ):
        client.get(f"/lang/{language}")
        refused = subscribe(client, url)
        assert refused.status_code == 409, refused.text
        said = plain(refused.text)
        assert '<small class="field-error" id="url-error" role="alert">' + words in said, said
        assert 'aria-invalid="true" aria-describedby="url-error"' in said
        assert f'value="{url}"' in said  # the form as typed
        assert 'id="webhook-secret"' not in said
    assert subscriptions(platform) == [], "nothing recorded"


def test_an_operator_allows_its_own_network_and_only_it(receiver: LocalReceiver) -> None:
    """VIGIE_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8: a receiver on this machine is accepted
    (the tests' and `make run`'s), the metadata service and 10.x still are not."""
    platform = make(allowed="127.0.0.0/8")
    with logged_in(platform) as client:
        assert subscribe(client, receiver.url(204)).status_code == 200
        for url in ("http://169.254.169.254/latest/meta-data/", "http://10.0.0.7/"):
            assert subscribe(client, url).status_code == 409
    assert subscriptions(platform) == [receiver.url(204)]
    platform.close()


def delivery_of(platform: Platform) -> WebhookDelivery:
    platform.projections.catch_up(platform.ctx.store)
    centre = centre_of_operator(manager(platform))
    [summary] = platform.projections.deliveries_of_centre(centre)
    return platform.ctx.store.get(summary.delivery_id, WebhookDelivery)


def test_a_public_name_resolving_to_this_machine_is_not_posted_to_and_the_log_says_why(
    platform: Platform, client: TestClient[Any], receiver: LocalReceiver
) -> None:
    url = f"http://{SNEAKY}:{receiver.base.rsplit(':', 1)[1]}/status/204"
    assert subscribe(client, url).status_code == 200  # the name looks public
    centre = centre_of_operator(manager(platform))
    journey = Journey(platform, email="ada@example.org", centre_id=centre)
    journey.enrol()
    journey.create_session()
    platform.settle()
    report = platform.deliver_webhooks()
    assert receiver.received() == [], "nothing reached the machine"
    assert report.given_up == 1
    delivery = delivery_of(platform)
    assert delivery.status is DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.last_error == (
        f"not sent: {SNEAKY} leads to 127.0.0.1, in the platform's internal network"
    )
    # Given up at once: hours later, nothing more is tried.
    journey.clock.advance(hours=3)
    platform.deliver_webhooks()
    assert receiver.received() == [] and delivery_of(platform).attempts == 1
    for language, words, outcome in (
        (
            "fr",
            f"Non envoyé : {SNEAKY} mène à 127.0.0.1, dans le réseau interne de la plateforme, "
            "où les webhooks ne sont pas envoyés.",
            "Abandonné",
        ),
        (
            "en",
            f"Not sent: {SNEAKY} leads to 127.0.0.1, in the platform's internal network, "
            "where webhooks are not sent.",
            "Given up",
        ),
    ):
        client.get(f"/lang/{language}")
        log = plain(client.get(PATH).text)
        [row] = re.findall(r'<tr data-delivery="[^"]+" data-outcome="given up".*?</tr>', log, re.S)
        assert words in row and outcome in row, row


def test_a_webhook_to_localhost_recorded_before_is_refused_when_it_is_delivered(
    platform: Platform, receiver: LocalReceiver
) -> None:
    """A subscription made before addresses were checked (here, while the operator allowed
    this machine) points at localhost: the system's resolver says 127.0.0.1, which is not
    allowed any more, so nothing is posted."""
    staff_id = manager(platform)
    platform.ctx.webhook_allowed = AllowedNetworks.parse("127.0.0.0/8")
    port = receiver.base.rsplit(":", 1)[1]
    integrations.subscribe_webhook(
        platform.ctx,
        staff_id,
        platform.webhook_key,
        url=f"http://localhost:{port}/status/204",
        events=(WebhookEvent.SESSION_CREATED,),
    )
    platform.ctx.webhook_allowed = NONE_ALLOWED
    journey = Journey(platform, email="bob@example.org", centre_id=centre_of_operator(staff_id))
    journey.enrol()
    journey.create_session()
    platform.settle()
    platform.deliver_webhooks()
    assert receiver.received() == []
    delivery = delivery_of(platform)
    assert delivery.status is DeliveryStatus.FAILED
    assert re.fullmatch(
        r"not sent: localhost leads to (127\.0\.0\.1|::1), in the platform's internal network",
        delivery.last_error,
    )


def test_the_setting_is_read_from_the_environment_and_refuses_what_it_cannot_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().webhook_allowed_networks == NONE_ALLOWED  # none by default
    monkeypatch.setenv("VIGIE_WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8, ::1 erp.corp")
    settings = Settings.from_env()
    assert settings.webhook_allowed_networks == AllowedNetworks.parse("127.0.0.0/8,::1,erp.corp")
    assert settings.to_env()["VIGIE_WEBHOOK_ALLOWED_NETWORKS"] == "127.0.0.0/8,::1/128,erp.corp"
    monkeypatch.setenv("VIGIE_WEBHOOK_ALLOWED_NETWORKS", "10.1.2.3/8")
    with pytest.raises(ValueError, match=r"^VIGIE_WEBHOOK_ALLOWED_NETWORKS: '10.1.2.3/8'"):
        Settings.from_env()
