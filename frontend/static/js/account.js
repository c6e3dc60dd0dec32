// The account page, enhanced: offers the browser's time zone when it differs from the
// saved one, copies the calendar address, and asks before replacing it. Without this
// script the time zone is typed (or picked from the list), the address is selected by
// hand, and the form's hint is the warning.
import { confirmWith, supportsDialog } from "./ui.js";

function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch {
    return "";
  }
}

function suggestZone() {
  const form = document.getElementById("timezone-form");
  const box = document.getElementById("zone-suggestion");
  const zone = browserZone();
  if (!form || !box || !zone || zone === form.dataset.savedZone) {
    return;
  }
  const field = form.querySelector('input[name="timezone"]');
  document.getElementById("zone-suggestion-text").textContent = `Your browser says ${zone}.`;
  document.getElementById("zone-suggestion-use").addEventListener("click", () => {
    field.value = zone;
    field.focus();
    box.hidden = true;
  });
  box.hidden = false;
}

function enableCopy() {
  const button = document.getElementById("calendar-copy");
  const field = document.getElementById("calendar_url");
  const status = document.getElementById("calendar-copy-status");
  if (!button || !field || !status) {
    return;
  }
  button.addEventListener("click", async () => {
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
      status.textContent = "Address copied.";
    } catch {
      status.textContent = "Could not copy: the address is selected, copy it with your keyboard.";
    }
  });
  button.hidden = false;
}

function confirmNewAddress() {
  const form = document.querySelector("form[data-confirm-calendar]");
  const dialog = document.getElementById("confirm-dialog");
  if (!form || !supportsDialog(dialog)) {
    return;
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const confirmed = await confirmWith(dialog, {
      title: "Get a new calendar address?",
      text: "The old address stops working: calendars subscribed to it stop updating until you subscribe to the new one.",
    });
    if (confirmed) {
      form.submit();
    }
  });
}

suggestZone();
enableCopy();
confirmNewAddress();
