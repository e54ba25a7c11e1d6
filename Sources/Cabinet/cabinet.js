/* The cabinet's widget preview: the widget itself (loaded with data-preview) follows the
 * widget form as the owner types, before anything is saved. */
(function () {
  "use strict";
  var form = document.querySelector("form.widget");
  if (!form) return;
  function update() {
    if (!window.RedialWidget || !window.RedialWidget.preview) return;
    var f = form.elements;
    window.RedialWidget.preview({ color: f.color.value, position: f.position.value, button_text: f.button_text.value.trim() || null });
  }
  form.addEventListener("input", update);
  form.addEventListener("change", update);
})();
