#!/usr/bin/python3
"""The TCP stage cannot be starved, and survives abuse (ctest apps/stage_server_*).

    stage_server_soak.py MRIRECON SOURCE_DIR TMP_DIR starvation|soak

starvation  With the server's defaults, a good client gets its images within 2 s of what it
            takes alone while 20 connections that sent half a message and stalled and one
            client sending a byte every 3 s are open (all on 127.0.0.1).
soak        Hundreds of malformed, truncated, stalled and abruptly closed connections
            interleaved with good ones: every good one gets byte-identical images, every bad
            one an ERROR and a CLOSE (or nothing when it hung up first), and the server's open
            file descriptors and memory are flat afterwards.
Traffic goes to the server this script starts on 127.0.0.1 only; every loop is bounded in
count and time.
"""
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time

CLOSE, ERROR, IMAGE = 4, 8, 1022


def read_response(sock, deadline):
    """Reads MRD messages until CLOSE or EOF: (list of image message bytes, error text,
    closed)."""
    buf = b""
    images, error, closed = [], None, False
    sock.settimeout(max(0.1, deadline - time.time()))

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = sock.recv(1 << 16)
            if not chunk:
                raise EOFError
            buf += chunk

    try:
        while True:
            need(2)
            mid = struct.unpack_from("<H", buf)[0]
            if mid == CLOSE:
                closed = True
                buf = buf[2:]
                break
            if mid == ERROR:
                need(10)
                n = struct.unpack_from("<Q", buf, 2)[0]
                need(10 + n)
                error = buf[10:10 + n].decode(errors="replace")
                buf = buf[10 + n:]
            elif mid == IMAGE:
                need(2 + 198 + 8)
                head = buf[2:200]  # ISMRMRD_ImageHeader, 198 bytes
                dtype = struct.unpack_from("<H", head, 2)[0]
                mx, my, mz = struct.unpack_from("<HHH", head, 16)
                ch = struct.unpack_from("<H", head, 34)[0]
                alen = struct.unpack_from("<Q", buf, 200)[0]
                esize = {1: 2, 2: 2, 3: 4, 4: 4, 5: 4, 6: 8, 7: 8, 8: 16}[dtype]
                nbytes = mx * my * mz * ch * esize
                total = 208 + alen + nbytes
                need(total)
                images.append(buf[:total])
                buf = buf[total:]
            else:
                raise ValueError(f"unexpected message id {mid}")
    except (EOFError, ConnectionResetError, socket.timeout):
        pass
    return images, error, closed


def connect(port):
    return socket.create_connection(("127.0.0.1", port), timeout=10)


def good_client(port, stream, timeout=60.0):
    t = time.time()
    s = connect(port)
    s.sendall(stream)
    images, error, closed = read_response(s, t + timeout)
    s.close()
    return images, error, closed, time.time() - t


