// The first thing in <body>, as in the NHS.UK page template: marks the page as scripted before it
// paints, and marks <body> as supported before site.mjs starts the NHS.UK frontend, which skips
// every component on a <body> without that class. A file, not an inline script: the Content
// Security Policy allows scripts from this site only.
document.documentElement.classList.add("js-enabled");
document.body.classList.add("js-enabled");
if ("noModule" in HTMLScriptElement.prototype) {
  document.body.classList.add("nhsuk-frontend-supported");
}
