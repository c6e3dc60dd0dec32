// Admin page, enhanced: each action that is asked first (a link to its confirmation page)
// asks in the page's <dialog> instead and calls the JSON API. A delete removes its row
// without reloading; a change of role or standing opens the page again with its notice.
// Without this script the links lead to the confirmation pages and everything else is a
// plain form post.
import { ApiError, redirectToLogin, request } from "./api.js";
import { announce, confirmWith, supportsDialog } from "./ui.js";

const dialog = document.getElementById("confirm-dialog");

function removeRow(row) {
  const table = row.closest("table");
  row.remove();
  if (table && table.tBodies[0] && table.tBodies[0].rows.length === 0) {
    const empty = document.createElement("p");
    empty.className = "muted";
    empty.textContent = "Nothing left on this page.";
    table.replaceWith(empty);
  }
}

function removeDeleted(link) {
  const row = link.closest("tr");
  if (link.dataset.remove === "user") {
    const username = row.dataset.username;
    for (const todoRow of document.querySelectorAll("#admin-todos-table tr[data-owner]")) {
      if (todoRow.dataset.owner === username) {
        removeRow(todoRow);
      }
    }
  }
  removeRow(row);
  announce(link.dataset.remove === "user" ? `${row.dataset.username} was deleted, with all of their todos.` : "Todo deleted.");
  const heading = document.querySelector("main h1");
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

async function confirmAndRun(link) {
  const { confirmTitle, confirmText, confirmLabel, apiMethod, apiPath, apiBody, doneUrl } = link.dataset;
  const confirmed = await confirmWith(dialog, { title: confirmTitle, text: confirmText, label: confirmLabel });
  if (!confirmed) {
    link.focus();
    return;
  }
  try {
    await request(apiMethod, apiPath, apiBody ? JSON.parse(apiBody) : undefined);
  } catch (error) {
    if (error instanceof ApiError && error.isUnauthenticated) {
      redirectToLogin();
      return;
    }
    // A delete of what is already gone is done; anything else is said in plain words.
    if (!(link.dataset.remove && error instanceof ApiError && error.isNotFound)) {
      announce(`Nothing was changed: ${error.message}.`, { error: true });
      link.focus();
      return;
    }
  }
  if (doneUrl) {
    window.location.assign(doneUrl);
  } else {
    removeDeleted(link);
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-confirm]");
  if (link && supportsDialog(dialog)) {
    event.preventDefault();
    confirmAndRun(link);
  }
});
