#define _GNU_SOURCE
// flight: one process sends a known byte stream to another, for the test
// of receives hashed from their sender's bytes (flight.go). Usage:
//   flight tcp|pipe|pair|scm
// Byte i of the stream is pattern(i). Phase 1: the sender writes sends of
// 1, 100, 1000, 3000, 20000 and 30000 bytes, then a byte on a second pipe;
// the receiver waits for that byte, so every send's exit comes before the
// receives, then reads the 54101 bytes in reads of 37 (with a MSG_PEEK of
// 50 first, on sockets). Phase 2: the sender writes 100000 bytes in one
// write while the receiver reads them: more than the tracer keeps. Exits 0
// when the receiver got the stream byte for byte. scm is pair, but first
// the process sends a descriptor over a unix socket (SCM_RIGHTS), after
// which the tracer keeps no sent bytes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned char pattern(long i) { return (unsigned char)(i * 7 + i / 251); }

static void die(const char *m) { perror(m); exit(2); }

static void writeall(int fd, long from, long n) {
	static unsigned char buf[100000];
	for (long i = 0; i < n; i++) buf[i] = pattern(from + i);
	for (long done = 0; done < n;) {
		ssize_t w = write(fd, buf + done, n - done);
		if (w <= 0) die("write");
		done += w;
	}
}

static long readcheck(int fd, long from, long n, int chunk) {
	unsigned char buf[4096];
	for (long got = 0; got < n;) {
		long want = n - got < chunk ? n - got : chunk;
		ssize_t r = read(fd, buf, want);
		if (r <= 0) die("read");
		for (long i = 0; i < r; i++)
			if (buf[i] != pattern(from + got + i)) { fprintf(stderr, "byte %ld differs\n", from + got + i); exit(1); }
		got += r;
	}
	return n;
}

// passfd sends descriptor fd over a new unix socketpair and closes what it
// got back.
static void passfd(int fd) {
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) < 0) die("socketpair");
	char c = 'f', cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET, cm->cmsg_type = SCM_RIGHTS, cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof fd);
	if (sendmsg(sp[0], &m, 0) != 1) die("sendmsg");
	m.msg_controllen = sizeof cbuf;
	if (recvmsg(sp[1], &m, 0) != 1) die("recvmsg");
	int got;
	memcpy(&got, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof got);
	close(got), close(sp[0]), close(sp[1]);
}

int main(int argc, char **argv) {
	if (argc != 2) { fprintf(stderr, "usage: flight tcp|pipe|pair|scm\n"); return 2; }
	int rd, wr, sock = 1, sync[2];
	if (pipe(sync) < 0) die("pipe");
	if (!strcmp(argv[1], "pipe")) {
		int p[2];
		if (pipe(p) < 0) die("pipe");
		rd = p[0], wr = p[1], sock = 0;
	} else if (!strcmp(argv[1], "pair") || !strcmp(argv[1], "scm")) {
		int p[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, p) < 0) die("socketpair");
		rd = p[0], wr = p[1];
		if (!strcmp(argv[1], "scm"))
			passfd(wr);
	} else {
		int l = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		socklen_t al = sizeof a;
		if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0) die("listen");
		if (getsockname(l, (struct sockaddr *)&a, &al) < 0) die("getsockname");
		wr = socket(AF_INET, SOCK_STREAM, 0);
		if (wr < 0 || connect(wr, (struct sockaddr *)&a, sizeof a) < 0) die("connect");
		rd = accept(l, NULL, NULL);
		if (rd < 0) die("accept");
		close(l);
	}
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		close(rd);
		long off = 0, sizes[] = {1, 100, 1000, 3000, 20000, 30000};
		for (int i = 0; i < 6; i++) {
			writeall(wr, off, sizes[i]);
			off += sizes[i];
		}
		if (write(sync[1], "x", 1) != 1) die("sync");
		writeall(wr, off, 100000);
		return 0;
	}
	close(wr);
	char c;
	if (read(sync[0], &c, 1) != 1) die("sync");
	if (sock) {
		unsigned char peek[50];
		if (recv(rd, peek, sizeof peek, MSG_PEEK) != sizeof peek) die("peek");
	}
	long off = readcheck(rd, 0, 54101, 37);
	readcheck(rd, off, 100000, 4096);
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return 1;
	return 0;
}
