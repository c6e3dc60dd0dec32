// The account page, enhanced: offers the browser's time zone when it differs from the
// saved one, and copies the calendar address. Without this script the time zone is typed
// (or picked from the list) and the address selected by hand.

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

suggestZone();
enableCopy();
