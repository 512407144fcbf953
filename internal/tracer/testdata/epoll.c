#define _GNU_SOURCE
// epoll: a multithreaded epoll echo server and forked clients, for the
// tracer tests. Usage: epoll THREADS CLIENTS ROUNDS. Each client connects
// and does ROUNDS round trips of 50 bytes; each server thread has its own
// epoll set sharing the listener (EPOLLEXCLUSIVE), accepts, and echoes what
// it reads. Exits 0 when every client got all its bytes back.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static int lfd, nclients;
static atomic_int closed;

static void die(const char *m) { perror(m); exit(2); }

static void *worker(void *arg) {
	(void)arg;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = lfd};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");
	while (atomic_load(&closed) < nclients) {
		struct epoll_event evs[16];
		int n = epoll_wait(ep, evs, 16, 50);
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == lfd) {
				int c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (c < 0) continue; // another thread took it
				struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
				epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
				continue;
			}
			char buf[4096];
			ssize_t r = read(fd, buf, sizeof buf);
			if (r > 0) {
				ssize_t off = 0;
				while (off < r) {
					ssize_t w = write(fd, buf + off, r - off);
					if (w < 0 && errno == EAGAIN) continue;
					if (w < 0) die("write");
					off += w;
				}
			} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				close(fd);
				atomic_fetch_add(&closed, 1);
			}
		}
	}
	close(ep);
	return NULL;
}

int main(int argc, char **argv) {
	if (argc < 4) { fprintf(stderr, "usage: epoll THREADS CLIENTS ROUNDS\n"); return 2; }
	int nthreads = atoi(argv[1]), rounds = atoi(argv[3]);
	nclients = atoi(argv[2]);
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (bind(lfd, (struct sockaddr *)&sin, sl) < 0) die("bind");
	if (listen(lfd, 64) < 0) die("listen");
	getsockname(lfd, (struct sockaddr *)&sin, &sl);
	pid_t pids[64];
	for (int i = 0; i < nclients; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			close(lfd);
			int c = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(c, (struct sockaddr *)&sin, sl) < 0) die("connect");
			char buf[50];
			memset(buf, 'a' + i, sizeof buf);
			for (int r = 0; r < rounds; r++) {
				if (write(c, buf, sizeof buf) != sizeof buf) _exit(1);
				int got = 0;
				while (got < (int)sizeof buf) {
					ssize_t n = read(c, buf + got, sizeof buf - got);
					if (n <= 0) _exit(1);
					got += n;
				}
			}
			close(c);
			_exit(0);
		}
	}
	pthread_t th[16];
	for (int i = 0; i < nthreads; i++) pthread_create(&th[i], NULL, worker, NULL);
	int rc = 0;
	for (int i = 0; i < nclients; i++) {
		int st;
		waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) rc = 1;
	}
	for (int i = 0; i < nthreads; i++) pthread_join(th[i], NULL);
	return rc;
}
