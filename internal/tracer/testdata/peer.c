// peer: tiny tracee for the tracer tests. Each mode exchanges a known number
// of bytes between a parent and a forked child:
//   tcp, tcp6, unix: the child connects, writes 10 messages of 100..1000 bytes
//     (5500 bytes), shuts down writing and reads the reply; the parent reads
//     to end of file and replies with 7 bytes.
//   udp: the child sends 5 datagrams of 10..50 bytes; the parent replies to
//     each with 3 bytes.
//   pipe: the child writes 3000 bytes in 3 writes; the parent reads to EOF.
//   pingpong tcp|unix N: N lockstep round trips of 100 bytes.
//   chain N: fork and exec "peer chain N-1" until N is 0, then do
//     "pingpong tcp 3".
//   refused: connect to a port nobody listens on (for fault tests, the
//     listener exists but the hook fails the connect); exits 3 on failure.
//   redial tcp|unix N: N connects refused by a bound socket that does not
//     listen yet (each on a socket of its own, closed after), then it
//     listens, and one connect that it accepts carries 5 bytes.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *m) { perror(m); exit(2); }

static long readall(int fd) {
	char buf[4096];
	long total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) { if (errno == EINTR) continue; die("read"); }
		if (n == 0) return total;
		total += n;
	}
}

static void writeall(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) { if (errno == EINTR) continue; die("write"); }
		p += w; n -= w;
	}
}

static int waitchild(pid_t pid) {
	int st;
	if (waitpid(pid, &st, 0) < 0) die("waitpid");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

// loopback fills ss with a loopback address of family to bind (port 0),
// for AF_UNIX the path /tmp/pain-NAME-PID.sock, removed first, and returns
// its length.
static socklen_t loopback(int family, struct sockaddr_storage *ss, const char *name) {
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof *sin;
	}
	if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		return sizeof *sin6;
	}
	struct sockaddr_un *sun = (struct sockaddr_un *)ss;
	sun->sun_family = AF_UNIX;
	snprintf(sun->sun_path, sizeof sun->sun_path, "/tmp/pain-%s-%d.sock", name, getpid());
	unlink(sun->sun_path);
	return sizeof *sun;
}

static int stream(int family) {
	struct sockaddr_storage ss;
	int l = socket(family, SOCK_STREAM, 0);
	if (l < 0) die("socket");
	socklen_t sl = loopback(family, &ss, "peer");
	if (bind(l, (struct sockaddr *)&ss, sl) < 0) die("bind");
	if (listen(l, 8) < 0) die("listen");
	sl = sizeof ss;
	getsockname(l, (struct sockaddr *)&ss, &sl);
	pid_t pid = fork();
	if (pid == 0) {
		close(l);
		int c = socket(family, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&ss, sl) < 0) die("connect");
		char buf[1000];
		memset(buf, 'x', sizeof buf);
		for (int i = 1; i <= 10; i++) writeall(c, buf, 100 * i);
		shutdown(c, SHUT_WR);
		long got = readall(c);
		close(c);
		_exit(got == 7 ? 0 : 1);
	}
	int a = accept(l, NULL, NULL);
	if (a < 0) die("accept");
	long got = readall(a);
	writeall(a, "receivd", 7);
	close(a);
	close(l);
	if (family == AF_UNIX) unlink(((struct sockaddr_un *)&ss)->sun_path);
	int rc = waitchild(pid);
	return got == 5500 ? rc : 1;
}

static int udp(void) {
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(s, (struct sockaddr *)&sin, sl) < 0) die("bind");
	getsockname(s, (struct sockaddr *)&sin, &sl);
	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(AF_INET, SOCK_DGRAM, 0);
		char buf[64];
		memset(buf, 'y', sizeof buf);
		for (int i = 1; i <= 5; i++) {
			if (sendto(c, buf, 10 * i, 0, (struct sockaddr *)&sin, sl) < 0) die("sendto");
			if (recvfrom(c, buf, sizeof buf, 0, NULL, NULL) != 3) _exit(1);
		}
		_exit(0);
	}
	for (int i = 1; i <= 5; i++) {
		char buf[64];
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n != 10 * i) return 1;
		sendto(s, "ack", 3, 0, (struct sockaddr *)&from, fl);
	}
	return waitchild(pid);
}

