// The CRM connection page: while a bulk link runs, its progress updates itself (the page
// works without this; reloading shows the same figures).
const box = document.querySelector(".crm-bulk[data-bulk-url]");

function show(job) {
  const counts = box.querySelector(".crm-bulk-counts");
  const bar = box.querySelector("progress");
  if (counts) {
    // The words come from the page (data-counts-text, in its language) with {name} holes.
    const template = box.dataset.countsText || "{processed} / {total}";
    counts.textContent = template.replace(/\{(\w+)\}/g, (hole, name) => String(job[name] ?? hole));
  }
  if (bar) {
    bar.max = job.total || 1;
    bar.value = job.total ? job.processed : 1;
  }
}

async function poll() {
  try {
    const response = await fetch(box.dataset.bulkUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const job = await response.json();
    show(job);
    if (job.status !== "running") {
      window.location.reload(); // the finished job's summary and the button come back
      return;
    }
  } catch {
    // A network hiccup: try again on the next tick.
  }
  setTimeout(poll, 1500);
}

if (box && box.dataset.bulkStatus === "running") setTimeout(poll, 1500);
