// Talking to the API: JSON in and out, a timeout, and a Stop that the caller controls.
// Errors are worded for the reader of the page, not the operator of the server: what
// happened and what to do, never a log file or a status code.

const REQUEST_TIMEOUT_MS = 60000;

export const NOT_ANSWERING = "The service is not answering; try again.";

export class ApiError extends Error {
  constructor(message, status, { stopped = false } = {}) {
    super(message);
    this.status = status;
    this.stopped = stopped;
  }
}

// The server's own message is kept where it is about what the reader sent (a question too
// long, an unknown article); anything else says what the reader can do.
function readerMessage(status, body) {
  const own = body && typeof body.error === "string" && body.error ? body.error : "";
  if (status === 429) return "Too many requests at once; wait a moment and try again.";
  if (status === 503) return "The service is starting up; try again in a few seconds.";
  if (status === 401 || status === 403) return "This service needs you to sign in before asking.";
  if (status === 413) return "That is too long to send; shorten it and try again.";
  if ((status === 400 || status === 404 || status === 422) && own) {
    return own[0].toUpperCase() + own.slice(1);
  }
  return NOT_ANSWERING;
}

export async function api(path, { signal, ...options } = {}) {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, REQUEST_TIMEOUT_MS);
  const stop = () => controller.abort();
  if (signal) signal.addEventListener("abort", stop);
  let response;
  try {
    response = await fetch(path, {
      ...options,
      signal: controller.signal,
      headers: { Accept: "application/json", "Content-Type": "application/json" },
    });
  } catch (error) {
    if (signal && signal.aborted) throw new ApiError("You stopped this question.", 0, { stopped: true });
    throw new ApiError(timedOut ? "The service took too long to answer; try again." : NOT_ANSWERING, 0);
  } finally {
    clearTimeout(timer);
    if (signal) signal.removeEventListener("abort", stop);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (_) {
    body = null;
  }
  if (!response.ok) throw new ApiError(readerMessage(response.status, body), response.status);
  if (body === null) throw new ApiError(NOT_ANSWERING, response.status);
  return body;
}
