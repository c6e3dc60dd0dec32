// The live channel (`GET /ws`, authenticated by the session cookie): answers the server's
// pings, reconnects with exponential backoff and jitter, and says so in a small status.
//
// The connection's state is also on <html data-live="…">: "connecting", "open",
// "offline" (lost, reconnecting), "ended" (the session ended: close code 4401) or
// "stopped" (too many open tabs: 4429). Browser tests wait on it; nothing else reads it.
import { api, loginUrl } from "./api.js";

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30000;
const BACK_ONLINE_MS = 4000;
const SESSION_ENDED = 4401;
const TOO_MANY_SOCKETS = 4429;

function socketUrl(path) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${window.location.host}${path}`;
}

/** Full jitter over the upper half: 1 s, 2 s, 4 s … up to 30 s, each scaled by 0.5–1. */
function backoff(attempt) {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

/** Show `text` (and a link, if given) in the status element; empty text clears it. */
function showStatus(element, text, link) {
  element.replaceChildren();
  element.classList.toggle("is-error", Boolean(link));
  if (!text) {
    return;
  }
  element.append(text);
  if (link) {
    const anchor = document.createElement("a");
    anchor.href = link.href;
    anchor.textContent = link.text;
    element.append(" ", anchor);
  }
}

/**
 * Keep a live socket open for this page.
 * @param {{path: string, status: HTMLElement, onMessage: (message: object) => void,
 *          onReconnect: () => void}} options
 *   `onMessage` gets every event but pings; `onReconnect` runs when the socket opens again
 *   after a loss (events may have been missed: the caller refetches).
 */
export function connectLive({ path, status, onMessage, onReconnect }) {
  let attempt = 0;
  let everOpened = false;
  let retryTimer = null;
  let clearTimer = null;
  let socket = null;
  let finished = false;

  function setState(state) {
    document.documentElement.dataset.live = state;
  }

  function finish(state, text, link) {
    finished = true;
    setState(state);
    showStatus(status, text, link);
  }

  function connect() {
    retryTimer = null;
    if (finished) {
      return;
    }
    if (!everOpened) {
      setState("connecting");
    }
    let opened = false;
    const current = new WebSocket(socketUrl(path));
    socket = current;
    current.addEventListener("open", () => {
      if (current !== socket) {
        // Abandoned while still connecting (see `stop`): close it now that closing is clean.
        current.close(1000);
        return;
      }
      opened = true;
      attempt = 0;
      setState("open");
      if (everOpened || status.textContent) {
        showStatus(status, "Back online.");
        clearTimer = window.setTimeout(() => showStatus(status, ""), BACK_ONLINE_MS);
        onReconnect();
      }
      everOpened = true;
    });
    current.addEventListener("message", (event) => {
      if (current !== socket) {
        return;
      }
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      if (message && message.type === "ping") {
        current.send(JSON.stringify({ type: "pong" }));
      } else if (message && typeof message.type === "string") {
        onMessage(message);
      }
    });
    current.addEventListener("close", (event) => {
      if (current === socket) {
        lost(event.code, opened);
      }
    });
  }

  /**
   * Close the current socket without it counting as lost. close() on a socket that is
   * still connecting makes the browser warn ("closed before the connection is
   * established"), so such a socket is abandoned instead: no longer `socket`, it closes
   * itself from its own `open` event (or just fails) and its events are ignored.
   */
  function stop() {
    if (socket === null) {
      return;
    }
    if (socket.readyState === WebSocket.CONNECTING) {
      socket = null;
    } else {
      socket.close(1000);
    }
  }

  async function lost(code, opened) {
    socket = null;
    window.clearTimeout(clearTimer);
    if (code === SESSION_ENDED || (!opened && !(await api.signedIn()))) {
      finish("ended", "Your session ended.", { href: loginUrl(), text: "Sign in again." });
      return;
    }
    if (code === TOO_MANY_SOCKETS) {
      // Reconnecting would close another tab's socket, which would then close ours: stop.
      finish("stopped", "Live updates stopped: this account has too many open tabs.", {
        href: window.location.pathname + window.location.search,
        text: "Refresh",
      });
      return;
    }
    if (finished) {
      return;
    }
    setState("offline");
    showStatus(status, "Offline — reconnecting…");
    retryTimer = window.setTimeout(connect, backoff(attempt));
    attempt += 1;
  }

  // Back on the network: try at once instead of waiting out the backoff.
  window.addEventListener("online", () => {
    if (retryTimer !== null) {
      window.clearTimeout(retryTimer);
      connect();
    }
  });
  // Leaving the page is not a lost connection.
  window.addEventListener("pagehide", () => {
    finished = true;
    stop();
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted && finished && socket === null && status.textContent === "") {
      finished = false;
      everOpened = true; // restored from the back-forward cache: refetch once open
      connect();
    }
  });
  connect();
}
