/*
 * Starts the rasa-webchat widget of the FAQ assistant and makes it accessible (RGAA 4.1,
 * WCAG 2.1 AA: see docs/accessibility.md). Load after rasa-webchat's lib/index.js (the build
 * patched by patches/rasa-webchat+1.0.1.patch: real <button>s for the choices, an <h2> title,
 * no web font fetched). The Rasa server address comes from this script tag's data-socket-url,
 * else from window.FAQ_ASSISTANT_CONFIG.socketUrl (the page's /config.js).
 *
 * What this script adds around the widget:
 * - an <aside> landmark holding the widget and a polite live region that announces the
 *   assistant's messages, each as "Assistant : …" (the user's own messages are not read back);
 * - "Vous :" / "Assistant :" before every message, for screen readers;
 * - the conversation is a dialog; where it covers the screen (≤ 800 px wide: phones, 200 % zoom)
 *   it is modal: the page behind is inert and Tab stays inside;
 * - Escape closes it and the focus goes back to the launcher; after a choice the focus goes to
 *   the assistant's next message (never to the page's <body>);
 * - a new answer is shown from its start, not scrolled to its end;
 * - names for the icon buttons and the conversation, a visible label for the text box, links
 *   that open a new tab say so.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var config = window.FAQ_ASSISTANT_CONFIG || {};
  var socketUrl = (script && script.getAttribute("data-socket-url")) || config.socketUrl;

  var TITLE = "Assistant FAQ des industriels";
  var LABELS = {
    region: TITLE,
    open: "Ouvrir l'assistant FAQ",
    close: "Fermer l'assistant FAQ",
    input: "Votre question",
    send: "Envoyer",
    history: "Conversation avec l'assistant",
    user: "Vous : ",
    bot: "Assistant : ",
    newWindow: "nouvelle fenêtre",
    choices: function (n) { return n === 1 ? "1 choix proposé." : n + " choix proposés."; }
  };
  // rasa-webchat's own breakpoint: at or under it, the conversation covers the whole screen
  var FULL_SCREEN = window.matchMedia("screen and (max-width: 800px)");
  var FOCUSABLE = "a[href], button:not([disabled]), textarea:not([disabled]), input:not([disabled]), " +
                  "[tabindex]:not([tabindex='-1'])";
  var MESSAGE = ".rw-message:not(.rw-typing-indication)";

  /* Our landmark: the widget renders inside it, beside the live region. */
  var root = document.createElement("aside");
  root.className = "faq-assistant";
  root.setAttribute("aria-label", LABELS.region);
  var mount = document.createElement("div");
  var live = document.createElement("div");
  live.className = "faq-sr-only faq-live";
  live.setAttribute("aria-live", "polite");
  live.setAttribute("aria-relevant", "additions");
  root.appendChild(mount);
  root.appendChild(live);

  window.WebChat.default({
    socketUrl: socketUrl,
    socketPath: "/socket.io/",
    // the welcome and the first qualifying question, sent once per new conversation
    initPayload: "/greet",
    customData: { language: "fr" },
    // "session": the conversation survives a reload and ends with the browser tab
    params: { storage: "session" },
    title: TITLE,
    subtitle: "Agence du Numérique en Santé",
    inputTextFieldHint: "Écrivez votre question…",
    connectingText: "Connexion à l'assistant…",
    // no Botfront rules: otherwise the widget stays hidden until the server sends props
    withRules: false,
    hideWhenNotConnected: false,
    showFullScreenButton: false,
    mainColor: "#000091",
    userBackgroundColor: "#000091",
    userTextColor: "#ffffff",
    customMessageDelay: function (text) {
      return Math.min(1000, Math.max(300, 10 * (text || "").length));
    },
    // runs before the widget's own handler, on the same message object
    onSocketEvent: {
      bot_uttered: function (message) {
        if (!message) return;
        if (typeof message.text === "string") {
          message.text = endListsBeforePlainLines(message.text);
        }
        // Rasa's socket.io channel sends choices as quick replies, which the widget hides once
        // one is picked; as buttons they stay in the history (any of them still works).
        if (message.quick_replies && !message.buttons) {
          message.buttons = message.quick_replies;
          delete message.quick_replies;
        }
      }
    }
  }, mount);

  function attach() {
    if (!root.parentNode) document.body.appendChild(root);
  }
  if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);

  /*
   * An answer's list may be followed by a plain line ("En savoir plus : https://…"). Markdown
   * would make that line part of the last list item; a blank line before it ends the list.
   * Only the layout changes: the words stay those of the FAQ.
   */
  function endListsBeforePlainLines(text) {
    return text.replace(/^(- .*)\n(?!- |\n)/gm, "$1\n\n");
  }

  function setAttr(element, name, value) {
    if (!element) return;
    if (value === null) {
      if (element.hasAttribute(name)) element.removeAttribute(name);
    } else if (element.getAttribute(name) !== value) {
      element.setAttribute(name, value);
    }
  }

  function srOnly(text, extraClass) {
    var span = document.createElement("span");
    span.className = "faq-sr-only" + (extraClass ? " " + extraClass : "");
    span.textContent = text;
    return span;
  }

  function q(selector) { return root.querySelector(selector); }
  function conversation() { return q(".rw-conversation-container"); }
  function launcher() { return q(".rw-launcher"); }
  function isModal() { return !!conversation() && FULL_SCREEN.matches; }

  function visible(element) {
    return !!(element.offsetWidth || element.offsetHeight || element.getClientRects().length) &&
      getComputedStyle(element).visibility !== "hidden";
  }

  function focusables(container) {
    return Array.prototype.filter.call(container.querySelectorAll(FOCUSABLE), visible);
  }

  function messageText(message) {
    var bubble = message.querySelector(".rw-message-text");
    return bubble ? bubble.innerText.replace(/\s+/g, " ").trim() : "";
  }

  /* --- names, roles and labels ------------------------------------------------------- */

  var seen = false;         // false until the messages shown at opening are marked (not announced)
  var pendingChoice = null; // the choice just pressed, while its answer is not shown yet
  var wasOpen = false;
  var wasModal = false;
  var turnStart = null;     // the first message of the assistant's current reply
  var lastCount = 0;
  var lastLayout = "";      // what the history looked like when its scroll was last set
  var opener = null;        // a page button ([data-open-assistant]) that opened the conversation
  var openedByUser = false; // the launcher was just pressed: the conversation opens at the user's request
  var focusWhenReady = false; // the text box takes the focus once usable (it is disabled until connected)

  function patch() {
    var open = conversation();
    var button = launcher();
    if (button) {
      setAttr(button, "aria-label", open ? LABELS.close : LABELS.open);
      setAttr(button, "aria-expanded", open ? "true" : "false");
    }
    if (open) patchConversation(open);
    updateModal(); // first: the focus cannot go back to a page that is still inert
    if (!!open !== wasOpen) {
      wasOpen = !!open;
      focusWhenReady = !!open && (openedByUser || !!opener);
      openedByUser = false;
      if (!open) {
        seen = false;
        lastLayout = "";
        turnStart = null;
        pendingChoice = null;
        // closed with ✕ or Escape: the focus goes back to what opened it (closed with the
        // launcher, it stays there)
        var active = document.activeElement;
        var back = opener && document.contains(opener) && visible(opener) ? opener : button;
        opener = null;
        var lost = !active || active === document.body || !document.contains(active) ||
                   (root.contains(active) && active !== button);
        if (back && lost) back.focus();
      }
    }
    if (open && focusWhenReady) focusTextBox(open);
  }

  /* Opened by the user, the conversation puts the focus in its text box, as rasa-webchat does when
     it is connected at once; on a slow connection the box is still disabled then, so the focus
     goes there when it becomes usable, unless the user has put it inside the conversation meanwhile. */
  function focusTextBox(open) {
    var input = open.querySelector(".rw-new-message");
    if (!input || input.disabled) return;
    focusWhenReady = false;
    var active = document.activeElement;
    if (!active || active === document.body || !open.contains(active)) input.focus();
  }

  function patchConversation(open) {
    setAttr(open, "role", "dialog");
    var title = open.querySelector(".rw-title");
    if (title) {
      setAttr(title, "id", "faq-assistant-title");
      setAttr(open, "aria-labelledby", "faq-assistant-title");
    }
    var close = open.querySelector(".rw-close-button");
    setAttr(close, "aria-label", LABELS.close);
    setAttr(close, "type", "button");
    var closeImage = open.querySelector(".rw-close-button img");
    setAttr(closeImage, "alt", "");
    // "Connexion à l'assistant…" while the server is not reached
    setAttr(open.querySelector(".rw-loading"), "role", "status");
    patchComposer(open);

    var history = open.querySelector(".rw-messages-container");
    if (history) {
      // a named, keyboard-scrollable region; announcements go through the live region
      setAttr(history, "role", "region");
      setAttr(history, "aria-label", LABELS.history);
      setAttr(history, "tabindex", "0");
      var typing = history.querySelector(".rw-typing-indication");
      setAttr(typing, "aria-hidden", "true");
      patchMessages(history);
    }
  }

  function patchComposer(open) {
    var form = open.querySelector(".rw-sender");
    var box = open.querySelector(".rw-new-message");
    if (!form || !box) return;
    setAttr(box, "id", "faq-assistant-question");
    setAttr(box, "aria-label", null);
    setAttr(box, "type", null);
    if (!form.querySelector(".faq-input-label")) {
      var label = document.createElement("label");
      label.className = "faq-input-label";
      label.htmlFor = "faq-assistant-question";
      label.textContent = LABELS.input;
      form.insertBefore(label, form.firstChild);
    }
    var send = open.querySelector(".rw-send");
    setAttr(send, "aria-label", LABELS.send);
    var icon = send && send.querySelector("svg");
    setAttr(icon, "aria-hidden", "true");
    setAttr(icon, "focusable", "false");
  }

  function patchMessages(history) {
    var messages = history.querySelectorAll(MESSAGE);
    var fresh = [];
    for (var i = 0; i < messages.length; i++) {
      var message = messages[i];
      var fromUser = !!message.querySelector(".rw-client");
      var bubble = message.querySelector(".rw-client, .rw-response");
      if (bubble && !bubble.querySelector(".faq-speaker")) {
        bubble.insertBefore(srOnly(fromUser ? LABELS.user : LABELS.bot, "faq-speaker"), bubble.firstChild);
      }
      var links = message.querySelectorAll("a[target='_blank']");
      for (var j = 0; j < links.length; j++) {
        if (!links[j].querySelector(".faq-new-window")) {
          links[j].appendChild(srOnly(" (" + LABELS.newWindow + ")", "faq-new-window"));
          setAttr(links[j], "title", links[j].textContent.replace(" (" + LABELS.newWindow + ")", "") +
                  " – " + LABELS.newWindow);
        }
      }
      if (!message.hasAttribute("data-faq-seen")) {
        message.setAttribute("data-faq-seen", fromUser ? "user" : "bot");
        if (seen && !fromUser) fresh.push(message);
      }
    }
    // the history shown when the conversation opens (e.g. after a reload) is not announced again
    seen = true;
    if (fresh.length) onNewBotMessages(history, fresh);
    if (messages.length !== lastCount) {
      // the user spoke last: the assistant's next reply starts a new turn
      if (messages.length && messages[messages.length - 1].getAttribute("data-faq-seen") === "user") turnStart = null;
      lastCount = messages.length;
    }
    // only when the widget itself has just scrolled (a message or the typing dots came or went),
    // never because the user scrolled
    var layout = messages.length + ":" + !!history.querySelector(".rw-typing-indication") + ":" + history.scrollHeight;
    if (layout !== lastLayout) {
      lastLayout = layout;
      showReplyFromItsStart(history);
    }
  }

  /* --- new messages: announce, focus, scroll ------------------------------------------ */

  function onNewBotMessages(history, fresh) {
    if (!turnStart || !history.contains(turnStart)) turnStart = fresh[0];
    var focused = null;
    if (pendingChoice) {
      var active = document.activeElement;
      // the focus is still where the choice left it: it goes to the answer
      if (!active || active === document.body || active === pendingChoice || !document.contains(active)) {
        focused = fresh[0];
        focused.setAttribute("tabindex", "-1");
        focused.focus({ preventScroll: true });
      }
      pendingChoice = null;
    }
    for (var i = 0; i < fresh.length; i++) {
      if (fresh[i] === focused) continue; // read out by the focus itself
      announce(fresh[i]);
    }
  }

  function announce(message) {
    var text = messageText(message);
    if (!text) return;
    var choices = message.querySelectorAll(".rw-reply").length;
    var entry = document.createElement("p");
    entry.textContent = LABELS.bot + text + (choices ? " " + LABELS.choices(choices) : "");
    live.appendChild(entry);
    // announced once: old entries leave, so that reading the page does not meet them twice
    setTimeout(function () { if (entry.parentNode) entry.parentNode.removeChild(entry); }, 30000);
  }

  /*
   * rasa-webchat scrolls to the end of the conversation on every update; a long answer then
   * shows its end, and its title is above the screen. The assistant's reply is shown from its
   * first message instead (to the end when all of it fits).
   */
  function showReplyFromItsStart(history) {
    if (!turnStart || !history.contains(turnStart)) return;
    var bottom = history.scrollHeight - history.clientHeight;
    var start = turnStart.offsetTop - history.offsetTop - 8;
    if (turnStart.offsetParent !== history.offsetParent) {
      start = turnStart.getBoundingClientRect().top - history.getBoundingClientRect().top + history.scrollTop - 8;
    }
    var target = Math.max(0, Math.min(bottom, start));
    if (history.scrollTop > target) history.scrollTop = target;
  }

  /* --- full screen: a modal dialog ------------------------------------------------------ */

  function updateModal() {
    var modal = isModal();
    var open = conversation();
    if (open) setAttr(open, "aria-modal", modal ? "true" : null);
    if (modal === wasModal) return;
    wasModal = modal;
    var siblings = document.body.children;
    for (var i = 0; i < siblings.length; i++) {
      var element = siblings[i];
      if (element === root || element.tagName === "SCRIPT") continue;
      if (modal) {
        if (!element.inert) {
          element.inert = true;
          element.setAttribute("data-faq-inert", "");
        }
      } else if (element.hasAttribute("data-faq-inert")) {
        element.inert = false;
        element.removeAttribute("data-faq-inert");
      }
    }
  }

  if (FULL_SCREEN.addEventListener) FULL_SCREEN.addEventListener("change", updateModal);
  else if (FULL_SCREEN.addListener) FULL_SCREEN.addListener(updateModal);

  // "disabled": the text box becomes usable when the connection is made
  new MutationObserver(patch).observe(root, {
    childList: true, subtree: true, attributes: true, attributeFilter: ["disabled"]
  });
  root.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".rw-launcher") && !conversation()) openedByUser = true;
  }, true);

  /* --- keyboard ----------------------------------------------------------------------- */

  document.addEventListener("keydown", function (event) {
    var open = conversation();
    if (!open) return;
    if (event.key === "Escape" || event.key === "Esc") {
      var inside = root.contains(document.activeElement);
      if (!inside && !isModal()) return; // Escape elsewhere on the page is the page's business
      event.preventDefault();
      closeWidget();
    } else if (event.key === "Tab" && isModal()) {
      // the page behind is inert: Tab goes round inside the conversation
      var items = focusables(open);
      if (!items.length) return;
      var first = items[0], last = items[items.length - 1];
      var active = document.activeElement;
      if (event.shiftKey && (active === first || !open.contains(active))) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (active === last || !open.contains(active))) {
        event.preventDefault();
        first.focus();
      }
    }
  });

  function closeWidget() {
    var close = q(".rw-close-button");
    var button = launcher();
    if (close && visible(close)) close.click();
    else if (button) button.click();
  }

  /* A choice pressed: its answer will take the focus (see onNewBotMessages). */
  document.addEventListener("click", function (event) {
    var reply = event.target.closest && event.target.closest(".rw-conversation-container .rw-reply");
    if (reply && root.contains(reply)) pendingChoice = reply;
  }, true);

  /* Any element with data-open-assistant opens the widget (and puts the focus in it). */
  document.addEventListener("click", function (event) {
    var from = event.target.closest && event.target.closest("[data-open-assistant]");
    if (!from) return;
    var button = launcher();
    if (button && !conversation()) {
      opener = from;
      button.click();
    }
    var input = q(".rw-new-message");
    if (input) input.focus();
  });

  /* While the conversation is modal, the focus cannot stay on the inert page. */
  document.addEventListener("focusin", function (event) {
    var open = conversation();
    if (open && isModal() && !root.contains(event.target)) {
      var items = focusables(open);
      if (items.length) items[0].focus();
    }
  });
})();
