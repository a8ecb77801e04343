#!/usr/bin/env python3
"""Opens 1,200 connections that each send half a request head to a fresh `voucher-ledger serve` (debug
build, default limits) and prints the server's descriptors, when a normal request is served, and how many
of the half-sent connections the server closed. Usage: cargo build -p api --bins && python3 scripts/flood-half-sent.py
(RELIABILITY.md, "At the door")."""
import socket, subprocess, time, os, sys, re, tempfile, urllib.request
binary = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "voucher-ledger")
data = tempfile.mkdtemp()
env = dict(os.environ, VOUCHER_LEDGER_JWT_SECRET="flood-test-key-0123456789abcdef0123456789")
p = subprocess.Popen([binary, "serve", "--data", data, "--listen", "127.0.0.1:0"], env=env, stderr=subprocess.PIPE, text=True)
addr = None
while addr is None:
    line = p.stderr.readline()
    m = re.search(r"listening on http://(\S+)", line)
    if m: addr = m.group(1)
host, port = addr.split(":"); port = int(port)
fds = lambda: len(os.listdir(f"/proc/{p.pid}/fd"))
base = fds()
socks = []
t0 = time.time()
for i in range(1200):
    s = socket.create_connection((host, port))
    s.sendall(b"POST /v1/objections HTTP/1.1\r\nhost: x\r\n")
    socks.append(s)
print("opened 1200 half-sent in %.2fs; server fds baseline %d, now %d" % (time.time()-t0, base, fds()))
t1 = time.time()
while True:
    try:
        r = urllib.request.urlopen(f"http://{addr}/healthz", timeout=2)
        if r.status == 200: break
    except Exception as e:
        pass
    time.sleep(0.2)
print("a normal request served %.1fs after the flood; server fds %d" % (time.time()-t1, fds()))
closed = 0
for s in socks:
    s.settimeout(0.01)
    try:
        s.recv(1)  # b"" (closed) or the 503 refusal: either way the server ended it
        closed += 1
    except socket.timeout: pass
    except Exception: closed += 1
print("ended by the server: %d of 1200 at %.1fs" % (closed, time.time()-t0))
p.terminate(); p.wait()
import shutil; shutil.rmtree(data, ignore_errors=True)
