// Small DOM helpers shared by the page scripts. No network here: that is api.js.

/**
 * Ask for confirmation in the page's native <dialog>.
 * @param {HTMLDialogElement} dialog
 * @param {{title: string, text: string, label?: string}} copy label: the confirm button's, when given
 * @returns {Promise<boolean>} true when the confirm button ("Delete") was chosen
 */
export function confirmWith(dialog, { title, text, label }) {
  dialog.querySelector(".dialog-title").textContent = title;
  dialog.querySelector(".dialog-text").textContent = text;
  if (label) {
    dialog.querySelector('button[value="confirm"]').textContent = label;
  }
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

/** Announce a message in the page's live region. */
export function announce(message, { error = false } = {}) {
  const region = document.getElementById("live-status");
  if (!region) {
    return;
  }
  region.textContent = message;
  region.classList.toggle("is-error", error);
}

/** Whether the browser has a usable <dialog>; without it the plain links and forms stay. */
export function supportsDialog(dialog) {
  return Boolean(dialog) && typeof dialog.showModal === "function";
}
