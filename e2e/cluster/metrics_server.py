#!/usr/bin/env python3
"""Tiny Prometheus target for e2e tests (standard library only).

GET /metrics returns the concatenation of every `*.prom` file in --dir, sorted by name, so a test
controls the metric values Prometheus scrapes by writing a file named after its namespace, e.g.
`<dir>/ns1.prom` containing `error_rate{test="ns1"} 0.02`. Files whose names start with "." are
skipped, so a test can write `.ns1.prom.tmp` and rename it for an atomic update.
The content must be valid Prometheus text format: one broken file fails the whole scrape.
"""
import argparse
import glob
import http.server
import os


def collect(directory):
    parts = []
    for path in sorted(glob.glob(os.path.join(directory, "*.prom"))):
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except OSError:
            continue  # removed between glob and open
        if text and not text.endswith("\n"):
            text += "\n"
        parts.append(text)
    return "".join(parts).encode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path.split("?")[0] == "/metrics":
                body = collect(args.dir)
                ctype = "text/plain; version=0.0.4; charset=utf-8"
            elif self.path == "/healthz":
                body, ctype = b"ok\n", "text/plain"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt, *a):  # one scrape a second would flood the log
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"metrics server: serving {args.dir}/*.prom on http://127.0.0.1:{args.port}/metrics", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
