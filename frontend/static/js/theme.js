// The header's theme switch without a reload: the choice goes to the API, then the page
// repaints (the CSS follows <html data-theme>). If that fails, the form posts as it does
// without JavaScript, and the server answers (or sends to the login page).
import { api } from "./api.js";

const form = document.querySelector(".theme-form");

function apply(theme) {
  document.documentElement.dataset.theme = theme;
  const scheme = document.querySelector('meta[name="color-scheme"]');
  scheme?.setAttribute("content", theme === "system" ? "light dark" : theme);
  for (const option of form.querySelectorAll('button[name="theme"]')) {
    option.setAttribute("aria-pressed", String(option.value === theme));
  }
}

function postWithoutScript(theme) {
  const field = document.createElement("input");
  field.type = "hidden";
  field.name = "theme";
  field.value = theme;
  form.append(field);
  form.submit(); // submit() fires no submit event: no loop back here
}

form?.addEventListener("submit", async (event) => {
  const choice = event.submitter;
  if (!choice || choice.name !== "theme") {
    return;
  }
  event.preventDefault();
  try {
    await api.put(form.dataset.apiPath, { theme: choice.value });
  } catch {
    postWithoutScript(choice.value);
    return;
  }
  apply(choice.value);
});
