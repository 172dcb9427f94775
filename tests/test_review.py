"""`make review DECISIONS=file`: decisions turned into training data, on scratch copies of the data."""

import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot.knowledge import default_kb
from bot.store import Store, utcnow
from maintenance import decisions, grouping, nlu_file, quickcheck, review
from tests.test_grouping import CHATTER, GIBBERISH, HDS, NEAR

ROOT = Path(__file__).resolve().parents[1]
KB = default_kb()


@pytest.fixture
def scratch(tmp_path):
    """A copy of the training data and domain, a store holding the synthetic log, a history file."""
    (tmp_path / "data").mkdir()
    for name in ("nlu.yml", "rules.yml", "stories.yml"):
        shutil.copy(ROOT / "data" / name, tmp_path / "data" / name)
    shutil.copy(ROOT / "domain.yml", tmp_path / "domain.yml")
    url = f"sqlite:///{tmp_path / 'faq.db'}"
    store = Store(url)
    now = utcnow()
    for i, q in enumerate(HDS + NEAR + GIBBERISH + CHATTER):
        store.record_unanswered(f"u{i}", q.text, q.kind, q.candidates, at=now - timedelta(minutes=10 + i))
    store.dispose()
    return {"root": tmp_path, "url": url, "nlu": tmp_path / "data" / "nlu.yml", "history": tmp_path / "history.yml"}


def _groups(scratch):
    store = Store(scratch["url"])
    try:
        return review.pending_groups(
            store, grouping.default_grouper(nlu_file=scratch["nlu"]), decisions.load(scratch["history"])
        )
    finally:
        store.dispose()


def _run(scratch, decisions_csv, *extra):
    return review.main(
        [
            "--url",
            scratch["url"],
            "--decisions",
            str(decisions_csv),
            "--nlu",
            str(scratch["nlu"]),
            "--historique",
            str(scratch["history"]),
            "--sans-controle",
            *extra,
        ]
    )


def _decisions_file(scratch, groups):
    near = next(g for g in groups if g.verdict == grouping.NEAR_MISS)
    gibberish = next(g for g in groups if grouping.normalise(GIBBERISH[0].text) in g.keys)
    path = scratch["root"] / "decisions.csv"
    path.write_text(
        "groupe;question;decision\n"
        f"{near.id};;qhn_cout_certification\n"
        f";{HDS[2].text};hors_sujet\n"  # a question names its group
        f"{gibberish.id};;ignorer\n",
        encoding="utf-8",
    )
    return path, near, gibberish


def test_review_appends_the_expected_yaml_and_the_data_stays_valid(scratch, capsys):
    original = scratch["nlu"].read_text(encoding="utf-8")
    groups = _groups(scratch)
    path, near, gibberish = _decisions_file(scratch, groups)
    hds = next(g for g in groups if grouping.normalise(HDS[2].text) in g.keys)
    assert _run(scratch, path) == 0
    printed = capsys.readouterr().out
    assert "5 exemple(s) ajouté(s)" in printed and "3 décision(s) enregistrée(s)" in printed

    text = scratch["nlu"].read_text(encoding="utf-8")
    day = utcnow().strftime("%Y-%m-%d")
    new_near = [q for q, _ in near.questions]
    new_hds = [q for q, _ in hds.questions]
    # exactly these lines, inserted after the last example of each intent's block, nothing else touched
    expected = original.split("\n")
    for intent, examples, group in (("ask_qhn_cout_certification", new_near, near), ("out_of_scope", new_hds, hds)):
        after = _last_example_line(expected, intent)
        block = [f"    - {e}" for e in examples]
        block.append(
            f"  # make review {day}, groupe {group.id} : {len(examples)} exemple(s) ajouté(s) : " + " | ".join(examples)
        )
        expected[after + 1 : after + 1] = block
    assert text == "\n".join(expected)

    parsed = grouping.read_examples(scratch["nlu"])
    before = grouping.parse_examples(original)
    assert parsed["ask_qhn_cout_certification"] == before["ask_qhn_cout_certification"] + new_near
    assert parsed["out_of_scope"] == before["out_of_scope"] + new_hds
    assert {i: v for i, v in parsed.items() if i not in ("ask_qhn_cout_certification", "out_of_scope")} == {
        i: v for i, v in before.items() if i not in ("ask_qhn_cout_certification", "out_of_scope")
    }

    history = decisions.load(scratch["history"])
    assert [(d.group, d.decision, d.added) for d in history] == [
        (near.id, "ask_qhn_cout_certification", new_near),
        (hds.id, "out_of_scope", new_hds),
        (gibberish.id, "ignorer", []),
    ]
    assert history[2].questions == [grouping.key_hash(k) for k in gibberish.keys]

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "rasa",
            "data",
            "validate",
            "--fail-on-warnings",
            "--data",
            str(scratch["root"] / "data"),
            "--domain",
            str(scratch["root"] / "domain.yml"),
            "--config",
            str(ROOT / "config.yml"),
        ],
        cwd=scratch["root"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]


