// The todo list, enhanced: the checkbox toggles in place and "Delete" asks in a <dialog>
// and removes the row, both without reloading; changes made elsewhere (other tabs, other
// devices, scripts) arrive over the live socket. Without this script the same controls are
// a plain form post (toggle) and a link to a confirmation page (delete), and the page
// shows what it showed when it loaded.
import { api, ApiError, redirectToLogin } from "./api.js";
import { startInlineEdit } from "./inline_edit.js";
import { startShortcuts } from "./list_keys.js";
import { startListTools } from "./list_tools.js";
import { startLiveList } from "./live_list.js";
import { connectLive } from "./live_socket.js";
import { startQuickAdd } from "./quick_add.js";
import { enableDrag, startReorder } from "./reorder.js";
import { announce, confirmWith, supportsDialog } from "./ui.js";

// The region live updates replace; the list inside it (#todo-list) may be swapped.
const region = document.getElementById("list-region");
const dialog = document.getElementById("confirm-dialog");
const busy = new Set();
let live = null;
let inline = null;
let reorder = null;

/** "Overdue" is decided with the user's own date, which the server put on the list. */
function today() {
  const list = document.getElementById("todo-list");
  return (list && list.dataset.today) || new Date().toISOString().slice(0, 10);
}

/** Nothing is saving and no dialog is open: live updates may move the list. */
function isIdle() {
  const editing = (inline && inline.isEditing()) || (reorder && reorder.isMoving());
  return busy.size === 0 && !(dialog && dialog.open) && !editing;
}

function fail(error, what) {
  if (error instanceof ApiError && error.isUnauthenticated) {
    redirectToLogin();
    return;
  }
  const reason = error instanceof ApiError ? error.message : "Unexpected error.";
  announce(`${what} ${reason}`, { error: true });
}

function showComplete(item, complete) {
  const due = item.dataset.due || "";
  const overdue = !complete && due !== "" && due < today();
  item.classList.toggle("is-complete", complete);
  item.classList.toggle("is-overdue", overdue);
  const overdueBadge = item.querySelector(".badge-overdue");
  if (overdueBadge) {
    overdueBadge.hidden = !overdue;
  }
  item.querySelector(".badge-done").hidden = !complete;
  item.querySelector(".toggle-check").checked = complete;
  const label = item.querySelector(".toggle-button");
  label.firstChild.textContent = complete ? "Reopen" : "Mark done";
}

async function toggle(item, checkbox) {
  const id = item.dataset.todoId;
  const wanted = checkbox.checked;
  busy.add(id);
  item.setAttribute("aria-busy", "true");
  try {
    const { todo: saved, version } = await api.patchTodo(id, { complete: wanted });
    live.ownVersion(version);
    showComplete(item, saved.complete);
    announce(saved.complete ? `Marked “${saved.title}” as done.` : `Reopened “${saved.title}”.`);
  } catch (error) {
    checkbox.checked = !wanted;
    if (error instanceof ApiError && error.isNotFound) {
      removeItem(item);
      announce("That todo no longer exists.", { error: true });
    } else {
      fail(error, "Could not update the todo.");
    }
  } finally {
    busy.delete(id);
    item.removeAttribute("aria-busy");
    live.idle();
  }
}

function updateSummary() {
  const summary = document.getElementById("list-summary");
  const remaining = region.querySelectorAll(".todo").length;
  if (summary) {
    const first = Number(summary.dataset.first);
    const total = Math.max(Number(summary.dataset.total) - 1, 0);
    const last = first + remaining - 1;
    summary.dataset.total = String(total);
    summary.dataset.last = String(last);
    summary.querySelector(".summary-range").textContent = `${first}–${last}`;
    summary.querySelector(".summary-total").textContent = String(total);
    summary.querySelector(".summary-noun").textContent = total === 1 ? "todo" : "todos";
    if (remaining === 0) {
      summary.hidden = true;
      const nothingAtAll = total === 0 && summary.dataset.filtered !== "true";
      document.getElementById(nothingAtAll ? "empty-new" : "empty-filtered").hidden = false;
      if (nothingAtAll) {
        const filters = document.querySelector(".filters");
        if (filters) {
          filters.hidden = true;
        }
      }
    }
  }
}

