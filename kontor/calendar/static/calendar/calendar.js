// The calendar: drag a meeting or a dated task to another day or hour (or focus it and
// press Alt with an arrow key); the move is posted with the version the page showed. A
// refused move (someone changed it meanwhile) puts the item back and says why. Letter
// keys open the previous or next period, today, and the day, week and month views.
(function () {
  "use strict";
  const status = document.getElementById("cal-status");
  if (!status) return;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  let dragged = null;

  // A working day first: the time grid opens scrolled to 07:00.
  const grid = document.querySelector(".cal-grid");
  const morning = grid && grid.querySelector('[data-hour="7"]');
  if (morning) grid.scrollTop = morning.offsetTop - grid.querySelector(".cal-head").offsetHeight;

  function say(text) { status.textContent = text; }

  function move(item, date, time, back) {
    const body = new URLSearchParams({ version: item.dataset.version, date: date });
    if (time) body.set("time", time);
    say(status.dataset.moving);
    return fetch(item.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf, "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
      credentials: "same-origin",
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (answer) {
        if (response.ok) { window.location.reload(); return; }
        if (back) back();
        const errors = Object.values(answer.errors || {}).flat().join(" ");
        say(status.dataset.failed + " " + (answer.detail || "") + " " + errors);
        item.focus();
      });
    }, function () {
      if (back) back();
      say(status.dataset.failed);
    });
  }

  function timeOf(item) {
    const time = item.querySelector("time");
    return time ? time.getAttribute("datetime").slice(11, 16) : "";
  }

  function pad(n) { return String(n).padStart(2, "0"); }

  document.addEventListener("dragstart", function (event) {
    const item = event.target.closest && event.target.closest(".cal-item[draggable=true]");
    if (!item) return;
    dragged = item;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.moveUrl);
  });
  document.addEventListener("dragover", function (event) {
    const cell = dragged && event.target.closest && event.target.closest(".cal-drop");
    if (!cell) return;
    event.preventDefault();
    document.querySelectorAll(".cal-over").forEach(function (c) { c.classList.remove("cal-over"); });
    cell.classList.add("cal-over");
  });
  document.addEventListener("drop", function (event) {
    const cell = dragged && event.target.closest && event.target.closest(".cal-drop");
    if (!cell) return;
    event.preventDefault();
    cell.classList.remove("cal-over");
    const item = dragged;
    dragged = null;
    const home = item.parentNode, next = item.nextSibling;
    let time = "";
    if (cell.dataset.hour !== undefined) {
      // The hour of the slot, the minutes the item had.
      const minutes = timeOf(item).slice(3) || "00";
      time = pad(cell.dataset.hour) + ":" + minutes;
    }
    cell.appendChild(item);
    move(item, cell.dataset.date, time, function () { home.insertBefore(item, next); });
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".cal-over").forEach(function (c) { c.classList.remove("cal-over"); });
  });

  document.addEventListener("keydown", function (event) {
    const item = event.target.closest && event.target.closest(".cal-item[draggable=true]");
    if (item && event.altKey && event.key.startsWith("Arrow")) {
      event.preventDefault();
      const cell = item.closest(".cal-drop");
      const day = new Date(cell.dataset.date + "T12:00:00");
      let time = timeOf(item);
      if (event.key === "ArrowLeft") day.setDate(day.getDate() - 1);
      if (event.key === "ArrowRight") day.setDate(day.getDate() + 1);
      if ((event.key === "ArrowUp" || event.key === "ArrowDown") && time) {
        const hour = Number(time.slice(0, 2)) + (event.key === "ArrowUp" ? -1 : 1);
        if (hour < 0 || hour > 23) return;
        time = pad(hour) + time.slice(2);
      }
      const date = day.getFullYear() + "-" + pad(day.getMonth() + 1) + "-" + pad(day.getDate());
      move(item, date, time, null);
      return;
    }
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest("input, select, textarea, [contenteditable]")) return;
    const link = document.querySelector('[data-key="' + event.key + '"]');
    if (link) { event.preventDefault(); link.click(); }
  });
})();
