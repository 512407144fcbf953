// pingpong: the workloads of scripts/bench. A server process and a client
// process exchange lockstep round trips of 100 bytes over loopback TCP.
//
//   pingpong w1 N   one client connection, N round trips
//   pingpong w2 N   four client threads, each with its own connection and
//                   N/4 round trips (the server answers each on a thread)
//   pingpong w3 N   as w1, plus 25 other system calls (getppid) by the
//                   client per round trip: calls a tracer should not stop at
//   pingpong w4 N   no network: N records of 100 bytes appended to a log,
//                   each made durable with fdatasync before the next (a
//                   write-ahead log), in $PAIN_RUN_DIR (a folder pain-trace
//                   follows) or else a new temporary folder
//
// Exit status 0 when every reply came back whole, 2 on any error.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MSG 100
#define MAXCONN 4

static void die(const char *m) { perror(m); exit(2); }

static int readfull(int fd, char *p, size_t n) {
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		p += r; n -= r;
	}
	return 0;
}

static void writefull(int fd, const char *p, size_t n) {
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0) die("write");
		p += w; n -= w;
	}
}

static void nodelay(int fd) {
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void *serve(void *arg) {
	int fd = (int)(long)arg;
	char buf[MSG];
	while (readfull(fd, buf, MSG) == 0)
		writefull(fd, buf, MSG);
	close(fd);
	return NULL;
}

struct client { struct sockaddr_in addr; long rounds; int extra; };

static void *client(void *arg) {
	struct client *c = arg;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0) die("socket");
	if (connect(fd, (struct sockaddr *)&c->addr, sizeof c->addr) < 0) die("connect");
	nodelay(fd);
	char buf[MSG], got[MSG];
	memset(buf, 'p', MSG);
	for (long i = 0; i < c->rounds; i++) {
		buf[i % MSG] = (char)i;
		writefull(fd, buf, MSG);
		if (readfull(fd, got, MSG) < 0 || memcmp(buf, got, MSG) != 0) {
			fprintf(stderr, "pingpong: bad reply at round %ld\n", i);
			exit(2);
		}
		for (int k = 0; k < c->extra; k++)
			syscall(SYS_getppid);
	}
	close(fd);
	return NULL;
}

// wal appends n records to a log, syncing each, and removes the log.
static int wal(long n) {
	char tmp[] = "/tmp/pingpong-XXXXXX", path[4096];
	const char *dir = getenv("PAIN_RUN_DIR");
	int own = dir == NULL || *dir == 0;
	if (own && (dir = mkdtemp(tmp)) == NULL) die("mkdtemp");
	snprintf(path, sizeof path, "%s/w4.log", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC, 0644);
	if (fd < 0) die("open");
	char rec[MSG];
	memset(rec, 'r', MSG - 1);
	rec[MSG - 1] = '\n';
	for (long i = 0; i < n; i++) {
		if (write(fd, rec, MSG) != MSG) die("write");
		if (fdatasync(fd) < 0) die("fdatasync");
	}
	if (close(fd) < 0 || unlink(path) < 0) die("close");
	if (own && rmdir(dir) < 0) die("rmdir");
	return 0;
}

int main(int argc, char **argv) {
	if (argc != 3 || (strcmp(argv[1], "w1") && strcmp(argv[1], "w2") && strcmp(argv[1], "w3") && strcmp(argv[1], "w4"))) {
		fprintf(stderr, "usage: pingpong w1|w2|w3|w4 ROUNDS\n");
		return 2;
	}
	long rounds = atol(argv[2]);
	if (strcmp(argv[1], "w4") == 0) return wal(rounds);
	int conns = strcmp(argv[1], "w2") == 0 ? MAXCONN : 1;
	int extra = strcmp(argv[1], "w3") == 0 ? 25 : 0;

	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof addr;
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0) die("socket");
	if (bind(l, (struct sockaddr *)&addr, al) < 0) die("bind");
	if (listen(l, MAXCONN) < 0) die("listen");
	if (getsockname(l, (struct sockaddr *)&addr, &al) < 0) die("getsockname");

	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) {
		pthread_t th[MAXCONN];
		for (int i = 0; i < conns; i++) {
			int fd = accept(l, NULL, NULL);
			if (fd < 0) die("accept");
			nodelay(fd);
			if (pthread_create(&th[i], NULL, serve, (void *)(long)fd)) die("pthread_create");
		}
		for (int i = 0; i < conns; i++) pthread_join(th[i], NULL);
		_exit(0);
	}
	close(l);
	struct client c = {.addr = addr, .rounds = rounds / conns, .extra = extra};
	pthread_t th[MAXCONN];
	for (int i = 0; i < conns; i++)
		if (pthread_create(&th[i], NULL, client, &c)) die("pthread_create");
	for (int i = 0; i < conns; i++) pthread_join(th[i], NULL);
	int st;
	if (waitpid(pid, &st, 0) < 0) die("waitpid");
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 2;
}
