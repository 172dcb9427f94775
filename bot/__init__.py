"""The ANS "FAQ des industriels" assistant: knowledge base, decision tree and replies.

Plain Python, importable and testable without Rasa running; `actions/` only adapts it to
the Rasa SDK.
"""
