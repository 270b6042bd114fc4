// Behaviour the server's HTML cannot express on its own. Kept small on purpose.
htmx.onLoad(function (root) {
  // Drag-and-drop lists: SortableJS reorders, the form's "end" trigger tells the server the new order.
  root.querySelectorAll(".sortable").forEach(function (el) {
    var list = el.querySelector("ul") || el;
    if (list.sortable) return;
    list.sortable = new Sortable(list, {
      animation: 150,
      handle: ".handle",
      onEnd: function () { htmx.trigger(el, "end"); },
    });
  });
});
