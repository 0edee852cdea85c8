// The deals board: drag a card to another column (or to won / lost), or pick a stage in
// its "Move" box. The move is posted with the version the board showed; a refused move
// (someone moved the deal meanwhile, or the stage needs a field filled in) puts the card
// back and says why. The columns' counts and sums come back with every move.
(function () {
  "use strict";
  const status = document.getElementById("board-status");
  const boardEl = document.querySelector(".board");
  if (!status || !boardEl) return;
  const csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  const dialog = document.getElementById("lost-reason");
  let dragged = null;

  function say(text, failed) {
    status.textContent = text;
    status.classList.toggle("board-error", !!failed);
  }

  function askLostReason() {
    // The reason a lost deal needs: chosen in the dialog (none kept: none asked).
    if (!dialog) return Promise.resolve("");
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function onClose() {
        dialog.removeEventListener("close", onClose);
        resolve(dialog.returnValue === "ok" ? dialog.querySelector("select").value : null);
      });
      dialog.showModal();
    });
  }

  function columnOf(stage) {
    return boardEl.querySelector('.board-col[data-stage="' + stage + '"] .board-cards');
  }

  function move(card, stage, kind, back) {
    const reason = kind === "lost" ? askLostReason() : Promise.resolve("");
    return reason.then(function (lostReason) {
      if (lostReason === null) { back(); return; }
      const body = new URLSearchParams(boardEl.dataset.query.replace(/&amp;/g, "&"));
      body.set("version", card.dataset.version);
      body.set("stage_id", stage);
      if (lostReason) body.set("lost_reason_id", lostReason);
      say(status.dataset.moving);
      return fetch(card.dataset.moveUrl, {
        method: "POST",
        headers: { "X-CSRFToken": csrf, "Accept": "application/json" },
        body: body,
        credentials: "same-origin",
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (!response.ok) {
            back();
            const errors = Object.values(answer.errors || {}).flat().join(" ");
            say(status.dataset.failed + " " + (answer.detail || "") + " " + errors, true);
            card.focus();
            return;
          }
          card.dataset.version = answer.version;
          card.dataset.stage = answer.stage;
          card.querySelectorAll("input[name=version]").forEach(function (input) { input.value = answer.version; });
          const select = card.querySelector("select[name=stage_id]");
          if (select) select.value = String(answer.stage);
          if (answer.closed) card.remove();
          Object.keys(answer.heads || {}).forEach(function (id) {
            const head = boardEl.querySelector('[data-head="' + id + '"]');
            if (head) head.innerHTML = answer.heads[id];
          });
          say(status.dataset.moved);
        });
      }, function () {
        back();
        say(status.dataset.failed, true);
      });
    });
  }

  function placeBack(card) {
    const home = card.parentNode, next = card.nextSibling;
    return function () { home.insertBefore(card, next); };
  }

  document.addEventListener("dragstart", function (event) {
    const card = event.target.closest && event.target.closest(".deal-card");
    if (!card) return;
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.moveUrl);
  });
  document.addEventListener("dragover", function (event) {
    const zone = dragged && event.target.closest && event.target.closest("[data-drop]");
    if (!zone) return;
    event.preventDefault();
    document.querySelectorAll(".board-over").forEach(function (z) { z.classList.remove("board-over"); });
    zone.classList.add("board-over");
  });
  document.addEventListener("drop", function (event) {
    const zone = dragged && event.target.closest && event.target.closest("[data-drop]");
    if (!zone) return;
    event.preventDefault();
    zone.classList.remove("board-over");
    const card = dragged;
    dragged = null;
    if (zone.dataset.stage === card.dataset.stage) return;
    const back = placeBack(card);
    const cards = columnOf(zone.dataset.stage);
    if (cards) cards.insertBefore(card, cards.firstChild);
    move(card, zone.dataset.stage, zone.dataset.kind || "open", back);
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".board-over").forEach(function (z) { z.classList.remove("board-over"); });
  });

  // The keyboard's and the phone's way: the card's own "Move" box, without a reload.
  document.addEventListener("submit", function (event) {
    const form = event.target.closest && event.target.closest(".card-move");
    if (!form) return;
    event.preventDefault();
    const card = form.closest(".deal-card");
    const select = form.querySelector("select[name=stage_id]");
    if (select.value === card.dataset.stage) return;
    const option = select.options[select.selectedIndex];
    const back = placeBack(card);
    const cards = columnOf(select.value);
    if (cards) cards.insertBefore(card, cards.firstChild);
    move(card, select.value, option.dataset.kind || "open", function () {
      back();
      select.value = card.dataset.stage;
    });
  });
})();
