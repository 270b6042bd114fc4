// --dev only: when the server restarts, the chat socket closes and htmx reconnects it; then load the page afresh,
// so the window shows what the new server code renders.
(function () {
  if (window.pipedeckDev) return;
  window.pipedeckDev = true;
  var lost = false;
  document.addEventListener("htmx:wsClose", function () { lost = true; });
  document.addEventListener("htmx:wsOpen", function () { if (lost) window.location.reload(); });
})();
