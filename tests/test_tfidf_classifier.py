"""The intent classifier of config.yml (addons/tfidf_classifier.py) on a small hand-made FAQ: it reads
folded text, ranks every intent, and what it stores (arrays and JSON) predicts exactly the same."""

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.tfidf_classifier import ARRAYS, SETTINGS, TfidfIntentClassifier

EXAMPLES = {
    "ask_qhn_cout": [
        "Combien coûte la certification QHN ?",
        "Quel est le prix de la certification Qualité Hospitalière Numérique ?",
        "Le tarif de l'audit QHN",
    ],
    "ask_dmn_cout": [
        "Combien coûte la certification DMN ?",
        "Quel est le prix d'une certification de dispositif médical numérique ?",
        "Le tarif de l'audit DMN",
    ],
    "ask_mes_catalogue": [
        "Qu'est-ce que le catalogue de services de Mon espace santé ?",
        "Comment apparaître dans le catalogue Mon espace santé ?",
        "Le catalogue de services de MES",
    ],
    "greet": ["Bonjour", "Bonsoir", "Salut"],
}


def _tokenized(texts):
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    messages = [Message(data={"text": t}) for t in texts]
    tokenizer.process(messages)
    return messages


@pytest.fixture
def trained(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="tfidf")
    config = {**TfidfIntentClassifier.get_default_config(), "ranking_length": 0}
    component = TfidfIntentClassifier.create(config, storage, Resource("tfidf"), context)
    messages = []
    for intent, texts in EXAMPLES.items():
        for message in _tokenized(texts):
            message.set("intent", intent)
            messages.append(message)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    data = TrainingData(messages)
    tokenizer.process_training_data(data)
    component.train(data)
    return component, storage, context, config, tmp_path


def _rankings(component, texts):
    messages = component.process(_tokenized(texts))
    return [[(r["name"], r["confidence"]) for r in m.get("intent_ranking")] for m in messages]


def test_unaccented_typed_question_gets_its_intent(trained):
    component = trained[0]
    [ranking] = _rankings(component, ["combien coute une certif qhn"])
    assert ranking[0][0] == "ask_qhn_cout"
    assert [name for name, _ in ranking].count("ask_qhn_cout") == 1 and len(ranking) == len(EXAMPLES)
    assert sum(conf for _, conf in ranking) == pytest.approx(1.0)
    assert [conf for _, conf in ranking] == sorted((conf for _, conf in ranking), reverse=True)
    [ranking] = _rankings(component, ["CATALOGUE MON ESPACE SANTE"])
    assert ranking[0][0] == "ask_mes_catalogue"


def test_accents_and_case_do_not_change_the_ranking(trained):
    component = trained[0]
    accented, plain = _rankings(
        component, ["Combien coûte la certification DMN ?", "combien coute la certification dmn"]
    )
    assert accented == plain


def test_stored_as_arrays_and_json_ranks_the_same(trained):
    component, storage, context, config, folder = trained
    loaded = TfidfIntentClassifier.load(config, storage, Resource("tfidf"), context)
    assert loaded is not component
    texts = ["combien coute une certif qhn", "salut", "le catalogue MES", "prix audit dmn", "autre chose"]
    assert _rankings(loaded, texts) == _rankings(component, texts)
    stored = sorted(p.name for p in folder.rglob("*") if p.is_file())
    assert stored == sorted([ARRAYS, SETTINGS])
    with np.load(next(folder.rglob(ARRAYS)), allow_pickle=False) as arrays:  # nothing to unpickle
        assert list(arrays["classes"]) == sorted(EXAMPLES)


def test_ranking_cut_to_its_length(trained):
    component, storage, context, config, _ = trained
    loaded = TfidfIntentClassifier.load({**config, "ranking_length": 2}, storage, Resource("tfidf"), context)
    [ranking] = _rankings(loaded, ["bonjour"])
    assert len(ranking) == 2 and ranking[0][0] == "greet"


def test_nothing_stored_gives_no_intent(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="tfidf")
    loaded = TfidfIntentClassifier.load(
        TfidfIntentClassifier.get_default_config(), storage, Resource("nothing"), context
    )
    [message] = loaded.process(_tokenized(["bonjour"]))
    assert message.get("intent") is None and message.get("intent_ranking") is None


def test_intents_fitted_in_several_processes_rank_as_one_call(trained, tmp_path):
    component, storage, context, config, _ = trained
    assert component.clf.coef_.shape[0] == len(EXAMPLES)
    single = TfidfIntentClassifier.create({**config, "n_jobs": 1}, storage, Resource("single"), context)
    data = TrainingData([m for intent, texts in EXAMPLES.items() for m in _labelled(texts, intent)])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    single.train(data)
    shared = TfidfIntentClassifier.create({**config, "n_jobs": 2}, storage, Resource("shared"), context)
    shared.train(data)
    assert list(shared.clf.classes_) == list(single.clf.classes_) == sorted(EXAMPLES)
    # the same model, up to the solver's tolerance
    assert np.abs(shared.clf.coef_ - single.clf.coef_).max() < 1e-3
    assert np.abs(shared.clf.intercept_ - single.clf.intercept_).max() < 1e-3
    texts = ["combien coute une certif qhn", "salut", "le catalogue MES", "prix audit dmn", "autre chose"]
    for mine, theirs in zip(_rankings(shared, texts), _rankings(single, texts)):
        assert [name for name, _ in mine] == [name for name, _ in theirs]
        assert [conf for _, conf in mine] == pytest.approx([conf for _, conf in theirs], abs=1e-4)


def _labelled(texts, intent):
    messages = _tokenized(texts)
    for message in messages:
        message.set("intent", intent)
    return messages


def test_word_pairs_tell_apart_questions_of_the_same_words(tmp_path):
    # The same words in another order ask another thing: only word pairs see it (characters n-grams
    # stay within words, single words are the same).
    examples = {
        "ask_obligation": ["est ce obligatoire", "ce est obligatoire", "est ce obligatoire svp"],
        "ask_definition": ["ce est quoi", "est ce quoi", "ce est quoi svp"],
        "ask_statement": ["ce obligatoire est", "quoi ce est", "obligatoire ce est svp"],
    }
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="tfidf")
    data = TrainingData([m for intent, texts in examples.items() for m in _labelled(texts, intent)])
    WhitespaceTokenizer(WhitespaceTokenizer.get_default_config()).process_training_data(data)
    pairs_rank = {}
    for n in (1, 2):
        config = {**TfidfIntentClassifier.get_default_config(), "max_word_ngram": n, "n_jobs": 1}
        component = TfidfIntentClassifier.create(config, storage, Resource(f"words{n}"), context)
        component.train(data)
        [pairs_rank[n]] = _rankings(component, ["obligatoire ce est"])
    assert TfidfIntentClassifier.get_default_config()["max_word_ngram"] == 2
    assert pairs_rank[2][0][0] == "ask_statement" and pairs_rank[2][0][1] > 0.5
    assert pairs_rank[1][0][1] < pairs_rank[2][0][1]
