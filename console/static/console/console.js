/* The agent console's script (docs/console.md): live inbox, timeline, reply box.
 * Everything customers write is set with textContent, never as HTML, so it renders inert. */
(function () {
  "use strict";

  // Symbols every system font has (DejaVu included), not emoji, so no box ever shows.
  const CHANNEL_ICONS = { web: "\u2328", sms: "\u2709", whatsapp: "\u2709", voice: "\u260E", instore: "\u25A3", api: "\u21C5", system: "\u2699", agent: "\u270E" };
  const KIND_ICONS = {
    note: "\u270E", nudge: "\u2691", routing: "\u21AA", merge: "\u21C4", cart: "\u00A4", order: "\u2611",
    scan: "\u25A3", call: "\u260E", missed_call: "\u260F", voicemail: "\u2707", case: "\u2714", consent: "\u2298",
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

  function agentSocket(root, handlers) {
    const url = root.dataset.ws;
    let ws = null, timer = null, failures = 0, everOpened = false;
    const banner = connectionBanner(root, () => { if (ws && ws.readyState === WebSocket.CLOSED) connect(); });
    function connect() {
      clearTimeout(timer);
      ws = new WebSocket(url);
      ws.onopen = () => {
        failures = 0; everOpened = true;
        root.dataset.connected = "1";
        banner.hide();
        if (handlers.open) handlers.open(ws);  // (re)connected: the page catches up here
      };
      ws.onmessage = (m) => { const msg = JSON.parse(m.data); (handlers[msg.type] || (() => {}))(msg, ws); };
      ws.onclose = () => {
        root.dataset.connected = "0";
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
  function renderEvent(ev) {
    const d = ev.data || {};
    const li = el("li", `ev ch-${ev.channel} k-${ev.kind}`);
    li.dataset.seq = ev.seq; li.dataset.direction = ev.direction; li.dataset.kind = ev.kind;
    const icon = el("span", "icon", KIND_ICONS[ev.kind] || CHANNEL_ICONS[ev.channel] || "\u2022");
    icon.setAttribute("role", "img");
    icon.setAttribute("aria-label", `${CHANNEL_NAMES[ev.channel] || ev.channel} ${ev.kind}`);
    icon.title = icon.getAttribute("aria-label");
    li.append(icon);
    const main = el("div", "main");
    const when = new Date(ev.occurred_at);
    const who = ev.author_name || d.author_name || d.by_name || "";
    const meta = el("div", "meta",
      `#${ev.seq} · ${ev.channel} · ${ev.direction === "in" ? "from customer" : ev.direction === "out" ? "to customer" : "internal"} · ${ev.kind} · ${when.toLocaleString()}` + (who ? ` · ${who}` : ""));
    const status = el("span", "status", ev.delivery_status ? ` · ${ev.delivery_status}` : "");
    meta.append(status);
    main.append(meta, el("div", "body", ev.body));
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
      detail.textContent = `${d.product.name} (${d.product.sku || ""}) at ${d.store ? d.store.name : "a store"}` + (d.placement ? ` · ${d.placement.label}` : "");
    } else if (ev.kind === "nudge") {
      if (d.sent === false || d.suppressed) { li.classList.add("suppressed"); detail.textContent = `Not sent: ${d.reason || d.suppressed || "suppressed"}`; }
      else if (d.reason) detail.textContent = `Why: ${d.reason}`;
    } else if (ev.kind === "routing" || ev.kind === "case") {
      if (d.reason && !(ev.body || "").includes(d.reason)) detail.textContent = `Why: ${d.reason}`;
    } else if (ev.kind === "merge") {
      if (d.events_moved !== undefined) detail.textContent = `${d.events_moved} events and ${d.identities_moved} identities moved`;
    } else if (ev.kind === "message" && d.to) {
      detail.textContent = `to ${d.to}`;
    }
    if (d.error_reason || d.delivery_error_reason) detail.append(el("span", "why", ` ${d.error_reason || d.delivery_error_reason}`));
    if (detail.childNodes.length || detail.textContent) main.append(detail);
    li.append(main);
    return li;
  }

  function timelinePage(root) {
    const list = document.getElementById("timeline");
    const events = JSON.parse(document.getElementById("timeline-events").textContent);
    let lastSeq = 0;
    function add(ev) {
      if (ev.seq <= lastSeq) return;
      lastSeq = ev.seq;
      list.append(renderEvent(ev));
    }
    list.replaceChildren();
    events.forEach(add);
    if (!events.length) list.append(el("li", "empty", "No events yet."));
    window.scrollTo(0, document.body.scrollHeight);
    const typing = document.getElementById("typing");
    let typingTimer = null;
    const live = root.dataset.live === "1";
    const id = Number(root.dataset.conversation);
    if (!live) return;
    const socket = agentSocket(root, {
      open: (ws) => ws.send(JSON.stringify({ type: "subscribe", conversation: id, after_seq: lastSeq })),
      event: (msg) => {
        if (msg.event.conversation !== id) return;
        const empty = list.querySelector("li.empty"); if (empty) empty.remove();
        const atBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 80;
        add(msg.event);
        if (msg.event.direction === "in") typing.textContent = "";
        if (atBottom) window.scrollTo(0, document.body.scrollHeight);
      },
      status: (msg) => {
        const status = list.querySelector(`li.ev[data-seq="${msg.event.seq}"] .status`);
        if (status) status.textContent = ` · ${msg.event.delivery_status}` + (msg.event.error_reason ? ` (${msg.event.error_reason})` : "");
      },
      typing: (msg) => {
        if (msg.conversation !== id) return;
        typing.textContent = msg.typing ? (msg.from === "customer" ? "The customer is typing…" : "Another agent is typing…") : "";
        clearTimeout(typingTimer);
        if (msg.typing) typingTimer = setTimeout(() => { typing.textContent = ""; }, 8000);
      },
      resync: () => window.location.reload(),
    });
    replyBox(socket, id);
  }

  /* ---- the reply box ---- */
  function replyBox(socket, conversationId) {
    const form = document.getElementById("reply-form");
    if (!form) return;
    const box = form.querySelector("textarea");
    const picker = form.querySelector("select[name=channel]");
    const why = document.getElementById("channel-why");
    const noteToggle = document.getElementById("note-mode");
    const sendButton = form.querySelector("button[type=submit]");
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
      if (noteToggle.checked) return;  // notes are private: the customer sees no typing
      if (!typingSent) { socket.send({ type: "typing", conversation: conversationId, typing: true }); typingSent = true; }
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => { socket.send({ type: "typing", conversation: conversationId, typing: false }); typingSent = false; }, 3000);
    });
    box.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); if (!sendButton.disabled) form.requestSubmit(); }
      if (e.key === "Escape") box.blur();
    });
    form.addEventListener("submit", () => { sendButton.disabled = true; });
    document.addEventListener("keydown", (e) => {
      if (isTyping(e)) return;
      if (e.key === "r") { e.preventDefault(); noteToggle.checked = false; mode(); box.focus(); }
      if (e.key === "n") { e.preventDefault(); noteToggle.checked = true; mode(); box.focus(); }
      if (e.key === "i") { window.location.href = form.dataset.inboxUrl; }
    });
  }

  function isTyping(e) {
    const t = e.target;
    return e.ctrlKey || e.metaKey || e.altKey || (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT"));
  }

  /* ---- the inbox ---- */
  function inboxPage(root) {
    const body = document.getElementById("inbox-rows");
    let selected = -1, timer = null;
    function rows() { return Array.from(body.querySelectorAll("tr[data-href]")); }
    function select(i) {
      const all = rows(); if (!all.length) return;
      selected = Math.max(0, Math.min(i, all.length - 1));
      all.forEach((r, n) => r.classList.toggle("selected", n === selected));
      all[selected].scrollIntoView({ block: "nearest" });
    }
    function refresh() {
      const url = new URL(window.location.href);
      url.searchParams.set("fragment", "1");
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
        .then((html) => {  // our own template, rendered and escaped by Django
          const template = document.createElement("template");
          template.innerHTML = html;
          body.replaceChildren(...template.content.querySelector("tbody").children);
          root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1);
          if (selected >= 0) select(selected);
        })
        .catch(() => {});
    }
    function soon() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
    agentSocket(root, {
      // (re)connected: catch up with whatever changed while the socket was not listening
      open: soon,
      inbox: soon,
    });
    document.addEventListener("keydown", (e) => {
      if (isTyping(e)) return;
      if (e.key === "j") select(selected + 1);
      if (e.key === "k") select(selected - 1);
      if (e.key === "Enter" && selected >= 0) window.location.href = rows()[selected].dataset.href;
    });
    body.addEventListener("click", (e) => {
      const row = e.target.closest("tr[data-href]");
      if (row && e.target.tagName !== "A") window.location.href = row.dataset.href;
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const conversation = document.getElementById("console-conversation");
    if (conversation) timelinePage(conversation);
    const inbox = document.getElementById("console-inbox");
    if (inbox) inboxPage(inbox);
  });
})();