def _last_example_line(lines, intent):
    start = lines.index(f"- intent: {intent}")
    last = start + 1
    for i in range(start + 2, len(lines)):
        if lines[i].startswith("    - "):
            last = i
        elif lines[i].strip():
            break
    return last


def test_a_second_run_appends_nothing(scratch, capsys):
    path, near, _ = _decisions_file(scratch, _groups(scratch))
    assert _run(scratch, path) == 0
    after_first = scratch["nlu"].read_text(encoding="utf-8")
    history_first = scratch["history"].read_text(encoding="utf-8")
    capsys.readouterr()
    assert _run(scratch, path) == 0
    printed = capsys.readouterr().out
    assert scratch["nlu"].read_text(encoding="utf-8") == after_first
    assert scratch["history"].read_text(encoding="utf-8") == history_first
    assert f"groupe « {near.id} » : aucun groupe en attente" in printed and "0 exemple(s) ajouté(s)" in printed
    # the settled groups are not asked again; the chit-chat noise is still there, never decided
    assert {g.verdict for g in _groups(scratch)} == {grouping.NOISE}
    # even with the history lost, the same questions are not written twice
    scratch["history"].unlink()
    assert _run(scratch, path) == 0
    assert scratch["nlu"].read_text(encoding="utf-8") == after_first


def test_an_unknown_decision_writes_nothing(scratch, capsys):
    groups = _groups(scratch)
    path = scratch["root"] / "bad.csv"
    path.write_text(
        f"groupe,decision\n{groups[1].id},qhn_cout_certification\n{groups[0].id},pas_une_reponse\n", encoding="utf-8"
    )
    original = scratch["nlu"].read_text(encoding="utf-8")
    assert _run(scratch, path) == 2
    assert "décision inconnue « pas_une_reponse »" in capsys.readouterr().out
    assert scratch["nlu"].read_text(encoding="utf-8") == original and not scratch["history"].exists()


def test_questions_that_cannot_be_examples_are_left_out(tmp_path):
    nlu = tmp_path / "nlu.yml"
    shutil.copy(ROOT / "data" / "nlu.yml", nlu)
    assert nlu_file.clean("mon mail est [e-mail], rappelez-moi")[0] is None
    assert nlu_file.clean("/greet")[0] is None and nlu_file.clean("  ?! ")[0] is None
    assert nlu_file.clean("  tarif\n\tQHN  ") == ("tarif QHN", "")
    existing = grouping.read_examples(nlu)["ask_qhn_cout_certification"][0]
    added = nlu_file.append(
        nlu,
        [
            nlu_file.Addition(
                "ask_qhn_cout_certification",
                [existing.upper() + " !", "[numéro] qhn", "tarif QHN", "Tarif QHN ?"],
                "test",
            )
        ],
    )
    assert added == {"ask_qhn_cout_certification": ["tarif QHN"]}
    with pytest.raises(nlu_file.NluFileError):
        nlu_file.append(nlu, [nlu_file.Addition("ask_nope", ["une question"], "test")])


def test_template_lists_the_groups_to_decide(scratch, capsys):
    out = scratch["root"] / "modele.csv"
    assert (
        review.main(
            [
                "--url",
                scratch["url"],
                "--modele",
                str(out),
                "--nlu",
                str(scratch["nlu"]),
                "--historique",
                str(scratch["history"]),
            ]
        )
        == 0
    )
    rows = out.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0] == "groupe;decision;verdict;fois;exemples"
    assert len(rows) == 3  # the near miss (its answer proposed) and the new topic; noise left out
    assert any(";qhn_cout_certification;formulation proche;2;" in r for r in rows)


