"""rasa_sdk's action server, on loopback and for Rasa only: `python -m addons.action_server`.

rasa_sdk binds 0.0.0.0 and has no authentication, so anyone who reaches its port can POST a
forged tracker to `/webhook` and write feedback, answers shown and unanswered questions past
every guard of the channels. Here it listens on `--host` (127.0.0.1 by default) and answers
only calls that carry the shared secret of the environment variable FAQ_ACTION_TOKEN, which Rasa
sends as the `token` of its action endpoint (a query parameter, see endpoints.yml); `/health`
stays open for the launchers. Without a secret it does not start. Other arguments are rasa_sdk's
(`--port`, `--actions`...).
"""

from __future__ import annotations

import argparse
import hmac
import os
import sys
from typing import List, Optional

from bot import settings

TOKEN_ENV = "FAQ_ACTION_TOKEN"
TOKEN_NAME = "token"  # Rasa's EndpointConfig default `token_name`
OPEN_PATHS = ("/health",)


def guard(app, token: str) -> None:
    """Refuse (401) every request but `/health` whose `token` is not the shared secret."""
    from sanic import response

    expected = token.encode("utf-8")

    @app.middleware("request")
    async def check_token(request):
        if request.path in OPEN_PATHS:
            return None
        given = (request.args.get(TOKEN_NAME) or "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            return response.json({"error": "Appel refusé : jeton du serveur d'actions absent ou invalide."}, status=401)
        return None


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, add_help=False)
    parser.add_argument("--host", default="127.0.0.1")
    args, rest = parser.parse_known_args(argv)
    token = settings.current().action_token
    if len(token) < 16:
        print(
            f"{TOKEN_ENV} manquant ou trop court (16 caractères au moins) : le serveur d'actions ne démarre pas.",
            file=sys.stderr,
        )
        return 2
    os.environ["SANIC_HOST"] = args.host  # read by rasa_sdk.endpoint.run

    import rasa_sdk.__main__
    import rasa_sdk.endpoint

    create_app = rasa_sdk.endpoint.create_app

    def guarded_app(*a, **kw):
        app = create_app(*a, **kw)
        guard(app, token)
        return app

    rasa_sdk.endpoint.create_app = guarded_app
    if "--actions" not in rest:
        rest += ["--actions", "actions"]
    rasa_sdk.__main__.main_from_args(rasa_sdk.endpoint.create_argument_parser().parse_args(rest))
    return 0


if __name__ == "__main__":
    sys.exit(main())
