"""Accessibility of the chat widget (RGAA 4.1 / WCAG 2.1 AA), in Debian's headless Chromium,
against the real bot (the session's `bot_url` server and its web page).

axe-core (npm, pinned in package-lock.json, read from node_modules) checks what it can; the
rest, which axe cannot see, has its own test: close control at 320 px, Escape, focus ring,
focus after a choice, modal full screen, speakers, text box label, reduced motion, a long answer
shown from its start, new-tab links, console and requests, a duplicated tab. docs/accessibility.md maps each RGAA
criterion to these tests. Screenshots and axe reports go to test-output/accessibility/.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from bot import conversation as conv
from bot import texts as bot_texts
from tests.conftest import ROOT
from tests.test_web import FIRST_QUESTION, KB, Widget, new_browser, next_step, web_url  # noqa: F401 (fixture)

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
SIZES = {"1280": (1280, 900, False), "375": (375, 667, True), "320": (320, 568, True)}
# the longest answer of the FAQ: taller than a phone screen
LONG_ANSWER = max(KB.answers, key=lambda a: len(a.text))
SHORT_ANSWER = KB.answer("qhn_cout_certification")
INSIDE = "return arguments[0].contains(document.activeElement);"


# --- fixtures and helpers -------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    driver = new_browser()
    driver.set_script_timeout(90)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def shots(output_dir) -> Path:
    folder = output_dir / "accessibility"
    folder.mkdir(exist_ok=True)
    for old in list(folder.glob("*.png")) + list(folder.glob("*.json")):
        old.unlink()
    return folder


@pytest.fixture
def page(browser, web_url, shots):
    """The page at a given size (desktop by default), a first visit, no motion preference."""

    def load(size: str = "1280", reduced_motion: bool = False) -> Widget:
        width, height, mobile = SIZES[size] if size in SIZES else size
        browser.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        )
        browser.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {
                "features": [
                    {"name": "prefers-reduced-motion", "value": "reduce" if reduced_motion else "no-preference"}
                ]
            },
        )
        widget = Widget(browser, web_url, shots).load()
        browser.get_log("browser")  # what earlier pages logged is not this page's
        return widget

    try:
        yield load
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})


def open_with_welcome(widget: Widget) -> None:
    widget.js("document.querySelector('.rw-launcher').click();")
    widget.wait(lambda d: widget.is_open(), 10, "the widget did not open")
    widget.wait_last_bot(FIRST_QUESTION)


def route_to(answer) -> list:
    """The choices that lead from the first question to `answer` in the guided tree."""
    titles, path = [], ""
    for _ in range(8):
        reply = conv.guide(KB, path)
        if any(answer.title in m.text for m in reply.messages):
            return titles
        buttons = reply.messages[-1].buttons
        if any(b["title"] == answer.title for b in buttons):
            return titles + [answer.title]
        for b in buttons:
            found = re.search(r'"facet_path":"([^"]*)"', b["payload"])
            if not found:
                continue
            facet, _, value = found.group(1).split(";")[-1].partition("=")
            if value in answer.values(facet):
                titles.append(b["title"])
                path = found.group(1)
                break
        else:
            raise AssertionError(f"no route to {answer.id}")
    raise AssertionError(f"no route to {answer.id}")


def next_step_buttons(path: str) -> list:
    return [b["title"] for b in conv.guide(KB, path).messages[-1].buttons]


def go_to_answer(widget: Widget, answer) -> None:
    for title in route_to(answer):
        before = widget.click_reply(title)
        widget.wait(lambda d: len(widget.responses()) > before, message=f"no reply after {title!r}")
    widget.wait_last_bot(bot_texts.FEEDBACK_QUESTION)
    widget.answer_bubble(answer)


def run_axe(widget: Widget, name: str) -> dict:
    """axe-core on the whole page; the report goes to test-output/accessibility/axe-<name>.json."""
    if not widget.js("return !!window.axe"):
        widget.js(AXE.read_text(encoding="utf-8"))
    result = widget.driver.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})
          .then(r => done({
              version: r.testEngine.version,
              violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                  nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))})),
              incomplete: r.incomplete.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target)})),
              passes: r.passes.map(v => v.id)}))
          .catch(e => done({error: String(e)}));""",
        AXE_TAGS,
    )
    assert "error" not in result, result
    (widget.shots / f"axe-{name}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False))
    return result


def tab(widget: Widget, shift: bool = False):
    actions = ActionChains(widget.driver)
    if shift:
        actions.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT).perform()
    else:
        actions.send_keys(Keys.TAB).perform()
    return widget.driver.switch_to.active_element


