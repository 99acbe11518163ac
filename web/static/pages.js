// smscat patient pages: the live character counter, "send code", asking through the JSON API,
// the thread page kept up to date by polling the API, the copy-link button, and the small forms
// (helpful, thanks, the link by SMS, "find my links") posted in place.
// Plain browser JavaScript, no build, no inline script (the pages' CSP forbids it). Every form
// also works without this file (plain POST, then 303). Text is only ever set with textContent.
(function () {
  "use strict";

  var lang = document.documentElement.lang || "zh-CN";

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

  function chars(text) {
    return Array.from(text).length; // code points, as the server counts
  }

  async function api(method, path, body, token) {
    var headers = { Accept: "application/json", "Accept-Language": lang };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = "Bearer " + token;
    var response = await fetch(path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
    var raw = await response.text();
    var data = null;
    if (raw) {
      try {
        data = JSON.parse(raw);
      } catch (e) {
        data = null;
      }
    }
    return { status: response.status, data: data };
  }

  // A page form posted in place: the page route answers JSON when asked for it (else 303).
  async function postForm(action, fields) {
    var response = await fetch(action, {
      method: "POST",
      headers: { Accept: "application/json", "Accept-Language": lang },
      body: new URLSearchParams(fields),
      credentials: "same-origin",
      cache: "no-store",
    });
    var data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null; // a friendly HTML page (404…): no JSON
    }
    return { status: response.status, data: data };
  }

  function withLang(path, langParam, extra) {
    var query = new URLSearchParams(extra || {});
    if (langParam) query.set("lang", langParam);
    var text = query.toString();
    return text ? path + "?" + text : path;
  }

  // -- the ask form ---------------------------------------------------------------------------

  function setupAsk(form) {
    var summary = form.querySelector("[data-role=form-error]");
    var codeNotice = form.querySelector("[data-role=code-notice]");
    var sendButton = document.getElementById("send-code");
    var submitButton = form.querySelector("button[value=ask]");
    var textarea = document.getElementById("question");
    var counter = document.getElementById("counter");
    var d = form.dataset;

    function updateCounter() {
      counter.textContent = fill(counter.dataset.template, {
        count: chars(textarea.value),
        max: counter.dataset.max,
      });
    }
    textarea.addEventListener("input", updateCounter);
    updateCounter();

    function clearErrors() {
      summary.hidden = true;
      summary.textContent = "";
      form.querySelectorAll("[data-error-for]").forEach(function (slot) {
        slot.hidden = true;
        slot.textContent = "";
      });
    }

    function showError(detail, field) {
      summary.textContent = d.notSent + detail;
      summary.hidden = false;
      var name = field === "verification_id" ? "code" : field;
      var slot = name ? form.querySelector('[data-error-for="' + CSS.escape(name) + '"]') : null;
      if (slot) {
        slot.textContent = detail;
        slot.hidden = false;
        var input = form.elements.namedItem(name);
        if (input && typeof input.focus === "function") {
          input.focus();
        } else if (input && input[0]) {
          input[0].focus(); // a radio group
        }
      } else {
        summary.focus();
      }
    }

    function showProblem(result) {
      var problem = result.data || {};
      showError(problem.detail || d.networkError, problem.field || null);
    }

    function restAfterSending(seconds) {
      sendButton.disabled = true;
      var label = sendButton.dataset.label || sendButton.textContent;
      sendButton.dataset.label = label;
      var left = seconds;
      function tick() {
        if (left <= 0) {
          sendButton.disabled = false;
          sendButton.textContent = label;
          return;
        }
        sendButton.textContent = fill(d.resendIn, { seconds: left });
        left -= 1;
        window.setTimeout(tick, 1000);
      }
      tick();
    }

    sendButton.addEventListener("click", async function (event) {
      event.preventDefault();
      clearErrors();
      codeNotice.hidden = true;
      sendButton.disabled = true;
      try {
        var result = await api("POST", "/api/verifications", {
          phone: form.elements.namedItem("phone").value.trim(),
        });
        if (result.status === 202 && result.data) {
          form.elements.namedItem("verification_id").value = result.data.verification_id;
          codeNotice.textContent = d.codeSent;
          codeNotice.hidden = false;
          restAfterSending(Number(d.resendSeconds) || 60);
          document.getElementById("code").focus();
        } else {
          sendButton.disabled = false;
          showProblem(result);
        }
      } catch (e) {
        sendButton.disabled = false;
        showError(d.networkError, null);
      }
    });

    // Our own words for an empty field, not the browser's (which speak the browser's language).
    form.noValidate = true;
    function missing(el, chosen) {
      if (!el.namedItem("nickname").value.trim()) return "nickname";
      if (!el.namedItem("text").value.trim()) return "text";
      if (!chosen) return "public";
      return null;
    }

    form.addEventListener("submit", async function (event) {
      if (event.submitter && event.submitter.value === "send_code") return;
      event.preventDefault();
      clearErrors();
      var el = form.elements;
      var chosen = form.querySelector("input[name=public]:checked");
      var empty = missing(el, chosen);
      if (empty) {
        showError(d["error" + empty.charAt(0).toUpperCase() + empty.slice(1)], empty);
        return;
      }
      var body = {
        expert_id: d.expert,
        nickname: el.namedItem("nickname").value,
        text: el.namedItem("text").value,
        public: chosen.value === "1",
      };
      var phone = el.namedItem("phone").value.trim();
      if (phone) {
        body.phone = phone;
        body.verification_id = el.namedItem("verification_id").value || null;
        body.code = el.namedItem("code").value.trim() || null;
      }
      var label = submitButton.textContent;
      submitButton.disabled = true;
      submitButton.textContent = d.sending;
      try {
        var result = await api("POST", "/api/questions", body);
        if (result.status === 201 && result.data) {
          var path = "/t/" + encodeURIComponent(result.data.id) + "/" +
            encodeURIComponent(result.data.token);
          window.location.assign(withLang(path, d.langParam, { new: "1" }));
          return;
        }
        showProblem(result);
      } catch (e) {
        showError(d.networkError, null);
      }
      submitButton.disabled = false;
      submitButton.textContent = label;
    });
  }

  // -- the thread page ------------------------------------------------------------------------

  function setupThread(root) {
    var d = root.dataset;
    var parts = window.location.pathname.split("/"); // "", "t", id, token
    var id = parts[2];
    var token = decodeURIComponent(parts[3] || "");
    var list = document.getElementById("messages");
    var statusLine = root.querySelector("[data-role=status]");
    var notice = root.querySelector("[data-role=notice]");
    var summary = root.querySelector("[data-role=form-error]");
    var feedback = root.querySelector("[data-role=feedback]");
    var openStatuses = d.openStatuses.split(" ");
    var shown = null;
    var timer = null;
    var clock = new Intl.DateTimeFormat("en-CA", {
      timeZone: d.zone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });

    function local(at) {
      var when = new Date(at);
      if (isNaN(when.getTime())) return "";
      var p = {};
      clock.formatToParts(when).forEach(function (part) {
        p[part.type] = part.value;
      });
      return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute;
    }

    function label(from) {
      var key = "label" + from.charAt(0).toUpperCase() + from.slice(1);
      return d[key] || d.labelSystem;
    }

    function render(view) {
      statusLine.textContent = fill(d.statusTemplate, { status: view.status_text });
      notice.textContent = view.notice || "";
      notice.hidden = !view.notice;
      var isOpen = openStatuses.indexOf(view.status) !== -1;
      root.querySelectorAll("[data-role=open-only], [data-role=live]").forEach(function (el) {
        el.hidden = !isOpen;
      });
      root.querySelector("[data-role=closed]").hidden = isOpen;
      var answered = view.messages.some(function (m) {
        return m.from === "expert" || m.from === "assistant";
      });
      if (feedback && answered) feedback.hidden = false; // now it can be rated and thanked
      var key = JSON.stringify(view.messages);
      if (key === shown) return;
      shown = key;
      var items = view.messages.map(function (m) {
        var li = document.createElement("li");
        li.className = "msg msg-" + (/^[a-z]+$/.test(m.from) ? m.from : "system");
        var who = document.createElement("span");
        who.className = "who";
        who.textContent = label(m.from);
        var at = document.createElement("time");
        at.className = "at";
        at.textContent = local(m.at);
        var text = document.createElement("p");
        text.className = "text";
        text.textContent = m.text;
        li.append(who, " ", at, text);
        return li;
      });
      list.replaceChildren.apply(list, items);
    }

    async function poll() {
      window.clearTimeout(timer);
      var delay = Number(d.pollMs) || 3000;
      try {
        var result = await api("GET", "/api/questions/" + id, undefined, token);
        if (result.status === 200 && result.data) {
          render(result.data);
        } else if (result.status === 404) {
          return; // the thread is gone: nothing more to wait for
        } else {
          delay *= 2;
        }
      } catch (e) {
        delay *= 2;
      }
      timer = window.setTimeout(poll, delay);
    }
    timer = window.setTimeout(poll, Number(d.pollMs) || 3000);

    var followForm = document.getElementById("followup-form");
    if (followForm) {
      followForm.addEventListener("submit", async function (event) {
        event.preventDefault();
        summary.hidden = true;
        var textarea = document.getElementById("followup");
        var button = followForm.querySelector("button");
        button.disabled = true;
        try {
          var result = await api("POST", "/api/questions/" + id + "/messages",
            { text: textarea.value }, token);
          if (result.status === 201) {
            textarea.value = "";
            await poll();
          } else {
            summary.textContent = d.notSent + ((result.data && result.data.detail) || d.networkError);
            summary.hidden = false;
          }
        } catch (e) {
          summary.textContent = d.notSent + d.networkError;
          summary.hidden = false;
        }
        button.disabled = false;
      });
    }

    function refused(result) {
      summary.textContent = d.notSent + ((result.data && result.data.detail) || d.networkError);
      summary.hidden = false;
      summary.focus();
    }

    // helpful / not helpful, thanks, the link by SMS: posted in place, the page stays
    function inPlace(form, fields, done) {
      if (!form) return;
      form.addEventListener("submit", async function (event) {
        event.preventDefault();
        summary.hidden = true;
        var buttons = form.querySelectorAll("button");
        buttons.forEach(function (b) {
          b.disabled = true;
        });
        var result = null;
        try {
          result = await postForm(form.action, fields(event));
        } catch (e) {
          result = { status: 0, data: null };
        }
        buttons.forEach(function (b) {
          b.disabled = false;
        });
        if (result.status === 200 && result.data) {
          done(result.data);
        } else {
          refused(result);
        }
      });
    }

    var helpfulForm = document.getElementById("helpful-form");
    inPlace(
      helpfulForm,
      function (event) {
        var button = event.submitter || helpfulForm.querySelector("button");
        return { helpful: button.value };
      },
      function (data) {
        helpfulForm.querySelectorAll("button[name=helpful]").forEach(function (b) {
          var chosen = data.helpful === null ? null : data.helpful ? "1" : "0";
          b.setAttribute("aria-pressed", b.value === chosen ? "true" : "false");
        });
        helpfulForm.querySelector("[data-role=helpful-saved]").hidden = data.helpful === null;
      }
    );

    var thankForm = document.getElementById("thank-form");
    inPlace(
      thankForm,
      function () {
        return {};
      },
      function (data) {
        var button = thankForm.querySelector("button");
        if (data.thanked) {
          button.textContent = d.thanked;
          button.disabled = true;
        }
      }
    );

    var linkForm = document.getElementById("link-form");
    inPlace(
      linkForm,
      function () {
        return {};
      },
      function (data) {
        var sent = linkForm.querySelector("[data-role=link-sent]");
        sent.textContent = data.notice || "";
        sent.hidden = !data.notice;
      }
    );

    var withdrawForm = document.getElementById("withdraw-form");
    if (withdrawForm) {
      withdrawForm.addEventListener("submit", function (event) {
        if (!window.confirm(d.withdrawConfirm)) event.preventDefault();
      });
    }

    var copy = document.getElementById("copy-link");
    var linkBox = document.getElementById("thread-link");
    if (copy && linkBox) {
      linkBox.value = window.location.origin + window.location.pathname;
      copy.hidden = false;
      copy.addEventListener("click", async function () {
        try {
          await navigator.clipboard.writeText(linkBox.value);
        } catch (e) {
          linkBox.select();
          document.execCommand("copy");
        }
        copy.textContent = d.copied;
      });
      // The link is shown once: a reload or a bookmark of this page does not show it again.
      var query = new URLSearchParams(window.location.search);
      query.delete("new");
      var rest = query.toString();
      window.history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : ""));
    }
  }

  // -- "find my question links" on the department page -------------------------------------

  function setupLinks(form) {
    var d = form.dataset;
    var error = form.querySelector("[data-role=links-error]");
    var sent = form.querySelector("[data-role=links-sent]");
    var button = form.querySelector("button");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      error.hidden = true;
      sent.hidden = true;
      button.disabled = true;
      var result = null;
      try {
        result = await postForm(form.action, {
          phone: form.elements.namedItem("phone").value.trim(),
        });
      } catch (e) {
        result = { status: 0, data: null };
      }
      button.disabled = false;
      if (result.status === 200 && result.data) {
        sent.textContent = result.data.notice; // the same words for every number
        sent.hidden = false;
      } else {
        error.textContent = d.notSent + ((result.data && result.data.detail) || d.networkError);
        error.hidden = false;
      }
    });
  }

  function start() {
    var form = document.getElementById("ask-form");
    if (form) setupAsk(form);
    var links = document.getElementById("links-form");
    if (links) setupLinks(links);
    var thread = document.getElementById("thread");
    if (thread) setupThread(thread);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
