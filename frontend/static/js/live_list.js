// Live updates for the todo list. A change event re-reads the page's own URL (which holds
// the filter, search, sort and paging) and swaps the list region, so the server alone
// decides whether and where a todo shows: nothing is guessed here. Events this tab caused
// itself (its own toggle and delete, already shown) are recognised by version and skipped.
// If the page cannot be re-read, "List changed. Refresh" is shown instead.
import { ApiError, fetchPage } from "./api.js";
import { announce } from "./ui.js";

const COALESCE_MS = 100; // one re-read for a burst of events (an import sends one per todo)
const MAX_NAMED = 3; // beyond this, "7 todos changed." instead of a sentence each
const SYNCED_VISIBILITY = ["todo-filters", "export-links"];
// Parts outside the region that follow it (the sidebar's counts), unless focus is in them.
const SYNCED_CONTENT = ["sidebar-lists", "sidebar-tags"];

/** ETags compare without their weak prefix. */
function opaque(version) {
  return String(version).replace(/^W\//, "");
}

function snapshot(region) {
  const items = new Map();
  for (const item of region.querySelectorAll(".todo")) {
    items.set(item.dataset.todoId, { title: item.dataset.title, complete: item.classList.contains("is-complete") });
  }
  return items;
}

function focusables(item) {
  return [...item.querySelectorAll("a, button, input:not([type=hidden])")];
}

/** Where focus is inside the region, in terms that survive the swap. */
function focusKey(region) {
  const active = document.activeElement;
  if (!active || !region.contains(active)) {
    return null;
  }
  const item = active.closest(".todo");
  if (item) {
    const position = [...item.parentElement.children].indexOf(item);
    return { id: item.dataset.todoId, index: focusables(item).indexOf(active), position };
  }
  const rel = active.getAttribute("rel");
  return { selector: rel ? `a[rel="${rel}"]` : null };
}

function restoreFocus(region, key) {
  if (!key) {
    return;
  }
  let target = null;
  if (key.id) {
    const item = document.getElementById(`todo-${key.id}`);
    if (item && key.index === -1) {
      item.setAttribute("tabindex", "-1"); // the row itself (j / k)
      target = item;
    } else if (item) {
      target = focusables(item)[key.index] || null;
    } else {
      const items = region.querySelectorAll(".todo");
      const near = items[Math.min(key.position, items.length - 1)];
      target = near ? near.querySelector(".toggle-check") : null;
    }
  } else if (key.selector) {
    target = region.querySelector(key.selector);
  }
  if (!target) {
    target = document.querySelector("main h1");
    target.setAttribute("tabindex", "-1");
  }
  target.focus({ preventScroll: true });
}

function sentence(event, was, now) {
  const title = (event.todo && event.todo.title) || (was && was.title) || "a todo";
  switch (event.type) {
    case "todo.created":
      return `Added “${title}”.`;
    case "todo.deleted":
      return `Deleted “${title}”.`;
    case "todo.restored":
      return `Restored “${title}”.`;
    default: {
      const complete = event.todo ? Boolean(event.todo.complete) : now && now.complete;
      if (was && was.complete !== complete) {
        return complete ? `Marked “${title}” as done.` : `Reopened “${title}”.`;
      }
      return `Changed “${title}”.`;
    }
  }
}

/** What changed on this page, for the live region; todos on neither side are not mentioned. */
function describe(events, before, after) {
  const shown = events.filter((event) => before.has(String(event.id)) || after.has(String(event.id)));
  if (shown.length > MAX_NAMED) {
    return `${shown.length} todos changed.`;
  }
  return shown
    .map((event) => sentence(event, before.get(String(event.id)), after.get(String(event.id))))
    .join(" ");
}

function showNotice(notice) {
  const link = document.createElement("a");
  link.href = window.location.pathname + window.location.search;
  link.textContent = "Refresh";
  notice.replaceChildren("List changed. ", link);
}

/**
 * @param {{region: HTMLElement, notice: HTMLElement, isIdle: () => boolean,
 *          enhance: (root: HTMLElement) => void}} options
 *   `isIdle` is false while the user is mid-action (a toggle saving, the delete dialog
 *   open): the re-read waits for `idle()` so nothing moves under their hands.
 */
export function startLiveList({ region, notice, isIdle, enhance }) {
  const pending = [];
  const ownVersions = new Set();
  const ownDeletes = new Set();
  const ownCreates = new Set();
  let stale = false; // a re-read is owed even with no event (resync, reconnect)
  let timer = null;
  let reading = false;
  let writes = 0;

  function isEcho(event) {
    if (event.type === "todo.deleted") {
      return ownDeletes.delete(String(event.id));
    }
    if (event.type === "todo.created" && ownCreates.delete(String(event.id))) {
      return true;
    }
    return event.version != null && ownVersions.delete(opaque(event.version));
  }

  function schedule() {
    if (timer === null) {
      timer = window.setTimeout(run, COALESCE_MS);
    }
  }

  async function run() {
    timer = null;
    if (reading || !isIdle()) {
      return; // run again from idle() or when the read in flight ends
    }
    const events = pending.splice(0).filter((event) => !isEcho(event));
    if (events.length === 0 && !stale) {
      return;
    }
    stale = false;
    reading = true;
    const startedAt = writes;
    const before = snapshot(region);
    try {
      const page = await fetchPage(window.location.pathname + window.location.search);
      const fresh = page.getElementById("list-region");
      if (!fresh) {
        throw new ApiError(0, "The list was not in the page.");
      }
      if (writes !== startedAt || !isIdle()) {
        // This tab changed something while the page was read: that copy may be older.
        pending.unshift(...events);
        stale = true;
        return;
      }
      swap(page, fresh);
      notice.replaceChildren();
      const message = describe(events, before, snapshot(region));
      if (message) {
        announce(message);
      }
    } catch (error) {
      if (!(error instanceof ApiError)) {
        throw error;
      }
      showNotice(notice);
    } finally {
      reading = false;
      if (pending.length > 0 || stale) {
        schedule();
      }
    }
  }

  function swap(page, fresh) {
    const focus = focusKey(region);
    region.replaceChildren(...[...fresh.childNodes].map((node) => document.adoptNode(node)));
    enhance(region);
    for (const id of SYNCED_VISIBILITY) {
      const here = document.getElementById(id);
      const there = page.getElementById(id);
      if (here && there) {
        here.hidden = there.hidden;
      }
    }
    for (const id of SYNCED_CONTENT) {
      const here = document.getElementById(id);
      const there = page.getElementById(id);
      if (here && there && !here.contains(document.activeElement)) {
        here.replaceChildren(...[...there.childNodes].map((node) => document.adoptNode(node)));
      }
    }
    restoreFocus(region, focus);
  }

  return {
    /** A `todo.*` event or `resync` from the socket. */
    handle(message) {
      if (message.type === "resync") {
        stale = true;
      } else if (message.type.startsWith("todo.")) {
        pending.push(message);
      } else {
        return;
      }
      schedule();
    },
    /** After a reconnect: events may have been missed. */
    resync() {
      stale = true;
      schedule();
    },
    /** This tab saved a todo; the event carrying `version` is its own. */
    ownVersion(version) {
      writes += 1;
      if (version) {
        ownVersions.add(opaque(version));
      }
    },
    /** This tab created the todo `id` (and said so); the list is re-read. */
    ownCreate(id) {
      writes += 1;
      ownCreates.add(String(id));
      stale = true;
      schedule();
    },
    /** This tab deleted the todo `id`. */
    ownDelete(id) {
      writes += 1;
      ownDeletes.add(String(id));
    },
    /** The user's action is over: apply what arrived meanwhile. */
    idle() {
      if (pending.length > 0 || stale) {
        schedule();
      }
    },
  };
}
