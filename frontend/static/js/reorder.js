// Drag to reorder a list (its own order, "List order"): the todo is moved on the server
// with PATCH {position} and the list re-read. The keyboard way is the Move up / Move down
// buttons, which this module also sends through the API instead of reloading the page.
import { api, ApiError, redirectToLogin } from "./api.js";
import { announce } from "./ui.js";

function list(region) {
  const found = region.querySelector("#todo-list");
  return found && found.dataset.reorder === "true" ? found : null;
}

/** Make the rows under `root` draggable (after every re-read too). */
export function enableDrag(root) {
  const found = list(root);
  if (!found) {
    return;
  }
  for (const item of found.querySelectorAll(".todo[data-editable='true']")) {
    item.setAttribute("draggable", "true");
  }
}

/**
 * @param {{region: HTMLElement, saved: (version: string|null) => void, moved: () => void}} options
 *   `moved` runs once a move is stored (the list re-reads).
 */
export function startReorder({ region, saved, moved }) {
  let dragged = null;
  let moving = false;

  function clearMarks() {
    for (const item of region.querySelectorAll(".drop-before, .drop-after")) {
      item.classList.remove("drop-before", "drop-after");
    }
  }

  async function moveTo(item, index) {
    moving = true;
    item.setAttribute("aria-busy", "true");
    try {
      const { todo, version } = await api.patchTodo(item.dataset.todoId, { position: index });
      saved(version);
      announce(`Moved “${todo.title}”.`);
    } catch (error) {
      if (error instanceof ApiError && error.isUnauthenticated) {
        redirectToLogin();
        return;
      }
      announce(`Could not move the todo. ${error instanceof ApiError ? error.message : ""}`.trim(), { error: true });
    } finally {
      moving = false;
      item.removeAttribute("aria-busy");
      moved();
    }
  }

  region.addEventListener("dragstart", (event) => {
    const item = event.target.closest && event.target.closest(".todo[draggable='true']");
    if (!item) {
      return;
    }
    dragged = item;
    item.classList.add("is-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", item.dataset.todoId);
  });

  region.addEventListener("dragover", (event) => {
    const target = dragged && event.target.closest(".todo");
    if (!target || target === dragged) {
      return;
    }
    event.preventDefault();
    clearMarks();
    const box = target.getBoundingClientRect();
    target.classList.add(event.clientY < box.top + box.height / 2 ? "drop-before" : "drop-after");
  });

  region.addEventListener("drop", (event) => {
    const target = dragged && event.target.closest(".todo");
    if (!target || target === dragged) {
      return;
    }
    event.preventDefault();
    const after = target.classList.contains("drop-after");
    const from = Number(dragged.dataset.place);
    let index = Number(target.dataset.place) + (after ? 1 : 0);
    if (from < index) {
      index -= 1;
    }
    clearMarks();
    const item = dragged;
    if (after) {
      target.after(item);
    } else {
      target.before(item);
    }
    moveTo(item, index);
  });

  region.addEventListener("dragend", () => {
    if (dragged) {
      dragged.classList.remove("is-dragging");
    }
    dragged = null;
    clearMarks();
  });

  // Move up / Move down without a reload: the same move, one place.
  region.addEventListener("submit", (event) => {
    const form = event.target.closest(".move-form");
    if (!form || !event.submitter) {
      return;
    }
    event.preventDefault();
    const item = form.closest(".todo");
    const step = event.submitter.value === "up" ? -1 : 1;
    const index = Math.max(Number(item.dataset.place) + step, 0);
    const sibling = step < 0 ? item.previousElementSibling : item.nextElementSibling;
    if (sibling) {
      if (step < 0) {
        sibling.before(item);
      } else {
        sibling.after(item);
      }
    }
    event.submitter.focus();
    moveTo(item, index);
  });

  return { isMoving: () => moving || dragged !== null };
}
