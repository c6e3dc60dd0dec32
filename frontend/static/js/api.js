// The only module that talks to the server. Same-origin cookie session, CSRF header from
// the <meta name="csrf-token"> tag, `{detail}` parsed into a typed ApiError.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status, or 0 when the server could not be reached
   * @param {string} message a sentence fit to show to the user
   * @param {unknown} detail the raw `detail` of the answer, if any
   */
  constructor(status, message, detail = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.detail = detail;
  }

  get isUnauthenticated() {
    return this.status === 401;
  }

  get isNotFound() {
    return this.status === 404;
  }
}

const LOGIN_PATH = "/login-page";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.getAttribute("content") || "" : "";
}

function messageFrom(detail, status) {
  if (typeof detail === "string" && detail) {
    return detail;
  }
  if (Array.isArray(detail) && detail.length > 0) {
    return detail
      .map((item) => (item && typeof item.msg === "string" ? item.msg : ""))
      .filter(Boolean)
      .join("; ");
  }
  return `The request failed (HTTP ${status}).`;
}

/** Send one JSON API request; the parsed body and the response (for its headers). */
async function send(method, path, body) {
  const headers = { Accept: "application/json" };
  if (!["GET", "HEAD"].includes(method)) {
    headers["X-CSRF-Token"] = csrfToken();
  }
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw unreachable();
  }
  const type = response.headers.get("Content-Type") || "";
  let data = null;
  if (response.status !== 204 && type.includes("application/json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const detail = data && typeof data === "object" ? data.detail : null;
    throw new ApiError(response.status, messageFrom(detail, response.status), detail);
  }
  return { data, response };
}

function unreachable() {
  return new ApiError(0, "Could not reach the server. Check your connection and try again.");
}

/**
 * Call the JSON API.
 * @param {string} method
 * @param {string} path same-origin path, e.g. "/todos/3"
 * @param {object} [body] sent as JSON
 * @returns {Promise<any>} the parsed JSON answer, or null for an empty one
 */
export async function request(method, path, body) {
  return (await send(method, path, body)).data;
}

/**
 * Fetch one of the app's own pages as HTML (live updates re-read the list this way, so the
 * server alone decides filters, sort and paging). A redirect to the login page is a 401.
 * @param {string} path same-origin path with its query
 * @returns {Promise<Document>}
 */
export async function fetchPage(path) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw unreachable();
  }
  if (response.redirected && new URL(response.url).pathname === LOGIN_PATH) {
    throw new ApiError(401, "Your session ended.");
  }
  if (!response.ok) {
    throw new ApiError(response.status, messageFrom(null, response.status));
  }
  return new DOMParser().parseFromString(await response.text(), "text/html");
}

export const api = {
  /** Change only the fields given; answers with the whole todo and its new version (ETag). */
  patchTodo: async (id, fields) => {
    const { data, response } = await send("PATCH", `/todos/todo/${encodeURIComponent(id)}`, fields);
    return { todo: data, version: response.headers.get("ETag") };
  },
  deleteTodo: (id) => request("DELETE", `/todos/todo/${encodeURIComponent(id)}`),
  /**
   * Quick add one line of text; with `preview` nothing is stored and the parse comes back.
   * `listId`: where it goes when the text names no @list (the list being viewed).
   */
  quickAdd: (text, { preview = false, listId = "" } = {}) => {
    const query = new URLSearchParams();
    if (preview) {
      query.set("preview", "true");
    }
    if (listId) {
      query.set("list_id", listId);
    }
    const suffix = query.toString() ? `?${query}` : "";
    return request("POST", `/todos/quick${suffix}`, { text });
  },
  /** False when the session has ended (401); true otherwise, even when the server is unreachable. */
  signedIn: async () => {
    try {
      await request("GET", "/user/");
      return true;
    } catch (error) {
      return !(error instanceof ApiError && error.isUnauthenticated);
    }
  },
  /** For paths the server rendered into a data-api-path attribute. */
  delete: (path) => request("DELETE", path),
  put: (path, body) => request("PUT", path, body),
};

/** Send the browser to the login page, coming back here afterwards. */
export function redirectToLogin() {
  window.location.assign(loginUrl());
}

/** The login page, coming back to this page after signing in. */
export function loginUrl() {
  const next = window.location.pathname + window.location.search;
  return `${LOGIN_PATH}?next=${encodeURIComponent(next)}`;
}