def press(widget: Widget, key) -> None:
    ActionChains(widget.driver).send_keys(key).perform()


def active_is(widget: Widget, selector: str) -> bool:
    return widget.js("return !!document.activeElement && document.activeElement.matches(arguments[0]);", selector)


def rect(widget: Widget, element) -> dict:
    return widget.js(
        "const r = arguments[0].getBoundingClientRect();"
        "return {left: r.left, top: r.top, right: r.right, bottom: r.bottom,"
        " width: r.width, height: r.height};",
        element,
    )


# colours, as WCAG computes their contrast
COLOUR_JS = """
function rgba(text) {
  const p = text.match(/[\\d.]+/g).map(Number);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
}
function background(element) {
  for (let e = element; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c.a > 0) return c;
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
function luminance(c) {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
"""


def focus_ring(widget: Widget) -> dict:
    """The focused element's outline: width, style and contrast with what lies beside it."""
    return widget.js(
        COLOUR_JS
        + """
        const e = document.activeElement, s = getComputedStyle(e);
        const offset = parseFloat(s.outlineOffset) || 0;
        // a ring outside the element lies on its parent's background, one inside on its own
        const beside = offset >= 0 ? background(e.parentElement) : background(e);
        return {element: e.outerHTML.slice(0, 120), style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                contrast: contrast(rgba(s.outlineColor), beside)};"""
    )


# --- axe-core ------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", ["1280", "375", "320"])
def test_axe_finds_no_violation_closed_open_and_with_an_answer(page, size):
    widget = page(size)
    figures = {}
    closed = run_axe(widget, f"{size}-closed")
    widget.shot(f"axe-{size}-1-closed")
    open_with_welcome(widget)
    opened = run_axe(widget, f"{size}-open")
    widget.shot(f"axe-{size}-2-open")
    go_to_answer(widget, SHORT_ANSWER)
    answered = run_axe(widget, f"{size}-answer")
    widget.shot(f"axe-{size}-3-answer")
    for state, result in (("closed", closed), ("open", opened), ("answer", answered)):
        figures[state] = {
            "violations": len(result["violations"]),
            "passes": len(result["passes"]),
            "incomplete": len(result["incomplete"]),
        }
        assert result["violations"] == [], (state, json.dumps(result["violations"], indent=1, ensure_ascii=False))
        assert len(result["passes"]) > 20  # axe did run its rules
    (widget.shots / f"axe-{size}-figures.json").write_text(json.dumps(figures, indent=1))


# --- 1. the close control at 320 px; Escape; focus back on the launcher -------------------------


@pytest.mark.parametrize("size", ["320", "375"])
def test_close_control_is_on_top_and_large_enough_on_a_narrow_screen(page, size):
    widget = page(size)
    open_with_welcome(widget)
    widget.shot(f"close-{size}-open")
    close = widget.driver.find_element(By.CSS_SELECTOR, ".rw-close-button")
    box = rect(widget, close)
    assert box["width"] >= 24 and box["height"] >= 24, box
    assert box["left"] >= 0 and box["right"] <= SIZES[size][0] and box["top"] >= 0, box
    # nothing covers it: the title and the subtitle wrap beside it
    for part in widget.driver.find_elements(By.CSS_SELECTOR, ".rw-header .rw-title, .rw-header > span"):
        other = rect(widget, part)
        overlap = not (
            other["right"] <= box["left"]
            or other["left"] >= box["right"]
            or other["bottom"] <= box["top"]
            or other["top"] >= box["bottom"]
        )
        assert not overlap, (part.text, other, box)
    on_top = widget.js(
        "const r = arguments[0].getBoundingClientRect();"
        "const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);"
        "return arguments[0].contains(hit);",
        close,
    )
    assert on_top
    # a tap in its middle closes the widget, and the focus goes back to the launcher
    ActionChains(widget.driver).move_to_element(close).click().perform()
    widget.wait(lambda d: not widget.is_open(), 10, "the close button did not close the widget")
    assert active_is(widget, ".rw-launcher")
    widget.shot(f"close-{size}-closed")


