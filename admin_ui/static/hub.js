// Small enhancements; every page works without them.
"use strict";

document.addEventListener("click", async (event) => {
  // A "Copy" button copies the value of the input it names.
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  if (!input) return;
  input.select();
  try {
    await navigator.clipboard.writeText(input.value);
  } catch {
    document.execCommand("copy"); // older browsers, or a page not served over https
  }
  const label = button.textContent;
  // The page's language: the button carries the word (data-copied), English otherwise.
  button.textContent = button.dataset.copied || "Copied";
  setTimeout(() => { button.textContent = label; }, 2000);
});

document.addEventListener("change", (event) => {
  // A "select all" checkbox ticks every checkbox of the name it gives.
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  for (const box of document.querySelectorAll(`input[type=checkbox][name="${all.dataset.selectAll}"]`)) {
    box.checked = all.checked;
  }
});

document.addEventListener("DOMContentLoaded", () => {
  // After a failed submit, move focus to the error summary so screen readers announce it.
  const summary = document.querySelector("[data-autofocus]");
  if (summary) summary.focus();
});
