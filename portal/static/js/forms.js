/* The portal's own form widgets (issue 17), in place of the browser's English ones:
 * - validation messages in the page's language (the server checks everything again; its errors
 *   are shown next to the fields): forms carry novalidate, the messages come from <body data-msg-*>;
 * - the file picker: a label button and the chosen file's name;
 * - the date picker: a text field (yyyy-mm-dd) with a month calendar under it.
 * No inline script, no external asset (CSP: script-src 'self').
 */
(function () {
  "use strict";
  var body = document.body;
  function msg(name) { return body.getAttribute("data-msg-" + name) || ""; }
  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, key) { return values[key]; });
  }
  var DATE_RE = /^\d{4}-\d{2}-\d{2}$/;

  function validDate(value) {
    if (!DATE_RE.test(value)) { return false; }
    var parts = value.split("-").map(Number);
    var d = new Date(parts[0], parts[1] - 1, parts[2]);
    return d.getFullYear() === parts[0] && d.getMonth() === parts[1] - 1 && d.getDate() === parts[2];
  }

  function problem(el) {
    var value = (el.value || "").trim();
    if (el.type === "checkbox" || el.type === "radio") {
      return el.required && !el.checked ? msg("required") : "";
    }
    if (el.type === "file") {
      return el.required && !(el.files && el.files.length) ? msg("file-required") : "";
    }
    if (!value) { return el.required ? msg("required") : ""; }
    if (el.hasAttribute("data-date-picker") && !validDate(value)) { return msg("date"); }
    if (el.maxLength > 0 && value.length > el.maxLength) { return fmt(msg("too-long"), {n: el.maxLength}); }
    if (el.minLength > 0 && value.length < el.minLength) { return fmt(msg("too-short"), {n: el.minLength}); }
    if (el.type === "number") {
      var n = Number(value);
      if (isNaN(n)) { return msg("number"); }
      if (el.min !== "" && n < Number(el.min)) { return fmt(msg("min"), {n: el.min}); }
      if (el.max !== "" && n > Number(el.max)) { return fmt(msg("max"), {n: el.max}); }
    }
    if (el.type === "email" && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value)) { return msg("email"); }
    if (el.pattern && !new RegExp("^(?:" + el.pattern + ")$").test(value)) { return msg("pattern"); }
    return "";
  }

  function feedback(el) {
    var box = el.closest(".file-picker") || el;
    var next = box.nextElementSibling;
    while (next && next.classList.contains("form-text")) { next = next.nextElementSibling; }
    if (next && next.classList.contains("invalid-feedback")) { return next; }
    var div = document.createElement("div");
    div.className = "invalid-feedback";
    div.setAttribute("data-client", "");
    box.parentNode.insertBefore(div, box.nextSibling);
    return div;
  }

  function check(el) {
    var text = problem(el);
    if (text) {
      el.classList.add("is-invalid");
      var box = feedback(el);
      box.textContent = text;
      box.classList.add("d-block");
    } else if (el.classList.contains("is-invalid")) {
      el.classList.remove("is-invalid");
      var old = feedback(el);
      old.classList.remove("d-block");
      if (old.hasAttribute("data-client")) { old.textContent = ""; }
    }
    return !text;
  }

  document.querySelectorAll("form").forEach(function (form) {
    form.noValidate = true;
    form.addEventListener("submit", function (event) {
      var first = null;
      form.querySelectorAll("input, select, textarea").forEach(function (el) {
        if (el.disabled || el.type === "hidden" || el.type === "submit") { return; }
        if (!check(el) && !first) { first = el; }
      });
      if (first) {
        event.preventDefault();
        first.focus();
      }
    });
  });

  // the file picker: the chosen file's name beside the button
  document.querySelectorAll("input[data-file-picker]").forEach(function (input) {
    var name = input.closest(".file-picker").querySelector("[data-file-name]");
    input.addEventListener("change", function () {
      name.textContent = input.files && input.files.length ? input.files[0].name : msg("no-file");
      check(input);
    });
  });

  // the date picker: a month calendar under a yyyy-mm-dd text field
  var MONTH_TITLE = msg("month-title") || "{y}-{m}";
  var WEEKDAYS = (msg("weekdays") || "Mo Tu We Th Fr Sa Su").split(" ");
  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function openCalendar(input) {
    closeCalendars();
    var value = validDate(input.value.trim()) ? input.value.trim().split("-").map(Number) : null;
    var today = new Date();
    var shown = value ? new Date(value[0], value[1] - 1, 1) : new Date(today.getFullYear(), today.getMonth(), 1);
    var panel = document.createElement("div");
    panel.className = "date-picker shadow-sm";
    panel.setAttribute("role", "dialog");
    input.parentNode.insertBefore(panel, input.nextSibling);

    function draw() {
      panel.textContent = "";
      var head = document.createElement("div");
      head.className = "date-picker-head";
      var prev = document.createElement("button");
      prev.type = "button"; prev.className = "btn btn-sm btn-link"; prev.textContent = "‹";
      prev.setAttribute("aria-label", msg("previous-month"));
      var next = document.createElement("button");
      next.type = "button"; next.className = "btn btn-sm btn-link"; next.textContent = "›";
      next.setAttribute("aria-label", msg("next-month"));
      var title = document.createElement("span");
      title.textContent = fmt(MONTH_TITLE, {y: shown.getFullYear(), m: shown.getMonth() + 1});
      prev.addEventListener("click", function () { shown.setMonth(shown.getMonth() - 1); draw(); });
      next.addEventListener("click", function () { shown.setMonth(shown.getMonth() + 1); draw(); });
      head.appendChild(prev); head.appendChild(title); head.appendChild(next);
      panel.appendChild(head);
      var grid = document.createElement("div");
      grid.className = "date-picker-grid";
      WEEKDAYS.forEach(function (w) {
        var cell = document.createElement("span"); cell.className = "date-picker-weekday"; cell.textContent = w;
        grid.appendChild(cell);
      });
      var offset = (shown.getDay() + 6) % 7;  // weeks start on Monday
      for (var i = 0; i < offset; i++) { grid.appendChild(document.createElement("span")); }
      var days = new Date(shown.getFullYear(), shown.getMonth() + 1, 0).getDate();
      for (var d = 1; d <= days; d++) {
        var day = document.createElement("button");
        day.type = "button"; day.className = "date-picker-day"; day.textContent = d;
        var iso = shown.getFullYear() + "-" + pad(shown.getMonth() + 1) + "-" + pad(d);
        day.setAttribute("data-date", iso);
        if (input.value.trim() === iso) { day.classList.add("selected"); }
        day.addEventListener("click", function (event) {
          input.value = event.currentTarget.getAttribute("data-date");
          check(input);
          closeCalendars();
          input.focus();
        });
        grid.appendChild(day);
      }
      panel.appendChild(grid);
    }
    draw();
  }

  function closeCalendars() {
    document.querySelectorAll(".date-picker").forEach(function (p) { p.remove(); });
  }

  document.querySelectorAll("input[data-date-picker]").forEach(function (input) {
    input.addEventListener("focus", function () { openCalendar(input); });
    input.addEventListener("click", function () { if (!input.nextElementSibling ||
      !input.nextElementSibling.classList.contains("date-picker")) { openCalendar(input); } });
    input.addEventListener("keydown", function (event) { if (event.key === "Escape") { closeCalendars(); } });
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".date-picker") && !event.target.hasAttribute("data-date-picker")) { closeCalendars(); }
  });
}());
