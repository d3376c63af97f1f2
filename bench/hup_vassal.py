#!/usr/bin/env python3
# emperor_bench-style vassal that reloads in place: usage: hup_vassal.py NAME MARKER PORT
# Appends "<epoch> <pid> <name>" to MARKER at start and again on every SIGHUP (same pid).
import http.server, os, signal, sys, time
name, marker, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
def mark(*_):
    with open(marker, "a") as f:
        f.write("%.6f %d %s\n" % (time.time(), os.getpid(), name))
signal.signal(signal.SIGHUP, mark)
mark()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("%s %d\n" % (name, os.getpid())).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
