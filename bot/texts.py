"""Every French text the assistant sends to users and integrators, each written once.

The replies, button titles, screening and rate-limit messages and the REST channel's error
messages live here, so that wording is reviewed in one file and tests compare against the same
names. A text that carries a number (a limit from bot/settings.py or bot/screening.py) is a
function of that number. The Rasa responses of domain.yml (utter_*) stay Rasa's; the button they
share with the Python replies is checked against it (tests/test_conversation.py).
"""

from __future__ import annotations

# --- welcome and the guided tree --------------------------------------------------------

GREETING = "Bonjour ! Je suis l'assistant de la FAQ des industriels de l'Agence du Numérique en Santé."
WELCOME = GREETING + " Répondez à quelques questions pour trouver votre réponse, ou écrivez directement votre question."
LISTING = "Voici les questions qui correspondent à vos choix :"
NOTHING_LISTED = "Aucune question de la FAQ ne correspond à ces choix. Reprenons depuis le début."
INVALID_CHOICE = "Je n'ai pas reconnu ce choix. Reprenons depuis le début."
SKIP_LABEL = "Je ne sais pas"  # button: skip a qualifying question
RESTART_LABEL = "Recommencer"  # button: back to the tree's first question

# --- answers and "utile ?" ---------------------------------------------------------------

ANSWER_LINK_LABEL = "En savoir plus :"  # before the link that ends every answer
UNKNOWN_ANSWER = "Je ne trouve pas cette question dans la FAQ. Reprenons depuis le début."
FEEDBACK_QUESTION = "Cette réponse vous a-t-elle été utile ?"
YES_LABEL = "Oui"  # buttons of FEEDBACK_QUESTION
NO_LABEL = "Non"
THANKS_YES = "Merci pour votre retour ! Vous pouvez poser une autre question ou parcourir la FAQ."
THANKS_NO = "Merci pour votre retour. Que souhaitez-vous faire ?"
NO_PENDING_ANSWER = "Très bien. Posez votre question ou parcourez la FAQ."

# --- free text the FAQ does not answer with confidence -----------------------------------

DID_YOU_MEAN = "Vouliez-vous dire… ?"
NONE_OF_THESE_LABEL = "Aucune de ces questions"  # button under DID_YOU_MEAN's suggestions
NOT_FOUND = (
    "Je n'ai pas trouvé de réponse à cette question dans la FAQ des industriels. "
    "Je préfère vous le dire plutôt que de vous donner une réponse approximative."
)
BROWSE_INSTEAD = "Vous pouvez aussi parcourir la FAQ en quelques questions :"
# "que savez-vous faire ?" (with BROWSE_LABEL); a message that names a subject gets the tree instead
CAPABILITIES = (
    "Je réponds aux questions de la FAQ des industriels de l'Agence du Numérique en Santé : Ségur du "
    "numérique en santé, référencement dans Mon espace santé, Convergence et doctrine du numérique en "
    "santé, certifications et labels (QHN, DMN, label Maisons et Centres de Santé), interopérabilité "
    "(HL7, IHE PAM). Écrivez votre question, ou laissez-vous guider en quelques clics."
)

# --- buttons offered after several replies (BROWSE_LABEL also in domain.yml) ------------

BROWSE_LABEL = "Parcourir la FAQ"
CONTACT_LABEL = "Contacter l'ANS"
REPHRASE_LABEL = "Poser ma question autrement"

# --- screening (bot/screening.py) and the channels' fallback -----------------------------

EMPTY = "Je n'ai reçu aucun texte. Posez votre question, ou parcourez la FAQ."
UNAVAILABLE = (
    "Le service est momentanément indisponible. Merci de réessayer dans quelques instants : "
    "votre conversation reprendra où elle en était."
)


def too_long(max_chars: int) -> str:
    """A message over `max_chars` characters (the number grouped with a narrow no-break space)."""
    return (
        f"Votre message dépasse {max_chars:,} caractères".replace(",", "\u202f")
        + " : je ne peux pas le traiter. Pouvez-vous poser votre question en quelques phrases ?"
    )


# --- rate limits and socket.io messages that are not text (bot/limits.py) -----------------

RATE_LIMITED = (
    "Vous envoyez beaucoup de messages en peu de temps. Merci de patienter une minute avant de "
    "continuer : votre conversation reprendra où elle en était."
)
NOT_TEXT = "Je n'ai pas compris ce message : envoyez du texte, ou utilisez les boutons proposés."

# --- REST channel: the `error` of a 4xx reply (addons/rest_channel.py) ---------------------

JSON_ONLY = 'Le corps doit être du JSON (Content-Type: application/json) : {"sender": "...", "message": "..."}.'
JSON_INVALID = 'Le corps doit être du JSON : {"sender": "...", "message": "..."}.'
JSON_NOT_OBJECT = 'Le corps doit être un objet JSON : {"sender": "...", "message": "..."}.'
SENDER_MISSING = "Le champ « sender » (identifiant de conversation) est obligatoire."
SENDER_NOT_TEXT = "Le champ « sender » doit être une chaîne de caractères."
MESSAGE_MISSING = "Le champ « message » est obligatoire."
MESSAGE_NOT_TEXT = "Le champ « message » doit être une chaîne de caractères."


def sender_malformed(max_chars: int) -> str:
    return f"Le champ « sender » doit faire 1 à {max_chars} caractères parmi lettres, chiffres " "et « _ . : @ - »."


def json_too_deep(max_depth: int) -> str:
    return f"Le JSON est trop imbriqué (plus de {max_depth} niveaux)."


def body_too_large(max_kilobytes: int) -> str:
    return f"Requête trop volumineuse (plus de {max_kilobytes} Ko)."
