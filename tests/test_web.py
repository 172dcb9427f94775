"""The chat widget on its web page, in a real headless Chromium (Debian's package).

The page and the socket.io channel are those `make run` serves, started by the `bot_url`
fixture on free ports. Screenshots of the key steps go to test-output/web/.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import socketio
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from bot import conversation as conv
from bot import settings, texts
from bot.knowledge import default_kb
from ops.processes import free_port, spawn, wait_http
from ops.rest_client import post
from tests.conftest import ROOT

KB = default_kb()
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FIRST_QUESTION = KB.facets[0].question
EVIL_ORIGIN = "http://evil.example"
WAIT = 45  # seconds for a bot reply; the machine may be busy
# a bot message (the typing indicator is a .rw-response too, without text)
BOT = ".rw-conversation-container .rw-response:has(.rw-message-text)"


# --- fixtures -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def web_url(bot_url, web_port):
    url = f"http://localhost:{web_port}"
    assert wait_http(url + "/", 30), "the web page is not served: see test-output/server.log"
    return url


@pytest.fixture(scope="session")
def shots(output_dir) -> Path:
    folder = output_dir / "web"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return folder


def new_browser():
    """Debian's Chromium, headless, in French; its console is kept (driver.get_log("browser"))."""
    assert (
        Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()
    ), "Chromium is missing: `apt-get install chromium chromium-driver` (.ci/run does it)"
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1000",
        "--lang=fr-FR",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser():
    driver = new_browser()
    try:
        yield driver
    finally:
        driver.quit()


class Widget:
    """The page and its widget, as a user sees them."""

    def __init__(self, driver, url: str, shots: Path):
        self.driver, self.url, self.shots = driver, url, shots

    def load(self) -> "Widget":
        """A first visit: no stored conversation (cleared from a page of the origin without the widget,
        which would write its state back)."""
        self.driver.get(self.url + "/favicon.svg")
        self.driver.execute_script("sessionStorage.clear(); localStorage.clear();")
        self.driver.get(self.url)
        self.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".rw-launcher"), 20, "no launcher")
        return self

    def wait(self, condition, timeout=WAIT, message=""):
        try:
            return WebDriverWait(
                self.driver, timeout, poll_frequency=0.2, ignored_exceptions=[StaleElementReferenceException]
            ).until(condition)
        except TimeoutException:
            self.shot("timeout")
            raise AssertionError(f"{message} — bot messages: {self.bot_texts()[-3:]}") from None

    def shot(self, name: str, element=None) -> None:
        time.sleep(0.6)  # let the widget's slide-in animations end
        path = str(self.shots / f"{name}.png")
        element.screenshot(path) if element is not None else self.driver.save_screenshot(path)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    # what is on screen
    def responses(self):
        return self.driver.find_elements(By.CSS_SELECTOR, BOT)

    def _texts(self, selector: str):
        """The texts shown (without the words for screen readers only), in one call, so that a
        re-render between two elements cannot leave a stale one."""
        return self.js(
            """
            const hidden = [...document.querySelectorAll('.faq-sr-only')];
            hidden.forEach(e => e.style.setProperty('display', 'none', 'important'));
            try {
                return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim());
            } finally {
                hidden.forEach(e => e.style.removeProperty('display'));
            }""",
            selector,
        )

    def shown_text(self, element) -> str:
        """What `element` shows on screen (the words for screen readers only left out)."""
        return self.js(
            """
            const hidden = [...arguments[0].querySelectorAll('.faq-sr-only')];
            hidden.forEach(e => e.style.setProperty('display', 'none', 'important'));
            try { return arguments[0].innerText.trim(); }
            finally { hidden.forEach(e => e.style.removeProperty('display')); }""",
            element,
        )

    def bot_texts(self):
        return self._texts(BOT)

    def user_texts(self):
        return self._texts(".rw-conversation-container .rw-client")

    def user_bubbles(self):
        return self.driver.find_elements(By.CSS_SELECTOR, ".rw-conversation-container .rw-client")

    def replies(self):
        """The choices of the latest message that has some (older ones stay in the history)."""
        return self.js(
            "const all = document.querySelectorAll('.rw-conversation-container .rw-replies');"
            "return all.length ? [...all[all.length - 1].querySelectorAll('.rw-reply')]"
            ".map(e => e.innerText.trim()) : [];"
        )

    def is_open(self) -> bool:
        return bool(self.driver.find_elements(By.CSS_SELECTOR, ".rw-conversation-container"))

    # what a user does
    def open(self) -> None:
        if not self.is_open():
            self.driver.find_element(By.CSS_SELECTOR, ".rw-launcher").click()
        self.wait(lambda d: self.is_open(), 10, "the widget did not open")

    def wait_last_bot(self, text: str, count_before: int = 0):
        """Until the bot's last message is `text` (after at least `count_before` messages)."""
        self.wait(
            lambda d: len(self.responses()) > count_before and self.bot_texts()[-1] == text,
            message=f"no bot message {text!r}",
        )

    def latest_reply(self, title: str):
        """The choice `title` of the latest message that offers it."""
        return self.wait(
            lambda d: next(
                (b for b in reversed(d.find_elements(By.CSS_SELECTOR, ".rw-replies .rw-reply")) if b.text == title),
                None,
            ),
            message=f"no quick reply {title!r}",
        )

    def click_reply(self, title: str) -> int:
        count = len(self.responses())
        self.latest_reply(title).click()
        return count

    def type(self, text: str) -> int:
        count = len(self.responses())
        box = self.driver.find_element(By.CSS_SELECTOR, ".rw-new-message")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        return count

    def answer_bubble(self, answer):
        """The bubble showing `answer`, found by its bold title."""
        return self.wait(
            lambda d: next(
                (
                    r
                    for r in self.responses()
                    if any(s.text == answer.title for s in r.find_elements(By.CSS_SELECTOR, "strong"))
                ),
                None,
            ),
            message=f"no answer titled {answer.title!r}",
        )

    def session_id(self):
        stored = self.js("return sessionStorage.getItem('chat_session');")
        return json.loads(stored)["session_id"] if stored else None


