// The NHS timeout warning: two minutes before a signed-in session ends for lack of activity, a
// modal dialog says so, with "Stay signed in" (which keeps the session going without leaving
// the page) and "Sign out". If nothing is done, the page goes to "You have been signed out",
// and signing in again returns to it with the answers kept. Escape means "stay signed in".

const dialog = document.getElementById("timeout-warning");

function words(seconds) {
  if (seconds >= 60) {
    const minutes = Math.ceil(seconds / 60);
    return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  }
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}

if (dialog && typeof dialog.showModal === "function") {
  const warnBefore = Number(dialog.dataset.warnSeconds);
  const idle = Number(dialog.dataset.idleSeconds);
  const form = dialog.querySelector("form");
  const time = dialog.querySelector(".app-timeout-dialog__time");
  const announcement = dialog.querySelector("[data-timeout-announcement]");
  let endsAt = 0;
  let ticking = 0;
  let lastAnnounced = "";
  const here = window.location.pathname + window.location.search;
  form.elements.next.value = here;

  function signedOutUrl() {
    return `${dialog.dataset.signedOutUrl}?${new URLSearchParams({ next: here })}`;
  }

  function start(secondsLeft) {
    endsAt = Date.now() + secondsLeft * 1000;
    window.clearInterval(ticking);
    ticking = window.setInterval(tick, 1000);
  }

  function tick() {
    const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    if (left === 0) {
      window.clearInterval(ticking);
      // A moment after the server's own deadline, so that it has ended the session too.
      window.setTimeout(() => window.location.assign(signedOutUrl()), 2000);
      return;
    }
    if (left <= warnBefore) {
      time.textContent = words(left);
      if (!dialog.open) {
        dialog.showModal();
      }
      // Said to screen readers when the words change by the minute, then every 15 seconds.
      const said = left > 60 ? words(left) : words(Math.ceil(left / 15) * 15);
      if (said !== lastAnnounced) {
        lastAnnounced = said;
        announcement.textContent = `We will sign you out in ${said}.`;
      }
    }
  }

  async function staySignedIn() {
    const response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.status === 401) {
      // The session had already ended (another tab, or the server's clock): say so.
      window.location.assign(signedOutUrl());
      return;
    }
    if (!response.ok) {
      form.submit();
      return;
    }
    lastAnnounced = "";
    announcement.textContent = "";
    dialog.close();
    start(idle);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    staySignedIn().catch(() => form.submit());
  });
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    staySignedIn().catch(() => form.submit());
  });

  start(Number(dialog.dataset.secondsLeft));
  // Any htmx request is activity too: the server has moved its deadline on (it writes it at
  // most once a minute, so it may be up to a minute short of the full time).
  document.body.addEventListener("htmx:afterRequest", () => {
    if (!dialog.open) {
      start(Math.max(Math.round((endsAt - Date.now()) / 1000), idle - 60));
    }
  });
}
