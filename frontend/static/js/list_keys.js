// Keyboard shortcuts on the list page. None fires while typing in a field, with a
// modifier key held, or while a dialog is open.
//   n / q  quick add        /  search         j / k  next / previous todo
//   x      done / not done  e  edit the title  #  delete           ?  this help
const TYPING = "input, textarea, select, [contenteditable='true']";

function items(region) {
  return [...region.querySelectorAll("#todo-list > .todo")];
}

function focusItem(item) {
  if (item) {
    item.setAttribute("tabindex", "-1");
    item.focus();
  }
}

/**
 * @param {{region: HTMLElement, help: HTMLDialogElement, edit: (item: HTMLElement) => void}} options
 */
export function startShortcuts({ region, help, edit }) {
  function current() {
    const active = document.activeElement;
    return active && region.contains(active) ? active.closest(".todo") : null;
  }

  function step(by) {
    const all = items(region);
    if (all.length === 0) {
      return;
    }
    const here = all.indexOf(current());
    const next = here === -1 ? (by > 0 ? 0 : all.length - 1) : Math.min(Math.max(here + by, 0), all.length - 1);
    focusItem(all[next]);
  }

  function focusField(id) {
    const field = document.getElementById(id);
    if (field && !field.closest("[hidden]")) {
      field.focus();
      return true;
    }
    return false;
  }

  const actions = {
    n: () => focusField("quick-text"),
    q: () => focusField("quick-text"),
    "/": () => focusField("filter-q"),
    j: () => step(1) ?? true,
    k: () => step(-1) ?? true,
    x: () => {
      const item = current();
      const box = item && item.querySelector(".toggle-check");
      if (box) {
        box.click();
      }
      return Boolean(box);
    },
    e: () => {
      const item = current();
      if (item) {
        edit(item);
      }
      return Boolean(item);
    },
    "#": () => {
      const link = current() && current().querySelector("a[data-delete]");
      if (link) {
        link.click();
      }
      return Boolean(link);
    },
    "?": () => {
      if (help && typeof help.showModal === "function") {
        help.showModal();
        return true;
      }
      return false;
    },
  };

  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) {
      return;
    }
    if (event.target.closest && event.target.closest(TYPING)) {
      return;
    }
    if (document.querySelector("dialog[open]")) {
      return;
    }
    if (event.key === "Enter" && event.target.matches && event.target.matches(".todo")) {
      event.preventDefault();
      edit(event.target);
      return;
    }
    const action = actions[event.key];
    if (action && action() !== false) {
      event.preventDefault();
    }
  });
}
