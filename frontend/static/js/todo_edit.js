// The edit page, enhanced: while it is open, a change to this todo made anywhere else (another
// tab, device or script) shows "Changed in another tab" at once, so the person knows before
// saving. Saving still goes through the form, whose version makes a stale save a conflict
// screen rather than a silent overwrite.
import { connectLive } from "./live_socket.js";

const CHANGES = new Set(["todo.updated", "todo.deleted", "todo.restored"]);

function enhance() {
  const form = document.querySelector("form[data-todo-id]");
  const notice = document.getElementById("changed-elsewhere");
  if (!form || !notice || !("WebSocket" in window)) {
    return;
  }
  const id = Number(form.dataset.todoId);
  connectLive({
    path: form.dataset.socketPath,
    status: document.getElementById("connection-status"),
    onMessage: (message) => {
      if (message.id === id && CHANGES.has(message.type) && message.version !== form.dataset.version) {
        notice.hidden = false;
      }
    },
    onReconnect: () => {},
  });
}

enhance();
