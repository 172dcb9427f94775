"""The cross-validation's bookkeeping (bench/crossval.py), on hand-made rankings: no training here.

The folds themselves are trained by `make bench`; what is checked here is that the decision is
replayed and scored as the bot would decide, and that the answer model is fitted and its threshold
chosen by the stated rule, each fold decided by a model fitted on the others.
"""

import dataclasses
import json
from collections import Counter

import pytest

from bench import crossval
from bench.crossval import Example, Predictions
from bot.matching import SIGNALS, AnswerModel

SURE_AT_85 = AnswerModel(tuple(1.0 if s == "best" else 0.0 for s in SIGNALS), 0.0, 0.85)


def test_folds_are_stratified_and_stable():
    examples = {"ask_a": [f"a{i}" for i in range(10)], "greet": [f"g{i}" for i in range(7)]}
    dealt = crossval.folds(examples, k=5)
    assert dealt == crossval.folds(examples, k=5)
    assert len(dealt) == 17
    for intent in examples:
        sizes = Counter(e.fold for e in dealt if e.intent == intent)
        assert max(sizes.values()) - min(sizes.values()) <= 1


def _predictions(rows):
    return Predictions("test", [Example(text, intent, 0) for text, intent, _ in rows], [r for _, _, r in rows])


ROWS = [
    (
        "quelles donnees dans mon espace sante",
        "ask_mes_donnees_disponibles",
        [("ask_mes_donnees_disponibles", 0.97), ("ask_mes_fonctionnalites", 0.01)],
    ),
    (
        "les fonctionnalites de mon espace sante",
        "ask_mes_fonctionnalites",
        [("ask_mes_donnees_disponibles", 0.88), ("ask_mes_fonctionnalites", 0.05)],
    ),  # wrong at 0.85 / 0.4
    (
        "combien coute la certification DMN",
        "out_of_scope",
        [("ask_qhn_cout_certification", 0.9), ("out_of_scope", 0.05)],
    ),  # the facet guard keeps it out
    ("bonjour", "greet", [("greet", 0.95), ("ask_mes_fonctionnalites", 0.01)]),
]


def test_replay_scores_right_wrong_asked_back_and_handled():
    tally = crossval.replay(_predictions(ROWS), SURE_AT_85)
    assert (tally.right, tally.wrong, tally.asked_back, tally.in_scope) == (1, 1, 0, 2)
    assert (tally.handled, tally.out_of_scope) == (2, 2)
    unguarded = crossval.replay(_predictions(ROWS), SURE_AT_85, guards=False)
    assert unguarded.handled == 1  # without the guards, the DMN question gets the QHN answer


def _labelled(n_per_fold: int = 12, folds: int = 5):
    """Rankings where the NLU's confidence tells right from wrong: right answers at 0.90-0.99, wrong
    ones and out-of-scope examples at 0.55-0.75 (the best candidate is another answer)."""
    examples, rankings = [], []
    for fold in range(folds):
        for i in range(n_per_fold):
            sure = 0.90 + 0.09 * i / n_per_fold
            unsure = 0.55 + 0.2 * i / n_per_fold
            rows = [
                (
                    "combien coute la certification qhn",
                    "ask_qhn_cout_certification",
                    "ask_qhn_cout_certification",
                    sure,
                ),
                ("quel cout pour la certification qhn", "ask_qhn_cout_certification", "ask_qhn_iso_9001_13485", unsure),
                ("la certification qhn coute combien", "out_of_scope", "ask_qhn_cout_certification", unsure),
            ]
            for text, intent, best, conf in rows:
                examples.append(Example(f"{text} {fold} {i}", intent, fold))
                rest = (1 - conf) / 3
                rankings.append(
                    [
                        (best, conf),
                        ("out_of_scope" if best != "out_of_scope" else "greet", rest),
                        ("greet", rest),
                        ("ask_mes_fonctionnalites", rest),
                    ]
                )
    return Predictions("test", examples, rankings)