@pytest.mark.parametrize("size", ["1280", "320"])
def test_escape_closes_the_widget_and_the_focus_returns_to_the_launcher(page, size):
    widget = page(size)
    launcher = widget.driver.find_element(By.CSS_SELECTOR, ".rw-launcher")
    launcher.send_keys(Keys.ENTER)  # opened from the keyboard
    widget.wait_last_bot(FIRST_QUESTION)
    widget.wait(lambda d: active_is(widget, ".rw-new-message"), 10, "the focus did not go to the message field")
    press(widget, Keys.ESCAPE)
    widget.wait(lambda d: not widget.is_open(), 10, "Escape did not close the widget")
    assert active_is(widget, ".rw-launcher")
    assert widget.driver.switch_to.active_element.get_attribute("aria-expanded") == "false"
    # the conversation is still there when it opens again
    press(widget, Keys.ENTER)
    widget.wait(lambda d: widget.is_open() and FIRST_QUESTION in widget.bot_texts(), 10, "did not reopen")
    press(widget, Keys.ESCAPE)
    widget.wait(lambda d: not widget.is_open(), 10, "Escape did not close the widget")
    # opened from the page's own button, the focus goes back to that button
    button = widget.driver.find_element(By.CSS_SELECTOR, "[data-open-assistant]")
    widget.js("arguments[0].scrollIntoView({block: 'center'});", button)
    button.send_keys(Keys.ENTER)
    widget.wait(
        lambda d: widget.is_open() and active_is(widget, ".rw-new-message"), 10, "the page button did not open it"
    )
    press(widget, Keys.ESCAPE)
    widget.wait(lambda d: not widget.is_open(), 10, "Escape did not close the widget")
    assert active_is(widget, "[data-open-assistant]")


def test_opened_before_the_connection_the_text_box_takes_the_focus_once_usable(page, browser):
    """On a slow connection the widget opens before it is connected: its text box is disabled then,
    and gets the focus as soon as it can be used (not left on the launcher)."""
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*socket.io*"]})  # the connection waits
    try:
        widget = page("1280")
        widget.driver.find_element(By.CSS_SELECTOR, ".rw-launcher").send_keys(Keys.ENTER)
        widget.wait(lambda d: widget.is_open(), 10, "the launcher did not open the widget")
        time.sleep(1)
        box = widget.driver.find_element(By.CSS_SELECTOR, ".rw-new-message")
        assert box.get_attribute("disabled") is not None  # not connected: not usable yet
        assert not active_is(widget, ".rw-new-message")
    finally:
        browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    widget.wait_last_bot(FIRST_QUESTION)
    widget.wait(lambda d: active_is(widget, ".rw-new-message"), 10, "the focus did not go to the text box")


# --- 2. a visible focus ring on every control ----------------------------------------------------


def test_every_focusable_control_shows_a_focus_ring_of_3_to_1(page):
    widget = page("1280")
    open_with_welcome(widget)
    go_to_answer(widget, SHORT_ANSWER)
    widget.driver.find_element(By.CSS_SELECTOR, ".rw-new-message").send_keys("a")  # the send button is enabled
    # from the page's first control, Tab through the page and the whole widget
    widget.js("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0);")
    seen, rings = set(), []
    for _ in range(80):
        tab(widget)
        if widget.js("return document.activeElement === document.body;"):
            continue  # past the last control, the browser's own stop before going round
        key = widget.js(
            "const e = document.activeElement; return e.outerHTML.slice(0, 200) + '@' +"
            "[...document.querySelectorAll('*')].indexOf(e);"
        )
        if key in seen:
            break
        seen.add(key)
        ring = focus_ring(widget)
        rings.append(ring)
        for kind in ("rw-reply", "rw-close-button", "rw-launcher", "rw-new-message"):
            if kind in ring["element"] and not any(kind in r["element"] for r in rings[:-1]):
                widget.shot(f"focus-ring-{kind[3:]}")
    kinds = {
        "skip-link",
        "rw-launcher",
        "rw-close-button",
        "rw-messages-container",
        "rw-reply",
        "rw-new-message",
        "rw-send",
        "href=",
        "open-assistant",
    }
    reached = {k for k in kinds if any(k in r["element"] for r in rings)}
    assert reached == kinds, f"not reached by Tab: {kinds - reached}"
    bad = [r for r in rings if r["style"] in ("none", "hidden") or r["width"] < 2 or r["contrast"] < 3]
    assert not bad, bad


