// The list page's other enhancements: filters that apply as soon as they change (the list
// region is re-read, no reload), "Complete all shown" and "Clear completed" asked in the
// dialog first, and the sidebar as a drawer at phone width.
import { confirmWith, supportsDialog } from "./ui.js";

const SEARCH_DELAY_MS = 300;

/**
 * @param {{filters: HTMLFormElement|null, region: HTMLElement, dialog: HTMLDialogElement|null,
 *          reread: () => void}} options  `reread`: re-read the list for the page's address
 */
export function startListTools({ filters, region, dialog, reread }) {
  if (filters) {
    let timer = null;
    const apply = () => {
      const query = new URLSearchParams();
      for (const [key, value] of new FormData(filters)) {
        if (value !== "") {
          query.append(key, String(value));
        }
      }
      const search = query.toString();
      window.history.replaceState(null, "", `${filters.getAttribute("action")}${search ? `?${search}` : ""}`);
      reread();
    };
    filters.addEventListener("change", (event) => {
      if (event.target.matches("select")) {
        apply();
      }
    });
    filters.addEventListener("input", (event) => {
      if (event.target.matches("input[type=search]")) {
        window.clearTimeout(timer);
        timer = window.setTimeout(apply, SEARCH_DELAY_MS);
      }
    });
    filters.addEventListener("submit", (event) => {
      event.preventDefault();
      window.clearTimeout(timer);
      apply();
    });
  }

  region.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-confirm]");
    if (!form || !supportsDialog(dialog) || form.dataset.confirmed === "true") {
      return;
    }
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    const ok = await confirmWith(dialog, {
      title: button.textContent.trim(),
      text: form.dataset.confirm,
      label: button.textContent.trim(),
    });
    if (ok) {
      form.dataset.confirmed = "true";
      form.submit();
    } else {
      button.focus();
    }
  });

  startDrawer();
}

function startDrawer() {
  const opener = document.getElementById("drawer-open");
  const sidebar = document.getElementById("sidebar");
  const closer = document.getElementById("drawer-close");
  if (!opener || !sidebar || !closer) {
    return;
  }
  const close = () => {
    sidebar.classList.remove("is-open");
    opener.setAttribute("aria-expanded", "false");
    opener.focus();
  };
  opener.setAttribute("aria-expanded", "false");
  opener.addEventListener("click", (event) => {
    event.preventDefault();
    sidebar.classList.add("is-open");
    opener.setAttribute("aria-expanded", "true");
    const first = sidebar.querySelector(".sidebar-list a");
    if (first) {
      // Once the drawer is visible: an element still hidden cannot take focus.
      window.requestAnimationFrame(() => first.focus());
    }
  });
  closer.addEventListener("click", (event) => {
    event.preventDefault();
    close();
  });
  sidebar.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && sidebar.classList.contains("is-open")) {
      close();
    }
  });
}