def test_the_answer_model_answers_the_sure_and_keeps_wrong_answers_out():
    fitted = crossval.fit_answer_model(_labelled())
    assert fitted is not None
    assert (
        fitted.figures["wrong"] <= crossval.MAX_WRONG and fitted.figures["out_of_scope_handled"] >= crossval.MIN_HANDLED
    )
    assert fitted.figures["right"] == pytest.approx(0.5)  # every right candidate answered, no wrong one
    best = SIGNALS.index("best")
    assert fitted.model.weights[best] > 0  # the surer the NLU, the surer the model
    # the curve: the higher the threshold, the fewer answers, right or wrong
    rights = [figures["right"] for _, figures in fitted.curve]
    assert [t for t, _ in fitted.curve] == list(crossval.THRESHOLD_GRID)
    assert rights == sorted(rights, reverse=True) and rights[-1] < rights[0]


def test_the_threshold_is_chosen_on_held_out_probabilities():
    rows = crossval.cases(_labelled())
    probabilities = crossval.held_out_probabilities(rows)
    # each fold is scored by a model that never saw it: change one fold's labels, the others' scores stay
    flipped = [
        dataclasses.replace(c, right_candidate=not c.right_candidate) if c.example.fold == 0 else c for c in rows
    ]
    again = crossval.held_out_probabilities(flipped)
    assert [p for c, p in zip(rows, probabilities) if c.example.fold == 0] == pytest.approx(
        [p for c, p in zip(rows, again) if c.example.fold == 0]
    )
    assert [p for c, p in zip(rows, probabilities) if c.example.fold != 0] != pytest.approx(
        [p for c, p in zip(rows, again) if c.example.fold != 0]
    )
    # the same per-fold models decide the maintainers' grouping bench (bench/grouping.py)
    models = crossval.fold_models(rows, 0.8)
    assert sorted(models) == sorted({c.example.fold for c in rows})
    assert {m.threshold for m in models.values()} == {0.8}
    assert [models[c.example.fold].probability(c.signals) for c in rows if c.signals] == pytest.approx(
        [p for c, p in zip(rows, probabilities) if c.signals]
    )


def test_the_rule_takes_the_most_right_answers_among_admissible_thresholds():
    ok = {"right": 0.7, "wrong": 0.004, "asked_back": 0.296, "out_of_scope_handled": 0.975}
    more_but_wrong = {"right": 0.8, "wrong": 0.01, "asked_back": 0.19, "out_of_scope_handled": 0.98}
    more_but_leaky = {"right": 0.8, "wrong": 0.0, "asked_back": 0.2, "out_of_scope_handled": 0.96}
    assert crossval.choose([(0.5, more_but_wrong), (0.6, more_but_leaky), (0.9, ok), (0.95, ok)]) == (0.95, ok)
    assert crossval.choose([(0.5, more_but_wrong)]) is None