# --- 3. focus after a choice ------------------------------------------------------------------------


def test_after_a_choice_the_focus_goes_to_the_next_message_never_to_the_body(page):
    widget = page("1280")
    open_with_welcome(widget)
    choice = widget.latest_reply("Certifications et labels (QHN, DMN, label e-santé Maisons et Centres de Santé)")
    widget.js("arguments[0].focus();", choice)
    before = len(widget.responses())
    press(widget, Keys.ENTER)
    # while the bot thinks and until its reply is in, the focus is never lost
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        assert not widget.js("return document.activeElement === document.body || !document.activeElement;")
        if len(widget.responses()) > before and widget.bot_texts()[-1] == next_step("offre=certifications"):
            break
        time.sleep(0.05)
    widget.wait(lambda d: active_is(widget, ".rw-message"), 10, "the focus did not go to the new message")
    focused = widget.js("return document.activeElement.innerText;")
    assert next_step("offre=certifications") in focused
    widget.shot("focus-after-choice")
    # Tab goes on to the new choices
    first_choice = next_step_buttons("offre=certifications")[0]
    assert tab(widget).text == first_choice

    # with the mouse too, and down to an answer: the focus is on the answer, not on <body>
    before = widget.click_reply("QHN")
    widget.wait_last_bot(bot_texts.LISTING, before)
    before = widget.click_reply(SHORT_ANSWER.title)
    widget.wait_last_bot(bot_texts.FEEDBACK_QUESTION, before)
    assert active_is(widget, ".rw-message")
    assert widget.js("return document.activeElement.innerText;").find(SHORT_ANSWER.title) >= 0


# --- 6. choices: real buttons that stay in the history ----------------------------------------


def test_choices_are_buttons_that_stay_in_the_history_and_still_work(page):
    widget = page("1280")
    open_with_welcome(widget)
    before = widget.click_reply("Convergence / doctrine du numérique en santé")
    widget.wait_last_bot(next_step("offre=convergence"), before)
    # the first question's choices are still there, as buttons, beside the new ones
    first = widget.driver.find_elements(By.CSS_SELECTOR, ".rw-message .rw-replies")[0]
    titles = [b.text for b in first.find_elements(By.CSS_SELECTOR, "button.rw-reply[type=button]")]
    assert titles == [o.label for o in KB.facets[0].options] + [bot_texts.SKIP_LABEL]
    # and one of them still works: it starts that branch again
    before = len(widget.responses())
    next(
        b for b in first.find_elements(By.CSS_SELECTOR, ".rw-reply") if b.text == "Référencement Mon espace santé"
    ).click()
    widget.wait_last_bot(next_step("offre=mes"), before)
    widget.shot("choices-kept")


# --- 4. full screen: modal, Tab stays inside ----------------------------------------------------


def test_full_screen_widget_keeps_the_focus_at_640x400(page):
    widget = page((640, 400, False))  # 1280 x 800 at 200 % zoom
    widget.shot("fullscreen-640-page")
    open_with_welcome(widget)
    widget.shot("fullscreen-640-open")
    dialog = widget.driver.find_element(By.CSS_SELECTOR, ".rw-conversation-container")
    assert dialog.get_attribute("role") == "dialog" and dialog.get_attribute("aria-modal") == "true"
    assert dialog.accessible_name == "Assistant FAQ des industriels"
    # the page behind is out of reach for the keyboard and for screen readers
    assert widget.js("return ['header', 'main', 'footer'].every(t => document.querySelector(t).inert);")
    visited = set()
    for shift in (False, True):
        for _ in range(25):
            element = tab(widget, shift)
            assert widget.js(INSIDE, dialog), element.get_attribute("outerHTML")[:200]
            visited.add((element.tag_name, element.get_attribute("class"), element.text))
    assert len(visited) >= 5  # it went round: close, conversation, choices, text box
    press(widget, Keys.ESCAPE)
    widget.wait(lambda d: not widget.is_open(), 10, "Escape did not close the widget")
    assert widget.js("return ['header', 'main', 'footer'].every(t => !document.querySelector(t).inert);")
    assert active_is(widget, ".rw-launcher")


