// Admin page, enhanced: each delete button asks in a <dialog>, calls the API and removes
// the row without reloading. Without this script the buttons are plain form posts.
import { api, ApiError, redirectToLogin } from "./api.js";
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

async function onSubmit(event) {
  const form = event.target.closest("form[data-confirm-delete]");
  if (!form || !supportsDialog(dialog)) {
    return;
  }
  event.preventDefault();
  const kind = form.dataset.confirmDelete;
  const button = form.querySelector("button");
  const confirmed = await confirmWith(dialog, {
    title: kind === "user" ? "Delete this user?" : "Delete this todo?",
    text: `Delete ${form.dataset.confirmText}? This cannot be undone.`,
  });
  if (!confirmed) {
    button.focus();
    return;
  }
  try {
    await api.delete(form.dataset.apiPath);
  } catch (error) {
    if (error instanceof ApiError && error.isUnauthenticated) {
      redirectToLogin();
      return;
    }
    if (!(error instanceof ApiError && error.isNotFound)) {
      announce(`Could not delete: ${error.message}`, { error: true });
      button.focus();
      return;
    }
  }
  const row = form.closest("tr");
  if (kind === "user") {
    const username = row.dataset.username;
    for (const todoRow of document.querySelectorAll("#admin-todos-table tr[data-owner]")) {
      if (todoRow.dataset.owner === username) {
        removeRow(todoRow);
      }
    }
  }
  removeRow(row);
  announce(kind === "user" ? "User deleted." : "Todo deleted.");
  const heading = document.querySelector("main h1");
  heading.setAttribute("tabindex", "-1");
  heading.focus();
}

document.addEventListener("submit", onSubmit);