static int piped(void) {
	int p[2];
	if (pipe(p) < 0) die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		char buf[1000];
		memset(buf, 'z', sizeof buf);
		for (int i = 0; i < 3; i++) writeall(p[1], buf, sizeof buf);
		_exit(0);
	}
	close(p[1]);
	long got = readall(p[0]);
	int rc = waitchild(pid);
	return got == 3000 ? rc : 1;
}

// readn reads n bytes; it returns 0 at an early end of file.
static int readn(int fd, char *p, size_t n) {
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0) { if (errno == EINTR) continue; die("read"); }
		if (r == 0) { fprintf(stderr, "peer: early EOF\n"); return 0; }
		p += r; n -= r;
	}
	return 1;
}

// pingpong: n lockstep round trips of 100 bytes each way, so every run
// makes exactly the same calls.
static int pingpong(int family, int n) {
	int sv[2];
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof ss);
	int l = socket(family, SOCK_STREAM, 0);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sl = sizeof *sin;
	} else if (family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_loopback;
		sl = sizeof *sin6;
	} else {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;
		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof sun->sun_path, "/tmp/pain-pp-%d.sock", getpid());
		unlink(sun->sun_path);
		sl = sizeof *sun;
	}
	if (bind(l, (struct sockaddr *)&ss, sl) < 0) die("bind");
	if (listen(l, 8) < 0) die("listen");
	sl = sizeof ss;
	getsockname(l, (struct sockaddr *)&ss, &sl);
	(void)sv;
	char buf[100];
	memset(buf, 'p', sizeof buf);
	pid_t pid = fork();
	if (pid == 0) {
		close(l);
		int c = socket(family, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&ss, sl) < 0) die("connect");
		for (int i = 0; i < n; i++) {
			writeall(c, buf, sizeof buf);
			if (!readn(c, buf, sizeof buf)) _exit(1);
		}
		close(c);
		_exit(0);
	}
	int a = accept(l, NULL, NULL);
	for (int i = 0; i < n; i++) {
		// At an early end of file the server still waits for its client,
		// so the client's last call ends on its own, not in the stop of a
		// run whose first process has gone.
		if (!readn(a, buf, sizeof buf)) {
			waitchild(pid);
			return 1;
		}
		writeall(a, buf, sizeof buf);
	}
	close(a);
	close(l);
	if (family == AF_UNIX) unlink(((struct sockaddr_un *)&ss)->sun_path);
	return waitchild(pid);
}

// misc: the other ways to move bytes. A socketpair carries writev (60
// bytes), sendmsg (10) and a write through a dup2'd descriptor (7): 77
// bytes, read with readv and recvmsg. Then 100 bytes written to a pipe are
// spliced into a second socketpair, followed by 50 bytes sendfile'd from a
// regular file: 150 bytes read at the other end.
static int misc(void) {
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) die("socketpair");
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		char a[10], b[20], c[30];
		memset(a, 'a', 10); memset(b, 'b', 20); memset(c, 'c', 30);
		struct iovec iov[3] = {{a, 10}, {b, 20}, {c, 30}};
		if (writev(sv[1], iov, 3) != 60) _exit(1);
		struct iovec miov[2] = {{a, 5}, {b, 5}};
		struct msghdr m = {.msg_iov = miov, .msg_iovlen = 2};
		if (sendmsg(sv[1], &m, 0) != 10) _exit(1);
		if (dup2(sv[1], 10) != 10) _exit(1);
		close(sv[1]);
		if (write(10, "dupdup!", 7) != 7) _exit(1);
		_exit(0);
	}
	close(sv[1]);
	long got = 0;
	for (int i = 0;; i++) {
		char x[16], y[16];
		ssize_t n;
		if (i % 2 == 0) {
			struct iovec iov[2] = {{x, sizeof x}, {y, sizeof y}};
			n = readv(sv[0], iov, 2);
		} else {
			struct iovec iov[1] = {{x, sizeof x}};
			struct msghdr m = {.msg_iov = iov, .msg_iovlen = 1};
			n = recvmsg(sv[0], &m, 0);
		}
		if (n < 0) die("read");
		if (n == 0) break;
		got += n;
	}
	if (waitchild(pid) != 0 || got != 77) return 1;

	int p[2], s2[2];
	if (pipe2(p, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, s2) < 0) die("pipe");
	char buf[100];
	memset(buf, 'p', sizeof buf);
	writeall(p[1], buf, sizeof buf);
	long moved = 0;
	while (moved < 100) {
		ssize_t n = splice(p[0], NULL, s2[0], NULL, 100 - moved, 0);
		if (n <= 0) die("splice");
		moved += n;
	}
	char path[] = "/tmp/pain-misc-XXXXXX";
	int f = mkstemp(path);
	unlink(path);
	writeall(f, buf, 50);
	off_t off = 0;
	if (sendfile(s2[0], f, &off, 50) != 50) die("sendfile");
	close(s2[0]);
	got = 0;
	for (;;) {
		ssize_t n = read(s2[1], buf, sizeof buf);
		if (n <= 0) break;
		got += n;
	}
	return got == 150 ? 0 : 1;
}

