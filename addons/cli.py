"""Rasa's own command line, with this assistant's patches of Rasa applied first (addons/patches.py).

`python -m addons.cli run ...`, `... shell ...`, `... train ...`: `make run`, `make shell`, `make train`
and the tests start Rasa through here, never through `rasa` directly.
"""

from __future__ import annotations

import sys

from addons import patches


def main() -> None:
    patches.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
