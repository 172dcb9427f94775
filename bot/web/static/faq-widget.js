/*
 * Starts the rasa-webchat widget of the FAQ assistant and makes it usable with a keyboard
 * and a screen reader. Load after rasa-webchat's lib/index.js. The Rasa server address comes
 * from this script tag's data-socket-url, else from window.FAQ_ASSISTANT_CONFIG.socketUrl
 * (the page's /config.js).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var config = window.FAQ_ASSISTANT_CONFIG || {};
  var socketUrl = (script && script.getAttribute("data-socket-url")) || config.socketUrl;

  var LABELS = {
    open: "Ouvrir l'assistant FAQ",
    close: "Fermer l'assistant FAQ",
    input: "Votre question",
    send: "Envoyer",
    log: "Conversation avec l'assistant"
  };

  window.WebChat.default({
    socketUrl: socketUrl,
    socketPath: "/socket.io/",
    // the welcome and the first qualifying question, sent once per new conversation
    initPayload: "/greet",
    customData: { language: "fr" },
    // "session": the conversation survives a reload and ends with the browser tab
    params: { storage: "session" },
    title: "Assistant FAQ des industriels",
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
        if (message && typeof message.text === "string") {
          message.text = endListsBeforePlainLines(message.text);
        }
      }
    }
  }, null);

  /*
   * An answer's list may be followed by a plain line ("En savoir plus : https://…"). Markdown
   * would make that line part of the last list item; a blank line before it ends the list.
   * Only the layout changes: the words stay those of the FAQ.
   */
  function endListsBeforePlainLines(text) {
    return text.replace(/^(- .*)\n(?!- |\n)/gm, "$1\n\n");
  }

  function label(element, text) {
    if (element && element.getAttribute("aria-label") !== text) {
      element.setAttribute("aria-label", text);
    }
  }

  /* rasa-webchat renders quick replies as <div>s and its icon buttons without names. */
  function patch() {
    var launcher = document.querySelector(".rw-launcher");
    var open = !!document.querySelector(".rw-conversation-container");
    if (launcher) {
      label(launcher, open ? LABELS.close : LABELS.open);
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
    }
    label(document.querySelector(".rw-close-button"), LABELS.close);
    label(document.querySelector(".rw-new-message"), LABELS.input);
    label(document.querySelector(".rw-send"), LABELS.send);
    var log = document.querySelector(".rw-messages-container");
    if (log && !log.hasAttribute("role")) {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("tabindex", "0");
      label(log, LABELS.log);
    }
    var replies = document.querySelectorAll("div.rw-reply:not([role])");
    for (var i = 0; i < replies.length; i++) {
      replies[i].setAttribute("role", "button");
      replies[i].setAttribute("tabindex", "0");
    }
  }

  new MutationObserver(patch).observe(document.body, { childList: true, subtree: true });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if ((event.key === "Enter" || event.key === " ") && target.classList &&
        target.classList.contains("rw-reply") && target.tagName === "DIV") {
      event.preventDefault();
      target.click();
    }
  });

  /* Any element with data-open-assistant opens the widget (and puts the focus in it). */
  document.addEventListener("click", function (event) {
    var opener = event.target.closest && event.target.closest("[data-open-assistant]");
    if (!opener) return;
    var launcher = document.querySelector(".rw-launcher");
    if (launcher && !document.querySelector(".rw-conversation-container")) {
      launcher.click();
    }
    var input = document.querySelector(".rw-new-message");
    if (input) input.focus();
  });
})();
