// The live queue: on any event from /ws/queue, re-fetch the rows of this page (the
// server decides what this person may see). Without websockets the page still works
// with a reload.
(function () {
  "use strict";
  var rows = document.getElementById("queue-rows");
  var status = document.getElementById("live-status");
  if (!rows || !("WebSocket" in window)) { return; }
  var pending = null;

  function refresh() {
    var query = new URLSearchParams(window.location.search);
    query.set("fragment", "1");
    fetch(window.location.pathname + "?" + query.toString(), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { rows.innerHTML = html; } });
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

  // The time left on each request, counting down each second.
  function tick() {
    var now = Date.now();
    rows.querySelectorAll("time[data-expires]").forEach(function (element) {
      var left = Math.round((Date.parse(element.getAttribute("data-expires")) - now) / 1000);
      if (left <= 0) { element.textContent = "expired"; return; }
      var hours = Math.floor(left / 3600), minutes = Math.floor((left % 3600) / 60), seconds = left % 60;
      element.textContent = (hours ? hours + "h " : "") + minutes + "m " + (seconds < 10 ? "0" : "") + seconds + "s";
    });
  }
  tick();
  window.setInterval(tick, 1000);
})();