def test_write_stores_a_model_the_bot_loads(tmp_path):
    fitted = crossval.fit_answer_model(_labelled())
    path = crossval.write_answer_model(fitted, tmp_path / "answer_model.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert AnswerModel.from_json(doc) == fitted.model
    assert doc["fitted_on"]["classifier"] == crossval.deployed()


def test_an_ensemble_averages_two_rankings():
    a = _predictions([("x", "ask_mes_fonctionnalites", [("ask_mes_fonctionnalites", 0.8), ("greet", 0.2)])])
    b = _predictions([("x", "ask_mes_fonctionnalites", [("greet", 0.6), ("ask_mes_fonctionnalites", 0.4)])])
    merged = crossval.ensemble("a+b", a, b)
    [ranking] = merged.rankings
    assert [name for name, _ in ranking] == ["ask_mes_fonctionnalites", "greet"]
    assert [conf for _, conf in ranking] == pytest.approx([0.6, 0.4])


def test_unseen_examples_are_those_no_training_fold_nearly_repeats():
    examples = (
        Example("Combien coûte la certification QHN ?", "ask_qhn_cout_certification", 0),
        Example("combien coute la certification qhn", "ask_qhn_cout_certification", 1),  # its near twin
        Example("quel est le prix de la certification", "ask_qhn_cout_certification", 2),
        Example("Combien coûte la certification QHN ??", "ask_qhn_cout_certification", 0),  # twin in its own fold
    )
    assert crossval.unseen(examples) == (False, False, True, False)
    alone = (examples[0], examples[3])  # same fold: one is never trained on while the other is held out
    assert crossval.unseen(alone) == (True, True)


def test_the_replay_on_unseen_examples_leaves_out_the_near_twins():
    rows = [
        ("combien coute la certification qhn", "ask_qhn_cout_certification", [("ask_qhn_cout_certification", 0.95)]),
        ("quel prix pour être certifié QHN", "ask_qhn_cout_certification", [("ask_mes_fonctionnalites", 0.95)]),
    ]
    predictions = Predictions(
        "test",
        [Example(rows[0][0], rows[0][1], 0), Example(rows[1][0], rows[1][1], 1)],
        [r for _, _, r in rows],
    )
    twin = Example("Combien coûte la certification QHN ?", "ask_qhn_cout_certification", 1)
    predictions.examples.append(twin)
    predictions.rankings.append([("ask_qhn_cout_certification", 0.95)])
    everything = crossval.replay(predictions, SURE_AT_85)
    assert everything.in_scope == 3
    new_wordings = crossval.replay(predictions, SURE_AT_85, only_unseen=True)
    assert new_wordings.in_scope == 1 and new_wordings.right == 0


@pytest.mark.parametrize(
    "how, expected",
    [
        ("weighted", [("ask_mes_fonctionnalites", 0.35 * 0.8 + 0.65 * 0.4), ("greet", 0.35 * 0.2 + 0.65 * 0.6)]),
        ("min", [("ask_mes_fonctionnalites", 0.4), ("greet", 0.2)]),
        (
            "geometric",
            [
                ("ask_mes_fonctionnalites", 0.32**0.5 / (0.32**0.5 + 0.12**0.5)),
                ("greet", 0.12**0.5 / (0.32**0.5 + 0.12**0.5)),
            ],
        ),
    ],
)
def test_the_other_combinations_tried(how, expected):
    a = _predictions([("x", "ask_mes_fonctionnalites", [("ask_mes_fonctionnalites", 0.8), ("greet", 0.2)])])
    b = _predictions(
        [("x", "ask_mes_fonctionnalites", [("greet", 0.6), ("ask_mes_fonctionnalites", 0.4), ("nlu_fallback", 0.9)])]
    )
    [ranking] = crossval.ensemble(how, a, b, how).rankings
    assert [name for name, _ in ranking] == [name for name, _ in expected]
    assert [conf for _, conf in ranking] == pytest.approx([conf for _, conf in expected])


def test_feature_variants_change_one_featurizer_only():
    configs = crossval.variants()

    def featurizers(name):
        return [c for c in configs[name]["pipeline"] if c["name"] == "CountVectorsFeaturizer"]

    base, bigrams, chars = featurizers("linear"), featurizers("linear_word_bigrams"), featurizers("linear_char_1_5")
    word = [i for i, c in enumerate(base) if c.get("analyzer", "word") == "word"]
    assert len(word) == 1 and len(base) == 2
    [w] = word
    assert bigrams[w] == {**base[w], "max_ngram": 2} and bigrams[1 - w] == base[1 - w]
    assert chars[1 - w] == {**base[1 - w], "min_ngram": 1} and chars[w] == base[w]
    assert [c["name"] for c in configs["linear_word_bigrams"]["pipeline"]] == [
        c["name"] for c in configs["linear"]["pipeline"]
    ]


def test_variants_swap_config_classifier_and_give_rasa_classifiers_their_features():
    configs = crossval.variants()
    assert crossval.deployed() == "tfidf_linear"

    def names(variant):
        return [c["name"] for c in configs[variant]["pipeline"]]

    assert crossval.TFIDF in names("tfidf_linear") and "CountVectorsFeaturizer" not in names("tfidf_linear")
    for variant, classifier in (("diet", "DIETClassifier"), ("linear", "LogisticRegressionClassifier")):
        pipeline = names(variant)
        assert crossval.TFIDF not in pipeline and pipeline.count(classifier) == 1
        assert (
            pipeline.index("SpacyTokenizer") < pipeline.index("LexicalSyntacticFeaturizer") < pipeline.index(classifier)
        )
        assert pipeline.count("CountVectorsFeaturizer") == 2
    ranked = crossval.with_full_ranking(configs["tfidf_linear"])
    assert [c.get("ranking_length") for c in ranked["pipeline"] if c["name"] == crossval.TFIDF] == [0]


def test_ours_names_the_classifier_of_config_yml():
    assert crossval.resolve("ours") == [crossval.deployed()] == ["tfidf_linear"]
    assert crossval.resolve("diet, ours") == ["diet", "tfidf_linear"]
    with pytest.raises(SystemExit, match="unknown variant"):
        crossval.resolve("ours,bert")
