/* The agent console's script (docs/console.md): the agent's home, and the workspace — the
 * conversation list, the timeline and the context panel on one page, live, no reloads.
 * Everything customers write is set with textContent, never as HTML, so it renders inert;
 * links in it become <a> elements built here (http and https only). */
(function () {
  "use strict";

  // Symbols every system font has (DejaVu included), not emoji, so no box ever shows.
  const CHANNEL_ICONS = { web: "\u2328", sms: "\u2709", whatsapp: "\u2709", voice: "\u260E", instore: "\u25A3", api: "\u21C5", system: "\u2699", agent: "\u270E" };
  const KIND_ICONS = {
    note: "\u270E", nudge: "\u2691", routing: "\u21AA", merge: "\u21C4", cart: "\u00A4", order: "\u2611",
    visit: "\u2197", scan: "\u25A3", call: "\u260E", missed_call: "\u260F", voicemail: "\u2707", case: "\u2714", consent: "\u2298",
  };
  const CHANNEL_NAMES = { web: "web chat", sms: "SMS", whatsapp: "WhatsApp", voice: "call", instore: "in store", api: "shop", system: "Throughline", agent: "agent" };

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeUrl(url) {  // only web addresses become links or players
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  // Text with its web addresses as links: text nodes and <a> elements, never HTML.
  const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"']+/gi;
  function linkified(text) {
    const out = document.createDocumentFragment();
    const value = String(text || "");
    let at = 0;
    for (const match of value.matchAll(URL_IN_TEXT)) {
      let url = match[0];
      const trail = url.match(/[.,;:!?)\]]+$/);  // sentence punctuation is not the address's
      if (trail) url = url.slice(0, -trail[0].length);
      out.append(value.slice(at, match.index));
      const link = el("a", "", url);
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer nofollow";
      out.append(link);
      at = match.index + url.length;
    }
    out.append(value.slice(at));
    return out;
  }

  /* ---- times: the agent's zone, with the customer's local time beside it ---- */
  const AGENT_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;
  function when(iso, customerZone) {
    const date = new Date(iso);
    if (isNaN(date)) return "";
    const mine = date.toLocaleString([], { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" });
    if (!customerZone || customerZone === AGENT_ZONE) return mine;
    try {
      const theirs = date.toLocaleString([], { timeZone: customerZone, weekday: "short", hour: "2-digit", minute: "2-digit" });
      return `${mine} (customer: ${theirs})`;
    } catch (e) { return mine; }  // an unknown zone name
  }
  function localiseTimes(scope, customerZone) {
    scope.querySelectorAll("time.when[datetime]").forEach((t) => {
      t.title = t.textContent;
      t.textContent = when(t.getAttribute("datetime"), customerZone);
    });
  }

  /* ---- the agent socket: one per page, reconnecting, resuming from the last seq ---- */
  // docs/console.md, "Connection". Tries back off exponentially to a cap, with jitter so
  // that every console of a restarted server does not come back in the same instant.
  const RETRY_FIRST_MS = 1000, RETRY_CAP_MS = 30000;
  // Tries that failed before the socket ever opened on this page, after which the banner
  // says the page cannot reach it (rather than that it is merely reconnecting).
  const UNREACHABLE_AFTER = 3;

  function retryDelay(failures) {
    const ceiling = Math.min(RETRY_CAP_MS, RETRY_FIRST_MS * 2 ** Math.max(0, failures - 1));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  function connectionBanner(root, retryNow) {
    const banner = el("div", "connection-banner");
    banner.id = "connection-banner";
    banner.setAttribute("role", "status");
    banner.hidden = true;
    const text = el("span", "what");
    const button = el("button", "", "Reconnect now");
    button.type = "button";
    button.addEventListener("click", retryNow);
    banner.append(text, " ", button);
    root.before(banner);
    return {
      paused() {
        banner.classList.remove("unreachable");
        text.textContent = "Live updates paused — reconnecting…";
        banner.hidden = false;
      },
      unreachable(socketUrl, openInstead) {
        // A page cannot tell a refused handshake from a dead server. Off the deployment's
        // own address, going there is the likely cure (login cookie, origin check);
        // on it, the websocket process is the likely culprit.
        banner.classList.add("unreachable");
        text.replaceChildren(`Live updates are off: this page cannot reach its live-updates socket (${socketUrl}). `);
        const elsewhere = safeUrl(openInstead);
        if (elsewhere) {
          const link = el("a", "", elsewhere);
          link.href = elsewhere;
          text.append("Open ", link, " instead: a login belongs to the address it was made on, and the socket accepts only pages of this deployment's own address. Still trying…");
        } else {
          text.append("Is the websocket process running? Still trying…");
        }
        banner.hidden = false;
      },
      hide() { banner.hidden = true; },
    };
  }

  function markConnected(root, value) {
    root.dataset.connected = value;
    // the panes inside say it too (tests and styles look at the pane they care about)
    root.querySelectorAll("#console-inbox, #console-conversation").forEach((n) => { n.dataset.connected = value; });
  }

  function agentSocket(root, handlers) {
    const url = root.dataset.ws;
    let ws = null, timer = null, failures = 0, everOpened = false;
    const banner = connectionBanner(root, () => { if (ws && ws.readyState === WebSocket.CLOSED) connect(); });
    function connect() {
      clearTimeout(timer);
      ws = new WebSocket(url);
      ws.onopen = () => {
        failures = 0; everOpened = true;
        markConnected(root, "1");
        banner.hide();
        if (handlers.open) handlers.open(ws);  // (re)connected: the page catches up here
      };
      ws.onmessage = (m) => { const msg = JSON.parse(m.data); (handlers[msg.type] || (() => {}))(msg, ws); };
      ws.onclose = () => {
        markConnected(root, "0");
        failures += 1;
        if (!everOpened && failures >= UNREACHABLE_AFTER) banner.unreachable(url, root.dataset.openInstead);
        else banner.paused();
        timer = setTimeout(connect, retryDelay(failures));
      };
    }
    connect();
    return { send: (obj) => ws && ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(obj)) };
  }


  /* ---- the timeline ---- */
  // Out without an author: the after-hours acknowledgement, a nudge, an offer. Marked, and
  // not an answer: the list's waiting clock keeps running (console/inbox.py).
  const AUTOMATIC_KINDS = ["message", "nudge", "offer"];
  function isAutomatic(ev) {
    return ev.direction === "out" && !ev.author && AUTOMATIC_KINDS.includes(ev.kind);
  }

  function renderEvent(ev, customerZone) {
    const d = ev.data || {};
    const li = el("li", `ev ch-${ev.channel} k-${ev.kind}`);
    li.dataset.seq = ev.seq; li.dataset.direction = ev.direction; li.dataset.kind = ev.kind;
    const icon = el("span", "icon", KIND_ICONS[ev.kind] || CHANNEL_ICONS[ev.channel] || "\u2022");
    icon.setAttribute("role", "img");
    icon.setAttribute("aria-label", `${CHANNEL_NAMES[ev.channel] || ev.channel} ${ev.kind}`);
    icon.title = icon.getAttribute("aria-label");
    li.append(icon);
    const main = el("div", "main");
    const who = ev.author_name || d.author_name || d.by_name || "";
    const meta = el("div", "meta",
      `#${ev.seq} · ${ev.channel} · ${ev.direction === "in" ? "from customer" : ev.direction === "out" ? "to customer" : "internal"} · ${ev.kind} · ${when(ev.occurred_at, customerZone)}` + (who ? ` · ${who}` : ""));
    if (isAutomatic(ev)) { li.classList.add("automatic"); meta.append(" ", el("span", "badge auto", "automatic")); }
    const status = el("span", "status", ev.delivery_status ? ` · ${ev.delivery_status}` : "");
    meta.append(status);
    const body = el("div", "body");
    body.append(linkified(ev.body));
    main.append(meta, body);
    const detail = el("div", "detail");
    if (ev.kind === "call" || ev.kind === "voicemail") {
      const bits = [];
      if (d.duration) bits.push(`${d.duration} s`);
      if (d.missed) bits.push("missed");
      if (d.status) bits.push(d.status);
      if (d.said) bits.push(`said: “${d.said}”`);
      if (bits.length) detail.append(el("span", "", bits.join(" · ")));
      const rec = safeUrl(d.recording_url);
      if (rec) { const audio = el("audio"); audio.controls = true; audio.preload = "none"; audio.src = rec; detail.append(audio); }
      if (d.transcript) detail.append(el("blockquote", "transcript", d.transcript));
    } else if (ev.kind === "scan" && d.product) {
      const product = typeof d.product === "object" ? d.product : { name: String(d.product) };
      const store = typeof d.store === "object" && d.store ? d.store.name : d.store;
      const placement = typeof d.placement === "object" && d.placement ? d.placement.label : d.placement;
      detail.textContent = `${product.name || "a product"}${product.sku ? ` (${product.sku})` : ""} at ${store || "a store"}` + (placement ? ` · ${placement}` : "");
    } else if (ev.kind === "nudge") {
      if (d.sent === false || d.suppressed) { li.classList.add("suppressed"); detail.textContent = `Not sent: ${d.reason || d.suppressed || "suppressed"}`; }
      else if (d.reason) detail.textContent = `Why: ${d.reason}`;
    } else if (ev.kind === "routing" || ev.kind === "case") {
      if (d.reason && !(ev.body || "").includes(d.reason)) detail.textContent = `Why: ${d.reason}`;
    } else if (ev.kind === "merge") {
      if (d.events_moved !== undefined) detail.textContent = `${d.events_moved} events and ${d.identities_moved} identities moved`;
      // "Split…" on the merge line itself, for agents who may merge (docs/subsystems/identities.md).
      const pane = document.getElementById("console-conversation");
      if (pane && pane.dataset.splitUrl && ev.id) {
        const split = el("a", "button split", "Split…");
        split.href = pane.dataset.splitUrl.replace(/0\/$/, `${ev.id}/`);
        split.dataset.fullPage = "";
        detail.append(" ", split);
      }
    } else if (ev.kind === "message" && d.to) {
      detail.textContent = `to ${d.to}`;
    }
    if (d.error_reason || d.delivery_error_reason) detail.append(el("span", "why", ` ${d.error_reason || d.delivery_error_reason}`));
    if (detail.childNodes.length || detail.textContent) main.append(detail);
    li.append(main);
    return li;
  }

  function isTyping(e) {
    const t = e.target;
    return e.ctrlKey || e.metaKey || e.altKey || (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT"));
  }

  function csrf() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // An action sent in place: the server answers {"ok", "message"} (console/views.py).
  function post(url, form) {
    return fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "X-CSRFToken": csrf() },
    }).then((r) => {
      const type = r.headers.get("Content-Type") || "";
      if (type.includes("application/json")) return r.json();
      return r.text().then((text) => ({ ok: r.ok, message: r.ok ? "Done." : text.slice(0, 200) }));
    });
  }

  /* ---- the workspace: list | timeline | context ---- */
  function workspacePage(root) {
    const panes = document.getElementById("ws-panes");
    const listBox = document.getElementById("inbox-list");
    const flashBox = document.getElementById("ws-flash");
    const inboxUrl = root.dataset.inboxUrl;
    let current = null;  // {id, lastSeq, zone, typingTimer}
    let listTimer = null, ctxTimer = null, flashTimer = null, heartbeat = null;

    function flash(text, ok) {
      flashBox.textContent = text || "";
      flashBox.className = `ws-flash ${ok === false ? "error" : "success"}`;
      flashBox.hidden = !text;
      clearTimeout(flashTimer);
      flashTimer = setTimeout(() => { flashBox.hidden = true; }, 6000);
    }

    function rows() { return Array.from(listBox.querySelectorAll("tr[data-conversation]")); }
    function markSelected() {
      rows().forEach((r) => r.classList.toggle("selected", current && Number(r.dataset.conversation) === current.id));
    }

    function refreshList() {
      const url = new URL(inboxUrl, window.location.href);
      url.search = root.dataset.listQuery || "";
      url.searchParams.set("fragment", "1");
      return fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => {  // our own template, rendered and escaped by Django
          const template = document.createElement("template");
          template.innerHTML = html;
          listBox.querySelector("tbody").replaceChildren(...template.content.querySelector("tbody").children);
          root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
          markSelected();
        })
        .catch(() => {});
    }
    function listSoon() { clearTimeout(listTimer); listTimer = setTimeout(refreshList, 250); }

    const socket = agentSocket(root, {
      open: (ws) => {  // (re)connected: catch up with what changed while not listening
        if (current) ws.send(JSON.stringify({ type: "subscribe", conversation: current.id, after_seq: current.lastSeq }));
        listSoon();
      },
      inbox: listSoon,
      event: (msg) => {
        if (!current || msg.event.conversation !== current.id) return;
        addEvent(msg.event, true);
        if (msg.event.direction === "in") document.getElementById("typing").textContent = "";
        // what the panel shows (case, intent, cart, order...) may have changed
        if (msg.event.direction !== "out") contextSoon();
      },
      status: (msg) => {
        if (!current) return;
        const status = panes.querySelector(`li.ev[data-seq="${msg.event.seq}"] .status`);
        if (status) status.textContent = ` · ${msg.event.delivery_status}` + (msg.event.error_reason ? ` (${msg.event.error_reason})` : "");
      },
      typing: (msg) => {
        if (!current || msg.conversation !== current.id) return;
        const typing = document.getElementById("typing");
        typing.textContent = msg.typing ? (msg.from === "customer" ? "The customer is typing…" : `${msg.name || "Another agent"} is typing…`) : "";
        clearTimeout(current.typingTimer);
        if (msg.typing) current.typingTimer = setTimeout(() => { typing.textContent = ""; }, 8000);
      },
      viewers: (msg) => {
        if (!current || msg.conversation !== current.id) return;
        const box = document.getElementById("viewers");
        if (!box) return;
        box.textContent = msg.agents.length ? `Also open by ${msg.agents.join(", ")}` : "";
        box.classList.toggle("collision", msg.agents.length > 0);
      },
      resync: () => { if (current) openConversation(current.id, current.url, false); },
    });
    // collision detection: say now and then that this page still has its conversation open
    heartbeat = setInterval(() => { if (current) socket.send({ type: "heartbeat" }); }, 20000);

    function addEvent(ev, live) {
      const list = document.getElementById("timeline");
      if (ev.seq <= current.lastSeq) return;
      current.lastSeq = ev.seq;
      const empty = list.querySelector("li.empty"); if (empty) empty.remove();
      const box = list;
      const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 80;
      list.append(renderEvent(ev, current.zone));
      if (!live || atBottom) box.scrollTop = box.scrollHeight;
    }

    function setUpPanes() {
      const conv = document.getElementById("console-conversation");
      if (!conv) { current = null; markSelected(); return; }
      const id = Number(conv.dataset.conversation);
      current = { id, lastSeq: 0, zone: conv.dataset.customerZone || "", url: conv.dataset.url, live: conv.dataset.live === "1" };
      conv.dataset.connected = root.dataset.connected || "0";
      const list = document.getElementById("timeline");
      const events = JSON.parse(document.getElementById("timeline-events").textContent);
      list.replaceChildren();
      events.forEach((ev) => addEvent(ev, false));
      if (!events.length) list.append(el("li", "empty", "No events yet."));
      localiseTimes(panes, current.zone);
      replyBox(conv);
      markSelected();
      if (current.live) socket.send({ type: "subscribe", conversation: id, after_seq: current.lastSeq });
    }

    function openConversation(id, url, push = true) {
      const target = new URL(url, window.location.href);
      target.searchParams.set("fragment", "panes");
      return fetch(target, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          if (current && current.id !== id) socket.send({ type: "unsubscribe", conversation: current.id });
          panes.innerHTML = html;  // our own template, rendered and escaped by Django
          const conv = document.getElementById("console-conversation");
          if (push) {
            const shown = new URL(conv.dataset.url, window.location.href);
            shown.search = root.dataset.listQuery || "";
            history.pushState({ conversation: id }, "", shown);
          }
          document.title = `${conv.dataset.title} | Inbox`;
          setUpPanes();
          listSoon();  // its unread badge is gone
        })
        .catch(() => flash("Could not open that conversation.", false));
    }

    function refreshContext() {
      if (!current) return;
      const target = new URL(current.url, window.location.href);
      target.searchParams.set("fragment", "panes");
      fetch(target, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => {
          const template = document.createElement("template");
          template.innerHTML = html;
          const fresh = template.content.querySelector("aside.ctx");
          const old = panes.querySelector("aside.ctx");
          if (fresh && old) { old.replaceWith(fresh); localiseTimes(fresh, current.zone); }
        })
        .catch(() => {});
    }
    function contextSoon() { clearTimeout(ctxTimer); ctxTimer = setTimeout(refreshContext, 300); }

    function step(by) {
      const all = rows(); if (!all.length) return;
      let at = current ? all.findIndex((r) => Number(r.dataset.conversation) === current.id) : -1;
      at = at < 0 ? (by > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, at + by));
      const row = all[at];
      if (!current || Number(row.dataset.conversation) !== current.id) openConversation(Number(row.dataset.conversation), row.dataset.href);
    }

    function takeNext(form) {
      post(form.action, form).then((answer) => {
        flash(answer.message, answer.ok);
        if (answer.ok && answer.conversation) openConversation(answer.conversation, answer.url);
        listSoon();
      });
    }

    /* the reply box of the open conversation */
    function replyBox(conv) {
      const form = document.getElementById("reply-form");
      if (!form) return;
      const box = form.querySelector("textarea");
      const picker = form.querySelector("select[name=channel]");
      const why = document.getElementById("channel-why");
      const noteToggle = document.getElementById("note-mode");
      const sendButton = form.querySelector("button[type=submit]");
      const id = current.id;
      function showWhy() {
        const option = picker && picker.selectedOptions[0];
        why.textContent = option && option.dataset.reason ? option.dataset.reason : "";
        if (!noteToggle.checked) sendButton.disabled = !!(option && option.disabled) || !picker.value;
      }
      function mode() {
        const note = noteToggle.checked;
        form.action = note ? form.dataset.noteUrl : form.dataset.replyUrl;
        form.classList.toggle("note-mode", note);
        sendButton.textContent = note ? "Add private note" : "Send";
        if (picker) picker.disabled = note;
        sendButton.disabled = false;
        if (!note) showWhy();
      }
      form.setMode = (note) => { noteToggle.checked = note; mode(); box.focus(); };
      if (picker) picker.addEventListener("change", showWhy);
      noteToggle.addEventListener("change", mode);
      mode();
      const canned = JSON.parse(document.getElementById("canned-responses").textContent);
      const cannedPicker = document.getElementById("canned");
      if (cannedPicker) cannedPicker.addEventListener("change", () => {
        const chosen = canned.find((c) => c.shortcut === cannedPicker.value);
        if (chosen) { box.value = box.value ? `${box.value}\n${chosen.body}` : chosen.body; box.focus(); }
        cannedPicker.value = "";
      });
      let typingSent = false, typingTimer = null;
      box.addEventListener("input", () => {
        // "/shortcut " expands a canned response in place
        const match = box.value.match(/(^|\s)\/([\w-]+)\s$/);
        if (match) {
          const chosen = canned.find((c) => c.shortcut === match[2]);
          if (chosen) box.value = box.value.slice(0, box.value.length - match[2].length - 2) + chosen.body;
        }
        if (noteToggle.checked) return;  // notes are private: nobody sees them typed
        if (!typingSent) { socket.send({ type: "typing", conversation: id, typing: true }); typingSent = true; }
        clearTimeout(typingTimer);
        typingTimer = setTimeout(() => { socket.send({ type: "typing", conversation: id, typing: false }); typingSent = false; }, 3000);
      });
      box.addEventListener("keydown", (e) => {
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (!sendButton.disabled) form.requestSubmit(); }
        if (e.key === "Escape") box.blur();
      });
    }

    // Every form of the panes and the list head is sent in place (fetch); links marked
    // data-full-page (older events, merge) are plain page loads.
    document.addEventListener("submit", (e) => {
      const form = e.target;
      if (form.method.toLowerCase() !== "post" || !root.contains(form)) return;
      e.preventDefault();
      if (form.classList.contains("take-next")) { takeNext(form); return; }
      const isReply = form.id === "reply-form";
      const button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      post(form.action, form).then((answer) => {
        flash(answer.message, answer.ok);
        if (form.hasAttribute("data-presence") && answer.ok) {
          root.querySelectorAll("form[data-presence]").forEach((f) => {
            f.querySelector("input[name=available]").value = answer.available ? "0" : "1";
            const state = f.querySelector(".presence-state");
            state.textContent = answer.available ? "Available" : "Away";
            state.className = `presence-state ${answer.available ? "on" : "off"}`;
            f.querySelector("button").textContent = answer.available ? "Go away" : "Become available";
          });
        }
        if (isReply && answer.ok) {
          form.querySelector("textarea").value = "";
          if (document.getElementById("note-mode").checked) form.setMode(false);
        }
        if (!isReply) contextSoon();
        listSoon();
      }).catch(() => flash("Not sent: the server did not answer. Try again.", false))
        .finally(() => { if (button) button.disabled = false; });
    });

    listBox.addEventListener("click", (e) => {
      const row = e.target.closest("tr[data-conversation]");
      if (!row || e.ctrlKey || e.metaKey || e.shiftKey) return;  // a new tab stays a new tab
      e.preventDefault();
      openConversation(Number(row.dataset.conversation), row.dataset.href);
    });
    window.addEventListener("popstate", () => {
      const match = window.location.pathname.match(/\/conversation\/(\d+)\/change\/$/);
      if (match) openConversation(Number(match[1]), window.location.href, false);
    });
    document.addEventListener("keydown", (e) => {
      if (isTyping(e)) return;
      const form = document.getElementById("reply-form");
      if (e.key === "j") { e.preventDefault(); step(1); }
      if (e.key === "k") { e.preventDefault(); step(-1); }
      if (e.key === "t") { const take = root.querySelector("form.take-next"); if (take) { e.preventDefault(); takeNext(take); } }
      if (e.key === "r" && form) { e.preventDefault(); form.setMode(false); }
      if (e.key === "n" && form) { e.preventDefault(); form.setMode(true); }
      if (e.key === "e") { const resolve = document.getElementById("resolve-form"); if (resolve) { e.preventDefault(); resolve.requestSubmit(); } }
    });
    window.addEventListener("beforeunload", () => clearInterval(heartbeat));
    setUpPanes();
  }

  /* ---- the agent's home: live counts ---- */
  function agentHome(root) {
    const cap = Number(root.dataset.cap || 100);
    let timer = null;
    function refresh() {
      fetch(root.dataset.countsUrl, { credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
        .then((counts) => {
          root.querySelectorAll("[data-count]").forEach((n) => {
            const value = counts[n.dataset.count];
            n.textContent = value >= cap ? `${cap - 1}+` : String(value);
          });
          root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
        })
        .catch(() => {});
    }
    function soon() { clearTimeout(timer); timer = setTimeout(refresh, 500); }
    agentSocket(root, { open: soon, inbox: soon });
    setInterval(refresh, 30000);  // call backs fall due without an inbox message
  }

  document.addEventListener("DOMContentLoaded", () => {
    const workspace = document.getElementById("workspace");
    if (workspace) workspacePage(workspace);
    const home = document.getElementById("agent-home");
    if (home) agentHome(home);
  });
})();