def test_on_a_desktop_the_widget_is_a_dialog_that_does_not_lock_the_page(page):
    widget = page("1280")
    open_with_welcome(widget)
    dialog = widget.driver.find_element(By.CSS_SELECTOR, ".rw-conversation-container")
    assert dialog.get_attribute("role") == "dialog" and dialog.get_attribute("aria-modal") is None
    assert widget.js("return !document.querySelector('main').inert;")
    # headings: the page's h1 and h2s, then the widget's h2, in one landmark
    assert widget.js("return [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => h.tagName);") == [
        "H1",
        "H2",
        "H2",
        "H2",
    ]
    assert (
        widget.js("return document.querySelector('.rw-title').closest('aside').getAttribute('aria-label');")
        == "Assistant FAQ des industriels"
    )
    # opened from the page's button and closed with the launcher: the focus stays on the launcher
    widget.driver.find_element(By.CSS_SELECTOR, ".rw-launcher").click()
    widget.wait(lambda d: not widget.is_open(), 10, "the launcher did not close the widget")
    widget.driver.find_element(By.CSS_SELECTOR, "[data-open-assistant]").click()
    widget.wait(lambda d: widget.is_open(), 10, "the page's button did not open the widget")
    widget.driver.find_element(By.CSS_SELECTOR, ".rw-launcher").click()
    widget.wait(lambda d: not widget.is_open(), 10, "the launcher did not close the widget")
    assert active_is(widget, ".rw-launcher")
    # doctype and a title that says what the page is (RGAA 8.1, 8.5, 8.6)
    assert widget.js("return document.doctype && document.doctype.name;") == "html"
    assert widget.js("return document.title;") == "Assistant FAQ des industriels – Agence du Numérique en Santé"


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def test_page_and_widget_markup_is_well_formed(page):
    """RGAA 8.2 as far as it can be checked here (no W3C validator offline): the page's source
    nests its elements properly, and the live page with the widget open has no duplicate id and
    every label points to a field."""
    from html.parser import HTMLParser

    class Nesting(HTMLParser):
        def __init__(self):
            super().__init__()
            self.stack, self.errors = [], []

        def handle_starttag(self, tag, attrs):
            if tag not in VOID:
                self.stack.append(tag)

        def handle_endtag(self, tag):
            if not self.stack or self.stack[-1] != tag:
                self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            else:
                self.stack.pop()

    source = (ROOT / "ops" / "web" / "static" / "index.html").read_text(encoding="utf-8")
    assert source.startswith("<!doctype html>")
    checker = Nesting()
    checker.feed(source)
    assert checker.errors == [] and checker.stack == [], (checker.errors, checker.stack)

    widget = page("1280")
    open_with_welcome(widget)
    go_to_answer(widget, SHORT_ANSWER)
    duplicates = widget.js(
        "const ids = [...document.querySelectorAll('[id]')].map(e => e.id);"
        "return ids.filter((id, i) => ids.indexOf(id) !== i);"
    )
    assert duplicates == []
    assert widget.js(
        "return [...document.querySelectorAll('label[for]')]"
        ".every(l => document.getElementById(l.htmlFor) instanceof HTMLTextAreaElement);"
    )


# --- 5. who speaks --------------------------------------------------------------------------


