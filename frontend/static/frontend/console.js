// On every console page: times read in the reader's own zone on hover, relative
// times kept fresh, and deadlines counted down each second. The server already wrote
// every one of them in words (and in UTC on hover), so without script nothing is lost.
(function () {
  "use strict";

  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (error) { zone = ""; }

  function localTitle(element) {
    var moment = new Date(element.getAttribute("datetime"));
    if (isNaN(moment.getTime())) { return; }
    element.title = moment.toLocaleString(undefined, {
      year: "numeric", month: "short", day: "numeric",
      hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short"
    }) + (zone ? " (" + zone + ")" : "");
  }

  function relative(seconds) {
    var future = seconds > 0, text;
    seconds = Math.abs(seconds);
    if (seconds < 45) { return future ? "in under a minute" : "just now"; }
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) { text = minutes + " min"; }
    else if (minutes < 1440) {
      var hours = Math.floor(minutes / 60), rest = minutes % 60;
      text = rest && hours < 6 ? hours + " h " + rest + " min" : Math.round(minutes / 60) + " h";
    } else {
      var days = Math.round(minutes / 1440);
      text = days + (days === 1 ? " day" : " days");
    }
    return future ? "in " + text : text + " ago";
  }

  function countdown(left) {
    if (left <= 0) { return "expired"; }
    var hours = Math.floor(left / 3600), minutes = Math.floor((left % 3600) / 60), seconds = left % 60;
    return (hours ? hours + "h " : "") + minutes + "m " + (seconds < 10 ? "0" : "") + seconds + "s";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-local]").forEach(function (element) {
      var at = Date.parse(element.getAttribute("datetime"));
      if (isNaN(at)) { return; }
      if (!element.title || element.getAttribute("data-zoned") !== "1") {
        localTitle(element);
        element.setAttribute("data-zoned", "1");
      }
      if (element.hasAttribute("data-expires")) {
        var left = Math.round((at - now) / 1000);
        element.textContent = countdown(left) + (left > 0 ? element.getAttribute("data-suffix") || "" : "");
        element.classList.toggle("soon", left > 0 && left < 600);
      } else {
        element.textContent = relative(Math.round((at - now) / 1000));
      }
    });
  }

  window.airlockTick = tick;
  tick();
  window.setInterval(tick, 1000);
})();
