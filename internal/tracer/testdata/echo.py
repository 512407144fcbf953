# echo.py: a threaded Python echo server and a forked client doing 5 round
# trips of 100 bytes, for the tracer tests.
import socket, threading, os
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
port = l.getsockname()[1]
def serve():
    c, _ = l.accept()
    while True:
        b = c.recv(100)
        if not b: break
        c.sendall(b)
    c.close()
t = threading.Thread(target=serve); t.start()
pid = os.fork()
if pid == 0:
    s = socket.create_connection(("127.0.0.1", port))
    for i in range(5):
        s.sendall(b"x" * 100); assert len(s.recv(100)) == 100
    s.close(); os._exit(0)
os.waitpid(pid, 0); t.join(); print("ok")
