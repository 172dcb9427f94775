"""How the cost of a message grows: with the length of a conversation, and with the size of the FAQ.

    python -m bench.growth                  # both parts, printed as Markdown (make bench runs them too)
    python -m bench.growth --length-only    # one long conversation on models/faq.tar.gz
    python -m bench.growth --sizes 100      # knowledge bases of 20 (the seed) and 100 answers

(a) Conversation length. One conversation of LENGTH messages, sent one after the other on a bot
already warm: a fixed cycle of ten kinds (greeting, clicks on the buttons of the previous reply,
free questions, the "Oui" of the feedback), so that messages 1 to 10 and 191 to 200 have the same
mix. Rasa reloads the session's events from its tracker store and replays them at every message:
the 200th message carries ~1,400 events. The stock server (in memory) gets the same messages.

(b) FAQ size. Knowledge bases of 100 and 300 answers are built in a temp copy of the project: the
20 answers of bot/data/faq.yml, then synthetic answers (facet values drawn among the existing
facets, so that the guided tree has to ask more questions; a title, a text; EXAMPLES_PER_ANSWER NLU
examples each, as many as the seed's answers have on average, from templates over a vocabulary of their
own, each with one of a few openings).
`maintenance.sync` writes domain.yml and data/rules.yml there; each bot is trained (`addons.cli train`,
empty cache, timed), started by `ops.serve` from the copy and measured like ours in bench/run.py:
p50 over conversations one at a time, peak memory of the Rasa server; and the tree's deepest answer
in clicks (breadth-first over the buttons from the greeting, as tests/test_tree.py checks for the
seed) with the longest list of titles a path ends on when a value is chosen at every question.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import aiohttp
import yaml

from bench import load
from bench.common import HELDOUT, PYTHON, ROOT, UNLIMITED, children, cmdline, env, evaluation_set, free_port, log, start

LENGTH = 200
QUICK_LENGTH = 30
SIZES = (20, 100, 300)


def _seed_examples_per_answer() -> int:
    """The mean number of examples of the seed's FAQ intents in data/nlu.yml."""
    from bot.wording import read_examples

    counts = [len(lines) for intent, lines in read_examples().items() if intent.startswith("ask_")]
    return round(sum(counts) / len(counts))


EXAMPLES_PER_ANSWER = _seed_examples_per_answer()
CONVERSATIONS = 30  # per size, one at a time (after 5 of warm-up)
PROJECT_FILES = ("config.yml", "domain.yml", "endpoints.yml", "credentials.yml")
PROJECT_FOLDERS = ("actions", "addons", "bot", "ops", "maintenance", "data")

# the ten kinds of a cycle: "click" takes a button of the previous reply (a question if it has none)
CYCLE = ("greet", "click", "click", "question", "feedback", "question", "click", "question", "feedback", "question")


# --- (a) conversation length ---------------------------------------------------------------


@dataclass
class LengthResult:
    system: str
    seconds: List[float] = field(default_factory=list)  # per message, in order
    kinds: List[str] = field(default_factory=list)
    errors: int = 0
    events: Optional[int] = None  # events in the session after the last message (ours)

    def p50_ms(self, start: int, stop: int) -> float:
        values = self.seconds[start:stop]
        return statistics.median(values) * 1000 if values else float("nan")

    def figures(self) -> Dict[str, float]:
        n = len(self.seconds)
        return {
            "messages": n,
            "errors": self.errors,
            "p50_first_10_ms": self.p50_ms(0, 10),
            "last_ms": self.seconds[-1] * 1000 if n else float("nan"),
            "p50_last_10_ms": self.p50_ms(n - 10, n),
            "events": self.events,
        }


