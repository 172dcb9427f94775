"""`make review`: go through the groups of unanswered questions and turn decisions into training data.

    python -m maintenance.review                          # interactive, in the terminal
    python -m maintenance.review --decisions file.csv     # the same from a file (scripts, tests)
    python -m maintenance.review --modele file.csv        # write a decisions file to fill in

For each group of similar questions (maintenance/grouping.py) the maintainer picks the FAQ answer
it belongs to, "hors sujet" (out_of_scope), "ignorer" (never ask again, nothing added) or
"passer" (ask again next time). Accepted questions are appended to data/nlu.yml under the
intent (maintenance/nlu_file.py: never twice, a dated comment after the block); every decision but
"passer" goes to bot/data/review_history.yml (maintenance/decisions.py), so that a group is not
asked again. Then a quick check (maintenance/quickcheck.py) says whether quality moved, and the
interactive form offers to retrain the bot (`make train`); the file form never retrains.

Decisions file: CSV (";" or ","), UTF-8, a header line, columns `groupe` (the group's id, as in
the report) or `question` (any question of the group), and `decision`: an answer id (or its
intent ask_<id>), `hors_sujet` (or out_of_scope), `ignorer` or `passer`.
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from bot import store as store_module
from bot.knowledge import KnowledgeBase, default_kb
from bot.store import Store
from maintenance import decisions as decisions_module
from maintenance import grouping, nlu_file, quickcheck

ROOT = Path(__file__).resolve().parents[1]
OUT_OF_SCOPE = "out_of_scope"
IGNORE, SKIP = "ignorer", "passer"
OUT_OF_SCOPE_WORDS = ("hors_sujet", "hors sujet", "out_of_scope")
KEYS = "(flèches pour choisir, Entrée pour valider)"


class DecisionError(ValueError):
    pass


@dataclass
class Choice:
    group: grouping.Group
    decision: str  # an intent (ask_<id> or out_of_scope), IGNORE or SKIP
    questions: Optional[List[str]] = None  # the questions to add (default: all the group's spellings)


def parse_decision(value: str, kb: KnowledgeBase) -> str:
    """An answer id, its intent, hors_sujet, ignorer or passer -> intent / IGNORE / SKIP."""
    word = " ".join((value or "").strip().split())
    if word.lower() in OUT_OF_SCOPE_WORDS:
        return OUT_OF_SCOPE
    if word.lower() in (IGNORE, SKIP):
        return word.lower()
    answer = kb.answer_for_intent(word) or kb.answer(word)
    if answer is None:
        raise DecisionError(
            f"décision inconnue « {value} » : un identifiant de réponse de bot/data/faq.yml, "
            "hors_sujet, ignorer ou passer"
        )
    return answer.intent


def read_decisions(path: Path) -> List[Tuple[str, str, str]]:
    """(kind "groupe"/"question", value, decision) per line of the decisions file."""
    text = Path(path).read_text(encoding="utf-8-sig")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=";,")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";"
    rows = list(csv.DictReader(io.StringIO(text), dialect=dialect))
    out = []
    for number, row in enumerate(rows, 2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        if not row.get("decision"):
            raise DecisionError(f"{path}, ligne {number} : colonne « decision » vide ou absente")
        if row.get("groupe"):
            out.append(("groupe", row["groupe"], row["decision"]))
        elif row.get("question"):
            out.append(("question", row["question"], row["decision"]))
        else:
            raise DecisionError(f"{path}, ligne {number} : il faut une colonne « groupe » ou « question »")
    return out


def pending_groups(
    store: Store, grouper: grouping.Grouper, history: Sequence[decisions_module.Decision], days: Optional[float] = None
) -> List[grouping.Group]:
    since = store_module.utcnow() - timedelta(days=days) if days else None
    questions = [grouping.Question.of(row) for row in store.rows(store_module.unanswered, since)]
    pending = decisions_module.undecided(questions, history)
    return grouper.group(pending) if pending else []


def choices_from_file(
    rows: Sequence[Tuple[str, str, str]], groups: Sequence[grouping.Group], kb: KnowledgeBase
) -> Tuple[List[Choice], List[str]]:
    """The choices the file makes, and a French line for each row that matches no pending group."""
    by_id = {g.id: g for g in groups}
    by_key = {k: g for g in groups for k in g.keys}
    choices, unmatched, taken = [], [], set()
    for kind, value, decision in rows:
        intent = parse_decision(decision, kb)  # an unknown decision stops everything before any write
        group = by_id.get(value) if kind == "groupe" else by_key.get(grouping.normalise(value))
        if group is None:
            unmatched.append(f"{kind} « {value} » : aucun groupe en attente (déjà traité, ou inconnu)")
            continue
        if group.id in taken:
            unmatched.append(f"{kind} « {value} » : groupe {group.id} déjà décidé plus haut dans le fichier")
            continue
        taken.add(group.id)
        choices.append(Choice(group, intent))
    return choices, unmatched


def apply(
    choices: Sequence[Choice], nlu_path: Path, history_path: Path, kb: KnowledgeBase, now: Optional[datetime] = None
) -> Tuple[Dict[str, List[str]], List[decisions_module.Decision], List[str]]:
    """Append the accepted questions, record the decisions. Returns (added per intent, decisions, notes)."""
    now = now or store_module.utcnow()
    day = now.strftime("%Y-%m-%d")
    notes: List[str] = []
    additions = []
    for choice in choices:
        if choice.decision in (IGNORE, SKIP):
            continue
        questions = choice.questions if choice.questions is not None else [q for q, _ in choice.group.questions]
        kept = []
        for question in questions:
            line, why = nlu_file.clean(question)
            if line is None:
                notes.append(f"non ajoutée (« {question[:60]} ») : {why}")
            else:
                kept.append(line)
        additions.append(nlu_file.Addition(choice.decision, kept, f"make review {day}, groupe {choice.group.id}"))
    added = nlu_file.append(nlu_path, additions) if additions else {}
    remaining = {intent: list(examples) for intent, examples in added.items()}
    recorded = []
    for choice in choices:
        if choice.decision == SKIP:
            continue
        mine = []
        if choice.decision not in (IGNORE,):
            wanted = {grouping.normalise(q) for q, _ in choice.group.questions}
            mine = [e for e in remaining.get(choice.decision, []) if grouping.normalise(e) in wanted]
            remaining[choice.decision] = [e for e in remaining.get(choice.decision, []) if e not in mine]
        recorded.append(
            decisions_module.Decision(
                now, choice.group.id, choice.decision, mine, [grouping.key_hash(k) for k in choice.group.keys]
            )
        )
    decisions_module.append(recorded, history_path)
    return added, recorded, notes


def describe(group: grouping.Group, kb: KnowledgeBase) -> str:
    lines = [
        f"Groupe {group.id} — {group.label} ({group.reason}) — {group.size} fois, "
        f"{len(group.questions)} formulation(s)"
    ]
    lines += [f"  « {q} »" + (f" ×{n}" if n > 1 else "") for q, n in group.questions[:8]]
    if len(group.questions) > 8:
        lines.append(f"  … et {len(group.questions) - 8} autre(s)")
    if group.closest:
        lines.append("  Réponses les plus proches :")
        for c in group.closest:
            answer = kb.answer(c.answer_id)
            lines.append(f"    {c.answer_id} — {answer.title if answer else '?'} (NLU {c.nlu:.2f}, texte {c.text:.2f})")
    return "\n".join(lines)


def summary(added: Dict[str, List[str]], recorded: Sequence[decisions_module.Decision], nlu_path: Path) -> str:
    total = sum(len(v) for v in added.values())
    lines = [f"{total} exemple(s) ajouté(s) à {nlu_path} ; {len(recorded)} décision(s) enregistrée(s)."]
    for intent, examples in added.items():
        lines.append(f"  {intent} : " + " | ".join(examples))
    return "\n".join(lines)


def quality(kb: KnowledgeBase, before_text: str, added: Dict[str, List[str]]) -> str:
    """The quick check: the training data as it was before this review, and what it added."""
    return quickcheck.render(quickcheck.compare(kb, grouping.parse_examples(before_text), added))


def bench_crossval_hint() -> str:
    if (ROOT / "bench" / "crossval.py").exists():
        return (
            "Mesure de référence avec le modèle du bot, qui réajuste aussi son modèle de décision "
            "(bot/data/answer_model.json, à committer avec les données ; lente, quelques minutes) : "
            f"{sys.executable} -m bench.crossval --variants ours --write"
        )
    return ""


# --- the interactive session -----------------------------------------------------------


def interactive(groups: Sequence[grouping.Group], kb: KnowledgeBase) -> List[Choice]:
    import questionary

    choices: List[Choice] = []
    answers_menu = [questionary.Choice(f"{a.id} — {a.title}", a.intent) for a in kb.answers]
    for number, group in enumerate(groups, 1):
        print(f"\n[{number}/{len(groups)}] " + describe(group, kb))
        menu = []
        if group.answer_id:
            answer = kb.answer(group.answer_id)
            menu.append(questionary.Choice(f"Réponse proposée : {answer.title}", answer.intent))
        menu += [
            questionary.Choice(
                f"{kb.answer(c.answer_id).title} (NLU {c.nlu:.2f}, texte {c.text:.2f})", kb.answer(c.answer_id).intent
            )
            for c in group.closest
            if kb.answer(c.answer_id) and c.answer_id != group.answer_id
        ]
        menu += [
            questionary.Choice("Une autre réponse de la FAQ…", "__other"),
            questionary.Choice("Hors sujet (exemples de out_of_scope)", OUT_OF_SCOPE),
            questionary.Choice("Ignorer (ne plus demander, rien ajouté)", IGNORE),
            questionary.Choice("Passer (redemander la prochaine fois)", SKIP),
            questionary.Choice("Terminer la revue", "__stop"),
        ]
        picked = questionary.select("À quelle réponse ce groupe appartient-il ?", choices=menu, instruction=KEYS).ask()
        if picked is None or picked == "__stop":
            break
        if picked == "__other":
            picked = questionary.select("Quelle réponse ?", choices=answers_menu, instruction=KEYS).ask()
            if picked is None:
                break
        questions = None
        if picked not in (IGNORE, SKIP):
            usable = [q for q, _ in group.questions if nlu_file.clean(q)[0] is not None]
            if not usable:
                print(
                    "Aucune de ces questions ne peut servir d'exemple (données masquées ou balisage) : groupe ignoré."
                )
                picked = IGNORE
            else:
                questions = questionary.checkbox(
                    "Questions à ajouter comme exemples (espace pour décocher) :",
                    choices=[questionary.Choice(q, q, checked=True) for q in usable],
                ).ask()
                if questions is None:
                    break
                if not questions:
                    picked = IGNORE
        choices.append(Choice(group, picked, questions))
    return choices


def write_template(path: Path, groups: Sequence[grouping.Group]) -> None:
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(["groupe", "decision", "verdict", "fois", "exemples"])
        for g in groups:
            writer.writerow([g.id, g.answer_id or "", g.label, g.size, " | ".join(q for q, _ in g.questions[:5])])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="database URL (default: FAQ_STORE_URL, else sqlite:///var/faq.db)")
    parser.add_argument("--decisions", type=Path, help="decisions file (CSV): no questions asked, no retraining")
    parser.add_argument("--modele", type=Path, help="write a decisions file to fill in, and stop")
    parser.add_argument("--nlu", type=Path, default=grouping.NLU_FILE, help="training data (default: data/nlu.yml)")
    parser.add_argument(
        "--historique",
        type=Path,
        default=decisions_module.HISTORY_FILE,
        help="decisions already taken (default: bot/data/review_history.yml)",
    )
    parser.add_argument("--jours", type=float, help="only the questions of the last N days")
    parser.add_argument("--bruit", action="store_true", help="also go through the noise groups")
    parser.add_argument("--sans-controle", action="store_true", help="skip the quick quality check")
    args = parser.parse_args(argv)

    kb = default_kb()
    history = decisions_module.load(args.historique)
    store = Store(args.url)
    try:
        grouper = grouping.Grouper(
            grouping.read_examples(args.nlu), [grouping.AnswerText(a.id, a.title, a.text) for a in kb.answers]
        )
        groups = pending_groups(store, grouper, history, args.jours)
    finally:
        store.dispose()
    if grouper.left_out:
        print(
            f"{grouper.left_out} question(s) parmi les moins posées non groupées (trop de questions différentes : "
            "--jours N pour une période plus courte)."
        )
    to_review = [g for g in groups if args.bruit or g.verdict != grouping.NOISE]
    noise = len(groups) - len(to_review)
    print(
        f"{len(to_review)} groupe(s) de questions à revoir"
        + (f" ({noise} groupe(s) de bruit laissés de côté ; --bruit pour les voir)" if noise else "")
        + "."
    )

    if args.modele:
        write_template(args.modele, to_review)
        print(
            f"Fichier de décisions à remplir : {args.modele} (colonne decision : identifiant de réponse, "
            "hors_sujet, ignorer ou passer)."
        )
        return 0

    before = args.nlu.read_text(encoding="utf-8")
    try:
        if args.decisions:
            choices, unmatched = choices_from_file(read_decisions(args.decisions), groups, kb)
            for line in unmatched:
                print(line)
        else:
            if not sys.stdin.isatty():
                print(
                    "Pas de terminal interactif : utilisez make review DECISIONS=fichier.csv "
                    "(python -m maintenance.review --decisions fichier.csv)."
                )
                return 2
            choices = interactive(to_review, kb)
    except DecisionError as error:
        print(f"Erreur : {error}. Rien n'a été écrit.")
        return 2
    except nlu_file.NluFileError as error:
        print(f"Erreur dans {args.nlu} : {error}. Rien n'a été écrit.")
        return 2

    try:
        added, recorded, notes = apply(choices, args.nlu, args.historique, kb)
    except nlu_file.NluFileError as error:
        print(f"Erreur dans {args.nlu} : {error}. Rien n'a été écrit.")
        return 2
    for note in notes:
        print(note)
    print(summary(added, recorded, args.nlu))
    if not added:
        return 0

    interactive_mode = not args.decisions
    if not args.sans_controle:
        check = True
        if interactive_mode:
            import questionary

            check = questionary.confirm("Contrôle rapide de la qualité avant/après (~15 s) ?", default=True).ask()
        if check:
            print(quality(kb, before, added))
            hint = bench_crossval_hint()
            if hint:
                print(hint)
    if interactive_mode:
        import questionary

        if questionary.confirm("Ré-entraîner le bot maintenant (make train, quelques minutes) ?", default=False).ask():
            return subprocess.call(["make", "train"], cwd=ROOT)
        print("Pensez à ré-entraîner (make train) puis à redémarrer le bot pour que ces exemples servent.")
    else:
        print("Exemples ajoutés : ré-entraînez le bot (make train) pour qu'ils servent.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
