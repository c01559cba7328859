"""A scripted OpenAI chat-completions server on 127.0.0.1, for tests and the fuzz harness.

Python's ``http.server`` in a thread answers POST ``/v1/chat/completions`` with the
standard JSON, one scripted answer per request; the real ``openai`` client talks to it
over HTTP, so nothing is mocked.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """What the server answers, one entry per request, and what it received.

    An answer is the reply text, ``("sleep", s)`` (answer after ``s`` seconds),
    ``("status", n)`` (an HTTP error) or ``("raw", bytes)`` (a body that is not a chat
    completion at all).
    """

    answers: list[Any] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
    }


def _handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(body)
            script.paths.append(self.path)
            answer = script.answers.pop(0) if script.answers else "no more answers"
            try:
                if isinstance(answer, tuple) and answer[0] == "sleep":
                    time.sleep(answer[1])  # past the client's timeout
                    answer = "too late"
                if isinstance(answer, tuple) and answer[0] == "status":
                    self._send(answer[1], {"error": {"message": "server error", "type": "x"}})
                    return
                if isinstance(answer, tuple) and answer[0] == "raw":
                    self._send_bytes(200, answer[1])
                    return
                self._send(200, _completion(answer, body.get("model", "")))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            self._send_bytes(status, json.dumps(payload).encode())

        def _send_bytes(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextlib.contextmanager
def chat_server() -> Iterator[tuple[str, Script]]:
    """Start the server; yield its base URL (``http://127.0.0.1:PORT/v1``) and script."""
    script = Script()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1", script
    finally:
        httpd.shutdown()
        httpd.server_close()
