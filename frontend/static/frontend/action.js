// Keyboard: "a" puts the focus on Approve (Enter then approves), "d" on the reason
// for denying. Keys typed into a field are left alone.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) { return; }
    var element = null;
    if (event.key === "a") { element = document.getElementById("approve-button"); }
    if (event.key === "d") { element = document.getElementById("reason"); }
    if (element) { event.preventDefault(); element.focus(); }
  });
})();
