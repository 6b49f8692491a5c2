// Enhancements for the booking journey's pages: where, when and choose a time.

// Tells the server this browser runs JavaScript, so the results page can show each practice's
// answer as it arrives (htmx) instead of waiting for every practice before it replies.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[name='js']").forEach(function (input) {
    input.value = "1";
  });
});

// The NHS.UK radios script marks a radio that reveals a further question with aria-expanded,
// set when it starts and again on every change. ARIA 1.2 does not allow aria-expanded on a radio
// (axe reports it as a critical aria-allowed-attr failure; see w3c/aria#1404), so it is taken
// off as soon as it appears. aria-controls stays, and the revealed question follows its radio.
(function () {
  function isRadio(element) {
    return element instanceof HTMLInputElement && element.type === "radio";
  }

  function dropExpanded(radio) {
    if (radio.hasAttribute("aria-expanded")) {
      radio.removeAttribute("aria-expanded");
    }
  }

  new MutationObserver(function (records) {
    records.forEach(function (record) {
      if (isRadio(record.target)) {
        dropExpanded(record.target);
      }
    });
  }).observe(document.documentElement, {
    attributes: true,
    attributeFilter: ["aria-expanded"],
    subtree: true,
  });

  document.querySelectorAll("input[type='radio'][aria-expanded]").forEach(dropExpanded);
})();

// When htmx replaces the part of the results page that has focus (a practice's line after
// "try again", or the list of times), focus would fall back to the page itself. htmx keeps focus
// on an element that comes back with the same id (each "Choose" link has one); otherwise focus
// goes to the replaced region, so the patient stays where they were and hears what changed.
(function () {
  var focusHome = null;

  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    if (target && target.id && target.contains(document.activeElement)) {
      focusHome = target.id;
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    if (focusHome === null) {
      return;
    }
    var home = document.getElementById(focusHome);
    focusHome = null;
    var lost = !document.activeElement || document.activeElement === document.body;
    if (home && lost) {
      if (!home.hasAttribute("tabindex")) {
        home.setAttribute("tabindex", "-1");
      }
      home.focus({ preventScroll: true });
    }
  });
})();

// The staff preview: as each practice's section arrives, its one-line outcome comes into a
// hidden element, and the live region says how far the check has got with it: "2 of 3
// practices checked. Hill Surgery: 12 free slots." One change per practice, so nothing is
// announced twice.
document.addEventListener("htmx:afterSettle", function () {
  var latest = document.getElementById("preview-latest");
  var announcer = document.getElementById("preview-announcer");
  if (!latest || !announcer || !latest.textContent.trim()) {
    return;
  }
  var total = document.querySelectorAll(".app-preview-practice").length;
  var waiting = document.querySelectorAll(".app-preview-practice[hx-get]").length;
  var text = total - waiting + " of " + total + " practices checked. " + latest.textContent.trim();
  latest.textContent = "";
  if (announcer.textContent !== text) {
    announcer.textContent = text;
  }
});