@pytest.fixture
def widget(browser, web_url, shots):
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    return Widget(browser, web_url, shots).load()


def next_step(path: str) -> str:
    """What the guided tree asks (or lists) after the choices in `path`."""
    return conv.guide(KB, path).messages[-1].text


def _open_with_welcome(widget: Widget) -> None:
    widget.open()
    widget.wait_last_bot(FIRST_QUESTION)


# --- the page ---------------------------------------------------------------------------


def test_page_is_in_french_and_says_what_the_assistant_knows(widget, web_url):
    assert widget.js("return document.documentElement.lang") == "fr"
    assert widget.driver.find_element(By.TAG_NAME, "h1").text == "Assistant de la FAQ des industriels"
    body = widget.driver.find_element(By.TAG_NAME, "main").text
    for topic in ("Ségur du numérique en santé", "Référencement Mon espace santé", "QHN", "DMN"):
        assert topic in body
    launcher = widget.driver.find_element(By.CSS_SELECTOR, ".rw-launcher")
    assert launcher.get_attribute("aria-label") == "Ouvrir l'assistant FAQ"
    assert launcher.get_attribute("aria-expanded") == "false"
    # every script and stylesheet comes from the page's own server (no CDN)
    sources = widget.js(
        "return [...document.querySelectorAll('script[src], link[href]')]" ".map(e => e.src || e.href);"
    )
    assert sources and all(s.startswith(web_url + "/") for s in sources), sources
    with urllib.request.urlopen(web_url + "/") as response:
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    widget.shot("00-page")


# --- a conversation -------------------------------------------------------------------


def test_open_click_through_the_tree_to_an_answer_and_give_feedback(widget):
    assert widget.bot_texts() == []  # nothing is said before the visitor opens the widget
    _open_with_welcome(widget)
    assert widget.bot_texts()[0] == texts.WELCOME
    assert widget.replies() == [o.label for o in KB.facets[0].options] + [texts.SKIP_LABEL]
    assert widget.driver.find_element(By.CSS_SELECTOR, ".rw-launcher").get_attribute("aria-expanded") == "true"
    widget.shot("01-welcome")

    before = widget.click_reply("Certifications et labels (QHN, DMN, label e-santé Maisons et Centres de Santé)")
    widget.wait_last_bot(next_step("offre=certifications"), before)
    before = widget.click_reply("QHN")
    widget.wait_last_bot(texts.LISTING, before)
    answer = KB.answer("qhn_cout_certification")
    before = widget.click_reply(answer.title)
    widget.wait_last_bot(texts.FEEDBACK_QUESTION, before)
    bubble = widget.answer_bubble(answer)
    shown = widget.shown_text(bubble)
    # the FAQ's lines stay lines: one rendered line break per "\n" of the answer
    assert answer.text in shown
    assert shown.startswith(answer.title + "\n" + answer.text.split("\n")[0] + "\n")
    link = bubble.find_element(By.CSS_SELECTOR, "a")
    assert link.get_attribute("href") == answer.url
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")
    assert widget.replies() == ["Oui", "Non"]
    widget.shot("02-answer-and-feedback-question")
    widget.shot("widget-answer-and-feedback", widget.driver.find_element(By.CSS_SELECTOR, ".rw-conversation-container"))

    # the link is clickable and opens the official page in a new tab
    tabs = widget.driver.window_handles
    link.click()
    widget.wait(lambda d: len(d.window_handles) == len(tabs) + 1, 10, "the link opened no tab")
    new_tab = next(h for h in widget.driver.window_handles if h not in tabs)
    widget.driver.switch_to.window(new_tab)
    try:
        widget.wait(lambda d: d.current_url == answer.url, 10, "the new tab is not the official page")
    finally:
        widget.driver.close()
        widget.driver.switch_to.window(tabs[0])

    before = widget.click_reply("Oui")
    widget.wait_last_bot(texts.THANKS_YES, before)
    assert "Oui" in widget.user_texts()
    widget.shot("03-feedback-given")


