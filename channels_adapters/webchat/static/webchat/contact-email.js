/*
 * Throughline "Contact us" email form (docs/email.md), a file of its own beside widget.js.
 * On the shop's contact page, next to the phone number and the chat:
 *
 *   <div data-throughline-email-form></div>
 *   <script src="https://YOUR-THROUGHLINE-HOST/static/webchat/contact-email.js"
 *           data-site="PUBLIC_KEY" async></script>
 *
 * It posts to /widget/email with the widget's visitor token (the one widget.js keeps, or a
 * new session's), so what is written lands in the same conversation as the chat, and the
 * answer comes by email. Plain JavaScript, no build step; text only, never innerHTML.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[src*='contact-email.js']");
  if (!script || !script.getAttribute("data-site")) return;
  var SITE = script.getAttribute("data-site");
  var BASE = new URL(script.src, window.location.href).origin;
  var TOKEN_KEY = "throughline:" + SITE + ":token"; // widget.js's key: one visitor

  function stored(value) {
    try {
      if (value) window.localStorage.setItem(TOKEN_KEY, value);
      return window.localStorage.getItem(TOKEN_KEY);
    } catch (e) {
      return value || null;
    }
  }

  function post(path, body) {
    return fetch(BASE + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "Could not send.");
        return data;
      });
    });
  }

  function token() {
    var known = stored();
    if (known) return Promise.resolve(known);
    return post("/widget/session", { site: SITE }).then(function (data) {
      return stored(data.token);
    });
  }

  function field(form, label, type, name) {
    var wrap = document.createElement("label");
    wrap.textContent = label;
    var input = document.createElement(type === "textarea" ? "textarea" : "input");
    if (type !== "textarea") input.type = type;
    input.name = name;
    input.required = name !== "subject";
    wrap.appendChild(input);
    form.appendChild(wrap);
    return input;
  }

  function render(host) {
    var form = document.createElement("form");
    form.className = "throughline-email-form";
    var email = field(form, "Your email", "email", "email");
    var subject = field(form, "Subject", "text", "subject");
    var body = field(form, "Message", "textarea", "body");
    var button = document.createElement("button");
    button.type = "submit";
    button.textContent = "Send";
    form.appendChild(button);
    var status = document.createElement("p");
    status.setAttribute("role", "status");
    form.appendChild(status);
    var formId = "f-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      status.textContent = "Sending…";
      token()
        .then(function (visitorToken) {
          return post("/widget/email", {
            site: SITE, token: visitorToken, email: email.value, subject: subject.value,
            body: body.value, form_id: formId,
          });
        })
        .then(function () {
          status.textContent = "Thanks! We will answer by email.";
          form.reset();
          formId = "f-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
        })
        .catch(function (error) {
          status.textContent = error.message;
        })
        .then(function () {
          button.disabled = false;
        });
    });
    host.appendChild(form);
  }

  function start() {
    var hosts = document.querySelectorAll("[data-throughline-email-form]");
    for (var i = 0; i < hosts.length; i++) render(hosts[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
