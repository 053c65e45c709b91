/* The live note page of a side-by-side session, built for typing while listening.

   - What is typed is kept in localStorage at every keystroke (the draft), so a reload or a
     closed tab loses nothing.
   - A saved note goes into a queue in localStorage first, then to the API. It leaves the queue
     only when the server answers; with no connection it waits and is sent when the browser is
     online again (and every few seconds meanwhile).
   - Each note carries a UUID made here: a note sent twice (an answer lost on the way back, two
     tabs) is stored once by the server. */
(function () {
  "use strict";
  var form = document.getElementById("note-form");
  if (!form) return;
  var api = form.getAttribute("data-api");
  var queueKey = "voc.session-notes." + form.getAttribute("data-session");
  var draftKey = queueKey + ".draft";
  var text = document.getElementById("note-text");
  var contactsInput = document.getElementById("note-contacts");
  var state = form.querySelector(".save-state");
  var list = document.getElementById("notes");
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var flushing = false;
  var refused = 0;

  function read(key, fallback) {
    try {
      var value = JSON.parse(window.localStorage.getItem(key));
      return value === null ? fallback : value;
    } catch (error) {
      return fallback;
    }
  }
  function write(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (error) { /* full */ }
  }

  function uuid() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function kind() {
    var checked = form.querySelector("input[name=kind]:checked");
    return checked ? checked.value : "observation";
  }
  function setKind(value) {
    var radio = form.querySelector("input[name=kind][value='" + value + "']");
    if (radio) radio.checked = true;
    saveDraft();
  }
  var KIND_LABELS = { observation: "Observation", quote: "Quote", question: "Question", idea: "Idea" };

  function saveDraft() {
    write(draftKey, { text: text.value, kind: kind(), contacts: contactsInput.value });
  }
  function restoreDraft() {
    var draft = read(draftKey, null);
    if (!draft) return;
    text.value = draft.text || "";
    contactsInput.value = draft.contacts || "";
    if (draft.kind) {
      var radio = form.querySelector("input[name=kind][value='" + draft.kind + "']");
      if (radio) radio.checked = true;
    }
  }

  function showState() {
    var waiting = read(queueKey, []).length;
    var message;
    if (waiting) {
      message = waiting + (waiting === 1 ? " note waits" : " notes wait") +
        " in this browser" + (navigator.onLine ? "; sending…" : ": no connection, they are sent when it is back.");
    } else {
      message = "All notes saved.";
    }
    if (refused) message += " " + refused + (refused === 1 ? " note was" : " notes were") + " refused (see below).";
    state.textContent = message;
    state.classList.toggle("waiting", waiting > 0);
  }

  function entryFor(clientId) {
    return list.querySelector("li[data-client-id='" + clientId + "']");
  }

  function render(note, pending) {
    var empty = list.querySelector("li.empty");
    if (empty) empty.remove();
    var li = entryFor(note.client_id);
    if (!li) {
      li = document.createElement("li");
      li.setAttribute("data-client-id", note.client_id);
      list.appendChild(li);
    }
    li.className = "note note-" + note.kind + (pending ? " pending" : "");
    li.textContent = "";
    var time = document.createElement("time");
    time.setAttribute("datetime", note.noted_at);
    time.textContent = new Date(note.noted_at).toTimeString().slice(0, 8);
    var label = document.createElement("span");
    label.className = "kind";
    label.textContent = KIND_LABELS[note.kind] || note.kind;
    var body = document.createElement("span");
    body.className = "note-text";
    body.textContent = note.text;  // text, never HTML
    li.append(time, " ", label, " ", body);
    (note.contact_ids || []).forEach(function (id) {
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = "contact " + id;
      li.append(" ", tag);
    });
    if (pending) {
      var mark = document.createElement("span");
      mark.className = "pending-mark";
      mark.textContent = "waiting to be sent";
      li.append(" ", mark);
    }
    return li;
  }

  function refuse(note, message) {
    refused += 1;
    var li = render(note, false);
    li.classList.add("refused");
    var why = document.createElement("span");
    why.className = "error-text";
    why.textContent = "Not saved: " + message + " (copy the text to keep it)";
    li.append(" ", why);
  }

  function errorMessage(body) {
    if (!body || typeof body !== "object") return "refused by the server";
    if (body.detail) return String(body.detail);
    var parts = [];
    Object.keys(body).forEach(function (field) { parts.push([].concat(body[field]).join(" ")); });
    return parts.join(" ") || "refused by the server";
  }

  function drop(clientId) {
    write(queueKey, read(queueKey, []).filter(function (n) { return n.client_id !== clientId; }));
  }

  function flush() {
    if (flushing) return;
    var queue = read(queueKey, []);
    if (!queue.length) { showState(); return; }
    flushing = true;
    var note = queue[0];
    // A request that hangs (a half-open connection) is given up after a while and tried again.
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, 20000) : null;
    fetch(api, {
      signal: controller ? controller.signal : undefined,
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(note),
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (response.ok) {
          drop(note.client_id);
          render(body || note, false);
          return true;
        }
        if (response.status >= 400 && response.status < 500 && response.status !== 429 && response.status !== 408) {
          drop(note.client_id);  // it would be refused again: say so, keep the words on screen
          refuse(note, errorMessage(body));
          return true;
        }
        return false;  // the server is struggling: try again later
      });
    }).catch(function () {
      return false;  // no connection
    }).then(function (goOn) {
      if (timer) window.clearTimeout(timer);
      flushing = false;
      showState();
      if (goOn) flush();
    });
  }

  function contactIds() {
    return contactsInput.value.split(/[^0-9]+/).filter(Boolean).map(Number).filter(function (n) { return n > 0; });
  }

  function saveNote() {
    var words = text.value.trim();
    if (!words) { text.focus(); return; }
    var note = {
      client_id: uuid(),
      kind: kind(),
      text: words,
      noted_at: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
      contact_ids: contactIds(),
    };
    var queue = read(queueKey, []);
    queue.push(note);
    write(queueKey, queue);  // kept before anything is sent, so nothing is lost on the way
    text.value = "";
    contactsInput.value = "";
    setKind("observation");
    render(note, true);
    showState();
    flush();
    text.focus();
  }

  function usePrompt(prompt) {
    setKind("question");
    text.value = prompt + (text.value ? " " + text.value : " ");
    text.focus();
    text.setSelectionRange(text.value.length, text.value.length);
    saveDraft();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    saveNote();
  });
  form.addEventListener("input", saveDraft);
  form.addEventListener("change", saveDraft);
  form.addEventListener("click", function (event) {
    var prompt = event.target.closest("[data-prompt]");
    if (prompt) usePrompt(prompt.getAttribute("data-prompt"));
  });
  text.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      saveNote();
    }
  });
  var KIND_KEYS = { KeyO: "observation", KeyQ: "quote", KeyU: "question", KeyI: "idea" };
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    var digit = /^Digit([1-4])$/.exec(event.code);
    if (digit) {
      var prompts = form.querySelectorAll("[data-prompt]");
      event.preventDefault();
      usePrompt(prompts[Number(digit[1]) - 1].getAttribute("data-prompt"));
    } else if (KIND_KEYS[event.code]) {
      event.preventDefault();
      setKind(KIND_KEYS[event.code]);
      text.focus();
    } else if (event.code === "KeyN") {
      event.preventDefault();
      text.focus();
    }
  });

  window.addEventListener("online", flush);
  window.addEventListener("offline", showState);
  window.setInterval(flush, 4000);

  // After a reload: the draft back in the box, the waiting notes on the list (those the server
  // already has are in it, rendered by the page), then send what waits.
  restoreDraft();
  read(queueKey, []).forEach(function (note) {
    if (!entryFor(note.client_id)) render(note, true);
  });
  showState();
  flush();
})();
