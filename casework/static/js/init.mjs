// Progressive enhancement only: every page works without this file.
import { initAll } from "/static/govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();

// A table's scroll region says "scroll sideways" only while its table is wider than the region.
const regions = document.querySelectorAll('[data-module="app-scroll-region"]');
if (regions.length && "ResizeObserver" in window) {
  const observer = new ResizeObserver((entries) => {
    for (const entry of entries) {
      const inner = entry.target;
      inner.parentElement.classList.toggle("app-scroll-region--overflows", inner.scrollWidth > inner.clientWidth + 1);
    }
  });
  for (const region of regions) {
    observer.observe(region.querySelector(".app-scroll-region__inner"));
  }
}