def test_quick_check_before_and_after():
    examples = grouping.read_examples()
    new = {
        "ask_qhn_cout_certification": [
            "la certification QHN coûte combien ?",
            "budget certif QHN",
            "quel prix pour l'audit QHN",
        ],
        "out_of_scope": ["quelles étapes pour la certification HDS de notre hébergeur ?"],
    }
    result = quickcheck.compare(KB, examples, new)
    scored = sum(len(v) for i, v in examples.items() if i == "out_of_scope" or KB.answer_for_intent(i))
    assert result["existants_avant"].total == result["existants_apres"].total == scored
    assert result["nouveaux_avant"].total == result["nouveaux_apres"].total == 4
    assert result["existants_avant"].pct("juste") > 70  # a sane stand-in: most examples answered right
    text = quickcheck.render(result)
    assert text.startswith("Contrôle rapide (approximation") and "ce n'est pas le modèle du bot" in text
    assert "Exemples déjà présents, après" in text and "Questions ajoutées, avant" in text


class _Prompt:
    def __init__(self, value):
        self.value = value

    def ask(self):
        return self.value


def test_interactive_session(scratch, monkeypatch, capsys):
    """The terminal session, its prompts answered by a script: the near miss goes to the proposed
    answer with one question unticked, the new topic to out_of_scope; no retraining unless asked."""
    import questionary

    offered = []

    def select(message, choices, **_):
        offered.append((message, [(c.title, c.value) for c in choices]))
        values = [c.value for c in choices]
        if message.startswith("À quelle réponse"):
            return _Prompt(values[0] if len(offered) == 2 else "out_of_scope")
        return _Prompt(None)

    def checkbox(message, choices, **_):
        assert all(c.checked for c in choices)
        return _Prompt([c.value for c in choices][:1])

    confirms = []

    def confirm(message, default=True, **_):
        confirms.append(message)
        return _Prompt(False)

    monkeypatch.setattr(questionary, "select", select)
    monkeypatch.setattr(questionary, "checkbox", checkbox)
    monkeypatch.setattr(questionary, "confirm", confirm)
    monkeypatch.setattr(review.subprocess, "call", lambda *a, **k: pytest.fail("retrained without being asked"))

    class TTY:
        def isatty(self):
            return True

    monkeypatch.setattr(review.sys, "stdin", TTY())
    groups = [g for g in _groups(scratch) if g.verdict != grouping.NOISE]
    assert (
        review.main(["--url", scratch["url"], "--nlu", str(scratch["nlu"]), "--historique", str(scratch["history"])])
        == 0
    )
    printed = capsys.readouterr().out
    noise = len([g for g in _groups(scratch) if g.verdict == grouping.NOISE])
    assert noise >= 3  # gibberish and chit-chat, never asked
    assert f"2 groupe(s) de questions à revoir ({noise} groupe(s) de bruit laissés de côté" in printed
    # the near miss's menu starts with the proposed answer; every menu offers the other ways out
    near_menu = offered[1][1]
    title = KB.answer("qhn_cout_certification").title
    assert near_menu[0] == (f"Réponse proposée : {title}", "ask_qhn_cout_certification")
    assert [v for _, v in near_menu[-5:]] == ["__other", "out_of_scope", "ignorer", "passer", "__stop"]
    parsed = grouping.read_examples(scratch["nlu"])
    near, hds = groups[1], groups[0]
    assert parsed["ask_qhn_cout_certification"][-1] == near.questions[0][0]
    assert near.questions[1][0] not in parsed["ask_qhn_cout_certification"]  # unticked
    assert parsed["out_of_scope"][-1] == hds.questions[0][0] and hds.questions[1][0] not in parsed["out_of_scope"]
    assert [d.decision for d in decisions.load(scratch["history"])] == ["out_of_scope", "ask_qhn_cout_certification"]
    assert confirms == [
        "Contrôle rapide de la qualité avant/après (~15 s) ?",
        "Ré-entraîner le bot maintenant (make train, quelques minutes) ?",
    ]
    assert "Pensez à ré-entraîner (make train)" in printed
