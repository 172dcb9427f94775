"""Everything Rasa loads by module path: the REST and socket.io channels and their guard, the intent
classifier, the Redis lock store, the action server with its token, and every patch of
Rasa (`addons.patches`), applied once by `python -m addons.cli`, Rasa's command line.

The assistant itself lives in `bot/` and imports nothing from here.
"""
