"""Baseline (b): a stock Rasa 3.6 project on our data, generated at run time into a temp folder.

- config.yml: the file `rasa init` writes for Rasa 3.6 (taken from the installed Rasa), pipeline
  and policies commented out, so Rasa trains its default pipeline and policies. Only `language`
  is set to `fr` (our data is French). In quick mode the default pipeline and policies are written
  out with fewer epochs, so that CI can check the benchmark runs in a few minutes.
- data/nlu.yml: our training data, unchanged (a copy of data/nlu.yml).
- domain.yml: every intent of data/nlu.yml; each `ask_<id>` intent answers with a response that
  holds the answer's text from bot/data/faq.yml; the other intents get a plain response.
- data/rules.yml: one rule per intent, and the standard `nlu_fallback` rule that asks to rephrase.
No custom action, in-memory tracker store, REST channel: what a Rasa user gets out of the box.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Dict, List, Optional

import rasa
import yaml

from bench.common import NLU_FILE, ROOT, training_examples
from bot.knowledge import default_kb

RASA_DIR = Path(rasa.__file__).parent
INIT_CONFIG = RASA_DIR / "cli" / "initial_project" / "config.yml"
DEFAULT_CONFIG = RASA_DIR / "engine" / "recipes" / "config_files" / "default_config.yml"
QUICK_EPOCHS = 5

FALLBACK_TEXT = "Désolé, je n'ai pas compris. Pouvez-vous reformuler votre question ?"
PLAIN_TEXTS = {
    "greet": "Bonjour ! Posez votre question sur la FAQ des industriels.",
    "goodbye": "Au revoir !",
    "thank": "Avec plaisir !",
    "affirm": "Merci pour votre retour.",
    "deny": "Merci pour votre retour.",
    "out_of_scope": "Désolé, cette question sort du périmètre de la FAQ des industriels.",
}


SEEDS = (1, 2, 3)  # stock Rasa trains differently on every run: the figures of record take three seeds
SEEDED = ("DIETClassifier", "ResponseSelector", "TEDPolicy", "UnexpecTEDIntentPolicy")


def config_text(quick: bool, seed: Optional[int] = None) -> str:
    """The stock config. With a seed: Rasa's default pipeline and policies written out as they are,
    with only `random_seed` set on the trained components (so that a run can be repeated)."""
    if not quick and seed is None:
        text = INIT_CONFIG.read_text(encoding="utf-8")
        assert "\nlanguage: en\n" in text, f"unexpected {INIT_CONFIG}"
        return text.replace("\nlanguage: en\n", "\nlanguage: fr\n")
    config = yaml.safe_load(DEFAULT_CONFIG.read_text(encoding="utf-8"))
    config["language"] = "fr"
    for component in config["pipeline"] + config["policies"]:
        if quick and "epochs" in component:
            component["epochs"] = QUICK_EPOCHS
        if seed is not None and component["name"] in SEEDED:
            component["random_seed"] = seed
    header = (
        "# Quick mode: Rasa's default pipeline and policies with fewer epochs (not the figures of record)\n"
        if quick
        else f"# Rasa's default pipeline and policies, as `rasa init` leaves them, with random_seed {seed}\n"
    )
    return header + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def domain_and_rules() -> Dict[str, dict]:
    kb = default_kb()
    intents = list(training_examples())
    our_domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    responses: Dict[str, List[dict]] = {"utter_please_rephrase": [{"text": FALLBACK_TEXT}]}
    rules = []
    for intent in intents:
        answer = kb.answer_for_intent(intent)
        text = answer.text if answer else PLAIN_TEXTS.get(intent, f"D'accord ({intent.replace('_', ' ')}).")
        responses[f"utter_{intent}"] = [{"text": text}]
        rules.append({"rule": f"{intent}", "steps": [{"intent": intent}, {"action": f"utter_{intent}"}]})
    rules.append(
        {
            "rule": "ask to rephrase when the NLU is unsure",
            "steps": [{"intent": "nlu_fallback"}, {"action": "utter_please_rephrase"}],
        }
    )
    domain = {
        "version": "3.1",
        "intents": intents,
        # the entities our button payloads carry, so that the same payloads parse the same way
        "entities": list(our_domain.get("entities") or []),
        "responses": responses,
        "session_config": {"session_expiration_time": 60, "carry_over_slots_to_new_session": True},
    }
    return {"domain": domain, "rules": {"version": "3.1", "rules": rules}}


def write_project(folder: Path, quick: bool, seed: Optional[int] = None) -> str:
    """Write the stock project into `folder`; returns a fingerprint of its content."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    generated = domain_and_rules()
    files = {
        folder / "config.yml": config_text(quick, seed),
        folder / "domain.yml": yaml.safe_dump(generated["domain"], sort_keys=False, allow_unicode=True),
        folder / "data" / "rules.yml": yaml.safe_dump(generated["rules"], sort_keys=False, allow_unicode=True),
        folder / "credentials.yml": "rest:\n",
    }
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    shutil.copyfile(NLU_FILE, folder / "data" / "nlu.yml")
    digest = hashlib.sha256()
    for path in sorted(list(files) + [folder / "data" / "nlu.yml"]):
        digest.update(path.read_bytes())
    digest.update(rasa.__version__.encode())
    return digest.hexdigest()[:16]