static int refused(void) {
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	bind(l, (struct sockaddr *)&sin, sl);
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&sin, &sl);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sin, sl) < 0) {
		printf("connect: %s\n", strerror(errno));
		return errno == ECONNREFUSED ? 3 : 2;
	}
	return 0;
}

static int redial(int family, int n) {
	struct sockaddr_storage ss;
	socklen_t sl = loopback(family, &ss, "redial");
	int l = socket(family, SOCK_STREAM, 0);
	if (l < 0) die("socket");
	if (bind(l, (struct sockaddr *)&ss, sl) < 0) die("bind");
	sl = sizeof ss;
	getsockname(l, (struct sockaddr *)&ss, &sl);
	for (int i = 0; i < n; i++) {
		int c = socket(family, SOCK_STREAM, 0);
		if (connect(c, (struct sockaddr *)&ss, sl) == 0 || errno != ECONNREFUSED) {
			fprintf(stderr, "peer: connect %d not refused\n", i);
			return 2;
		}
		close(c);
	}
	if (listen(l, 8) < 0) die("listen");
	int c = socket(family, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&ss, sl) < 0) die("connect");
	writeall(c, "hello", 5);
	int a = accept(l, NULL, NULL);
	if (a < 0) die("accept");
	char buf[5];
	int ok = readn(a, buf, sizeof buf);
	close(a);
	close(c);
	close(l);
	if (family == AF_UNIX) unlink(((struct sockaddr_un *)&ss)->sun_path);
	return ok ? 0 : 1;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc < 2) { fprintf(stderr, "usage: peer tcp|unix|udp|pipe|chain N|refused|redial tcp|unix N\n"); return 2; }
	const char *m = argv[1];
	if (!strcmp(m, "tcp")) return stream(AF_INET);
	if (!strcmp(m, "tcp6")) return stream(AF_INET6);
	if (!strcmp(m, "unix")) return stream(AF_UNIX);
	if (!strcmp(m, "udp")) return udp();
	if (!strcmp(m, "pipe")) return piped();
	if (!strcmp(m, "refused")) return refused();
	if (!strcmp(m, "redial") && argc > 3)
		return redial(!strcmp(argv[2], "unix") ? AF_UNIX : AF_INET, atoi(argv[3]));
	if (!strcmp(m, "misc")) return misc();
	if (!strcmp(m, "pingpong")) {
		int fam = argc > 2 && !strcmp(argv[2], "unix") ? AF_UNIX : AF_INET;
		return pingpong(fam, argc > 3 ? atoi(argv[3]) : 5);
	}
	if (!strcmp(m, "chain")) {
		int n = argc > 2 ? atoi(argv[2]) : 0;
		if (n <= 0) return pingpong(AF_INET, 3);
		pid_t pid = fork();
		if (pid == 0) {
			char nb[16];
			snprintf(nb, sizeof nb, "%d", n - 1);
			char self[4096];
			ssize_t l = readlink("/proc/self/exe", self, sizeof self - 1);
			if (l < 0) die("readlink");
			self[l] = 0;
			execl(self, argv[0], "chain", nb, (char *)NULL);
			die("exec");
		}
		return waitchild(pid);
	}
	fprintf(stderr, "peer: unknown mode %s\n", m);
	return 2;
}
