"""Does spaCy without its NER (addons/patches.py) give the featurizers the same tokens? Checked in the run.

Every example of data/nlu.yml is parsed by `fr_core_news_sm` as Rasa's SpacyNLP loads it (every pipe
but the parser) and as our bot loads it (NER removed too); what SpacyTokenizer keeps of each token
(text, offset, lemma, tag) and what the lemmas depend on (POS, morphology) are compared.
"""

from __future__ import annotations

from typing import Dict

from bench.common import training_examples


def compare() -> Dict[str, int]:
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    from addons import patches

    rasa_load = getattr(SpacyNLP.load_model, "__wrapped__", SpacyNLP.load_model)  # Rasa is not patched here
    trimmed = patches.spacy_without_unused_pipes(rasa_load)("fr_core_news_sm").model
    full = rasa_load("fr_core_news_sm").model

    def tokens(nlp, text):
        return [(t.text, t.idx, t.lemma_, t.tag_, t.pos_, str(t.morph)) for t in nlp(text)]

    texts = [text for examples in training_examples().values() for text in examples]
    different = sum(tokens(full, text) != tokens(trimmed, text) for text in texts)
    return {"examples": len(texts), "different": different, "pipes": len(trimmed.pipe_names)}


def note(figures: Dict[str, int]) -> str:
    same = figures["different"] == 0
    return (
        "spaCy runs without its NER in our bot (addons/patches.py): on the "
        f"{figures['examples']} examples of data/nlu.yml, "
        + (
            "the tokens, lemmas, tags, POS and morphology it gives are identical to those of Rasa's full pipeline "
            "(checked in this run), so the featurizers, the trained classifiers and the cross-validation (which "
            "trains with Rasa's full pipeline) see the same features: the quality figures are not affected."
            if same
            else f"{figures['different']} examples get different tokens or lemmas than with Rasa's full pipeline: "
            "the cross-validation (full pipeline) may not describe the bot exactly."
        )
    )
