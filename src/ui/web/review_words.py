"""The examiner's review in words (issue 13, item 5): verdicts, grounds, hints, evidence and
the reviews list read in the page's language, never as raw codes or walls of ids (the ids stay
in a `title` for the curious)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from app.context import Context
from domain.candidate import Candidate
from domain.evidence import Evidence, EvidenceKind, FlagKind, ReasonCode, Verdict

# (French, English) everywhere: index 0 or 1 by the page's language.
Words = tuple[str, str]


def pick(words: Words, lang: str) -> str:
    return words[1] if lang == "en" else words[0]


VERDICT_WORDS: dict[Verdict, Words] = {
    Verdict.VALIDATED: ("validée", "validated"),
    Verdict.INVALIDATED: ("invalidée", "invalidated"),
}

REASON_WORDS_EN: dict[ReasonCode, str] = {
    ReasonCode.THIRD_PARTY_HELP: "Help from or interaction with another person",
    ReasonCode.IDENTITY_NOT_VERIFIABLE: "Identity cannot be verified",
    ReasonCode.PERSON_MISMATCH: "The person at the start is not the one taking the exam",
    ReasonCode.ID_NAME_MISMATCH: "ID document differs from the registered name",
    ReasonCode.WEBCAM_UNUSABLE: "Webcam not working or video unusable",
    ReasonCode.INFORMATION_SOURCES: "Use of information sources",
    ReasonCode.DOCUMENTS_AROUND: "Documents on the desk or around",
    ReasonCode.HEADPHONES: "Earphones or headset",
    ReasonCode.PROCTORING_TAB_CLOSED: "Proctoring tab closed",
    ReasonCode.PHONE_USED: "Use of a phone",
    ReasonCode.OTHER_RULE_BREACH: "Other breach (written justification)",
}

# Why a ground counts against a validation, in a sentence (the domain's own explanation, in
# English, stays in the title).
GROUND_SENTENCES: dict[ReasonCode, Words] = {
    ReasonCode.THIRD_PARTY_HELP: (
        "Une autre personne semble avoir aidé le candidat ou lui avoir parlé pendant l'examen.",
        "Another person seems to have helped or talked to the candidate during the exam.",
    ),
    ReasonCode.IDENTITY_NOT_VERIFIABLE: (
        "La photo du visage ou de la pièce d'identité manque ou ne permet pas de vérifier "
        "l'identité.",
        "The face or ID photo is missing or does not allow the identity to be checked.",
    ),
    ReasonCode.PERSON_MISMATCH: (
        "La personne vue pendant l'examen ne semble pas être celle des photos du début.",
        "The person seen during the exam does not seem to be the one on the opening photos.",
    ),
    ReasonCode.ID_NAME_MISMATCH: (
        "Le nom sur la pièce d'identité ne semble pas être le nom inscrit.",
        "The name on the ID document does not seem to be the registered name.",
    ),
    ReasonCode.WEBCAM_UNUSABLE: (
        "L'enregistrement manque ou ne montre pas le candidat pendant une partie de l'examen.",
        "The recording is missing or does not show the candidate for part of the exam.",
    ),
    ReasonCode.INFORMATION_SOURCES: (
        "Le candidat semble avoir consulté une autre source (autre fenêtre, autre écran, "
        "copier-coller).",
        "The candidate seems to have looked at another source (another window, screen, "
        "copy-paste).",
    ),
    ReasonCode.DOCUMENTS_AROUND: (
        "Des documents semblent se trouver sur le bureau ou autour du candidat.",
        "Documents seem to be on the desk or around the candidate.",
    ),
    ReasonCode.HEADPHONES: (
        "Le candidat semble porter des écouteurs ou un casque.",
        "The candidate seems to wear earphones or a headset.",
    ),
    ReasonCode.PROCTORING_TAB_CLOSED: (
        "L'onglet de surveillance a été fermé pendant l'examen alors que l'onglet d'examen "
        "restait ouvert.",
        "The proctoring tab was closed during the exam while the exam tab stayed open.",
    ),
    ReasonCode.PHONE_USED: (
        "Un téléphone semble avoir été utilisé pendant l'examen.",
        "A phone seems to have been used during the exam.",
    ),
    ReasonCode.OTHER_RULE_BREACH: (
        "Un autre manquement au règlement a été relevé.",
        "Another breach of the rules was noted.",
    ),
}

HINT_PREFIX: Words = (
    "Indice à vérifier (jamais un motif à lui seul)",
    "Hint to check (never a ground on its own)",
)

EVIDENCE_WORDS: dict[EvidenceKind, Words] = {
    EvidenceKind.SESSION_OPENED: ("Session ouverte", "Session opened"),
    EvidenceKind.SESSION_ENTERED: ("Entrée en session", "Session entered"),
    EvidenceKind.SESSION_LEFT: ("Sortie de session", "Session left"),
    EvidenceKind.CAMERA_CHECKED: ("Caméra vérifiée", "Camera checked"),
    EvidenceKind.CONNECTION_TESTED: ("Connexion testée", "Connection tested"),
    EvidenceKind.FACE_PHOTO_TAKEN: ("Photo du visage", "Face photo"),
    EvidenceKind.FACE_PHOTO_CONFIRMED: ("Photo du visage confirmée", "Face photo confirmed"),
    EvidenceKind.ID_PHOTO_TAKEN: ("Photo de la pièce d'identité", "ID photo"),
    EvidenceKind.ID_PHOTO_CONFIRMED: ("Photo de la pièce confirmée", "ID photo confirmed"),
    EvidenceKind.PHOTO_WAIVED: ("Photo dispensée", "Photo waived"),
    EvidenceKind.ENVIRONMENT_RECORDING_STOPPED: (
        "Enregistrement de l'environnement",
        "Environment recording",
    ),
    EvidenceKind.EXAM_LAUNCHED: ("Examen commencé", "Exam started"),
    EvidenceKind.PROCTORING_TAB_CLOSED: ("Onglet de surveillance fermé", "Proctoring tab closed"),
    EvidenceKind.FLAG_RAISED: ("Signalement", "Flag"),
    EvidenceKind.TECHNICAL_PROBLEM_RECORDED: ("Problème technique", "Technical problem"),
    EvidenceKind.SESSION_CLOSED: ("Session close", "Session closed"),
    EvidenceKind.EXAM_BEGUN: ("Premier écran de l'examen", "Exam's first screen"),
    EvidenceKind.EXAM_FINISHED: ("Examen terminé", "Exam finished"),
    EvidenceKind.EXAM_VALIDATED: ("Réponses envoyées", "Answers sent"),
    EvidenceKind.EXAM_QUIT: ("Examen quitté", "Exam quit"),
    EvidenceKind.EXAM_DEFERRED: ("Examen reporté", "Exam deferred"),
    EvidenceKind.WORKSPACE_CONNECTED: ("Onglet d'examen connecté", "Exam tab connected"),
    EvidenceKind.WORKSPACE_LOST: ("Onglet d'examen perdu", "Exam tab lost"),
}

FLAG_WORDS: dict[FlagKind, Words] = {
    FlagKind.SEVERAL_FACES: ("plusieurs visages", "several faces"),
    FlagKind.FACE_ABSENT: ("visage absent", "face absent"),
    FlagKind.VOICE: ("voix", "voice"),
    FlagKind.TAB_FOCUS_LOST: ("onglet quitté", "tab left"),
    FlagKind.SECOND_SCREEN: ("second écran", "second screen"),
    FlagKind.PHONE: ("téléphone", "phone"),
    FlagKind.HEADPHONES: ("écouteurs", "earphones"),
    FlagKind.VISIBILITY_LOST: ("page masquée", "page hidden"),
    FlagKind.FULLSCREEN_LEFT: ("plein écran quitté", "full screen left"),
    FlagKind.COPY_PASTE: ("copier-coller", "copy-paste"),
}

ERASED_PERSON: Words = ("personne effacée", "erased person")

CONFIRMATIONS: dict[str, Words] = {
    "decided": (
        "Votre décision est enregistrée. Envoyez le résultat au candidat quand vous êtes prêt.",
        "Your decision is recorded. Release the result to the candidate when you are ready.",
    ),
    "released": (
        "Le résultat est envoyé : le candidat en est informé.",
        "The result is released: the candidate is told.",
    ),
}


def reason_words(reason: ReasonCode, french: str, lang: str) -> str:
    """The reason's label in the page's language (the French list is the form's own)."""
    return REASON_WORDS_EN[reason] if lang == "en" else french


def evidence_words(evidence: Evidence, lang: str) -> str:
    """The kind in words, with the flag's kind and its span when there is one; the caller
    adds the local time (`local_time` filter)."""
    text = pick(EVIDENCE_WORDS[evidence.kind], lang)
    if evidence.flag is not None:
        text += f" ({pick(FLAG_WORDS[evidence.flag], lang)})"
    return text


def span_words(start_s: float, end_s: float) -> str:
    """« 12 s – 18 s »: a span of the recording in seconds."""
    return f"{int(start_s)} s – {int(end_s)} s"


@dataclass(frozen=True)
class RegisteredName:
    """The candidate's name as registered (read through the sealed Candidate stream)."""

    surname: str
    first_name: str
    erased: bool

    def words(self, lang: str) -> str:
        if self.erased:
            return pick(ERASED_PERSON, lang)
        return f"{self.surname.upper()}, {self.first_name}"


def registered_name(ctx: Context, candidate_id: UUID) -> RegisteredName:
    """The name the ID photo is judged against; an erased person's name is gone (R-privacy)."""
    try:
        candidate = ctx.store.get(candidate_id, Candidate)
    except LookupError:
        return RegisteredName("", "", erased=True)
    if candidate.erased_at is not None:
        return RegisteredName("", "", erased=True)
    return RegisteredName(candidate.surname, candidate.first_name, erased=False)
