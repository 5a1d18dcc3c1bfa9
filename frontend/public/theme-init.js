// Applies the saved light/dark choice before the app loads. Only the theme name is stored.
(function () {
  try {
    var t = localStorage.getItem("octo.theme");
    if (t === "light" || t === "dark") document.documentElement.dataset.theme = t;
  } catch (e) {}
})();