function removeItem(item) {
  const next = item.nextElementSibling || item.previousElementSibling;
  item.remove();
  updateSummary();
  const target = next ? next.querySelector(".toggle-check") : document.querySelector("main h1");
  if (target) {
    if (!next) {
      target.setAttribute("tabindex", "-1");
    }
    target.focus();
  }
}

async function remove(item, link) {
  const title = item.dataset.title;
  const confirmed = await confirmWith(dialog, {
    title: "Delete this todo?",
    text: `“${title}” will go to the trash. You can undo this.`,
    label: "Delete",
  });
  if (!confirmed) {
    link.focus();
    return;
  }
  const id = item.dataset.todoId;
  busy.add(id);
  try {
    await api.deleteTodo(id);
    live.ownDelete(id);
  } catch (error) {
    if (!(error instanceof ApiError && error.isNotFound)) {
      fail(error, "Could not delete the todo.");
      link.focus();
      return;
    }
  } finally {
    busy.delete(id);
    live.idle();
  }
  const restorePath = item.dataset.restore;
  removeItem(item);
  offerUndo(title, restorePath);
  announce(`Deleted “${title}”.`);
}

// The same notice the page shows after a delete without JavaScript: its form posts the
// restore and comes back to this list.
function offerUndo(title, restorePath) {
  const notice = document.getElementById("undo-notice");
  if (!notice || !restorePath) {
    return;
  }
  document.getElementById("undo-text").textContent = `Deleted “${title}”.`;
  document.getElementById("undo-form").setAttribute("action", restorePath);
  notice.hidden = false;
}

/** Checkboxes instead of "Mark done" buttons, for the rows under `root`; draggable rows. */
function enhanceItems(root) {
  for (const item of root.querySelectorAll(".todo[data-editable='true']")) {
    item.querySelector(".check").hidden = false;
    item.querySelector(".toggle-button").hidden = true;
  }
  enableDrag(root);
}

function enhance() {
  // An offline copy (offline.js) stays as the server drew it: read-only, no live socket.
  if (!region || document.documentElement.hasAttribute("data-offline")) {
    return;
  }
  enhanceItems(region);
  // Listeners sit on the region, which stays while live updates replace the list in it.
  region.addEventListener("click", (event) => {
    const checkbox = event.target.closest(".toggle-check");
    if (checkbox && busy.has(checkbox.closest(".todo").dataset.todoId)) {
      event.preventDefault();
      return;
    }
    const link = event.target.closest("a[data-delete]");
    if (link && supportsDialog(dialog)) {
      event.preventDefault();
      remove(link.closest(".todo"), link);
    }
  });
  region.addEventListener("change", (event) => {
    const checkbox = event.target.closest(".toggle-check");
    if (checkbox) {
      toggle(checkbox.closest(".todo"), checkbox);
    }
  });
  document.documentElement.classList.add("js-todos");
  live = startLiveList({ region, notice: document.getElementById("list-changed"), isIdle, enhance: enhanceItems });
  if (dialog) {
    dialog.addEventListener("close", () => live.idle());
  }
  const saved = (version) => live.ownVersion(version);
  const reread = () => live.resync();
  inline = startInlineEdit({ region, saved, done: () => live.idle() });
  reorder = startReorder({ region, saved, moved: reread });
  const quick = document.getElementById("quick-add");
  if (quick) {
    startQuickAdd({ form: quick, onAdded: (todo) => live.ownCreate(todo.id) });
  }
  startListTools({ filters: document.getElementById("todo-filters"), region, dialog, reread });
  startShortcuts({ region, help: document.getElementById("shortcuts-dialog"), edit: inline.start });
  if ("WebSocket" in window) {
    connectLive({
      path: region.dataset.socketPath,
      status: document.getElementById("connection-status"),
      onMessage: live.handle,
      onReconnect: live.resync,
    });
  }
}

enhance();
