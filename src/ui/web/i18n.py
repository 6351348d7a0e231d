"""The UI's words in French (default) and English (R25)."""

from __future__ import annotations

LANGUAGES = ("fr", "en")

_WORDS: dict[str, tuple[str, str]] = {
    "lang_other": ("English", "Français"),
    "support": ("Besoin d'aide ?", "Need help?"),
    "support_line": (
        "Écrivez à {email}, appelez le {phone} (en cas d'urgence) ou utilisez le chat.",
        "Write to {email}, call {phone} (urgent matters) or use the chat.",
    ),
    "login": ("Se connecter", "Log in"),
    "logout": ("Se déconnecter", "Log out"),
    "email": ("Adresse e-mail", "E-mail address"),
    "password": ("Mot de passe", "Password"),
    "forgot": ("Mot de passe oublié ?", "Forgot your password?"),
    "bad_login": ("E-mail ou mot de passe incorrect.", "Wrong e-mail or password."),
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
}


def translator(language: str):  # type: ignore[no-untyped-def]
    """A function from a key to the UI's words in that language."""
    index = 1 if language == "en" else 0

    def t(key: str, **values: str) -> str:
        pair = _WORDS.get(key)
        text = key if pair is None else pair[index]
        return text.format(**values) if values else text

    return t
