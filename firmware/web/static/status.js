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
      row.querySelector(".reg-state").textContent = l.registration || "\u2014";
      row.querySelector(".reg-error").textContent = l.registrationError || "";
      var call = row.querySelector(".call");
      if (!l.call) {
        call.textContent = "\u2014";
      } else {
        var c = l.call, who = c.name && c.number ? c.name + " \u00b7 " + c.number : (c.name || c.number || "anonymous");
        call.textContent = "";
        var b = document.createElement("b");
        b.textContent = who;
        call.appendChild(b);
        call.appendChild(document.createTextNode(" " + c.state + (c.codec ? " \u00b7 " + c.codec : "") +
          " \u00b7 jitter " + c.jitterMs.toFixed(1) + " ms \u00b7 lost " + c.lost));
      }
    });
    var up = document.querySelector(".uptime");
    if (up && typeof s.uptimeSeconds === "number") {
      var t = Math.round(s.uptimeSeconds), h = Math.floor(t / 3600), m = Math.floor(t % 3600 / 60);
      up.textContent = (h ? h + "h" : "") + (h || m ? m + "m" : "") + (t % 60) + "s";
    }
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
