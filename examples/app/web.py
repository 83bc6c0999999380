"""The example app's main app: a tiny HTTP server on port 8080.

jobshim runs it directly (no shell) as the image's CMD; SIGTERM from
`docker stop` or Kubernetes reaches it through jobshim, and it stops
serving and exits 0.
"""
import http.server
import signal
import sys
import threading


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n" if self.path == "/healthz" else b"hello from web\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    server = http.server.ThreadingHTTPServer(("", 8080), Handler)

    def stop(signum, _frame):
        print(f"web: got signal {signum}, shutting down", flush=True)
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("web: listening on :8080", flush=True)
    server.serve_forever()
    print("web: bye", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