async def _long(url: str, script: Optional[List[str]], length: int, questions: Sequence[str], seed: int):
    rng = random.Random(seed)
    sender = f"growth-{uuid.uuid4().hex}"
    result, sent = LengthResult(""), []
    timeout = aiohttp.ClientTimeout(total=load.TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        replies: Optional[list] = None
        for index in range(length):
            kind = CYCLE[index % len(CYCLE)]
            if script is not None:
                message = script[index]
            elif kind == "greet":
                message = rng.choice(load.GREETINGS)
            elif kind == "click" and load._buttons(replies):
                message = rng.choice(load._buttons(replies))["payload"]
            elif kind == "feedback":
                yes = [b["payload"] for b in load._buttons(replies) if b.get("title") == "Oui"]
                message = yes[0] if yes else "Oui"
            else:
                kind = "question" if kind == "click" else kind
                message = rng.choice(questions)
            replies, seconds, error = await load._post(session, url, sender, message)
            sent.append(message)
            result.seconds.append(seconds)
            result.kinds.append(kind)
            result.errors += bool(error)
    return result, sent, sender


def conversation_length(
    ours_url: str,
    stock_url: Optional[str],
    questions: Sequence[str],
    length: int = LENGTH,
    tracker_db: Optional[Path] = None,
) -> Dict[str, LengthResult]:
    """One conversation of `length` messages on our bot, replayed on the stock server."""
    out = {}
    ours, script, sender = asyncio.run(_long(ours_url, None, length, questions, seed=4242))
    ours.system = "ours"
    if tracker_db is not None and tracker_db.exists():
        ours.events = _session_events(tracker_db, sender)
    out["ours"] = ours
    if stock_url:
        theirs, _, _ = asyncio.run(_long(stock_url, script, length, questions, seed=0))
        theirs.system = "stock"
        out["stock"] = theirs
    return out


def _session_events(db: Path, sender: str) -> Optional[int]:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as connection:
            rows = connection.execute(
                "SELECT type_name FROM events WHERE sender_id = ? ORDER BY id", (sender,)
            ).fetchall()
    except sqlite3.Error:
        return None
    count = 0
    for (type_name,) in rows:
        count = 1 if type_name == "session_started" else count + 1
    return count


# --- (b) FAQ size --------------------------------------------------------------------------

NOUNS = (
    "attestation", "convention", "habilitation", "homologation", "déclaration", "dérogation", "subvention",
    "candidature", "revue", "mise à jour", "migration", "hébergement", "sauvegarde", "journalisation",
    "messagerie", "signature", "facturation", "authentification", "archivage", "pseudonymisation",
    "notification", "consentement", "traçabilité", "réversibilité", "portabilité", "supervision",
    "télétransmission", "interconnexion", "synchronisation", "recette",
)  # fmt: skip
QUALIFIERS = (
    "du certificat serveur", "des flux de biologie", "du registre national", "de la carte CPS",
    "du répertoire partagé", "des comptes rendus", "de l'annuaire santé", "du dossier pharmaceutique",
    "des ordonnances numériques", "de l'identifiant national", "du volet social", "des images DICOM",
    "de la messagerie sécurisée", "du carnet de vaccination", "des données de remboursement",
    "du module de prescription", "de la téléconsultation", "du portail patient", "des équipements connectés",
    "du socle technique", "de l'environnement de test", "du lot de conformité", "des preuves d'usage",
    "du contrat de service", "de la plateforme régionale", "des jeux de valeurs", "du profil FHIR",
    "de l'outil de supervision", "du guichet éditeur", "des habilitations d'accès",
)  # fmt: skip
TEMPLATES = (
    "comment fonctionne {t} ?", "qu'est-ce que {t}", "{t} : quelles étapes ?", "qui s'occupe de {t} ?",
    "quels délais pour {t} ?", "{t} est-elle obligatoire ?", "où trouver la documentation sur {t}",
    "quel coût pour {t} ?", "comment demander {t} ?", "{t} pour notre logiciel", "besoin d'aide sur {t}",
    "à quoi sert {t} ?", "{t} en pratique", "quelles pièces fournir pour {t} ?", "{t}, c'est quoi",
    "on doit faire {t} avant quand ?", "infos sur {t} svp", "quelle procédure pour {t} ?",
    "faut-il un accord pour {t} ?", "{t} et le référencement", "qui contacter au sujet de {t} ?",
    "est-ce que {t} concerne les éditeurs ?", "modalités de {t}", "{t} : quels prérequis ?",
    "peut-on déléguer {t} ?", "combien de temps prend {t} ?", "{t} : où en est-on ?",
    "y a-t-il un guide pour {t} ?", "conditions de {t}", "que faut-il savoir sur {t} ?",
    "comment se passe {t} ?", "démarche pour {t}",
)  # fmt: skip
OPENINGS = ("", "bonjour, ", "svp ", "une question : ", "nous sommes éditeurs, ", "bjr ", "dites-moi, ")
PHRASINGS = tuple(opening + template for opening in OPENINGS for template in TEMPLATES)
assert len(PHRASINGS) >= EXAMPLES_PER_ANSWER, "more openings or templates: the seed's answers have more examples"


def synthetic_kb(seed_doc: dict, total: int, rng: random.Random) -> Tuple[dict, Dict[str, List[str]]]:
    """The seed's knowledge base with synthetic answers up to `total`, and their NLU examples."""
    doc = json.loads(json.dumps(seed_doc))  # deep copy
    facets = {f["id"]: [o["id"] for o in f["options"]] for f in doc["facets"]}
    topics = [f"la {n} {q}" for n in NOUNS for q in QUALIFIERS]
    rng.shuffle(topics)
    examples: Dict[str, List[str]] = {}
    for index in range(total - len(doc["answers"])):
        topic = topics[index]
        offre = rng.choice(facets["offre"])
        values = {"offre": [offre], "thematique": rng.sample(facets["thematique"], rng.choice((1, 2)))}
        if offre == "segur":
            values["couloir"] = rng.sample(facets["couloir"], rng.choice((1, 2)))
            values["dispositif"] = [rng.choice(facets["dispositif"])]
        else:
            values["produit"] = [rng.choice(facets["produit"])]
        answer_id = f"synth_{index + 1:03d}"
        doc["answers"].append(
            {
                "id": answer_id,
                "title": f"Comment se passe {topic} ?",
                "title_source": "ours",
                "url": "https://industriels.esante.gouv.fr/faq-des-industriels",
                "facets": values,
                "text": f"Réponse synthétique n° {index + 1} du banc d'essai au sujet de {topic}.",
            }
        )
        examples[f"ask_{answer_id}"] = [t.format(t=topic) for t in rng.sample(PHRASINGS, EXAMPLES_PER_ANSWER)]
    return doc, examples


def copy_project(folder: Path, kb_doc: Optional[dict], examples: Dict[str, List[str]]) -> Path:
    """A copy of the project's code and data in `folder`, with `kb_doc` as bot/data/faq.yml."""
    folder.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "static")
    for name in PROJECT_FOLDERS:
        shutil.copytree(ROOT / name, folder / name, ignore=ignore)
    if (ROOT / "ops" / "web" / "static").exists():
        shutil.copytree(ROOT / "ops" / "web" / "static", folder / "ops" / "web" / "static")
    for name in PROJECT_FILES:
        shutil.copyfile(ROOT / name, folder / name)
    if (ROOT / "node_modules").exists():
        (folder / "node_modules").symlink_to(ROOT / "node_modules")
    (folder / "var").mkdir(exist_ok=True)
    if kb_doc is not None:
        (folder / "bot" / "data" / "faq.yml").write_text(
            yaml.safe_dump(kb_doc, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8"
        )
    if examples:
        blocks = "".join(
            f"\n- intent: {intent}\n  examples: |\n" + "".join(f"    - {e}\n" for e in lines)
            for intent, lines in examples.items()
        )
        with open(folder / "data" / "nlu.yml", "a", encoding="utf-8") as handle:
            handle.write(blocks)
    subprocess.run(
        [PYTHON, "-m", "maintenance.sync"],
        cwd=folder,
        env=env(PYTHONPATH=str(folder)),
        check=True,
        capture_output=True,
        timeout=120,
    )
    return folder


def tree_depth(faq_file: Path) -> Dict[str, int]:
    """Fewest clicks to each answer from the greeting (bot.tree.reach, as tests/test_tree.py)."""
    from bot.knowledge import load as load_kb
    from bot.tree import reach

    kb = load_kb(faq_file)
    found = reach(kb)
    return {
        "answers": len(kb.answers),
        "reached": len(found.clicks),
        "deepest_clicks": max(found.clicks.values()) if found.clicks else 0,
        "longest_list": found.longest_list,
    }


@dataclass
class SizeResult:
    answers: int
    examples: int
    tree: Dict[str, int]
    training_s: Optional[float] = None
    training_peak_mb: Optional[float] = None
    model_mb: Optional[float] = None
    p50_ms: Optional[float] = None
    p95_ms: Optional[float] = None
    messages: int = 0
    errors: int = 0
    rasa_peak_mb: Optional[float] = None
    first_answer_s: Optional[float] = None
    note: str = ""


def _train(folder: Path, log_path: Path) -> Tuple[Path, float, float]:
    import os

    cache = folder / ".cache-train"
    command = [PYTHON, "-m", "addons.cli", "train", "--out", str(folder / "models"), "--fixed-model-name", "faq"]
    with open(log_path, "w") as handle:
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=folder,
            env=env(PYTHONPATH=str(folder), RASA_CACHE_DIRECTORY=str(cache)),
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.monotonic() - started
    model = folder / "models" / "faq.tar.gz"
    if os.waitstatus_to_exitcode(status) != 0 or not model.exists():
        raise RuntimeError(f"training failed: see {log_path}")
    return model, seconds, usage.ru_maxrss * 1024 / 1e6


def _serve(folder: Path, model: Path, log_path: Path):
    port = free_port()
    databases = folder / "databases"
    databases.mkdir(exist_ok=True)
    environ = env(
        PYTHONPATH=str(folder),
        FAQ_STORE_URL=f"sqlite:///{databases / 'faq.db'}",
        FAQ_TRACKER_STORE_URL=f"sqlite:///{databases / 'tracker.db'}",
        **UNLIMITED,
    )
    command = [PYTHON, "-m", "ops.serve", "--model", str(model), "--port", str(port)]
    command += ["--actions-port", str(free_port()), "--web-port", str(free_port())]
    server = start("ours", command, f"http://127.0.0.1:{port}", log_path, folder, environ)
    for pid in children(server.process.pid):
        line = cmdline(pid)
        if " run " in line and "addons.cli" in line:
            server.pids["Rasa server"] = pid
    return server


def faq_size(
    work: Path,
    sizes: Sequence[int] = SIZES,
    questions: Sequence[str] = (),
    train: bool = True,
    conversations: int = CONVERSATIONS,
) -> List[SizeResult]:
    seed_doc = yaml.safe_load((ROOT / "bot" / "data" / "faq.yml").read_text(encoding="utf-8"))
    seed_answers = len(seed_doc["answers"])
    results = []
    for size in sizes:
        folder = work / f"faq-{size}"
        doc, examples = (None, {}) if size <= seed_answers else synthetic_kb(seed_doc, size, random.Random(size))
        copy_project(folder, doc, examples)
        with open(folder / "data" / "nlu.yml", encoding="utf-8") as handle:
            nlu_examples = sum(1 for line in handle if line.strip().startswith("- "))
        result = SizeResult(
            size if doc else seed_answers, nlu_examples, tree_depth(folder / "bot" / "data" / "faq.yml")
        )
        results.append(result)
        log(f"FAQ of {result.answers} answers: tree {result.tree}")
        if not train:
            continue
        log(f"training the bot of {result.answers} answers ({nlu_examples} NLU examples)")
        model, result.training_s, result.training_peak_mb = _train(folder, work / f"train-{size}.log")
        result.model_mb = model.stat().st_size / 1e6
        log(f"trained in {result.training_s:.0f} s, model {result.model_mb:.0f} MB")
        server = _serve(folder, model, work / f"server-{size}.log")
        try:
            result.first_answer_s = server.first_answer_s
            load.run_live("ours", server.url, 1, 5, questions, seed=999)
            measured = load.run_live("ours", server.url, 1, conversations, questions, seed=1)
            result.p50_ms = measured.percentile(50) * 1000
            result.p95_ms = measured.percentile(95) * 1000
            result.messages = len(measured.samples)
            result.errors = len(measured.errors)
            result.rasa_peak_mb = server.peaks().get("Rasa server")
            log(f"  p50 {result.p50_ms:.0f} ms, Rasa server peak {result.rasa_peak_mb or 0:.0f} MB")
        finally:
            server.stop()
    return results


# --- report ---------------------------------------------------------------------------------


def length_markdown(results: Dict[str, LengthResult]) -> List[str]:
    if not results:
        return []
    lines = [
        "| system | messages | p50 of messages 1–10 | last message | p50 of the last ten | last / first ten | "
        "events in the session at the end | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for key, name in (("ours", "(c) our bot"), ("stock", "(b) stock Rasa")):
        r = results.get(key)
        if r is None:
            continue
        f = r.figures()
        lines.append(
            f"| {name} | {f['messages']} | {f['p50_first_10_ms']:.1f} ms | {f['last_ms']:.1f} ms | "
            f"{f['p50_last_10_ms']:.1f} ms | {f['last_ms'] / f['p50_first_10_ms']:.2f} × "
            f"(last ten: {f['p50_last_10_ms'] / f['p50_first_10_ms']:.2f} ×) | "
            f"{'' if f['events'] is None else f['events']} | {f['errors']} |"
        )
    return lines


def size_markdown(results: List[SizeResult]) -> List[str]:
    if not results:
        return []
    base = results[0].p50_ms

    def fmt(value, spec="{:.0f}", unit=""):
        return "–" if value is None else spec.format(value) + unit

    lines = [
        "| answers | NLU examples | training | model size | p50, 1 conversation | p50 / seed's | Rasa server peak memory "
        "| deepest answer (clicks) | longest list of titles | errors |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.p50_ms / base:.2f} ×" if r.p50_ms and base else "–"
        lines.append(
            f"| {r.answers} | {r.examples} | {fmt(r.training_s, unit=' s')} | {fmt(r.model_mb, unit=' MB')} | "
            f"{fmt(r.p50_ms, '{:.1f}', ' ms')} | {ratio} | {fmt(r.rasa_peak_mb, unit=' MB')} | "
            f"{r.tree['deepest_clicks']} ({r.tree['reached']}/{r.tree['answers']} reached) | "
            f"{r.tree['longest_list']} | {r.errors} |"
        )
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--length-only", action="store_true")
    parser.add_argument("--sizes-only", action="store_true")
    parser.add_argument("--length", type=int, default=LENGTH)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES[1:]))
    parser.add_argument("--no-train", action="store_true", help="tree figures only")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    questions = [q.text for q in evaluation_set() + evaluation_set(path=HELDOUT)]
    work = Path(tempfile.mkdtemp(prefix="faq-bench-growth-"))
    out: List[str] = []
    try:
        if not args.sizes_only:
            folder = copy_project(work / "length", None, {})
            server = _serve(folder, ROOT / "models" / "faq.tar.gz", work / "server-length.log")
            try:
                load.run_live("ours", server.url, 1, 5, questions, seed=999)
                results = conversation_length(
                    server.url, None, questions, args.length, folder / "databases" / "tracker.db"
                )
            finally:
                server.stop()
            out += ["Conversation length:", ""] + length_markdown(results) + [""]
            print("\n".join(out), flush=True)
        if not args.length_only:
            sizes = [SIZES[0]] + [s for s in args.sizes if s != SIZES[0]]
            results = faq_size(work, sizes, questions, train=not args.no_train)
            print("\n".join(["FAQ size:", ""] + size_markdown(results)), flush=True)
    finally:
        if args.keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
