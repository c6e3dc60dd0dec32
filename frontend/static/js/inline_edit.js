// Inline edit of a todo's title: double-click it, or press Enter (or "e") on a focused
// todo. Enter saves through the API, Escape (or leaving the field) cancels. The edit page
// stays the way to change everything else, and the way without JavaScript.
import { api, ApiError, redirectToLogin } from "./api.js";
import { announce } from "./ui.js";

/**
 * @param {{region: HTMLElement, saved: (version: string|null) => void, done: () => void}} options
 *   `saved` gets the new version (so the live update it causes is known as this tab's own);
 *   `done` runs when an edit ends (the list may re-read again).
 */
export function startInlineEdit({ region, saved, done }) {
  let editing = null; // {item, title, form}

  function finish(focusItem) {
    if (!editing) {
      return;
    }
    const { item, title, form } = editing;
    editing = null;
    form.remove();
    title.hidden = false;
    if (focusItem) {
      item.setAttribute("tabindex", "-1");
      item.focus();
    }
    done();
  }

  async function save(input) {
    const { item, title } = editing;
    const text = input.value.trim();
    if (!text || text === item.dataset.title) {
      finish(true);
      return;
    }
    input.setAttribute("aria-busy", "true");
    try {
      const { todo, version } = await api.patchTodo(item.dataset.todoId, { title: text });
      saved(version);
      title.textContent = todo.title;
      item.dataset.title = todo.title;
      finish(true);
      announce(`Saved “${todo.title}”.`);
    } catch (error) {
      input.removeAttribute("aria-busy");
      if (error instanceof ApiError && error.isUnauthenticated) {
        redirectToLogin();
        return;
      }
      announce(`Could not save. ${error instanceof ApiError ? error.message : ""}`.trim(), { error: true });
    }
  }

  function start(item) {
    if (editing || !item || item.dataset.editable !== "true") {
      return;
    }
    const title = item.querySelector(".todo-title");
    const form = document.createElement("div");
    form.className = "inline-edit";
    const id = `inline-title-${item.dataset.todoId}`;
    const label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = id;
    label.textContent = "Title";
    const input = document.createElement("input");
    input.id = id;
    input.type = "text";
    input.maxLength = 200;
    input.value = item.dataset.title;
    input.setAttribute("aria-describedby", `${id}-hint`);
    const hint = document.createElement("p");
    hint.id = `${id}-hint`;
    hint.className = "field-hint inline-edit-hint";
    hint.textContent = "Enter saves, Escape cancels.";
    form.append(label, input, hint);
    title.hidden = true;
    title.after(form);
    editing = { item, title, form };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        save(input);
      } else if (event.key === "Escape") {
        event.preventDefault();
        event.stopPropagation();
        finish(true);
      }
    });
    input.addEventListener("blur", () => {
      if (editing && editing.form === form && !input.hasAttribute("aria-busy")) {
        finish(false);
      }
    });
    input.focus();
    input.select();
  }

  region.addEventListener("dblclick", (event) => {
    const title = event.target.closest(".todo-title");
    if (title) {
      start(title.closest(".todo"));
    }
  });

  return {
    start,
    isEditing: () => editing !== null,
  };
}
