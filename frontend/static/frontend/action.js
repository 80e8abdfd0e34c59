// Keyboard: "a" puts the focus on Approve (Enter then approves), "d" on the reason
// for denying. Keys typed into a field are left alone. Arriving from the queue with
// #approve or #deny does the same.
(function () {
  "use strict";
  function focus(key) {
    var element = null;
    if (key === "a") { element = document.getElementById("approve-button"); }
    if (key === "d") { element = document.getElementById("reason"); }
    if (element) { element.focus(); element.scrollIntoView({ block: "center" }); }
    return element;
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) { return; }
    if ((event.key === "a" || event.key === "d") && focus(event.key)) { event.preventDefault(); }
  });
  function fromQueue() {
    if (window.location.hash === "#approve") { focus("a"); }
    if (window.location.hash === "#deny") { focus("d"); }
  }
  fromQueue();
  window.addEventListener("load", fromQueue);
})();
