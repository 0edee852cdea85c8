// Kontor's own few behaviours; everything else is plain HTML forms and htmx attributes.
// Handlers are delegated from document so content swapped in by htmx works too.
(function () {
  "use strict";

  function closest(el, selector) {
    return el && el.closest ? el.closest(selector) : null;
  }

  // Mobile navigation toggle.
  document.addEventListener("click", function (event) {
    var toggle = closest(event.target, "[data-nav-toggle]");
    if (!toggle) return;
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.body.classList.toggle("nav-open", open);
  });

  // Disclosure buttons (the department tree's branches): the button's aria-expanded says,
  // and a click toggles, whether the element named by its aria-controls shows.
  document.addEventListener("click", function (event) {
    var toggle = closest(event.target, "[data-disclosure]");
    if (!toggle) return;
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    document.getElementById(toggle.getAttribute("aria-controls")).hidden = !open;
  });

  // Global search dropdown: Escape or a click elsewhere closes it; arrow down moves into it.
  function clearSearch() {
    var results = document.getElementById("search-results");
    if (results) results.innerHTML = "";
  }
  document.addEventListener("click", function (event) {
    if (!closest(event.target, "[data-search]")) clearSearch();
    if (!closest(event.target, "[data-autocomplete]")) {
      document.querySelectorAll(".ac-results").forEach(function (el) { el.innerHTML = ""; });
    }
    document.querySelectorAll("details.user-menu[open], details.dropdown[open]").forEach(function (d) {
      if (!d.contains(event.target)) d.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    var search = closest(event.target, "[data-search]");
    if (search && event.key === "Escape") {
      clearSearch();
      return;
    }
    if (search && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      var hits = Array.prototype.slice.call(search.querySelectorAll(".search-hit, .search-all"));
      if (!hits.length) return;
      event.preventDefault();
      var at = hits.indexOf(document.activeElement);
      var next = event.key === "ArrowDown" ? at + 1 : at - 1;
      if (next < 0) { search.querySelector("input").focus(); return; }
      hits[Math.min(next, hits.length - 1)].focus();
    }
  });

  // Record tabs loaded by htmx: the tab just loaded becomes the current one.
  // A swap without a request (a server-sent event) concerns no tab.
  document.addEventListener("htmx:afterSwap", function (event) {
    var request = event.detail.requestConfig;
    var loaded = request && closest(request.elt, ".tabs [role=tab]");
    if (!loaded) return;
    loaded.parentNode.querySelectorAll("[role=tab]").forEach(function (tab) {
      var current = tab === loaded;
      tab.classList.toggle("active", current);
      tab.setAttribute("aria-selected", String(current));
    });
  });

  // Bulk selection on lists.
  function updateBulk(form) {
    var boxes = form.querySelectorAll("input[name=ids]");
    var checked = form.querySelectorAll("input[name=ids]:checked").length;
    var bar = form.querySelector("[data-bulk-bar]");
    var all = form.querySelector("[data-check-all]");
    if (bar) {
      bar.hidden = checked === 0;
      bar.querySelector("[data-bulk-count]").textContent = checked;
    }
    if (all) {
      all.checked = checked > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
  }
  document.addEventListener("change", function (event) {
    var form = closest(event.target, "[data-bulk-form]");
    if (!form) return;
    if (event.target.matches("[data-check-all]")) {
      form.querySelectorAll("input[name=ids]").forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
    updateBulk(form);
  });

  // Confirmation for destructive buttons.
  document.addEventListener("click", function (event) {
    var button = closest(event.target, "[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // "Save view" saves the list as it is now: htmx changes the filters and sort in place
  // and pushes them to the address, so the page's own query string may be older.
  document.addEventListener("submit", function (event) {
    var query = event.target.querySelector && event.target.querySelector("input[data-view-query]");
    if (query) {
      query.value = window.location.search.replace(/^\?/, "");
    }
  });

  // Repeated form rows: "add another" copies the section's blank row with a fresh index.
  document.addEventListener("click", function (event) {
    var add = closest(event.target, "[data-add-row]");
    if (add) {
      var section = closest(add, "[data-rows]");
      var list = section.querySelector("[data-row-list]");
      var template = section.querySelector("template[data-row-template]");
      var next = Number(section.getAttribute("data-next") || list.children.length);
      section.setAttribute("data-next", String(next + 1));
      var html = template.innerHTML.replace(/__i__/g, String(next));
      list.insertAdjacentHTML("beforeend", html);
      var row = list.lastElementChild;
      var first = row.querySelector("input:not([type=hidden])");
      if (first) first.focus();
      return;
    }
    var remove = closest(event.target, "[data-remove-row]");
    if (remove) {
      var removed = closest(remove, "[data-row]");
      var addButton = closest(removed, "[data-rows]").querySelector("[data-add-row]");
      removed.remove();
      addButton.focus();
    }
  });

  // A custom field's settings form: the options of the chosen kind show, the others hide
  // (the server ignores them); a new field's API name follows its label until typed in.
  document.addEventListener("change", function (event) {
    if (!event.target.matches("[data-field-kind]")) return;
    var kind = event.target.value;
    closest(event.target, "form").querySelectorAll("[data-kinds]").forEach(function (el) {
      el.hidden = el.getAttribute("data-kinds").split(" ").indexOf(kind) < 0;
    });
  });
  document.addEventListener("input", function (event) {
    var form = closest(event.target, "[data-field-form]");
    if (!form) return;
    var name = form.querySelector("[data-name-from-label]");
    if (!name) return;
    if (event.target === name) {
      name.removeAttribute("data-name-from-label");
    } else if (event.target.matches("[data-label-source]")) {
      var latin = event.target.value.normalize("NFKD").replace(/[\u0300-\u036f]/g, "");
      // Other scripts (a Russian label) are left to the server, which transliterates.
      if (/[^\x00-\x7f]/.test(latin)) { name.value = ""; return; }
      var slug = latin.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 63);
      name.value = slug && /^[0-9]/.test(slug) ? "field_" + slug : slug;
    }
  });

  // Record autocompletes (a person's company, a relation field): picking an option fills
  // the hidden id; typing clears it.
  document.addEventListener("click", function (event) {
    var option = closest(event.target, "[data-ac-id]");
    if (!option) return;
    var box = closest(option, "[data-autocomplete]");
    box.querySelector("[data-ac-value]").value = option.getAttribute("data-ac-id");
    var input = box.querySelector("[data-ac-input]");
    input.value = option.getAttribute("data-ac-label");
    box.querySelector(".ac-results").innerHTML = "";
    input.setAttribute("aria-expanded", "false");
    input.focus();
  });
  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-ac-input]")) return;
    var box = closest(event.target, "[data-autocomplete]");
    box.querySelector("[data-ac-value]").value = "";
    event.target.setAttribute("aria-expanded", "true");
  });
  document.addEventListener("keydown", function (event) {
    var box = closest(event.target, "[data-autocomplete]");
    if (!box) return;
    var options = Array.prototype.slice.call(box.querySelectorAll("[data-ac-id]"));
    if (event.key === "Escape") {
      box.querySelector(".ac-results").innerHTML = "";
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && options.length) {
      event.preventDefault();
      var at = options.indexOf(document.activeElement);
      var next = event.key === "ArrowDown" ? at + 1 : at - 1;
      if (next < 0) { box.querySelector("[data-ac-input]").focus(); return; }
      options[Math.min(next, options.length - 1)].focus();
    } else if (event.key === "Enter" && event.target.matches("[data-ac-input]") && options.length === 1) {
      // One match and Enter: take it rather than submitting a form with no company set.
      event.preventDefault();
      options[0].click();
    }
  });
})();

// A text area marked data-submit-on-ctrl-enter (a quick note) sends its form on Ctrl+Enter
// (Cmd+Enter on a Mac), so that a note is added without reaching for the mouse.
(function () {
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!event.target.matches("[data-submit-on-ctrl-enter]")) return;
    event.preventDefault();
    var form = event.target.form;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });
})();