def test_an_answer_keeps_its_list_and_its_link_after_the_list(widget):
    _open_with_welcome(widget)
    answer = KB.answer("mes_fonctionnalites")
    before = widget.click_reply("Référencement Mon espace santé")
    widget.wait_last_bot(next_step("offre=mes"), before)
    before = widget.click_reply("Présentation générale")
    widget.wait_last_bot(texts.LISTING, before)
    before = widget.click_reply(answer.title)
    widget.wait_last_bot(texts.FEEDBACK_QUESTION, before)
    bubble = widget.answer_bubble(answer)
    items = [li.text for li in bubble.find_elements(By.CSS_SELECTOR, "ul > li")]
    expected = [line[2:] for line in answer.text.split("\n") if line.startswith("- ")]
    assert items == expected and len(items) == 4
    intro = bubble.find_element(By.CSS_SELECTOR, "p").get_attribute("innerText")
    assert intro == answer.title + "\n" + answer.text.split("\n")[0]
    # "En savoir plus" is its own paragraph after the list, not part of the last item
    last = bubble.find_element(By.CSS_SELECTOR, "ul + p")
    assert widget.shown_text(last) == f"En savoir plus : {answer.url}"
    assert last.find_element(By.CSS_SELECTOR, "a").get_attribute("href") == answer.url
    # the user's click, then the start of the answer
    widget.js("arguments[0].scrollIntoView({block: 'start'});", widget.user_bubbles()[-1])
    widget.shot("04-answer-with-list")
    widget.shot("widget-mid-conversation", widget.driver.find_element(By.CSS_SELECTOR, ".rw-conversation-container"))


def test_a_typed_question_with_a_typo_gets_its_answer(widget):
    # the page's own button opens the widget and puts the focus in its text box
    widget.driver.find_element(By.CSS_SELECTOR, "[data-open-assistant]").click()
    widget.wait_last_bot(FIRST_QUESTION)
    assert "rw-new-message" in widget.driver.switch_to.active_element.get_attribute("class")
    question = "combien coute une certfication QHN ?"
    before = widget.type(question)
    widget.wait_last_bot(texts.FEEDBACK_QUESTION, before)
    assert widget.user_texts()[-1] == question
    widget.answer_bubble(KB.answer("qhn_cout_certification"))
    assert widget.replies() == ["Oui", "Non"]
    before = widget.click_reply("Non")
    widget.wait_last_bot(texts.THANKS_NO, before)
    widget.shot("05-typed-question")


def test_text_the_user_types_is_never_rendered_as_html(widget):
    _open_with_welcome(widget)
    title = widget.js("return document.title")
    typed = '<img src=x onerror="document.title=\'pirate\'"><b>gras</b> <a href="https://evil.example">lien</a>'
    before = widget.type(typed)
    widget.wait(lambda d: len(widget.responses()) > before, message="no reply to the typed text")
    bubble = widget.user_bubbles()[-1]
    assert widget.shown_text(bubble) == typed
    assert bubble.find_elements(By.CSS_SELECTOR, "img, b, a") == []
    assert widget.js("return document.title") == title
    widget.shot("06-typed-html-shown-as-text")


