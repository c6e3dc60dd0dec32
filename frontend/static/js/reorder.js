// Drag to reorder a list (its own order, "List order"): the todo is moved on the server
// with PATCH {position} and the list re-read. The keyboard way is the Move up / Move down
// buttons, which this module also sends through the API instead of reloading the page.
import { api, ApiError, redirectToLogin } from "./api.js";
import { announce } from "./ui.js";

/** The item's place in its list now (after it was moved in the page). */
function placeOf(item) {
  const parent = item.parentElement;
  return Number(parent.dataset.offset || 0) + [...parent.children].indexOf(item);
}

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
    clearMarks();
    const item = dragged;
    if (after) {
      target.after(item);
    } else {
      target.before(item);
    }
    moveTo(item, placeOf(item));
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
    const up = event.submitter.value === "up";
    const sibling = up ? item.previousElementSibling : item.nextElementSibling;
    let index = placeOf(item) + (up ? -1 : 1);
    if (sibling) {
      if (up) {
        sibling.before(item);
      } else {
        sibling.after(item);
      }
      index = placeOf(item);
    }
    event.submitter.focus();
    moveTo(item, Math.max(index, 0));
  });

  return { isMoving: () => moving || dragged !== null };
}
