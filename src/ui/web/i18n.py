"""The UI's words in French (default) and English (R25), from gettext catalogues (issue 13).

Messages are written in English in templates (`{{ _("…") }}`, `{% trans %}…{% endtrans %}`)
and in Python (`_ = gettext_for(language)`; tables mark theirs with `N_`). French lives in
`locale/fr/LC_MESSAGES/<area>.po`, one file per area. Placeholders use `%(name)s`, as Jinja's
i18n extension does, in templates and Python alike.

`_WORDS` and `t()` are the older keyed table, being emptied area by area into catalogues.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from app.catalogues import translations

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def catalogue(language: str) -> gettext.NullTranslations:
    """The merged catalogue of one language, read once per process."""
    return translations([LOCALE_DIR], language if language in LANGUAGES else DEFAULT_LANGUAGE)


def N_(message: str) -> str:  # noqa: N802 - gettext's conventional name for "mark only"
    """Marks a message for extraction where it is defined (a table); translate it where it
    is shown."""
    return message


Gettext = Callable[..., str]


def gettext_for(language: str) -> Gettext:
    """`_(message, **values)` in one language: the translation, `%(name)s` filled in."""
    found = catalogue(language)

    def _(message: str, /, **values: Any) -> str:
        text = found.gettext(message)
        return text % values if values else text

    return _


def pgettext_for(language: str) -> Callable[..., str]:
    """`p_(context, message, **values)`: a message whose translation depends on where it is."""
    found = catalogue(language)

    def p_(where: str, message: str, /, **values: Any) -> str:
        text = found.pgettext(where, message)
        return text % values if values else text

    return p_


def install(environment: Environment) -> None:
    """Jinja's i18n extension, answering in the page's language (its `lang` variable)."""
    environment.add_extension("jinja2.ext.i18n")

    @pass_context
    def _gettext(page: Context, message: str) -> str:
        return catalogue(page.get("lang", DEFAULT_LANGUAGE)).gettext(message)

    @pass_context
    def _ngettext(page: Context, singular: str, plural: str, n: int) -> str:
        return catalogue(page.get("lang", DEFAULT_LANGUAGE)).ngettext(singular, plural, n)

    @pass_context
    def _pgettext(page: Context, where: str, message: str) -> str:
        return catalogue(page.get("lang", DEFAULT_LANGUAGE)).pgettext(where, message)

    @pass_context
    def _npgettext(page: Context, where: str, singular: str, plural: str, n: int) -> str:
        found = catalogue(page.get("lang", DEFAULT_LANGUAGE))
        return found.npgettext(where, singular, plural, n)

    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True, pgettext=_pgettext, npgettext=_npgettext
    )


_WORDS: dict[str, tuple[str, str]] = {
    "lang_other": ("English", "Français"),
    "live_connecting": ("Surveillance : connexion…", "Proctoring: connecting…"),
    "live_live": (
        "Surveillance en cours : gardez cet onglet ouvert.",
        "Proctoring on: keep this tab open.",
    ),
    "live_reconnecting": (
        "Surveillance : connexion perdue, reconnexion…",
        "Proctoring: connection lost, reconnecting…",
    ),
    "live_off": ("Surveillance terminée.", "Proctoring ended."),
    "live_no_camera": (
        "Surveillance impossible : autorisez la caméra et le micro.",
        "Proctoring impossible: allow the camera and microphone.",
    ),
    "support": ("Besoin d'aide ?", "Need help?"),
    "support_title": ("Assistance", "Support"),
    "support_intro": (
        "La hotline des certifications répond aux candidats, aux examinateurs et aux centres.",
        "The certification hotline answers candidates, examiners and centres.",
    ),
    "support_mail": ("Par e-mail", "By e-mail"),
    "support_phone": ("Par téléphone (en cas d'urgence)", "By phone (urgent matters)"),
    "support_chat": ("Par chat", "By chat"),
    "support_chat_open": ("Ouvrir le chat", "Open the chat"),
    "support_line": (
        "Écrivez à {email}, appelez le {phone} (en cas d'urgence) ou utilisez le chat.",
        "Write to {email}, call {phone} (urgent matters) or use the chat.",
    ),
    "support_line_no_chat": (
        "Écrivez à {email} ou appelez le {phone} (en cas d'urgence).",
        "Write to {email} or call {phone} (urgent matters).",
    ),
    "login": ("Se connecter", "Log in"),
    "logout": ("Se déconnecter", "Log out"),
    "email": ("Adresse e-mail", "E-mail address"),
    "password": ("Mot de passe", "Password"),
    "forgot": ("Mot de passe oublié ?", "Forgot your password?"),
    "bad_login": ("E-mail ou mot de passe incorrect.", "Wrong e-mail or password."),
    "conflict_retry": (
        "Ces informations ont été modifiées au même moment ailleurs. Réessayez dans un instant.",
        "This was changed elsewhere at the same moment. Please try again in a moment.",
    ),
    "create_title": ("Création de la session d'examen", "Creating your exam session"),
    "create_intro": (
        "Créez votre session d'examen quand vous êtes prêt(e) : elle est valable 15 jours.",
        "Create your exam session when you are ready: it is valid for 15 days.",
    ),
    "create_button": ("Créer ma session", "Create my session"),
    "outcome_created": (
        "Votre session d'examen a été créée avec succès ! Vous allez bientôt recevoir un "
        "e-mail avec vos identifiants de connexion pour passer votre examen. Pensez à "
        "vérifier dans vos spams.",
        "Your exam session was created! You will soon receive an e-mail with your login "
        "details. Remember to check your spam folder.",
    ),
    "outcome_already_exists": (
        "Votre session d'examen existe déjà. Vous avez dû recevoir un e-mail avec vos "
        "identifiants de connexion pour passer votre examen. Merci de vérifier dans vos spams.",
        "Your exam session already exists. You should have received an e-mail with your "
        "login details. Please check your spam folder.",
    ),
    "outcome_created_with_live_supervision": (
        "Nous vous confirmons que votre session vient d'être créée, et comme convenu ensemble, "
        "elle sera surveillée par notre examinateur sur nos heures de bureau. Si vous n'avez "
        "pas déjà réservé votre créneau, contactez-nous pour convenir de la date et l'heure.",
        "Your session was created and, as agreed, it will be supervised live by our examiner "
        "during office hours. If you have not booked your slot yet, contact us to agree a "
        "date and time.",
    ),
    "valid_until": ("Valable jusqu'au", "Valid until"),
    "new_password": ("Choisissez votre mot de passe", "Choose your password"),
    "submit": ("Soumettre", "Submit"),
    "password_set": (
        "Votre mot de passe est enregistré : vous pouvez vous connecter.",
        "Your password is saved: you can log in.",
    ),
    "reset_request": ("Réinitialiser le mot de passe", "Reset the password"),
    "reset_sent": (
        "Si cette adresse est inscrite, un e-mail avec un lien vient de partir.",
        "If this address is registered, an e-mail with a link is on its way.",
    ),
    "terms_title": ("Conditions générales d'utilisation", "Terms of use"),
    "terms_text": (
        "Votre session est enregistrée (webcam et micro) et contrôlée par un examinateur.",
        "Your session is recorded (webcam and microphone) and reviewed by an examiner.",
    ),
    "terms_accept": ("Accepter les CGU", "Accept the terms"),
    "exams_title": ("Mes examens", "My exams"),
    "resume_reason": (
        "Veuillez saisir le motif de reprise de l'examen (10 mots minimum)",
        "Please give the reason for resuming the exam (at least 10 words)",
    ),
    "words": ("mots", "words"),
    "next": ("Suivant", "Next"),
    "continue": ("Continuer", "Continue"),
    # Results and appeals.
    "result_title": ("Résultat de l'examen", "Exam result"),
    "result_link": ("Voir le résultat", "See the result"),
    "result_pending": (
        "Votre examen est en cours de contrôle : le résultat vous sera envoyé après.",
        "Your exam is being reviewed: the result will be sent to you afterwards.",
    ),
    "verdict_validated": ("Examen validé", "Exam validated"),
    "verdict_invalidated": ("Examen invalidé", "Exam invalidated"),
    "reasons": ("Motifs", "Reasons"),
    "appeal_title": ("Contester la décision", "Contest the decision"),
    "appeal_intro": (
        "Vous pouvez contester cette invalidation une seule fois, jusqu'au {day} inclus. "
        "Un second examinateur, qui n'a pas rendu la première décision, réexaminera "
        "l'enregistrement.",
        "You may contest this invalidation once, until {day} inclusive. A second examiner, "
        "who did not take the first decision, will review the recording again.",
    ),
    "appeal_reason": ("Pourquoi contestez-vous la décision ?", "Why do you contest the decision?"),
    "appeal_button": ("Contester", "Contest"),
    "appeal_lodged": (
        "Votre contestation du {day} est en cours d'examen par un second examinateur.",
        "Your appeal of {day} is being reviewed by a second examiner.",
    ),
    "appeal_upheld": (
        "Après contestation, un second examinateur a confirmé l'invalidation.",
        "On appeal, a second examiner upheld the invalidation.",
    ),
    "appeal_overturned": (
        "Après contestation, un second examinateur a validé votre examen.",
        "On appeal, a second examiner validated your exam.",
    ),
    "appeal_answer": ("Réponse de l'examinateur", "The examiner's answer"),
    "appeal_closed": (
        "Le délai pour contester est passé ou la décision a déjà été contestée.",
        "The period to contest has passed or the decision was already contested.",
    ),
    "appeals_title": ("Contestations à trancher", "Appeals to decide"),
    "appeals_link": ("Contestations", "Appeals"),
    "agreement": (
        "Accord entre premier et second examinateurs : {agreements} sur {decided} ({rate})",
        "Agreement between first and second examiners: {agreements} of {decided} ({rate})",
    ),
    "appeal_take": ("Prendre cette contestation", "Take this appeal"),
    "appeal_first_examiner": (
        "Vous avez rendu la première décision : un second examinateur tranche la contestation.",
        "You took the first decision: a second examiner decides the appeal.",
    ),
    "appeal_uphold": ("Confirmer l'invalidation", "Uphold the invalidation"),
    "appeal_overturn": ("Valider l'examen", "Validate the exam"),
    "appeal_answer_label": (
        "Réponse écrite au candidat (5 mots minimum)",
        "Written answer to the candidate (at least 5 words)",
    ),
    "appeal_decide": ("Enregistrer la décision", "Record the decision"),
    "first_decision": ("Première décision", "First decision"),
    "candidate_reason": ("Motif du candidat", "The candidate's reason"),
    # Reassignment.
    "assignments_title": ("Répartition des contrôles", "Review assignments"),
    "reassign": ("Réattribuer", "Reassign"),
    "reassign_to": ("E-mail de l'examinateur", "Examiner's e-mail"),
    "reassign_why": ("Pourquoi ?", "Why?"),
    # Enrolment and CSV import (issue 12): one account per e-mail, one enrolment each.
    "re_enrol": (
        "Réinscrire même si une inscription est en cours",
        "Enrol again even if an enrolment is under way",
    ),
    "enrolled_new": (
        "{email} est inscrit(e) jusqu'au {day} : l'invitation part par e-mail.",
        "{email} is enrolled until {day}: the invitation is on its way by e-mail.",
    ),
    "enrolled_again": (
        "{email} est inscrit(e) à nouveau, jusqu'au {day} : l'invitation part par e-mail.",
        "{email} is enrolled again, until {day}: the invitation is on its way by e-mail.",
    ),
    "enrolled_already": (
        "{email} est déjà inscrit(e) à cette certification par votre centre (jusqu'au {day}) "
        ": rien n'a changé.",
        "{email} is already enrolled for this certification by your centre (until {day}): "
        "nothing changed.",
    ),
    "line_enrolled_new": ("inscrit(e)", "enrolled"),
    "line_enrolled_again": ("inscrit(e) à nouveau", "enrolled again"),
    "line_imported_before": (
        "importé avec le fichier : rien n'a changé",
        "imported with the file: nothing changed",
    ),
    "line_enrolled_already": (
        "déjà inscrit(e) : rien n'a changé",
        "already enrolled: nothing changed",
    ),
    "csv_columns": (
        "Colonnes : email, surname, first_name, certification_code, language (fr ou en), "
        "re_enrol (oui pour réinscrire).",
        "Columns: email, surname, first_name, certification_code, language (fr or en), "
        "re_enrol (yes to enrol again).",
    ),
    "csv_promise": (
        "Tout ou rien : une seule ligne fausse et rien n'est inscrit. Le même fichier importé "
        "deux fois n'inscrit personne deux fois.",
        "All or nothing: one wrong line and nothing is enrolled. The same file imported twice "
        "enrols nobody twice.",
    ),
    "csv_imported": (
        "Fichier importé en entier : {enrolled} inscription(s), {unchanged} candidat(s) déjà "
        "inscrit(s) pour qui rien n'a changé.",
        "The whole file was imported: {enrolled} enrolment(s), {unchanged} candidate(s) "
        "already enrolled for whom nothing changed.",
    ),
    "csv_already_imported": (
        "Ce fichier a déjà été importé le {day} à {time} : rien n'a changé.",
        "This file was already imported on {day} at {time}: nothing changed.",
    ),
    "csv_rejected": (
        "Rien n'a été inscrit : corrigez les lignes en erreur puis importez à nouveau.",
        "Nothing was enrolled: fix the lines in error and import again.",
    ),
    "csv_bad_email": (
        "« {value} » n'est pas une adresse e-mail",
        "{value!r} is not an e-mail address",
    ),
    "csv_twice": (
        "cette adresse est déjà à la ligne {value} du fichier",
        "this address is already on line {value} of the file",
    ),
    "csv_required": ("obligatoire", "required"),
    "csv_unknown_certification": (
        "certification inconnue « {value} »",
        "unknown certification {value!r}",
    ),
    "csv_bad_language": ("fr ou en, pas « {value} »", "fr or en, not {value!r}"),
    "csv_bad_re_enrol": ("oui ou non, pas « {value} »", "yes or no, not {value!r}"),
    "csv_missing_columns": (
        "Rien n'a été inscrit : colonne(s) manquante(s) : {value}. La première ligne nomme les "
        "colonnes attendues, séparées par des virgules ou des points-virgules : email (adresse "
        "e-mail), surname (nom), first_name (prénom), certification_code (code de la "
        "certification), et au besoin language (fr ou en) et re_enrol (oui pour réinscrire).",
        "Nothing was enrolled: missing column(s): {value}. The first line names the expected "
        "columns, separated by commas or semicolons: email (e-mail address), surname, "
        "first_name, certification_code, and if needed language (fr or en) and re_enrol (yes "
        "to enrol again).",
    ),
    "csv_too_long": (
        "Rien n'a été inscrit : {value} lignes au plus par fichier.",
        "Nothing was enrolled: at most {value} lines per file.",
    ),
    "csv_empty": (
        "Rien n'a été inscrit : le fichier n'a aucune ligne.",
        "Nothing was enrolled: the file has no line.",
    ),
    "csv_not_utf8": (
        "Rien n'a été inscrit : le fichier doit être en UTF-8.",
        "Nothing was enrolled: the file must be UTF-8.",
    ),
    "column": ("Colonne", "Column"),
    # Accommodations.
    "accommodation_title": ("Aménagements d'examen", "Exam accommodations"),
    "accommodation_link": ("Aménagements", "Accommodations"),
    "extra_time": ("Temps supplémentaire (%)", "Extra time (%)"),
    "arrangements": ("Autres aménagements", "Other arrangements"),
    "accommodation_grant": ("Accorder", "Grant"),
    "accommodation_none": ("Aucun aménagement.", "No accommodation."),
    "accommodation_granted": (
        "+{percent} % de temps ({granted_on}) ; {arrangements}",
        "+{percent} % time ({granted_on}); {arrangements}",
    ),
    "accommodation_intro": (
        "Les aménagements sont accordés avant que le candidat n'entre dans sa session "
        "d'examen ; le temps supplémentaire allonge l'examen et le budget de 3 heures.",
        "Accommodations are granted before the candidate enters the exam session; extra time "
        "lengthens the exam and the 3-hour budget.",
    ),
    "accommodation_examiner": (
        "Aménagements accordés : ce comportement prévu n'est pas un manquement.",
        "Accommodations granted: this planned behaviour is not a breach.",
    ),
}


def translator(language: str):  # type: ignore[no-untyped-def]
    """A function from a key to the UI's words in that language."""
    index = 1 if language == "en" else 0

    def t(key: str, **values: str) -> str:
        pair = _WORDS.get(key)
        text = key if pair is None else pair[index]
        return text.format(**values) if values else text

    return t
