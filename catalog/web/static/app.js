// synthcat serve: the only script. Remembers the write token for this browser tab (sessionStorage,
// never sent anywhere but in the undo form the user submits) so it is typed once per session.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("input[data-remember]")) {
    const key = input.dataset.remember;
    const saved = window.sessionStorage.getItem(key);
    if (saved && !input.value) input.value = saved;
    input.form.addEventListener("submit", () => window.sessionStorage.setItem(key, input.value));
  }
});
