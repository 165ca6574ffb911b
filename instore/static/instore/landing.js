/*
 * The scan landing page (docs/instore.md). Records the scan for this browser's widget
 * visitor, then loads the widget so "Chat" continues that same conversation:
 *
 * 1. read the widget's visitor token from localStorage (the key widget.js uses);
 * 2. POST /s/<code>/scan with it (none: the server makes an anonymous visitor);
 * 3. store the token it answers with under the same key, and put the scan's reference
 *    in the "Text us" link;
 * 4. only then load widget.js, which picks the token up and opens on this conversation,
 *    greeted with what the shopper is looking at.
 *
 * The consent box beside "Text us": ticking or unticking it posts /s/<code>/consent with
 * the scan's reference, and the "Text us" link becomes the one answered (with the "YES"
 * marker after the reference when ticked). Until the answer comes the link is the other one.
 */
(function () {
  "use strict";
  var page = JSON.parse(document.getElementById("instore-page").textContent);
  // Where widget.js keeps its visitor token; with no widget on the page, a key of ours,
  // so that reloading or rescanning is still the same visitor (one scan, not many).
  var tokenKey = page.siteKey ? "throughline:" + page.siteKey + ":token" : "throughline:instore:token";
  var chat = document.getElementById("instore-chat");
  var text = document.getElementById("instore-text");
  var reference = document.getElementById("instore-reference");
  var box = document.getElementById("instore-consent");
  var scanData = null; // the scan call's answer: token and reference
  var widget = null; // the promise of widget.js having loaded
  var wantsChat = false;

  function stored() {
    try {
      return window.localStorage.getItem(tokenKey);
    } catch (e) {
      return null; // storage blocked: this visit is a new visitor
    }
  }

  function store(token) {
    try {
      window.localStorage.setItem(tokenKey, token);
    } catch (e) {
      /* the scan is recorded all the same; the widget will start a visitor of its own */
    }
  }

  function loadWidget() {
    if (!page.siteKey) return Promise.resolve(false);
    if (!widget) {
      widget = new Promise(function (resolve) {
        var script = document.createElement("script");
        script.src = page.widgetUrl;
        script.async = true;
        script.setAttribute("data-site", page.siteKey);
        script.onload = function () { resolve(true); };
        script.onerror = function () { resolve(false); };
        document.body.appendChild(script);
      });
    }
    return widget;
  }

  function openChat() {
    loadWidget().then(function (ok) {
      if (ok && window.Throughline) window.Throughline.open();
    });
  }

  var scanned = fetch(page.scanUrl, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": page.csrfToken },
    credentials: "same-origin",
    body: JSON.stringify({ token: stored() }),
  })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      scanData = data;
      store(data.token);
      if (text && data.sms_href) text.href = data.sms_href;
      if (reference && data.reference) {
        reference.querySelector("strong").textContent = data.reference;
        reference.hidden = false;
      }
      document.documentElement.setAttribute("data-scan", "recorded");
    })
    .catch(function () {
      document.documentElement.setAttribute("data-scan", "failed");
    });

  scanned.then(function () {
    return loadWidget();
  }).then(function () {
    if (wantsChat) openChat();
  });

  function tick() {
    scanned.then(function () {
      if (!scanData) { box.checked = false; return; } // no scan, no reference to tick for
      return fetch(page.consentUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": page.csrfToken },
        credentials: "same-origin",
        body: JSON.stringify({
          token: scanData.token,
          reference: scanData.reference,
          consent: box.checked,
          disclosure_version: page.disclosureVersion,
        }),
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          if (text && data.sms_href) text.href = data.sms_href;
          document.documentElement.setAttribute("data-consent", data.consent ? "ticked" : "unticked");
        })
        .catch(function () {
          box.checked = false; // not recorded: the box must not look ticked
          if (text && scanData.sms_href) text.href = scanData.sms_href;
          document.documentElement.setAttribute("data-consent", "failed");
        });
    });
  }

  if (box) box.addEventListener("change", tick);

  if (chat) {
    chat.addEventListener("click", function () {
      // before the scan is recorded, wait for it: the widget must start on its token
      if (document.documentElement.hasAttribute("data-scan")) openChat();
      else wantsChat = true;
    });
  }
})();
