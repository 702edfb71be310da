// Tollgate's embeddable widgets: put
//   <script src="https://<tollgate>/embed.js" data-widget="usage" data-token="<token>" async></script>
// where the widget goes. The token comes from POST /api/v1/embed_tokens, asked by
// the product's backend with its platform key. The script frames the widget
// right after itself and keeps the frame as tall as its content.
(function () {
  var s = document.currentScript;
  if (!s) return;
  var base = new URL(s.src).origin;
  var widget = s.getAttribute("data-widget") === "pricing" ? "pricing" : "usage";
  var token = s.getAttribute("data-token") || "";
  var f = document.createElement("iframe");
  f.src = base + "/embed/" + widget + "?token=" + encodeURIComponent(token);
  f.title = s.getAttribute("data-title") || (widget === "usage" ? "Usage" : "Plans");
  f.style.border = "0";
  f.style.width = "100%";
  f.style.height = "160px";
  f.setAttribute("data-tollgate-widget", widget);
  s.parentNode.insertBefore(f, s.nextSibling);
  window.addEventListener("message", function (e) {
    if (e.origin !== base || e.source !== f.contentWindow) return;
    var d = e.data;
    if (d && d.tollgate === "resize" && typeof d.height === "number" && d.height > 0 && d.height < 10000) {
      f.style.height = Math.ceil(d.height) + "px";
    }
  });
})();
