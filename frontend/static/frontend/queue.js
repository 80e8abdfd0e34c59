// The live queue: on any event from /ws/queue, re-fetch the rows of this page with
// the same filters (the server decides what this person may see). Without
// websockets the page still works with a reload.
// Keys: j/k move between requests, Enter opens one, a/d open it with Approve or the
// reason to deny in focus. Nothing is decided from the queue itself.
(function () {
  "use strict";
  var rows = document.getElementById("queue-rows");
  var status = document.getElementById("live-status");
  var filters = document.getElementById("queue-filters");
  if (!rows) { return; }

  // --- keyboard --------------------------------------------------------------------
  function links() { return Array.prototype.slice.call(rows.querySelectorAll("tr.row a.request-link")); }

  function current() {
    var active = document.activeElement;
    var row = active && active.closest ? active.closest("tr.row") : null;
    return row ? row.getAttribute("data-action-id") : null;
  }

  function move(step) {
    var all = links();
    if (!all.length) { return; }
    var id = current(), index = -1;
    all.forEach(function (link, i) { if (link.closest("tr.row").getAttribute("data-action-id") === id) { index = i; } });
    var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    all[next].focus();
    all[next].closest("tr.row").scrollIntoView({ block: "nearest" });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) { return; }
    if (event.key === "j") { event.preventDefault(); move(1); }
    else if (event.key === "k") { event.preventDefault(); move(-1); }
    else if (event.key === "a" || event.key === "d") {
      var active = document.activeElement;
      if (active && active.classList && active.classList.contains("request-link")) {
        event.preventDefault();
        window.location.href = active.getAttribute("href") + (event.key === "a" ? "#approve" : "#deny");
      }
    }
  });

  if (filters) {
    filters.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () { filters.submit(); });
    });
  }

  // --- live updates ----------------------------------------------------------------
  if (!("WebSocket" in window) || !status) { return; }
  var pending = null;

  function refresh() {
    var query = new URLSearchParams(window.location.search);
    query.set("fragment", "1");
    fetch(window.location.pathname + "?" + query.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var focused = current();
        rows.innerHTML = html;
        if (window.airlockTick) { window.airlockTick(); }
        if (focused) {
          var again = rows.querySelector('tr.row[data-action-id="' + focused + '"] a.request-link');
          if (again) { again.focus(); }
        }
      });
  }

  function connect(delay) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/queue");
    socket.onopen = function () { status.textContent = "Live: new requests appear here."; delay = 1000; refresh(); };
    socket.onmessage = function () {
      window.clearTimeout(pending);
      pending = window.setTimeout(refresh, 50);
    };
    socket.onclose = function () {
      status.textContent = "Not live: reload to refresh.";
      window.setTimeout(function () { connect(Math.min(delay * 2, 30000)); }, delay);
    };
  }
  connect(1000);
})();
