"""Mail rendering: a decided mail's kind and parameters become a text and an HTML message.

Templates live in app/mail_templates (one per kind and language, French by default); the
person's name and address are looked up at send time, so the log holds no personal data
outside the person's own stream.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_percent
from jinja2 import Environment, PackageLoader, StrictUndefined

from app.links import LinkSigner
from app.time_format import LOCALES, Style, TimeFormatter, jinja_filter
from domain.outbound_mail import MailKind


@dataclass(frozen=True)
class SupportContact:
    """R26: shown on every page and in every mail."""

    email: str = "hotline-certifications@vigie.example"
    phone: str = "02 40 92 45 68"
    chat_url: str = "http://127.0.0.1:8000/support"

    @property
    def has_chat(self) -> bool:
        """A chat was configured (VIGIE_SUPPORT_CHAT_URL); otherwise the link goes to the
        platform's own /support page, which lists the e-mail and phone."""
        return not self.chat_url.rstrip("/").endswith("/support")


@dataclass(frozen=True)
class Rendered:
    """A message ready for the mailer."""

    subject: str
    text: str
    html: str


# Which link each kind carries: (path, signing purpose, parameter holding the signed value).
_LINKS: dict[MailKind, tuple[str, str, str]] = {
    MailKind.INVITATION: ("/sessions/new", "create-session", "enrollment_id"),
    MailKind.DEADLINE_REMINDER: ("/sessions/new", "create-session", "enrollment_id"),
    MailKind.WELCOME: ("/password/reset", "password-reset", "reset"),
    MailKind.PASSWORD_RESET: ("/password/reset", "password-reset", "reset"),
    MailKind.REVIEW_DUE_SOON: ("/examiner/reviews", "review", "review_id"),
}

_ACCOUNT_LABELS = {
    ("proctoring", "fr"): "compte de surveillance (e-surveillance)",
    ("portal", "fr"): "compte du portail de certification",
    ("proctoring", "en"): "proctoring account",
    ("portal", "en"): "certification portal account",
}


# R20's invalidation reasons as the candidate reads them in a result mail (the decision
# carries their codes; a code without words is shown as it is rather than dropped).
_REASON_WORDS: dict[str, tuple[str, str]] = {
    "third_party_help": (
        "aide ou interaction avec une personne tierce",
        "help from or contact with another person",
    ),
    "identity_not_verifiable": (
        "vérification de l'identité impossible",
        "your identity could not be checked",
    ),
    "person_mismatch": (
        "la personne au début n'est pas celle qui passe l'examen",
        "the person at the start is not the one who took the exam",
    ),
    "id_name_mismatch": (
        "pièce d'identité différente du nom inscrit",
        "the ID does not match the enrolled name",
    ),
    "webcam_unusable": (
        "webcam non fonctionnelle ou vidéo inexploitable",
        "webcam not working or video unusable",
    ),
    "information_sources": ("utilisation de sources d'informations", "use of information sources"),
    "documents_around": (
        "documents sur le bureau ou dans l'environnement",
        "documents on the desk or around you",
    ),
    "headphones": ("écouteurs ou casque", "earphones or headset"),
    "proctoring_tab_closed": ("onglet e-surveillance fermé", "proctoring tab closed"),
    "phone_used": ("utilisation d'un téléphone", "use of a phone"),
    "other_rule_breach": ("autre manquement aux règles", "another breach of the rules"),
}


def _reasons_in_words(codes: str, language: str) -> str:
    index = 1 if language == "en" else 0
    return ", ".join(
        _REASON_WORDS[code][index] if code in _REASON_WORDS else code for code in codes.split(", ")
    )


# The parameters that hold a day or an instant, and how each is shown (app.time_format).
_TIME_PARAMS: dict[str, Style] = {
    "expires_at": Style.MOMENT,
    "sent_on": Style.MOMENT,
    "slot": Style.MOMENT,
    "last_day": Style.DAY,
    "valid_until": Style.DAY,
    "due_on": Style.DAY,
    "appeal_last_day": Style.DAY,
}


class MailRenderer:
    """Renders the templates; a missing parameter is an error, never a blank in a mail."""

    def __init__(
        self, links: LinkSigner, support: SupportContact, times: TimeFormatter | None = None
    ) -> None:
        self.links = links
        self.support = support
        self.times = times or TimeFormatter()
        loader = PackageLoader("app", "mail_templates")
        self._text = Environment(loader=loader, undefined=StrictUndefined, autoescape=False)
        self._html = Environment(loader=loader, undefined=StrictUndefined, autoescape=True)
        for environment in (self._text, self._html):
            environment.filters["local_time"] = jinja_filter(self.times)

    def render(
        self, kind: MailKind, language: str, params: dict[str, str], name: str, email: str
    ) -> Rendered:
        """The subject, text and HTML of one mail."""
        language = language if language in ("fr", "en") else "fr"
        values: dict[str, object] = {
            **params,
            **{
                name: self.times.format(params[name], language, style)
                for name, style in _TIME_PARAMS.items()
                if name in params
            },
            "name": name,
            "email": email,
            "support": self.support,
            "lang": language,
            # Where to log in once the single-use link has done its job (the welcome mail).
            "login_url": f"{self.links.base_url}/login",
            "forgot_url": f"{self.links.base_url}/password/forgot",
        }
        link = _LINKS.get(kind)
        if link is not None:
            path, purpose, param = link
            values["link"] = self.links.url(path, purpose, params[param])
        if "pass_mark_percent" in params:
            # « 70 % » in French, « 70% » in English, as the portal writes the pass mark.
            values["pass_mark"] = format_percent(
                int(params["pass_mark_percent"]) / 100, locale=LOCALES[language]
            )
        if "session_id" in params:  # the candidate's result page (log-in first)
            values["results_url"] = f"{self.links.base_url}/results/{params['session_id']}"
        if "reasons" in params:
            values["reasons"] = _reasons_in_words(params["reasons"], language)
        if "account" in params:
            values["account_label"] = _ACCOUNT_LABELS[(params["account"], language)]
        name_of = f"{kind.value}.{language}.jinja"
        text_template = self._text.get_template(name_of)
        subject = text_template.render(values, part="subject").strip()
        text = text_template.render(values, part="text").strip() + "\n"
        html = self._html.get_template(name_of).render(values, part="html").strip()
        return Rendered(subject, text, html)
