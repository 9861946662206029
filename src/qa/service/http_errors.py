"""JSON for the 400s that uvicorn answers itself.

A request uvicorn cannot parse (a NUL in a header, a path too long for its parser, a broken
request line) never reaches the app: uvicorn's protocol writes a plain-text 400 and closes the
connection. These subclasses of its two HTTP protocols write the same 400 with the body every
other error has, `{"error": ..., "detail": ...}`; `qa serve` passes `HTTP_PROTOCOL` (the one
uvicorn's "auto" would pick) as uvicorn's `http`. Module-level classes: workers unpickle them.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.h11_impl import H11Protocol


def _body(message: str) -> bytes:
    error = f"malformed HTTP request ({message.rstrip('.')}); nothing was done"
    return json.dumps({"error": error, "detail": None}).encode()


class JsonErrorsH11(H11Protocol):
    """uvicorn's h11 protocol, answering malformed requests with a JSON 400."""

    def send_400_response(self, msg: str) -> None:
        import h11

        body = _body(msg)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


try:  # httptools is optional in uvicorn; "auto" picks it when installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover
    HTTP_PROTOCOL: type[asyncio.Protocol] = JsonErrorsH11
else:

    class JsonErrorsHttpTools(HttpToolsProtocol):
        """uvicorn's httptools protocol, answering malformed requests with a JSON 400."""

        def send_400_response(self, msg: str) -> None:
            body = _body(msg)
            head = [b"HTTP/1.1 400 Bad Request\r\n"]
            for name, value in self.server_state.default_headers:
                head += [name, b": ", value, b"\r\n"]
            head += [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(body)).encode() + b"\r\n",
                b"connection: close\r\n\r\n",
            ]
            self.transport.write(b"".join(head) + body)
            self.transport.close()

    HTTP_PROTOCOL = JsonErrorsHttpTools