def test_the_conversation_survives_a_reload(widget):
    _open_with_welcome(widget)
    before = widget.click_reply("Convergence / doctrine du numérique en santé")
    next_question = widget.wait(
        lambda d: len(widget.responses()) > before and widget.replies() and widget.bot_texts()[-1],
        message="no next step",
    )
    session = widget.session_id()
    assert re.fullmatch(r"[0-9a-f]{32}", session)
    shown_before = widget.bot_texts()

    widget.driver.refresh()
    widget.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".rw-launcher"), 20, "no launcher after reload")
    widget.open()
    widget.wait(lambda d: widget.bot_texts() == shown_before, 20, "the history is not shown after the reload")
    assert "Convergence / doctrine du numérique en santé" in widget.user_texts()
    assert widget.session_id() == session
    widget.shot("07-after-reload")
    # the same conversation goes on server-side: an off-topic question on a first turn would get
    # a hello before "not in the FAQ"; here it gets the plain "not in the FAQ"
    assert next_question == next_step("offre=convergence")
    before = widget.type("quelle est la recette de la tarte aux pommes ?")
    widget.wait(lambda d: len(widget.responses()) > before, message="no reply after the reload")
    widget.wait(lambda d: texts.NOT_FOUND in widget.bot_texts()[before:], message="no reply after the reload")
    assert texts.GREETING not in widget.bot_texts()[before:], "not the same conversation"
    assert widget.bot_texts().count(texts.WELCOME) == 1


# --- keyboard, screen readers, phones -------------------------------------------------


def _tab_to(widget: Widget, predicate, shift=False, limit=40):
    for _ in range(limit):
        # keys go to whatever has the focus, as a user's would (no element lookup to go stale)
        actions = ActionChains(widget.driver)
        if shift:
            actions.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
        else:
            actions.send_keys(Keys.TAB).perform()
        try:
            if predicate(widget.driver.switch_to.active_element):
                return widget.driver.switch_to.active_element
        except StaleElementReferenceException:  # the widget re-rendered under the focus
            continue
    raise AssertionError("the keyboard never reached the element")


def test_the_widget_works_with_the_keyboard_alone(widget):
    launcher = _tab_to(widget, lambda e: "rw-launcher" in (e.get_attribute("class") or ""))
    assert launcher.get_attribute("aria-label") == "Ouvrir l'assistant FAQ"
    launcher.send_keys(Keys.ENTER)
    widget.wait_last_bot(FIRST_QUESTION)
    # the focus is in the text box, which has a name for screen readers
    box = widget.driver.switch_to.active_element
    assert "rw-new-message" in box.get_attribute("class")
    assert box.accessible_name == "Votre question"
    history = widget.driver.find_element(By.CSS_SELECTOR, ".rw-messages-container")
    assert history.aria_role == "region" and history.accessible_name == "Conversation avec l'assistant"
    assert (
        widget.driver.find_element(By.CSS_SELECTOR, ".rw-launcher").get_attribute("aria-label")
        == "Fermer l'assistant FAQ"
    )
    for reply in widget.driver.find_elements(By.CSS_SELECTOR, ".rw-reply"):
        assert reply.tag_name == "button" and reply.get_attribute("type") == "button"

    choice = _tab_to(widget, lambda e: e.text == "Ségur du numérique en santé", shift=True)
    before = len(widget.responses())
    choice.send_keys(Keys.ENTER)
    widget.wait_last_bot(next_step("offre=segur"), before)
    widget.shot("08-keyboard-choice")

    box = _tab_to(widget, lambda e: "rw-new-message" in (e.get_attribute("class") or ""))
    box.send_keys("combien coute une certfication QHN ?", Keys.ENTER)
    widget.answer_bubble(KB.answer("qhn_cout_certification"))
    reply = _tab_to(widget, lambda e: e.text == "Oui", shift=True)
    before = len(widget.responses())
    reply.send_keys(" ")
    widget.wait_last_bot(texts.THANKS_YES, before)


def test_page_and_widget_fit_a_phone_screen(widget):
    widget.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": True}
    )
    try:
        widget.driver.refresh()
        widget.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".rw-launcher"), 20, "no launcher")
        assert widget.js("return window.innerWidth") == 390
        no_overflow = "return document.documentElement.scrollWidth <= window.innerWidth;"
        assert widget.js(no_overflow)
        widget.shot("09-phone-page")
        _open_with_welcome(widget)
        box = widget.js(
            "const r = document.querySelector('.rw-conversation-container').getBoundingClientRect();"
            "return [r.left, r.right, r.top, r.bottom];"
        )
        assert box[0] >= 0 and box[1] <= 390 and box[2] >= 0 and box[3] <= 844, box
        for reply in widget.driver.find_elements(By.CSS_SELECTOR, ".rw-reply"):
            rect = reply.rect
            assert rect["x"] >= 0 and rect["x"] + rect["width"] <= 390, (reply.text, rect)
        before = widget.click_reply("Référencement Mon espace santé")
        widget.wait_last_bot(next_step("offre=mes"), before)
        widget.shot("10-phone-widget")
        # the widget covers the screen on a phone; its close button gives the page back
        widget.driver.find_element(By.CSS_SELECTOR, ".rw-close-button").click()
        widget.wait(lambda d: not widget.is_open(), 10, "the widget did not close")
        assert widget.js(no_overflow)
    finally:
        widget.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# --- origins ----------------------------------------------------------------------------


