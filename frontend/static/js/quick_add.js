// Quick add, enhanced: while typing, the parse is previewed as chips (date, time, list,
// tags, priority, repeat) in a polite live region; Enter adds through the API without a
// reload and the list is re-read. Without this script the box is a plain form post.
import { api, ApiError, redirectToLogin } from "./api.js";
import { announce } from "./ui.js";

const PREVIEW_DELAY_MS = 250;

function chip(label, value) {
  const item = document.createElement("span");
  item.className = "chip";
  const name = document.createElement("span");
  name.className = "chip-label";
  name.textContent = `${label}: `;
  item.append(name, value);
  return item;
}

function chipsFor(parsed) {
  const chips = [chip("Title", parsed.title)];
  if (parsed.due_date) {
    chips.push(chip("Due", parsed.due_time ? `${parsed.due_date} ${parsed.due_time}` : parsed.due_date));
  }
  chips.push(chip("List", parsed.list_name));
  for (const tag of parsed.tags) {
    chips.push(chip("Tag", `#${tag}`));
  }
  chips.push(chip("Priority", String(parsed.priority)));
  if (parsed.repeat) {
    chips.push(chip("Repeats", parsed.repeat));
  }
  return chips;
}

/**
 * @param {{form: HTMLFormElement, onAdded: (todo: object) => void}} options
 *   `onAdded` gets the todo just added (the list re-reads itself).
 */
export function startQuickAdd({ form, onAdded }) {
  const input = form.querySelector("#quick-text");
  const preview = form.querySelector("#quick-preview");
  const error = form.querySelector("#quick-error");
  const listId = form.dataset.listId || "";
  let timer = null;
  let asked = 0; // only the newest preview answer is shown

  function showError(message) {
    error.textContent = message;
    error.hidden = !message;
    if (message) {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", "quick-hint quick-error");
    } else {
      input.removeAttribute("aria-invalid");
      input.setAttribute("aria-describedby", "quick-hint");
    }
  }

  async function showPreview() {
    const text = input.value.trim();
    const mine = ++asked;
    if (!text) {
      preview.replaceChildren();
      showError("");
      return;
    }
    try {
      const parsed = await api.quickAdd(text, { preview: true, listId });
      if (mine === asked) {
        preview.replaceChildren(...chipsFor(parsed));
        showError("");
      }
    } catch (failure) {
      if (mine !== asked) {
        return;
      }
      if (failure instanceof ApiError && failure.isUnauthenticated) {
        redirectToLogin();
        return;
      }
      preview.replaceChildren();
      showError(failure instanceof ApiError && failure.status === 422 ? failure.message : "");
    }
  }

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(showPreview, PREVIEW_DELAY_MS);
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    window.clearTimeout(timer);
    const text = input.value.trim();
    if (!text) {
      showError("Type what you want to add, such as: Call mom tomorrow 9am");
      input.focus();
      return;
    }
    form.setAttribute("aria-busy", "true");
    try {
      const parsed = await api.quickAdd(text, { preview: true, listId });
      const todo = await api.quickAdd(text, { listId });
      asked += 1;
      input.value = "";
      preview.replaceChildren();
      showError("");
      announce(`Added to ${parsed.list_name}.`);
      onAdded(todo);
    } catch (failure) {
      if (failure instanceof ApiError && failure.isUnauthenticated) {
        redirectToLogin();
        return;
      }
      showError(failure instanceof ApiError ? failure.message : "Could not add the todo.");
    } finally {
      form.removeAttribute("aria-busy");
      input.focus();
    }
  });
}