def _exposed_texts(widget: Widget, selector: str) -> list:
    """The text of each element matching `selector`, as Chromium gives it to screen readers."""
    driver = widget.driver
    root = driver.execute_cdp_cmd("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    ids = driver.execute_cdp_cmd("DOM.querySelectorAll", {"nodeId": root, "selector": selector})["nodeIds"]
    texts = []
    for node in ids:
        nodes = driver.execute_cdp_cmd("Accessibility.queryAXTree", {"nodeId": node, "role": "StaticText"})["nodes"]
        words = " ".join(n.get("name", {}).get("value", "") for n in nodes if not n.get("ignored"))
        texts.append(re.sub(r"\s+", " ", words).strip())
    return texts


def test_every_message_says_who_speaks_and_only_the_assistant_is_announced(page):
    widget = page("1280")
    # record what the live regions receive
    open_with_welcome(widget)
    widget.js("""
        window.faqAnnounced = [];
        new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n => {
            const region = n.parentElement && n.parentElement.closest('[aria-live]:not([aria-live="off"]), [role=log], [role=status], [role=alert]');
            if (region) window.faqAnnounced.push(n.textContent);
        }))).observe(document.body, {childList: true, subtree: true});""")
    question = "combien coute une certfication QHN ?"
    before = widget.type(question)
    widget.wait_last_bot(bot_texts.FEEDBACK_QUESTION, before)
    widget.answer_bubble(SHORT_ANSWER)
    time.sleep(0.5)
    texts = _exposed_texts(widget, ".rw-message:not(.rw-typing-indication)")
    kinds = widget.js(
        "return [...document.querySelectorAll('.rw-message:not(.rw-typing-indication)')]"
        ".map(m => m.querySelector('.rw-client') ? 'user' : 'bot');"
    )
    assert len(texts) == len(kinds) >= 4 and "user" in kinds
    for text, kind in zip(texts, kinds):
        assert text.startswith("Vous : " if kind == "user" else "Assistant : "), (kind, text[:80])
    assert any(t == "Vous : " + question for t in texts)
    # the history itself is not live (it would read the user's own words back); the assistant's
    # messages are announced, each with its speaker, and the user's never are
    assert widget.js(
        "return document.querySelector('.rw-messages-container').closest("
        "'[aria-live]:not([aria-live=\"off\"]), [role=log], [role=status]') === null;"
    )
    announced = widget.js("return window.faqAnnounced;")
    assert announced and all(a.startswith("Assistant : ") for a in announced), announced
    assert not any(question in a for a in announced)
    assert any(SHORT_ANSWER.title in a for a in announced)
    assert any(a.startswith("Assistant : " + bot_texts.FEEDBACK_QUESTION) and "2 choix" in a for a in announced)
    widget.shot("speakers")
    # without style sheets (RGAA 10.2, 10.3) the speakers show in the text itself
    shown = widget.js("""
        const sheets = [...document.styleSheets];
        sheets.forEach(s => s.disabled = true);
        try {
            return [...document.querySelectorAll('.rw-message:not(.rw-typing-indication)')]
                .map(m => m.querySelector('.rw-client, .rw-response').innerText.trim());
        } finally { sheets.forEach(s => s.disabled = false); }""")
    for text, kind in zip(shown, kinds):
        assert text.startswith("Vous :" if kind == "user" else "Assistant :"), (kind, text[:80])


# --- 8. the text box -------------------------------------------------------------------------------


def test_text_box_has_a_visible_label_that_is_its_name(page):
    widget = page("1280")
    open_with_welcome(widget)
    box = widget.driver.find_element(By.CSS_SELECTOR, ".rw-new-message")
    label = widget.driver.find_element(By.CSS_SELECTOR, "label[for='%s']" % box.get_attribute("id"))
    assert label.is_displayed() and label.text == "Votre question"
    assert box.accessible_name == "Votre question"
    assert (
        widget.js("return arguments[0].getAttributeNames().filter(n => n === 'aria-label' || n === 'type');", box) == []
    )
    assert box.tag_name == "textarea"
    label_box, field = rect(widget, label), rect(widget, box)
    assert label_box["bottom"] <= field["top"] + 1  # above the field, not covered by it
    placeholder = widget.js(
        COLOUR_JS
        + """
        const e = arguments[0];
        return contrast(rgba(getComputedStyle(e, '::placeholder').color), background(e));""",
        box,
    )
    assert placeholder >= 4.5, placeholder
    # typing does not hide it (a placeholder would go)
    box.send_keys("certification QHN")
    assert label.is_displayed()
    widget.shot("text-box-label", widget.driver.find_element(By.CSS_SELECTOR, ".rw-sender"))


# --- 9. reduced motion ---------------------------------------------------------------------------

SAMPLE_ANIMATIONS = """
    window.faqAnimations = new Set();
    window.faqSampler = setInterval(() => document.getAnimations()
        .filter(a => a.playState === 'running')
        .forEach(a => window.faqAnimations.add(a.animationName || a.transitionProperty || 'animation')), 20);"""


def _animations_while_opening(widget: Widget) -> list:
    widget.js(SAMPLE_ANIMATIONS)
    open_with_welcome(widget)
    before = widget.click_reply("Ségur du numérique en santé")  # the typing dots show meanwhile
    widget.wait_last_bot(next_step("offre=segur"), before)
    widget.js("document.querySelector('.rw-launcher').click();")
    time.sleep(0.6)
    return widget.js("clearInterval(window.faqSampler); return [...window.faqAnimations];")


def test_with_reduced_motion_no_animation_runs(page):
    moving = _animations_while_opening(page("1280"))
    assert moving, "the check sees no animation even without the preference"
    still = _animations_while_opening(page("1280", reduced_motion=True))
    assert still == [], still


# --- 10. a long answer on a phone -------------------------------------------------------------------


def test_a_long_answer_on_a_phone_is_shown_from_its_start(page):
    widget = page("375")
    open_with_welcome(widget)
    go_to_answer(widget, LONG_ANSWER)
    time.sleep(0.5)
    history = widget.driver.find_element(By.CSS_SELECTOR, ".rw-messages-container")
    bubble = widget.answer_bubble(LONG_ANSWER)
    assert rect(widget, bubble)["height"] > rect(widget, history)["height"]  # it cannot all show at once
    title = bubble.find_element(By.CSS_SELECTOR, "strong")
    view, start = rect(widget, history), rect(widget, title)
    assert view["top"] <= start["top"] and start["bottom"] <= view["bottom"], (view, start)
    widget.shot("long-answer-375-start")
    # the rest, and the feedback question, are there when scrolling down
    widget.js("arguments[0].scrollTop = arguments[0].scrollHeight;", history)
    assert widget.driver.find_element(By.XPATH, "//button[normalize-space()='Oui']").is_displayed()
    widget.shot("long-answer-375-end")


# --- 11. links, console, requests -----------------------------------------------------------------


def test_links_that_open_a_new_tab_say_so(page):
    widget = page("1280")
    open_with_welcome(widget)
    go_to_answer(widget, SHORT_ANSWER)
    link = widget.answer_bubble(SHORT_ANSWER).find_element(By.CSS_SELECTOR, "a")
    assert link.get_attribute("target") == "_blank"
    assert link.accessible_name == f"{SHORT_ANSWER.url} (nouvelle fenêtre)"
    assert link.get_attribute("title") == f"{SHORT_ANSWER.url} – nouvelle fenêtre"
    assert widget.shown_text(link) == SHORT_ANSWER.url  # the visible text is unchanged


def test_no_console_error_and_no_request_to_another_host(page, web_url, bot_url):
    widget = page("1280")
    open_with_welcome(widget)
    go_to_answer(widget, SHORT_ANSWER)
    errors = [e for e in widget.driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == [], errors
    requested = widget.js("return performance.getEntriesByType('resource').map(e => e.name);")
    page_host, bot_port = web_url.rsplit(":", 1)[0], bot_url.rsplit(":", 1)[1]
    outside = [
        u
        for u in requested
        if not (u.startswith(web_url + "/") or re.match(rf"https?://(localhost|127\.0\.0\.1):{bot_port}/", u))
    ]
    assert outside == [], outside
    assert page_host  # the page's own host served everything else
    # no stylesheet imports a web font (rasa-webchat's Google Fonts @import is patched out)
    assert (
        widget.js(
            "return [...document.styleSheets].flatMap(s => [...s.cssRules])"
            ".filter(r => r instanceof CSSImportRule).length;"
        )
        == 0
    )


# --- 10.4 / 10.11: zoom and reflow; 13.9: orientation --------------------------------------------


@pytest.mark.parametrize(
    "size",
    [(320, 568, True), (568, 320, True), (640, 400, False)],
    ids=["320-portrait", "568-landscape", "1280-at-200pc"],
)
def test_no_horizontal_scroll_and_every_control_within_the_screen(page, size):
    widget = page(size)
    open_with_welcome(widget)
    go_to_answer(widget, SHORT_ANSWER)
    width = size[0]
    name = "x".join(map(str, size[:2]))
    widget.shot(f"reflow-{name}")
    assert widget.js("return document.documentElement.scrollWidth <= window.innerWidth;")
    dialog = widget.driver.find_element(By.CSS_SELECTOR, ".rw-conversation-container")
    box = rect(widget, dialog)
    assert box["left"] >= 0 and box["right"] <= width + 0.5, box
    wide = widget.js(
        """
        // (the words for screen readers only are clipped on purpose)
        return [...arguments[0].querySelectorAll('*:not(.faq-sr-only)')].filter(e => e.scrollWidth > e.clientWidth + 1
            && getComputedStyle(e).overflowX !== 'visible' && e.clientWidth > 0).map(e => e.className);""",
        dialog,
    )
    assert wide == [], wide
    for element in widget.driver.find_elements(By.CSS_SELECTOR, ".rw-reply, .rw-close-button, .rw-new-message"):
        r = rect(widget, element)
        assert r["left"] >= 0 and r["right"] <= width + 0.5, (element.text, r)


# --- 10.12: text spacing ----------------------------------------------------------------------------

TEXT_SPACING = """
    const style = document.createElement('style');
    style.textContent = '* { line-height: 1.5 !important; letter-spacing: 0.12em !important;'
        + ' word-spacing: 0.16em !important; } p { margin-bottom: 2em !important; }';
    document.head.appendChild(style);"""


@pytest.mark.parametrize("size", ["1280", "320"])
def test_text_spacing_cuts_nothing(page, size):
    widget = page(size)
    widget.js(TEXT_SPACING)
    open_with_welcome(widget)
    go_to_answer(widget, SHORT_ANSWER)
    widget.shot(f"text-spacing-{size}")
    cut = widget.js("""
        const selectors = '.rw-reply, .rw-header, .rw-title, .rw-close-button, .faq-input-label, .rw-client, .rw-response';
        return [...document.querySelectorAll(selectors)]
            .filter(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)
            .map(e => e.className + ': ' + e.innerText.slice(0, 40));""")
    assert cut == [], cut
    assert widget.js("return document.documentElement.scrollWidth <= window.innerWidth;")
    close = widget.driver.find_element(By.CSS_SELECTOR, ".rw-close-button")
    title = widget.driver.find_element(By.CSS_SELECTOR, ".rw-title")
    a, b = rect(widget, close), rect(widget, title)
    assert b["right"] <= a["left"] or b["top"] >= a["bottom"], (a, b)


# --- 12. a duplicated tab gets its own conversation --------------------------------------------


def test_a_duplicated_tab_gets_its_own_conversation(page):
    """A tab opened from the page copies its sessionStorage, conversation id included (as the
    browser's "Duplicate tab" does): the server gives it a new id, and the first tab never
    receives the second one's answers."""
    widget = page("1280")
    open_with_welcome(widget)
    driver = widget.driver
    first_tab, first_id = driver.current_window_handle, widget.session_id()
    shown_first = widget.bot_texts()
    driver.execute_script("sessionStorage.setItem('copied-marker', arguments[0]);", first_id)
    driver.execute_script("window.open(location.href, '_blank');")
    widget.wait(lambda d: len(d.window_handles) == 2, 10, "no second tab")
    second_tab = next(h for h in driver.window_handles if h != first_tab)
    driver.switch_to.window(second_tab)
    try:
        # the tab got a copy of the first one's storage (its conversation id: the server may already
        # have replaced it, so a marker written beside it is read)
        assert driver.execute_script("return sessionStorage.getItem('copied-marker');") == first_id
        second = Widget(driver, widget.url, widget.shots)
        second.wait(lambda d: d.find_elements(By.CSS_SELECTOR, ".rw-launcher"), 20, "no launcher")
        second.open()
        question = "combien coute une certfication QHN ?"
        before = second.type(question)
        second.wait_last_bot(bot_texts.FEEDBACK_QUESTION, before)
        second.answer_bubble(SHORT_ANSWER)
        assert second.session_id() != first_id
        second.shot("duplicated-tab-second")
    finally:
        driver.close()
        driver.switch_to.window(first_tab)
    time.sleep(2)
    # the first tab shows only its own conversation
    assert widget.bot_texts() == shown_first
    assert question not in widget.user_texts()
    assert widget.session_id() == first_id
