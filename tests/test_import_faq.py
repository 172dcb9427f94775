"""`make import-faq SCRAPE=file [APPLY=1]`, and drafts: left out of the bot, listed with what they miss."""

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml

from bot import knowledge
from bot.knowledge import default_kb
from maintenance import grouping, import_faq, sync

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "tests" / "data" / "seed.txt"
FEEDBACK = import_faq.FEEDBACK_LINE
KB = default_kb()

EDITED_ID, REMOVED_ID = "qhn_cout_certification", "label_mcs_communication"
OLD_WORDS = "est fixé par l’organisme certificateur"
NEW_WORDS = "est fixé librement par l’organisme certificateur"
NEW_ANSWER = (
    "Les éditeurs peuvent demander un rendez-vous technique avec l’équipe Convergence.\n"
    "La demande se fait depuis l’espace « Nous contacter » du Portail Industriels."
)


def _cli(*args, cwd=ROOT):
    result = subprocess.run(
        [sys.executable, "-m", "maintenance.import_faq", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _edited_capture(tmp_path) -> Path:
    """The seed with one answer edited, one removed and one added (before the last answer)."""
    seed = SEED.read_text(encoding="utf-8")
    edited_text = KB.answer(EDITED_ID).text
    assert OLD_WORDS in edited_text
    removed_text = KB.answer(REMOVED_ID).text
    capture = seed.replace(edited_text, edited_text.replace(OLD_WORDS, NEW_WORDS), 1)
    capture = capture.replace(removed_text + "\n" + FEEDBACK + "\n", "", 1)
    last = KB.answers[-1].text
    capture = capture.replace(last + "\n" + FEEDBACK, NEW_ANSWER + "\n" + FEEDBACK + "\n" + last + "\n" + FEEDBACK, 1)
    assert capture.count(FEEDBACK) == seed.count(FEEDBACK)
    path = tmp_path / "capture.txt"
    path.write_text(capture, encoding="utf-8")
    return path


def test_the_seed_is_unchanged():
    out = _cli(SEED)
    assert out.rstrip("\n").split("\n")[-1] == "unchanged=20 changed=0 new=0 removed=0"
    assert "Attention" not in out


def test_an_edited_capture_is_reported_with_a_word_diff_and_nothing_written(tmp_path):
    before = (ROOT / "bot" / "data" / "faq.yml").read_bytes()
    out = _cli(_edited_capture(tmp_path))
    lines = out.rstrip("\n").split("\n")
    assert lines[-1] == "unchanged=18 changed=1 new=1 removed=1"
    assert any(line.startswith(f"modifiée : {EDITED_ID}") for line in lines)
    assert "est fixé {+librement+} par l’organisme certificateur" in out
    assert f"retirée du site : {REMOVED_ID}" in out
    assert "nouvelle : « Les éditeurs peuvent demander un rendez-vous technique" in out
    assert "Rien n'est écrit sans APPLY=1." in out
    assert (ROOT / "bot" / "data" / "faq.yml").read_bytes() == before


def test_apply_updates_the_text_verbatim_and_adds_one_draft(tmp_path):
    faq = tmp_path / "faq.yml"
    shutil.copy(ROOT / "bot" / "data" / "faq.yml", faq)
    original = faq.read_text(encoding="utf-8")
    capture = _edited_capture(tmp_path)
    out = _cli(capture, "--apply", "--faq", faq)
    assert out.rstrip("\n").split("\n")[-1] == "unchanged=18 changed=1 new=1 removed=1"

    doc = yaml.safe_load(faq.read_text(encoding="utf-8"))
    entries = {a["id"]: a for a in doc["answers"]}
    assert entries[EDITED_ID]["text"] == KB.answer(EDITED_ID).text.replace(OLD_WORDS, NEW_WORDS)
    drafts = [a for a in doc["answers"] if a.get("status") == "draft"]
    assert len(drafts) == 1 and drafts[0]["text"] == NEW_ANSWER
    assert (drafts[0]["title"], drafts[0]["facets"], drafts[0]["url"]) == ("", {}, doc["source"])
    assert REMOVED_ID in entries  # removed answers are reported, never deleted
    # every other answer and the rest of the file are untouched
    for answer in KB.answers:
        if answer.id != EDITED_ID:
            assert entries[answer.id]["text"] == answer.text
    changed = [line for line in faq.read_text(encoding="utf-8").split("\n") if line not in original.split("\n")]
    assert all(
        NEW_WORDS in line
        or line.strip() in NEW_ANSWER
        or "draft" in line
        or line.startswith("  ")
        or line.startswith("- id: brouillon_")
        for line in changed
    ), changed

    # the draft is left out of the bot: no answer, no intent, no button
    kb = knowledge.load(faq)
    assert [a.id for a in kb.answers] == [a.id for a in KB.answers]
    assert [d.id for d in kb.drafts] == [drafts[0]["id"]]
    assert kb.drafts[0].intent not in kb.intents
    assert import_faq.draft_lines(kb, grouping.read_examples()) == [
        f"brouillon {drafts[0]['id']} : manque titre (title), facettes (facets), au moins le type d'offre, "
        f"au moins 10 exemples NLU sous ask_{drafts[0]['id']}"
    ]
    domain = (ROOT / "domain.yml").read_text(encoding="utf-8")
    assert sync.rewrite(domain, "- {intent}", kb.intents) == sync.rewrite(domain, "- {intent}", KB.intents)

    # imported again: the site's texts are all there now (the draft included); the removed one stays reported
    again = _cli(capture, "--faq", faq)
    assert again.rstrip("\n").split("\n")[-1] == "unchanged=20 changed=0 new=0 removed=1"
    assert "(brouillon)" in again


def test_a_capture_without_answers_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n".join(f.question for f in KB.facets) + "\nrien\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "maintenance.import_faq", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "Capture illisible" in result.stdout


def test_word_diff_shows_only_the_change_with_context():
    old = " ".join(f"mot{i}" for i in range(40))
    new = old.replace("mot20", "nouveau")
    assert (
        import_faq.word_diff(old, new) == "… mot14 mot15 mot16 mot17 mot18 mot19 [-mot20-] {+nouveau+} "
        "mot21 mot22 mot23 mot24 mot25 mot26 …"
    )


# --- drafts ----------------------------------------------------------------------------


class DraftWarning(UserWarning):
    """A draft of bot/data/faq.yml still to fill in (listed in the warnings summary of `make test`)."""


def test_drafts_are_listed_with_what_they_miss():
    """Drafts are not failures: each one is listed (pytest's warnings summary) with what it misses.
    A draft that could never become an answer fails: no text, or the text of a published answer."""
    examples = grouping.read_examples()
    published = {a.text for a in KB.answers}
    for draft in KB.drafts:
        text = str(draft.entry.get("text") or "").rstrip("\n")
        assert text.strip(), f"brouillon {draft.id} sans texte"
        assert text not in published, f"brouillon {draft.id} : même texte que la réponse publiée"
    lines = import_faq.draft_lines(KB, examples)
    assert len(lines) == len(KB.drafts)
    warnings.simplefilter("always", DraftWarning)  # make test runs with PYTHONWARNINGS=ignore
    for line in lines:
        warnings.warn(DraftWarning(line))


def test_draft_listing_names_the_missing_fields(tmp_path):
    doc = yaml.safe_load((ROOT / "bot" / "data" / "faq.yml").read_text(encoding="utf-8"))
    doc["answers"].append(
        {
            "id": "brouillon_x",
            "status": "draft",
            "title": "",
            "title_source": "ours",
            "url": doc["source"],
            "facets": {"offre": ["nope"]},
            "text": NEW_ANSWER,
        }
    )
    kb = knowledge._parse(doc)
    assert len(kb.answers) == len(KB.answers) and kb.answer("brouillon_x") is None
    (draft,) = kb.drafts
    assert draft.missing(kb.facets) == ["titre (title)", "valeurs inconnues de offre : ['nope']"]
    examples = {"ask_brouillon_x": ["une question"] * 3}
    assert import_faq.draft_lines(kb, examples) == [
        "brouillon brouillon_x : manque titre (title), valeurs inconnues de offre : ['nope'], "
        "au moins 10 exemples NLU sous ask_brouillon_x"
    ]
    doc["answers"][-1].update(title="Rendez-vous technique Convergence", facets={"offre": ["convergence"]})
    assert knowledge._parse(doc).drafts[0].missing(kb.facets) == []
    assert import_faq.draft_lines(knowledge._parse(doc), {"ask_brouillon_x": ["q"] * 10}) == [
        "brouillon brouillon_x : complet, retirer « status: draft »"
    ]
    doc["answers"][-1]["status"] = "brouillon"
    with pytest.raises(knowledge.KnowledgeBaseError):
        knowledge._parse(doc)
    doc["answers"][-1].update(status="draft", id=KB.answers[0].id)
    with pytest.raises(knowledge.KnowledgeBaseError):
        knowledge._parse(doc)
