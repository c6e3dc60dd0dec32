// Small DOM helpers shared by the page scripts. No network here: that is api.js.

/**
 * Ask for confirmation in the page's native <dialog>.
 * @param {HTMLDialogElement} dialog
 * @param {{title: string, text: string, confirm?: string}} copy  `confirm`: the button's label (else unchanged)
 * @returns {Promise<boolean>} true when the confirming button was chosen
 */
export function confirmWith(dialog, { title, text, confirm = null }) {
  dialog.querySelector(".dialog-title").textContent = title;
  dialog.querySelector(".dialog-text").textContent = text;
  if (confirm) {
    dialog.querySelector('button[value="confirm"]').textContent = confirm;
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