def start_server(binary, tmp, name, extra):
    port_file = os.path.join(tmp, name + ".port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(tmp, name + ".log"), "w")
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        # AddressSanitizer keeps freed blocks in a quarantine of up to 256 MiB before reusing
        # them, so the RSS of a sanitizer build grows over the rounds whatever the code does;
        # a small quarantine keeps use-after-free detection and makes the growth check (and
        # LeakSanitizer's verdict at exit) about the server again
        env["ASAN_OPTIONS"] += ":quarantine_size_mb=4"
    p = subprocess.Popen([binary, "stage", "--listen", "0", "--port-file", port_file, "-q",
                          "-m", "zf"] + extra, stdout=log, stderr=log, env=env)
    for _ in range(200):
        if os.path.exists(port_file):
            return p, int(open(port_file).read())
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    sys.exit(f"server did not start (see {log.name})")


def stop_server(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def starvation(binary, stream, ref, tmp):
    p, port = start_server(binary, tmp, "starve", [])
    try:
        for _ in range(2):  # the first also plans the FFTs: time the second
            images, error, closed, alone = good_client(port, stream)
            assert closed and error is None and images == ref, "a good client alone failed"
        stalled = []
        for i in range(20):
            s = connect(port)
            s.sendall(stream[:len(stream) // 2])  # a whole header, then half a message
            stalled.append(s)
        slow = connect(port)
        stop = threading.Event()

        def trickle():
            i = 0
            while not stop.is_set() and i < len(stream):
                try:
                    slow.send(stream[i:i + 1])
                except OSError:
                    return
                i += 1
                stop.wait(3.0)

        t = threading.Thread(target=trickle)
        t.start()
        time.sleep(0.5)
        images, error, closed, busy = good_client(port, stream)
        stop.set()
        t.join()
        for s in stalled + [slow]:
            s.close()
        print(f"good client alone {alone:.2f} s, beside 20 stalled + 1 trickling {busy:.2f} s")
        assert closed and error is None and images == ref, "the good client lost images"
        assert busy <= alone + 2.0, f"starved: {busy:.2f} s vs {alone:.2f} s alone"
    finally:
        stop_server(p)


def bad_client(port, stream, kind, rng):
    s = connect(port)
    try:
        if kind == "garbage":
            s.sendall(struct.pack("<H", rng.choice([0, 7, 999, 4711, 65535])) +
                      rng.randbytes(rng.randrange(0, 64)))
        elif kind == "huge_text":
            s.sendall(struct.pack("<HI", 3, 0xFFFFFFF0))
        elif kind == "huge_acq":
            s.sendall(struct.pack("<H", 1008) + b"\xff" * 340)
        elif kind == "truncated":
            s.sendall(stream[:rng.randrange(1, len(stream) - 1)])
            s.shutdown(socket.SHUT_WR)
        elif kind == "stall":
            s.sendall(stream[:rng.randrange(1, len(stream) - 1)])
        elif kind == "reset":
            s.sendall(stream[:rng.randrange(1, len(stream) - 1)])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            return True
        elif kind == "bitflip":
            b = bytearray(stream)
            for _ in range(4):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
            s.sendall(bytes(b))
        images, error, closed = read_response(s, time.time() + 30)
        return kind == "bitflip" or (error is not None and closed)
    except (ConnectionResetError, BrokenPipeError):
        return True  # the server dropped it first: fine
    finally:
        s.close()


def soak(binary, stream, ref, tmp):
    rounds = int(os.environ.get("SOAK_ROUNDS", "3"))
    n_good, n_bad = 30, 15
    kinds = ["garbage", "huge_text", "huge_acq", "truncated", "stall", "reset", "bitflip"]
    total = rounds * (n_good + n_bad * len(kinds)) + 3
    # Short timeouts, so that the stalled clients are dropped within a round (8 s: still long
    # enough that a good client is not dropped on a loaded machine). The server serves exactly
    # `total` connections and then exits by itself: its exit status then also carries
    # LeakSanitizer's verdict in the sanitizer build.
    p, port = start_server(binary, tmp, "soak", ["--timeout", "8", "--message-timeout", "8",
                                                 "--workers", "2", "--max-connections",
                                                 str(total)])
    failures = []
    lock = threading.Lock()
    try:
        def run(job_list, seed):
            r = random.Random(seed)
            for kind in job_list:
                if kind == "good":
                    images, error, closed, _t = good_client(port, stream)
                    ok = closed and error is None and images == ref
                    why = f"closed {closed}, error {error}, {len(images)} images"
                else:
                    ok = bad_client(port, stream, kind, r)
                    why = ""
                if not ok:
                    with lock:
                        failures.append(f"{kind} {why}")

        def round_of(seed):
            jobs = ["good"] * n_good + [k for k in kinds for _ in range(n_bad)]
            random.Random(seed).shuffle(jobs)
            threads = [threading.Thread(target=run, args=(jobs[i::8], seed + i))
                       for i in range(8)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(9)  # let the stalled ones time out
            return len(jobs)

        # rounds of the same traffic: after the first (FFT plans, worker pipelines, allocator
        # arenas) neither descriptors nor memory may keep growing
        rss = []
        fds = []
        for k in range(rounds):
            t0 = time.time()
            n = round_of(10 * k)
            rss.append(rss_kib(p.pid))
            fds.append(fd_count(p.pid))
            print(f"round {k}: {n} connections in {time.time() - t0:.1f} s, RSS {rss[-1]} KiB, "
                  f"{fds[-1]} fds, failures so far {failures}")
        assert max(fds) == fds[0], f"file descriptors left open between rounds: {fds}"
        # (a leak would grow every round; allocator arenas settle after the first)
        assert rss[-1] <= rss[min(1, rounds - 1)] + 16 * 1024, f"memory grew: {rss} KiB"
        for _ in range(3):
            images, error, closed, _t = good_client(port, stream)
            assert closed and error is None and images == ref, \
                f"a good client after the rounds: closed {closed}, error {error}, " \
                f"{len(images)} images, equal {images == ref}"
        assert not failures, f"clients failed: {failures}"
        rc = p.wait(60)  # all `total` served: the server exits
        print(f"{total} connections; the server exited with {rc}")
        assert rc == 0, f"the server exited with {rc} (see {tmp}/soak.log)"
    finally:
        stop_server(p)


def main():
    binary, src, tmp, what = sys.argv[1:5]
    os.makedirs(tmp, exist_ok=True)
    raw = os.path.join(src, "tests", "data", "pipeline", "sl96_a2.h5")
    mrd = os.path.join(tmp, "sl96.mrd")
    resp = os.path.join(tmp, "sl96_resp.mrd")
    subprocess.run([binary, "to-stream", "-o", mrd, raw], check=True)
    subprocess.run([binary, "stage", "-q", "-m", "zf", "--input", mrd, "--output", resp],
                   check=True)
    stream = open(mrd, "rb").read()
    with open(resp, "rb") as f:
        ref = parse_file(f.read())
    assert len(ref) == 2, f"reference has {len(ref)} images"
    {"starvation": starvation, "soak": soak}[what](binary, stream, ref, tmp)
    print(f"stage server {what}: ok")


def parse_file(data):
    a, b = socket.socketpair()
    threading.Thread(target=lambda: (a.sendall(data), a.close())).start()
    images, error, closed = read_response(b, time.time() + 10)
    b.close()
    assert closed and error is None
    return images


if __name__ == "__main__":
    main()
