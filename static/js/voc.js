/* VoC's page behaviour, kept out of the templates (no inline scripts or hx-on attributes, so a
   strict Content-Security-Policy can forbid them). Everything here is an enhancement: without
   it the menu stays open and the pages still work. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  function closeMenus(except) {
    document.querySelectorAll("details.usermenu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }

  function setNavOpen(toggle, open) {
    var topbar = toggle.closest(".topbar");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (topbar) topbar.classList.toggle("nav-open", open);
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".menu-toggle");
    if (toggle) {
      setNavOpen(toggle, toggle.getAttribute("aria-expanded") !== "true");
      return;
    }
    // A click outside the user menu closes it, as menus do.
    closeMenus(event.target.closest("details.usermenu"));

    // "Use it" next to a road suggestion: put the suggested road into the form's road field.
    var use = event.target.closest("[data-use-road]");
    if (use) {
      var field = document.getElementById(use.getAttribute("data-road-field") || "id_road");
      if (field) {
        field.value = use.getAttribute("data-use-road");
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    closeMenus(null);
    document.querySelectorAll(".menu-toggle[aria-expanded='true']").forEach(function (toggle) {
      setNavOpen(toggle, false);
      toggle.focus();
    });
  });
})();

// Kept apart from the menu code above: htmx's hooks, which the CSP keeps out of hx-on.
(function () {
  "use strict";

  // data-swap-422: a 422 answer (a form with its errors) replaces the element like a 200.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.xhr.status === 422 && event.target.closest("[data-swap-422]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // data-enter-submits-not: Enter in this field does not submit its form.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.closest("[data-enter-submits-not]")) {
      event.preventDefault();
    }
  });
})();

// data-confirm: a button that asks before it submits (deleting a contact, say).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });
})();
