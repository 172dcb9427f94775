"""The action server's speed-ups change no reply."""

from bot import matching
from bot.knowledge import Answer, KnowledgeBase, default_kb


def test_knowledge_base_hashed_once_with_the_dataclass_value(monkeypatch):
    """The knowledge base keys the caches of bot/mentions.py, bot/aspects.py and bot/wording.py:
    its hash (the dataclass's, from its fields) is computed once, not at every lookup."""
    kb = default_kb()
    copy = KnowledgeBase(kb.facets, kb.answers, kb.drafts)  # nothing cached yet
    expected = hash((kb.facets, kb.answers, kb.drafts))  # what the dataclass's own __hash__ gives
    hash(kb)
    hashed = []
    answer_hash = Answer.__hash__
    monkeypatch.setattr(Answer, "__hash__", lambda self: hashed.append(self.id) or answer_hash(self))
    assert hash(copy) == expected
    assert len(hashed) == len(kb.answers)
    hashed.clear()
    assert hash(copy) == hash(kb) and copy == kb
    assert hashed == []  # the second time, no answer is hashed again


def test_decisions_unchanged_by_a_knowledge_base_copy():
    """Equal knowledge bases share the caches' entries and decide the same."""
    kb = default_kb()
    copy = KnowledgeBase(kb.facets, kb.answers, kb.drafts)
    answer = kb.answers[0]
    ranking = [{"name": answer.intent, "confidence": 0.95}, {"name": "out_of_scope", "confidence": 0.01}]
    for text in (answer.title, "combien coûte la certification DMN ?", "une question sur Convergence", ""):
        assert matching.decide(copy, ranking, text) == matching.decide(kb, ranking, text)
