/*
 * Throughline web-chat widget (docs/widget.md). Plain JavaScript, no build step.
 *
 *   <script src="https://YOUR-THROUGHLINE-HOST/widget.js" data-site="PUBLIC_KEY" async></script>
 *
 * Offers: an `offer` frame (an in-the-moment offer, docs/routing.md) shows a small pop-up
 * above the launcher; its choices go back as `offer_answer` frames.
 *
 * API: Throughline.open(), Throughline.close(),
 *      Throughline.identify({userId, email, phone, hash | jwt}) -> Promise,
 *      Throughline.track(type, props) -> Promise.
 *
 * The visitor token (signed by the server) lives in localStorage; the socket resumes
 * from the last cursor it was given, and a message is shown once per seq.
 */
(function () {
  "use strict";
  if (window.Throughline && window.Throughline.__widget) return;

  var script = document.currentScript || document.querySelector("script[data-site]");
  if (!script || !script.getAttribute("data-site")) {
    if (window.console) console.warn("Throughline: the script tag needs data-site=\"PUBLIC_KEY\".");
    return;
  }
  var SITE = script.getAttribute("data-site");
  var BASE = new URL(script.src, window.location.href).origin;
  var TOKEN_KEY = "throughline:" + SITE + ":token";
  var FATAL_CLOSE = { 4401: "token", 4403: "origin", 4404: "site" };
  var TYPING_EVERY_MS = 3000;
  var TYPING_IDLE_MS = 4000;

  var state = {
    token: storage("get"),
    cursor: 0,
    socketUrl: "",
    socket: null,
    session: null, // the promise of the current session
    retries: 0,
    open: false,
    shown: {}, // seq -> element
    pending: {}, // client id -> {el, body}: sent, not yet acknowledged
    unread: 0,
    lastOutSeq: 0,
    typingSentAt: 0,
    typingTimer: null,
    agentTypingTimer: null,
  };

  function storage(op, value) {
    try {
      if (op === "get") return window.localStorage.getItem(TOKEN_KEY);
      if (op === "set") window.localStorage.setItem(TOKEN_KEY, value);
      if (op === "remove") window.localStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      /* storage blocked (private mode, iframe policy): the token lives for this page only */
    }
    return null;
  }

  function newId() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return "m" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  // ------------------------------------------------------------------ markup

  var CSS = [
    ":host { all: initial; }",
    "*, *::before, *::after { box-sizing: border-box; }",
    ".tl { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #111827; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 60px; height: 60px;",
    "  border-radius: 50%; border: 0; background: #1d4ed8; color: #fff; cursor: pointer;",
    "  box-shadow: 0 4px 14px rgba(0,0,0,.25); display: flex; align-items: center; justify-content: center; }",
    ".launcher:hover { background: #1e40af; }",
    ".launcher svg { width: 28px; height: 28px; }",
    ".badge { position: absolute; top: -2px; right: -2px; min-width: 22px; height: 22px; padding: 0 6px;",
    "  border-radius: 11px; background: #b91c1c; color: #fff; font-size: 13px; font-weight: 700;",
    "  line-height: 22px; text-align: center; }",
    ".panel { position: fixed; right: 20px; bottom: 92px; z-index: 2147483000; width: 370px;",
    "  height: min(600px, calc(100vh - 120px)); display: flex; flex-direction: column; background: #fff;",
    "  border-radius: 14px; box-shadow: 0 10px 40px rgba(0,0,0,.25); overflow: hidden; }",
    ".panel[hidden] { display: none; }",
    "header { display: flex; align-items: center; gap: 8px; padding: 12px 14px; background: #1d4ed8; color: #fff; }",
    "header h2 { flex: 1; margin: 0; font-size: 16px; font-weight: 650; }",
    "header button { background: transparent; color: #fff; border: 0; width: 44px; height: 44px;",
    "  border-radius: 8px; cursor: pointer; font-size: 22px; line-height: 1; }",
    "header button:hover { background: rgba(255,255,255,.15); }",
    ".log { flex: 1; overflow-y: auto; padding: 14px; display: flex; flex-direction: column; gap: 8px;",
    "  background: #f9fafb; }",
    ".msg { max-width: 85%; padding: 8px 12px; border-radius: 14px; white-space: pre-wrap; overflow-wrap: anywhere; }",
    ".msg.out, .msg.greeting { align-self: flex-start; background: #fff; border: 1px solid #d1d5db; }",
    ".msg.in { align-self: flex-end; background: #1d4ed8; color: #fff; }",
    ".meta { display: block; font-size: 12px; margin-top: 2px; opacity: .85; }",
    ".msg.out .meta, .msg.greeting .meta { color: #4b5563; opacity: 1; }",
    ".typing { min-height: 22px; padding: 0 14px; font-size: 13px; color: #4b5563; background: #f9fafb; }",
    ".notice { padding: 6px 14px; font-size: 13px; color: #92400e; background: #fffbeb; }",
    ".notice:empty { display: none; }",
    "form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #e5e7eb; background: #fff; }",
    "textarea, input { flex: 1; font: inherit; color: #111827; padding: 10px; border: 1px solid #6b7280;",
    "  border-radius: 10px; resize: none; min-height: 44px; max-height: 120px; }",
    ".primary { font: inherit; font-weight: 600; padding: 0 16px; min-height: 44px; border: 0; border-radius: 10px;",
    "  background: #1d4ed8; color: #fff; cursor: pointer; }",
    ".primary:hover { background: #1e40af; }",
    ".link { font: inherit; font-size: 13px; background: none; border: 0; color: #1d4ed8; text-decoration: underline;",
    "  cursor: pointer; padding: 8px 14px; text-align: left; }",
    ".sms { border-top: 1px solid #e5e7eb; }",
    "a.link { display: block; }",
    "a.link[hidden] { display: none; }",
    ".sms form { border-top: 0; flex-wrap: wrap; }",
    ".sms label { width: 100%; font-size: 13px; color: #374151; }",
    ".sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }",
    "button:focus-visible, textarea:focus-visible, input:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }",
    ".offer { position: fixed; right: 20px; bottom: 92px; z-index: 2147483001; width: 340px; max-width: calc(100vw - 28px);",
    "  padding: 16px; background: #fff; border-radius: 14px; box-shadow: 0 10px 40px rgba(0,0,0,.3); }",
    ".offer[hidden] { display: none; }",
    ".offer p { margin: 0 0 12px; font-weight: 600; padding-right: 28px; }",
    ".offer .choices { display: flex; flex-wrap: wrap; gap: 8px; }",
    ".offer .primary, .offer .secondary { flex: 1 1 140px; display: inline-flex; align-items: center; justify-content: center; text-decoration: none; }",
    ".offer .secondary { font: inherit; font-weight: 600; min-height: 44px; padding: 0 12px; border-radius: 10px;",
    "  border: 1px solid #1d4ed8; color: #1d4ed8; background: #fff; }",
    ".offer .dismiss { position: absolute; top: 4px; right: 4px; width: 44px; height: 44px; border: 0; background: none;",
    "  font-size: 22px; cursor: pointer; color: #4b5563; border-radius: 8px; }",
    ".offer .result { margin: 10px 0 0; font-size: 14px; font-weight: 400; color: #374151; }",
    ".offer .result:empty { display: none; }",
    // With the chat open the offer sits inside the panel, above the messages: it never
    // covers the message box (it is fixed above the launcher only while the panel is closed).
    ".panel .offer { width: auto; max-width: none; margin: 8px 10px 0; box-shadow: none;",
    "  border: 1px solid #d1d5db; position: relative; }",
    ".msg a { color: inherit; text-decoration: underline; }",
    ".sms .reachable { display: block; padding: 8px 14px; font-size: 13px; color: #374151; }",
    "@media (max-width: 480px) {",
    "  .panel { inset: 0; width: 100%; height: 100%; height: 100dvh; border-radius: 0; }",
    "  .launcher { right: 14px; bottom: 14px; }",
    "}",
    "@media (prefers-reduced-motion: no-preference) { .panel { transition: opacity .15s; } }",
  ].join("\n");

  var ICON =
    '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true" focusable="false">' +
    '<path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1-4.6A8 8 0 1 1 21 12z"/></svg>';

  var host = document.createElement("div");
  host.id = "throughline-widget";
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  root.innerHTML =
    "<style>" + CSS + "</style>" +
    '<div class="tl">' +
    '<button class="launcher" type="button" aria-label="Open chat" aria-expanded="false" aria-controls="tl-panel">' +
    ICON + '<span class="badge" hidden></span></button>' +
    '<section class="panel" id="tl-panel" role="dialog" aria-modal="false" aria-labelledby="tl-title" hidden>' +
    '<header><h2 id="tl-title">Chat with us</h2>' +
    '<button class="close" type="button" aria-label="Close chat">&times;</button></header>' +
    '<div class="log" role="log" aria-live="polite" aria-label="Conversation" tabindex="0"></div>' +
    '<div class="typing" aria-live="polite"></div>' +
    '<div class="notice" role="status"></div>' +
    '<form class="compose"><label class="sr" for="tl-input">Message</label>' +
    '<textarea id="tl-input" rows="1" maxlength="2000" placeholder="Write a message…" autocomplete="off"></textarea>' +
    '<button class="primary" type="submit">Send</button></form>' +
    '<div class="sms"><button class="link sms-toggle" type="button" aria-expanded="false" aria-controls="tl-sms">' +
    "Continue by SMS</button>" +
    '<div id="tl-sms" hidden>' +
    '<form class="sms-phone"><label for="tl-phone">Your mobile number; we will text you a code</label>' +
    '<input id="tl-phone" type="tel" autocomplete="tel" inputmode="tel" placeholder="+1 415 555 0123" required>' +
    '<button class="primary" type="submit">Send code</button></form>' +
    '<form class="sms-code" hidden><label for="tl-code">The 6-digit code we texted you</label>' +
    '<input id="tl-code" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="8" required>' +
    // Unticked by default: verifying a number is not consent to marketing (TCPA).
    '<label class="consent"><input id="tl-consent" type="checkbox"> <span class="disclosure"></span></label>' +
    '<button class="primary" type="submit">Verify</button></form>' +
    "</div></div>" +
    '<a class="link prefs" target="_blank" rel="noopener" hidden>What we send you</a>' +
    '<button class="link stop" type="button">Stop messages</button>' +
    "</section>" +
    '<section class="offer" role="dialog" aria-modal="false" aria-labelledby="tl-offer-text" hidden>' +
    '<button class="dismiss" type="button" aria-label="Not now">&times;</button>' +
    '<p id="tl-offer-text"></p><div class="choices"></div>' +
    '<p class="result" role="status"></p>' +
    "</section></div>";

  function $(selector) {
    return root.querySelector(selector);
  }
  var ui = {
    launcher: $(".launcher"),
    badge: $(".badge"),
    panel: $(".panel"),
    title: $("#tl-title"),
    close: $(".close"),
    log: $(".log"),
    typing: $(".typing"),
    notice: $(".notice"),
    compose: $(".compose"),
    input: $("#tl-input"),
    smsToggle: $(".sms-toggle"),
    sms: $("#tl-sms"),
    phoneForm: $(".sms-phone"),
    phone: $("#tl-phone"),
    codeForm: $(".sms-code"),
    code: $("#tl-code"),
    consent: $("#tl-consent"),
    disclosure: $(".sms-code .disclosure"),
    stop: $(".stop"),
    prefs: $(".prefs"),
    offer: $(".offer"),
    offerText: $("#tl-offer-text"),
    offerChoices: $(".offer .choices"),
    offerResult: $(".offer .result"),
    offerDismiss: $(".offer .dismiss"),
    tl: $(".tl"),
  };
  var shownOffer = null; // the id of the offer on screen
  var greetingEl = null;

  function attach() {
    (document.body || document.documentElement).appendChild(host);
  }
  if (document.body) attach();
  else document.addEventListener("DOMContentLoaded", attach);

  // ------------------------------------------------------------------ rendering

  function bubble(text, cls, meta) {
    var el = document.createElement("div");
    el.className = "msg " + cls;
    var body = document.createElement("span");
    body.className = "body";
    linkify(body, text);
    el.appendChild(body);
    var m = document.createElement("span");
    m.className = "meta";
    m.textContent = meta || "";
    el.appendChild(m);
    return el;
  }

  // Links in a message become short clickable links, built as DOM nodes (never HTML):
  // only http(s) addresses, shown as their host and the start of their path, opened in a
  // new tab without the opener. Trailing punctuation stays text ("see https://x.y/a.").
  var URL_RE = /https?:\/\/[^\s<>"']+/g;
  var MAX_LINK_TEXT = 32;

  function shortLink(href) {
    var url;
    try {
      url = new URL(href);
    } catch (e) {
      return null;
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") return null;
    var text = url.host + (url.pathname === "/" ? "" : url.pathname);
    if (text.length > MAX_LINK_TEXT || url.search) text = text.slice(0, MAX_LINK_TEXT - 1) + "…";
    return { href: url.href, text: text };
  }

  function linkify(el, text) {
    text = String(text || "");
    el.textContent = "";
    var last = 0;
    text.replace(URL_RE, function (match, offset) {
      var href = match.replace(/[.,;:!?)\]]+$/, "");
      var link = shortLink(href);
      if (!link) return match;
      el.appendChild(document.createTextNode(text.slice(last, offset)));
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      a.title = link.href;
      a.target = "_blank";
      a.rel = "noopener noreferrer nofollow";
      el.appendChild(a);
      last = offset + href.length;
      return match;
    });
    el.appendChild(document.createTextNode(text.slice(last)));
  }

  function scrollDown() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function setGreeting(text) {
    if (!text) return;
    if (!greetingEl) {
      greetingEl = bubble(text, "greeting", "");
      ui.log.insertBefore(greetingEl, ui.log.firstChild);
    } else {
      linkify(greetingEl.querySelector(".body"), text);
    }
  }

  function clearMessages() {
    Object.keys(state.shown).forEach(function (seq) {
      var el = state.shown[seq];
      if (el.parentNode) el.parentNode.removeChild(el);
    });
    state.shown = {};
    state.lastOutSeq = 0;
  }

  function metaFor(message) {
    var when = new Date(message.occurred_at);
    var time = isNaN(when) ? "" : when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    if (message.direction === "in") {
      var how = message.channel === "web" ? "" : " · by " + message.channel.toUpperCase();
      return "You · " + time + how + " · Delivered";
    }
    var via = message.channel === "web" ? "" : " · by " + message.channel.toUpperCase();
    return "Support · " + time + via;
  }

  // Show one message unless its seq is already on screen (a replay or a resent ack).
  function show(message) {
    if (state.shown[message.seq]) return;
    var el = bubble(message.body, message.direction === "in" ? "in" : "out", metaFor(message));
    el.setAttribute("data-seq", String(message.seq));
    state.shown[message.seq] = el;
    // keep seq order even when a late message arrives after a newer one
    var after = null;
    Object.keys(state.shown).forEach(function (seq) {
      seq = Number(seq);
      if (seq > message.seq && (after === null || seq < after)) after = seq;
    });
    var next = after !== null ? state.shown[after] : null;
    ui.log.insertBefore(el, next && next.parentNode === ui.log ? next : null);
    if (message.direction === "out") {
      state.lastOutSeq = Math.max(state.lastOutSeq, message.seq);
      if (!state.open) {
        state.unread += 1;
        renderBadge();
      }
    }
    scrollDown();
  }

  function renderBadge() {
    ui.badge.hidden = state.unread === 0;
    ui.badge.textContent = String(state.unread);
    ui.launcher.setAttribute(
      "aria-label",
      state.unread ? "Open chat, " + state.unread + " unread" : "Open chat"
    );
  }

  function notice(text) {
    ui.notice.textContent = text || "";
  }

  // ------------------------------------------------------------------ HTTP

  function post(path, body) {
    body.site = SITE;
    if (state.token) body.token = state.token;
    return fetch(BASE + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      mode: "cors",
    }).then(function (response) {
      return response.json().then(
        function (data) {
          if (!response.ok) {
            var error = new Error(data.error || "HTTP " + response.status);
            error.field = data.field;
            error.status = response.status;
            throw error;
          }
          return data;
        },
        function () {
          throw new Error("HTTP " + response.status);
        }
      );
    });
  }

  // The answer of session/identify/phone confirm: the visitor's whole state.
  function applyState(data) {
    state.token = data.token;
    storage("set", data.token);
    state.socketUrl = data.socket_url;
    if (data.site && data.site.name) ui.title.textContent = "Chat with " + data.site.name;
    if (data.reset) clearMessages();
    data.messages.forEach(show);
    state.cursor = data.cursor;
    setGreeting(data.greeting);
    showPreferences(data.preferences_url);
    showSmsReach(data.sms);
    if (data.sms_disclosure) {
      // the exact words the server will keep as proof if the box is ticked
      ui.disclosure.textContent = data.sms_disclosure.text;
      state.disclosureVersion = data.sms_disclosure.version;
    }
    if (state.open) markRead();
  }

  // "Continue by SMS" only for a shopper we cannot text yet: one whose number is verified,
  // or who has just texted us from it, is told so instead of being asked for it again.
  function showSmsReach(sms) {
    if (!sms || !sms.reachable) return;
    ui.sms.hidden = true;
    ui.smsToggle.hidden = true;
    ui.smsToggle.setAttribute("aria-expanded", "false");
    var line = root.querySelector(".sms .reachable");
    if (!line) {
      line = document.createElement("span");
      line.className = "reachable";
      ui.smsToggle.parentNode.insertBefore(line, ui.smsToggle);
    }
    line.textContent = sms.message || "We can text you: reply by SMS any time.";
  }

  // The shopper's own page (what we may send them, by topic and channel): there is one
  // once they have written something (an anonymous visitor has no customer yet).
  function showPreferences(url) {
    if (!url) return;
    ui.prefs.href = url;
    ui.prefs.hidden = false;
  }

  function ensureSession() {
    if (!state.session) {
      state.session = post("/widget/session", {})
        .catch(function (error) {
          if (error.field === "token") {
            // forged or expired: start over as a new visitor
            state.token = null;
            storage("remove");
            return post("/widget/session", {});
          }
          throw error;
        })
        .then(function (data) {
          applyState(data);
          connect();
          return data;
        })
        .catch(function (error) {
          state.session = null;
          notice("Chat is unavailable right now.");
          throw error;
        });
    }
    return state.session;
  }

  // ------------------------------------------------------------------ socket

  function connect() {
    if (state.socket && state.socket.readyState <= 1) return;
    var url =
      state.socketUrl +
      "?site=" + encodeURIComponent(SITE) +
      "&token=" + encodeURIComponent(state.token) +
      "&after_seq=" + state.cursor;
    var socket = new WebSocket(url);
    state.socket = socket;
    socket.onmessage = function (event) {
      var frame;
      try {
        frame = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      receive(frame);
    };
    socket.onclose = function (event) {
      if (state.socket !== socket) return;
      state.socket = null;
      var fatal = FATAL_CLOSE[event.code];
      if (fatal === "token") {
        state.token = null;
        storage("remove");
        state.session = null;
        ensureSession();
        return;
      }
      if (fatal) {
        notice("Chat is not available on this page.");
        return;
      }
      // back off: 1, 2, 4 ... 30 seconds, with jitter so a restart is not a stampede
      var delay = Math.min(30000, 1000 * Math.pow(2, state.retries)) * (0.75 + Math.random() / 2);
      state.retries += 1;
      if (state.retries > 1) notice("Reconnecting…");
      setTimeout(connect, delay);
    };
  }

  function sendFrame(frame) {
    if (state.socket && state.socket.readyState === 1) {
      state.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function receive(frame) {
    switch (frame.type) {
      case "ready":
        state.retries = 0;
        state.cursor = frame.cursor;
        notice("");
        // anything sent while offline goes now; the server drops what it already has
        Object.keys(state.pending).forEach(function (id) {
          sendFrame({ type: "message", id: id, body: state.pending[id].body });
        });
        if (state.open) markRead();
        break;
      case "message":
        show(frame.message);
        if (typeof frame.cursor === "number") state.cursor = frame.cursor;
        if (frame.message.direction === "out") {
          showAgentTyping(false);
          if (state.open && document.visibilityState === "visible") markRead();
          else sendFrame({ type: "delivered", seq: frame.message.seq });
        }
        break;
      case "ack":
        acknowledge(frame.id, frame.message);
        break;
      case "reset":
        clearMessages();
        break;
      case "preferences":
        showPreferences(frame.url);
        break;
      case "typing":
        showAgentTyping(frame.typing);
        break;
      case "offer":
        showOffer(frame.offer);
        break;
      case "offer_result":
        if (frame.offer === shownOffer) ui.offerResult.textContent = frame.message;
        break;
      case "error":
        if (frame.id && state.pending[frame.id] && frame.code !== "retry") {
          state.pending[frame.id].el.querySelector(".meta").textContent = "Not sent: " + frame.error;
          delete state.pending[frame.id];
        }
        notice(frame.error);
        break;
    }
  }

  function acknowledge(id, message) {
    var pending = state.pending[id];
    delete state.pending[id];
    if (!pending) return show(message);
    if (state.shown[message.seq]) {
      pending.el.parentNode && pending.el.parentNode.removeChild(pending.el);
      return;
    }
    pending.el.setAttribute("data-seq", String(message.seq));
    pending.el.querySelector(".meta").textContent = metaFor(message);
    state.shown[message.seq] = pending.el;
  }

  function showAgentTyping(typing) {
    clearTimeout(state.agentTypingTimer);
    ui.typing.textContent = typing ? "Support is typing…" : "";
    if (typing) state.agentTypingTimer = setTimeout(showAgentTyping, 8000, false);
  }

  function markRead() {
    state.unread = 0;
    renderBadge();
    if (state.lastOutSeq) sendFrame({ type: "read", seq: state.lastOutSeq });
  }

  // ------------------------------------------------------------------ composing

  function sendMessage(text) {
    text = String(text || "").trim();
    if (!text) return;
    var id = newId();
    var el = bubble(text, "in", "You · Sending…");
    ui.log.appendChild(el);
    scrollDown();
    state.pending[id] = { el: el, body: text };
    typing(false);
    ensureSession().then(function () {
      sendFrame({ type: "message", id: id, body: text }); // else sent on "ready"
    });
  }

  function typing(on) {
    clearTimeout(state.typingTimer);
    var now = Date.now();
    if (on) {
      if (now - state.typingSentAt > TYPING_EVERY_MS) {
        state.typingSentAt = now;
        sendFrame({ type: "typing", typing: true });
      }
      state.typingTimer = setTimeout(typing, TYPING_IDLE_MS, false);
    } else if (state.typingSentAt) {
      state.typingSentAt = 0;
      sendFrame({ type: "typing", typing: false });
    }
  }

  ui.compose.addEventListener("submit", function (event) {
    event.preventDefault();
    sendMessage(ui.input.value);
    ui.input.value = "";
    ui.input.focus();
  });
  ui.input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.compose.requestSubmit ? ui.compose.requestSubmit() : ui.compose.dispatchEvent(new Event("submit"));
    }
  });
  ui.input.addEventListener("input", function () {
    typing(ui.input.value.length > 0);
  });

  // ------------------------------------------------------------------ open / close

  function open() {
    state.open = true;
    ui.panel.hidden = false;
    placeOffer();
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.input.focus();
    scrollDown();
    markRead();
    return ensureSession();
  }

  function close() {
    state.open = false;
    ui.panel.hidden = true;
    placeOffer();
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.focus();
  }

  ui.launcher.addEventListener("click", function () {
    state.open ? close() : open();
  });
  ui.close.addEventListener("click", close);
  ui.panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") close();
  });
  document.addEventListener("visibilitychange", function () {
    if (state.open && document.visibilityState === "visible") markRead();
  });

  // ------------------------------------------------------------------ offers

  // The offer's place: inside the open panel, above the messages (so it never covers the
  // message box), else fixed above the launcher.
  function placeOffer() {
    if (state.open) {
      if (ui.offer.parentNode !== ui.panel) ui.panel.insertBefore(ui.offer, ui.log);
    } else if (ui.offer.parentNode !== ui.tl) {
      ui.tl.appendChild(ui.offer);
    }
  }

  // An in-the-moment offer: its text and choices, built as text (never as HTML).
  function showOffer(offer) {
    if (!offer || !offer.body) return;
    shownOffer = offer.id;
    ui.offerText.textContent = offer.body;
    ui.offerResult.textContent = "";
    ui.offerChoices.textContent = "";
    (offer.actions || []).forEach(function (action) {
      var el;
      if (action.url) {
        el = document.createElement("a");
        el.className = "secondary";
        el.href = action.url;
        el.target = "_blank";
        el.rel = "noopener";
      } else {
        el = document.createElement("button");
        el.type = "button";
        el.className = "primary";
      }
      el.textContent = action.label;
      el.addEventListener("click", function () {
        if (el.tagName === "BUTTON") el.disabled = true;
        sendFrame({ type: "offer_answer", offer: offer.id, choice: action.id });
      });
      ui.offerChoices.appendChild(el);
    });
    placeOffer();
    ui.offer.hidden = false;
  }

  ui.offerDismiss.addEventListener("click", function () {
    ui.offer.hidden = true;
    shownOffer = null;
    ui.launcher.focus();
  });

  // ------------------------------------------------------------------ continue by SMS

  ui.smsToggle.addEventListener("click", function () {
    var show = ui.sms.hidden;
    ui.sms.hidden = !show;
    ui.smsToggle.setAttribute("aria-expanded", String(show));
    if (show) (ui.codeForm.hidden ? ui.phone : ui.code).focus();
  });
  ui.phoneForm.addEventListener("submit", function (event) {
    event.preventDefault();
    ensureSession()
      .then(function () {
        return post("/widget/phone/start", { phone: ui.phone.value });
      })
      .then(function () {
        ui.codeForm.hidden = false;
        notice("We texted you a code.");
        ui.code.focus();
      })
      .catch(function (error) {
        notice(error.message);
        ui.phone.focus();
      });
  });
  ui.codeForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = { code: ui.code.value };
    if (ui.consent.checked) {
      body.consent = true;
      body.disclosure_version = state.disclosureVersion;
    }
    post("/widget/phone/confirm", body)
      .then(function (data) {
        applyState(data);
        ui.sms.hidden = true;
        ui.codeForm.hidden = true;
        ui.smsToggle.setAttribute("aria-expanded", "false");
        ui.smsToggle.textContent = "Your number is verified: reply by SMS any time";
        notice("");
        ui.input.focus();
      })
      .catch(function (error) {
        notice(error.message);
        ui.code.focus();
      });
  });

  // ------------------------------------------------------------------ stop messages

  // Revocation by any reasonable means: one click stops texts, calls and marketing.
  ui.stop.addEventListener("click", function () {
    ensureSession()
      .then(function () {
        return post("/widget/stop", {});
      })
      .then(function () {
        notice("Done: we will send you no more messages. You can still chat with us here.");
      })
      .catch(function (error) {
        notice(error.message);
      });
  });

  // ------------------------------------------------------------------ public API

  window.Throughline = {
    __widget: true,
    open: open,
    close: close,
    identify: function (claims) {
      claims = claims || {};
      return ensureSession().then(function () {
        return post("/widget/identify", {
          userId: claims.userId,
          email: claims.email,
          phone: claims.phone,
          hash: claims.hash,
          jwt: claims.jwt,
        }).then(
          function (data) {
            applyState(data);
            return true;
          },
          function (error) {
            if (window.console) console.warn("Throughline.identify: " + error.message);
            throw error;
          }
        );
      });
    },
    track: function (type, props) {
      return ensureSession().then(function () {
        return post("/widget/track", { type: type, props: props || {}, event_id: newId() }).then(
          function (data) {
            setGreeting(data.greeting);
            showPreferences(data.preferences_url);
            return true;
          }
        );
      });
    },
  };

  // A returning visitor reconnects at once, so replies that came while away are shown.
  if (state.token) ensureSession().catch(function () {});
})();
