"""The environment of every Python server the launchers start (ops.serve, the cluster, the
benchmark, the tests): the project on the import path, no telemetry, output unbuffered (the
launchers read it line by line), and as little third-party chatter as the libraries allow."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Dict

ROOT = Path(__file__).resolve().parents[1]

# a variable already set wins: whoever runs the launcher may want TensorFlow's or tqdm's output back
QUIET = {
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONWARNINGS": "ignore",  # Sanic turns DeprecationWarning back on: ops.console filters the rest
    "TQDM_DISABLE": "1",  # no progress bars in logs
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",  # SQLAlchemy 1.4 on Rasa's code: "not compatible with 2.0"
}


def python_env(**extra: str) -> Dict[str, str]:
    """This process's environment, with the settings above, then `extra`."""
    env = {**QUIET, **os.environ}
    env["RASA_TELEMETRY_ENABLED"] = "false"
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")
    env.update(extra)
    return env
