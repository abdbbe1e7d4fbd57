// Images in the timeline: a click (or Enter) on a preview opens it large in a <dialog>,
// with a download link; Escape or "Close" closes it.

export function setUpMedia() {
  document.addEventListener("click", (event) => {
    const thumb = event.target.closest("[data-preview]");
    if (!thumb) return;
    const dialog = document.getElementById("image-dialog");
    if (!dialog) return;
    const image = dialog.querySelector("[data-image-full]");
    image.src = thumb.dataset.preview;
    image.alt = thumb.dataset.filename;
    dialog.querySelector("[data-image-name]").textContent = thumb.dataset.filename;
    dialog.querySelector("[data-image-download]").href = thumb.dataset.download;
    dialog.setAttribute("aria-label", thumb.dataset.filename);
    dialog.showModal();
  });
}
