// VoC's page behaviour, kept out of the templates: the Content-Security-Policy allows no
// inline script and no hx-on handlers. Listeners are delegated from the document, so they
// also work for fragments htmx swaps in later. Elements opt in with data- attributes.
"use strict";

// data-swap-422: a 422 answer (a form with its errors) replaces the element like a 200.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 422 && event.target.closest("[data-swap-422]")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

// data-enter-submits-not: Enter in this field does not submit its form.
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.closest("[data-enter-submits-not]")) {
    event.preventDefault();
  }
});

// data-fill="<id>" data-fill-value="<value>": a click puts the value into that field.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-fill]");
  if (!button) {
    return;
  }
  const field = document.getElementById(button.dataset.fill);
  if (field) {
    field.value = button.dataset.fillValue;
  }
});
