// Keeps the status page current without reloading it: every second it
// fetches /ui/state.json and updates hook, state, ringer, caller ID and the
// earpiece level meters. The page works without it; this only refreshes.
"use strict";
(function () {
  function setBars() {
    document.querySelectorAll(".meter .bar").forEach(function (b) {
      b.style.width = (b.dataset.level || 0) + "%";
    });
  }
  function update(s) {
    (s.lines || []).forEach(function (l) {
      var row = document.querySelector('tr[data-port="' + l.port + '"]');
      if (!row) return;
      row.querySelector(".hook").textContent = l.hook;
      row.querySelector(".state").textContent = l.state;
    });
    (s.phones || []).forEach(function (p) {
      var card = document.querySelector('section.phone[data-port="' + p.port + '"]');
      if (!card) return;
      var ringer = card.querySelector(".ringer");
      ringer.textContent = p.ringing ? "Ringing" : "Quiet";
      ringer.classList.toggle("ringing", p.ringing);
      card.querySelector(".cid").textContent = p.callerId ? (p.callerId.name + " " + p.callerId.number) : "\u00a0";
      var pct = Math.max(0, Math.min(100, (p.levelDBm0 + 60) / 60 * 100));
      card.querySelector(".meter .bar").dataset.level = Math.round(pct);
      card.querySelector(".level").textContent = p.levelDBm0 <= -99 ? "silence" : Math.round(p.levelDBm0) + " dBm0";
    });
    setBars();
  }
  function poll() {
    fetch("/ui/state.json", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) { if (s) update(s); })
      .catch(function () {});
  }
  setBars();
  setInterval(poll, 1000);
})();