def _rest(bot_url: str, origin: str, method: str = "POST"):
    body = {"sender": "origin-check", "message": "bonjour"} if method == "POST" else None
    headers = {"Origin": origin}
    if method == "OPTIONS":
        headers.update({"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"})
    return post(bot_url, body, headers=headers, method=method).headers


def test_rest_channel_allows_the_page_origin_only(bot_url, web_url):
    page_origin = web_url
    assert _rest(bot_url, page_origin, "OPTIONS")["Access-Control-Allow-Origin"] == page_origin
    assert _rest(bot_url, page_origin)["Access-Control-Allow-Origin"] == page_origin
    assert _rest(bot_url, EVIL_ORIGIN, "OPTIONS")["Access-Control-Allow-Origin"] is None
    assert _rest(bot_url, EVIL_ORIGIN)["Access-Control-Allow-Origin"] is None


def _socket_client(bot_url: str, origin: str):
    client = socketio.Client(reconnection=False)
    replies = []
    client.on("bot_uttered", lambda data: replies.append(data))
    client.connect(
        bot_url, headers={"Origin": origin}, transports=["polling"], socketio_path="socket.io", wait_timeout=20
    )
    return client, replies


def test_socketio_channel_refuses_another_origin(bot_url, web_url):
    with pytest.raises(socketio.exceptions.ConnectionError):
        _socket_client(bot_url, EVIL_ORIGIN)

    client, replies = _socket_client(bot_url, web_url)
    try:
        confirmed = []
        client.on("session_confirm", lambda data: confirmed.append(data))
        client.emit("session_request", {"session_id": None})
        deadline = time.monotonic() + WAIT
        while not confirmed and time.monotonic() < deadline:
            time.sleep(0.2)
        assert confirmed and re.fullmatch(r"[0-9a-f]{32}", confirmed[0])
        client.emit("user_uttered", {"message": "/greet", "session_id": confirmed[0]})
        while len(replies) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [r["text"] for r in replies[:2]] == [texts.WELCOME, FIRST_QUESTION]
    finally:
        client.disconnect()


def test_the_widget_on_a_page_of_another_origin_gets_no_conversation(browser, bot_url, shots):
    """The same page served from a port that is not in the allowed list."""
    port = free_port()
    bot_port = bot_url.rsplit(":", 1)[1]
    server = spawn(
        "web",
        [sys.executable, "-m", "ops.web.server", "--port", str(port), "--socket-port", bot_port],
        Path(os.devnull),
        cwd=ROOT,
    )
    try:
        url = f"http://localhost:{port}"
        assert wait_http(url + "/", 20, server)
        widget = Widget(browser, url, shots).load()
        widget.open()
        time.sleep(8)  # long enough for the welcome on an allowed page
        assert widget.bot_texts() == []
        assert widget.driver.find_element(By.CSS_SELECTOR, ".rw-loading").text == "Connexion à l'assistant…"
        widget.shot("11-other-origin-refused")
    finally:
        server.stop(10)


def test_allowed_origins_are_configurable(monkeypatch):
    from addons.socketio_channel import allowed_origins

    monkeypatch.delenv("FAQ_WEB_ORIGINS", raising=False)
    assert settings.current().origins(8080) == ["http://localhost:8080", "http://127.0.0.1:8080"]
    assert allowed_origins({"allowed_origins": ["https://a.example/"]}) == ["https://a.example"]
    monkeypatch.setenv("FAQ_WEB_ORIGINS", "https://www.example.fr, https://faq.example.fr/")
    assert settings.current().origins(8080) == ["https://www.example.fr", "https://faq.example.fr"]
    assert allowed_origins({"allowed_origins": ["https://a.example"]}) == [
        "https://www.example.fr",
        "https://faq.example.fr",
    ]
