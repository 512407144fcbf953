import os, socket
# A pipe written by one process and spliced into a socket by another; a
# socket written by one process and sendfile'd into a pipe by another.
p_r, p_w = os.pipe()
s0, s1 = socket.socketpair()
u0, u1 = socket.socketpair()
q_r, q_w = os.pipe()
if os.fork() == 0:
    os.write(p_w, b"hello")
    os._exit(0)
if os.fork() == 0:
    u0.send(b"world")
    os._exit(0)
os.close(p_w)
n = 0
while n < 5:
    n += os.splice(p_r, s0.fileno(), 5 - n)
n = 0
while n < 5:
    n += os.sendfile(q_w, u1.fileno(), None, 5 - n)
os.wait(); os.wait()
assert s1.recv(5) == b"hello"
assert os.read(q_r, 5) == b"world"
