// Inside a Tollgate widget frame: tells the framing page the content's height,
// and keeps the usage meters current from the server's stream.
(function () {
  var main = document.querySelector("main[data-widget]");
  if (!main) return;
  var parentOrigin = main.getAttribute("data-parent");
  function resize() {
    if (window.parent !== window && parentOrigin) {
      window.parent.postMessage({ tollgate: "resize", height: document.documentElement.scrollHeight }, parentOrigin);
    }
  }
  window.addEventListener("load", resize);
  if (window.ResizeObserver) new ResizeObserver(resize).observe(document.body);
  resize();

  var live = main.getAttribute("data-live");
  if (!live || !window.EventSource) return;
  var status = main.querySelector('[data-part="status"]');
  var es = new EventSource(live);
  function set(el, text) { if (el && el.textContent !== text) el.textContent = text; }
  es.onmessage = function (e) {
    var data;
    try { data = JSON.parse(e.data); } catch (_) { return; }
    (data.meters || []).forEach(function (m) {
      var sec = main.querySelector('section[data-meter="' + CSS.escape(m.meter) + '"]');
      if (!sec) return;
      sec.setAttribute("data-state", m.state);
      set(sec.querySelector('[data-part="used"]'), m.used);
      set(sec.querySelector('[data-part="note"]'), m.note);
      var fill = sec.querySelector('[data-part="fill"]');
      if (fill) {
        fill.style.width = m.width + "%";
        fill.parentNode.setAttribute("aria-valuenow", m.width);
      }
    });
    set(main.querySelector('[data-part="period"]'), data.period);
    set(status, "");
    main.setAttribute("data-updated", String(Date.now()));
  };
  es.addEventListener("end", function (e) {
    es.close();
    set(status, e.data === "expired" ? "This view has expired: reload the page for current figures." : "Live updates stopped.");
  });
})();
