// Talking to the API: JSON in and out, a timeout, and a Stop that the caller controls.

const REQUEST_TIMEOUT_MS = 60000;

export class ApiError extends Error {
  constructor(message, status, { stopped = false } = {}) {
    super(message);
    this.status = status;
    this.stopped = stopped;
  }
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
    throw new ApiError(
      timedOut
        ? "The server took too long to answer. Please try again."
        : "The server could not be reached. Check that it is running, then try again.",
      0,
    );
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
  if (!response.ok) {
    const message =
      body && typeof body.error === "string" && body.error
        ? body.error
        : `the server answered ${response.status} ${response.statusText}`.trim();
    throw new ApiError(message, response.status);
  }
  if (body === null) throw new ApiError("The server sent a reply that is not JSON.", response.status);
  return body;
}
