"""The documents: a short README, links that lead somewhere, every setting documented, one
language per document, and no benchmark figure copied out of bench/."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from bot import screening, texts
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
FRENCH = {"maintenance.md", "accessibility.md"}  # for the FAQ maintainers and the public; the rest in English
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_readme_is_at_most_150_lines():
    lines = read(README).splitlines()
    assert len(lines) <= 150, f"README.md has {len(lines)} lines"


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda p: p.name)
def test_every_relative_link_points_to_an_existing_file(document):
    broken = []
    for target in LINK.findall(read(document)):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue  # http:, https:, mailto:, an anchor in the same page
        path = (document.parent / target.split("#")[0]).resolve()
        if not path.exists():
            broken.append(target)
    assert not broken, f"{document.name}: links to nothing: {broken}"


def setting_names() -> set:
    """Every environment variable Settings.from_env reads (FAQ_* and ACTION_SERVER_URL)."""
    names = set(re.findall(r'"([A-Z][A-Z0-9_]+)"', inspect.getsource(Settings.from_env)))
    assert "FAQ_STORE_URL" in names and "ACTION_SERVER_URL" in names, names
    return names


def test_every_setting_is_in_the_operations_table():
    rows = [line for line in read(ROOT / "docs" / "operations.md").splitlines() if line.startswith("| `")]
    documented = {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}
    missing = setting_names() - documented
    assert not missing, f"docs/operations.md has no table row for {sorted(missing)}"


def test_every_setting_commented_in_settings_py_is_read_from_the_environment():
    """The comments of bot/settings.py name the variables; each is read by from_env (and so documented)."""
    commented = set(re.findall(r"#\s*((?:FAQ_|ACTION_)[A-Z0-9_]+):", read(ROOT / "bot" / "settings.py")))
    assert commented and commented <= setting_names(), commented - setting_names()


def test_no_benchmark_figure_is_copied_into_the_readme():
    figures = re.findall(
        r"\d+(?:[.,]\d+)?\s*(?:%|ms\b|msg/s|s\b(?=[ ,.;)]))|×\s*\d+[.,]\d+", read(README), flags=re.IGNORECASE
    )
    assert not figures, f"README.md quotes figures {figures}: link bench/RESULTS.md instead"


def test_the_readme_names_every_package_and_target_the_set_up_needs():
    readme = read(README)
    script = read(ROOT / "scripts" / "install-system-packages.sh")
    packages = set(re.findall(r"missing\+=\(([a-z0-9-]+)\)", script))
    assert packages and all(f"`{name}`" in readme for name in packages), packages
    makefile = read(ROOT / "Makefile")
    targets = set(re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split()) - {"help", "setup", "system-packages"}
    missing = {target for target in targets if f"`{target}`" not in readme and f"make {target}" not in readme}
    assert not missing, f"README.md does not name the targets {sorted(missing)}"


def test_integrators_get_every_rest_error_word_for_word():
    defaults = Settings()
    doc = read(ROOT / "docs" / "integrators.md")
    messages = [
        texts.JSON_ONLY,
        texts.JSON_INVALID,
        texts.JSON_NOT_OBJECT,
        texts.SENDER_MISSING,
        texts.SENDER_NOT_TEXT,
        texts.sender_malformed(screening.MAX_SENDER_CHARS),
        texts.MESSAGE_MISSING,
        texts.MESSAGE_NOT_TEXT,
        texts.json_too_deep(defaults.max_json_depth),
        texts.body_too_large(defaults.max_body_bytes // 1024),
        texts.RATE_LIMITED,
        texts.EMPTY,
        texts.UNAVAILABLE,
    ]
    missing = [message for message in messages if message not in doc]
    assert not missing, f"docs/integrators.md lacks {missing}"


# --- one language per document ------------------------------------------------------------

ENGLISH_WORDS = set("the and of is to with for an in that it are be by or not this from as at which when its".split())
FRENCH_WORDS = set(
    "le la les des et est du une un pour dans que qui sur pas par au aux ce cette sont ou avec il".split()
)


def prose(text: str) -> str:
    """The document's own sentences: no code, tables, quotations or link targets."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("|"))
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r'"[^"\n]*"|«[^»]*»|“[^”]*”', "", text)
    return re.sub(r"\]\([^)]*\)", "]", text)


def words(text: str) -> list:
    return re.findall(r"[a-zàâçéèêëîïôûùüÿœ]+", text.lower())


@pytest.mark.parametrize("document", [README, *DOCS], ids=lambda p: p.name)
def test_each_document_is_in_one_language(document):
    text = read(document)
    french = document.name in FRENCH
    own, other = (FRENCH_WORDS, ENGLISH_WORDS) if french else (ENGLISH_WORDS, FRENCH_WORDS)
    found = words(prose(text))
    ours, theirs = sum(w in own for w in found), sum(w in other for w in found)
    assert ours > 50 and theirs <= 0.05 * (
        ours + theirs
    ), f"{document.name}: {ours} words of its language, {theirs} of the other"
    for heading in re.findall(r"^#+ (.*)$", re.sub(r"```.*?```", "", text, flags=re.S), re.M):
        stray = [w for w in words(prose(heading)) if w in other]
        assert not stray, f"{document.name}: heading {heading!r} has {stray}"
