// The reports page's charts: each <figure data-chart> holds its data as JSON (the page
// has no inline script, CSP 'self'); uPlot (vendored, a classic deferred script that
// runs before this module) draws it, and redraws at the new width when the page resizes.
// The table under each chart holds the same figures, for reading and for screen readers.

const COLOURS = ["#2f5bd3", "#1f9d6b", "#d9822b", "#8a4fd1"];
const HEIGHT = 260;
// Dates in the page's language (<html lang>), not uPlot's English month names.
const LANG = document.documentElement.lang || undefined;
const TICK = new Intl.DateTimeFormat(LANG, { day: "numeric", month: "short" });
const DAY = new Intl.DateTimeFormat(LANG, { weekday: "short", day: "numeric", month: "short", year: "numeric" });

/** The chart's width: its box's, at least 280 px (a phone's screen). */
function widthOf(box) {
  return Math.max(Math.floor(box.getBoundingClientRect().width), 280);
}

/** A line per series over days (x: Unix seconds of each local midnight). */
function lineOptions(chart, width) {
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: true } },
    series: [
      { label: chart.x_label, value: (u, ts) => (ts == null ? "" : DAY.format(new Date(ts * 1000))) },
      ...chart.series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2 })),
    ],
    axes: [{ values: (u, splits) => splits.map((ts) => TICK.format(new Date(ts * 1000))) }, { size: 48 }],
  };
}

/** Bars per group (x: the group's index, labelled with its name): two series side by
 * side, the first left of the group's tick, the second right of it. */
function barOptions(chart, width) {
  const bars = window.uPlot.paths.bars;
  const n = chart.labels.length;
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: false, range: [-0.5, n - 0.5] } },
    series: [
      { label: chart.x_label, value: (u, i) => (i == null ? "" : chart.labels[i] ?? "") },
      ...chart.series.map((s, i) => ({
        label: s.label,
        fill: COLOURS[i % COLOURS.length],
        stroke: COLOURS[i % COLOURS.length],
        paths: bars({ size: [0.35, 48], align: i === 0 ? -1 : 1 }),
        points: { show: false },
      })),
    ],
    axes: [
      {
        incrs: [1],
        values: (u, splits) => splits.map((i) => (Number.isInteger(i) ? shorten(chart.labels[i] ?? "") : "")),
      },
      { size: 48 },
    ],
  };
}

function shorten(text) {
  return text.length > 12 ? `${text.slice(0, 11)}…` : text;
}

function draw(figure) {
  const chart = JSON.parse(figure.dataset.chart);
  const box = figure.querySelector(".report-chart-canvas");
  const width = widthOf(box);
  let options;
  let data;
  if (chart.type === "line") {
    options = lineOptions(chart, width);
    data = [chart.x, ...chart.series.map((s) => s.values)];
  } else {
    options = barOptions(chart, width);
    data = [chart.labels.map((_, i) => i), ...chart.series.map((s) => s.values)];
  }
  const plot = new window.uPlot(options, data, box);
  figure.dataset.drawn = "true";
  new ResizeObserver(() => {
    const next = widthOf(box);
    if (next !== plot.width) plot.setSize({ width: next, height: HEIGHT });
  }).observe(box);
}

for (const figure of document.querySelectorAll("figure[data-chart]")) {
  draw(figure);
}
