#define _GNU_SOURCE
// nbconn: many non-blocking connects racing their accepts, for the tracer
// tests (the Redis replica pattern: connect returns EINPROGRESS, the
// client polls for writability, then writes). Usage:
//   nbconn SERVER CLIENTS THREADS SOCKS [tcp|unix|udp]
// The server (the first process) listens on an ephemeral loopback port (or
// an abstract unix address) and forks CLIENTS client processes; each runs
// THREADS threads (1: its main thread only) and each thread opens SOCKS
// O_NONBLOCK sockets, connects them all (EINPROGRESS for TCP), polls each
// for POLLOUT, checks SO_ERROR, writes 8 bytes unique to the socket (its
// thread id and index) and closes it. SERVER is "accept" (blocking accept,
// then read each connection to EOF) or "epoll" (non-blocking listener on an
// epoll loop, accept4 until EAGAIN, reads on the same loop). With udp the
// server binds a UDP port and receives one datagram (recvfrom with an
// address) from each unbound client socket, which sends it with sendto.
// Exits 0 when every connection was accepted and read whole (every
// datagram received) and every client exited 0.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static struct sockaddr_storage addr;
static socklen_t addrlen;
static int socks, family, stype;

static void die(const char *m) { perror(m); exit(2); }

static void *client(void *arg) {
	(void)arg;
	int fds[256];
	for (int i = 0; i < socks; i++) {
		fds[i] = socket(family, stype | SOCK_NONBLOCK, 0);
		if (fds[i] < 0) die("socket");
		if (stype == SOCK_DGRAM) continue;
		if (connect(fds[i], (struct sockaddr *)&addr, addrlen) < 0 && errno != EINPROGRESS) die("connect");
	}
	for (int i = 0; i < socks; i++) {
		int msg[2] = {gettid(), i};
		if (stype == SOCK_DGRAM) {
			if (sendto(fds[i], msg, 8, 0, (struct sockaddr *)&addr, addrlen) != 8) die("sendto");
			close(fds[i]);
			continue;
		}
		struct pollfd p = {.fd = fds[i], .events = POLLOUT};
		while (poll(&p, 1, 5000) < 0)
			if (errno != EINTR) die("poll");
		int err = 0;
		socklen_t l = sizeof err;
		if (getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &l) < 0 || err != 0) {
			errno = err;
			die("SO_ERROR");
		}
		if (write(fds[i], msg, 8) != 8) die("write");
		close(fds[i]);
	}
	return NULL;
}

// drain reads fd until EOF; it returns the bytes read, or -1 if it would
// block first.
static int drain(int fd, int *got) {
	char buf[64];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r > 0) {
			*got += r;
			continue;
		}
		if (r == 0) return 0;
		if (errno == EINTR) continue;
		if (errno == EAGAIN) return -1;
		die("read");
	}
}

int main(int argc, char **argv) {
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: nbconn accept|epoll CLIENTS THREADS SOCKS [tcp|unix|udp]\n");
		return 2;
	}
	int epoll = strcmp(argv[1], "epoll") == 0;
	int clients = atoi(argv[2]), threads = atoi(argv[3]);
	socks = atoi(argv[4]);
	if (socks < 1 || socks > 256 || threads < 1 || threads > 64 || clients < 1) {
		fprintf(stderr, "nbconn: bad counts\n");
		return 2;
	}
	int total = clients * threads * socks;
	const char *fam = argc == 6 ? argv[5] : "tcp";
	family = strcmp(fam, "unix") == 0 ? AF_UNIX : AF_INET;
	stype = strcmp(fam, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
	if (family == AF_UNIX) {
		struct sockaddr_un *un = (struct sockaddr_un *)&addr;
		un->sun_family = AF_UNIX;
		int n = snprintf(un->sun_path + 1, sizeof un->sun_path - 1, "nbconn-%d", getpid());
		addrlen = offsetof(struct sockaddr_un, sun_path) + 1 + n;
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&addr;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		addrlen = sizeof *in;
	}
	int lfd = socket(family, stype | (epoll ? SOCK_NONBLOCK : 0), 0);
	if (lfd < 0) die("socket");
	if (bind(lfd, (struct sockaddr *)&addr, addrlen) < 0) die("bind");
	if (stype == SOCK_STREAM && listen(lfd, 1024) < 0) die("listen");
	if (getsockname(lfd, (struct sockaddr *)&addr, &addrlen) < 0) die("getsockname");
	for (int c = 0; c < clients; c++) {
		pid_t pid = fork();
		if (pid < 0) die("fork");
		if (pid == 0) {
			close(lfd);
			pthread_t th[64];
			if (threads == 1) {
				client(NULL);
				_exit(0);
			}
			for (int i = 0; i < threads; i++)
				if (pthread_create(&th[i], NULL, client, NULL)) die("pthread_create");
			for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
			_exit(0);
		}
	}
	int got = 0, done = 0;
	if (stype == SOCK_DGRAM) {
		for (; done < total; done++) {
			char buf[64];
			struct sockaddr_storage from;
			socklen_t fl = sizeof from;
			struct pollfd p = {.fd = lfd, .events = POLLIN};
			if (epoll && poll(&p, 1, 5000) == 0) {
				fprintf(stderr, "nbconn: stalled at %d of %d\n", done, total);
				return 1;
			}
			ssize_t r = recvfrom(lfd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
			if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
				done--;
				continue;
			}
			if (r < 0) die("recvfrom");
			got += r;
		}
	} else if (!epoll) {
		for (int i = 0; i < total; i++) {
			int c = accept(lfd, NULL, NULL);
			if (c < 0) die("accept");
			drain(c, &got);
			close(c);
			done++;
		}
	} else {
		int ep = epoll_create1(EPOLL_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
		if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");
		while (done < total) {
			struct epoll_event evs[32];
			int n = epoll_wait(ep, evs, 32, 5000);
			if (n < 0 && errno != EINTR) die("epoll_wait");
			if (n == 0) {
				fprintf(stderr, "nbconn: stalled at %d of %d\n", done, total);
				return 1;
			}
			for (int i = 0; i < n; i++) {
				int fd = evs[i].data.fd;
				if (fd == lfd) {
					struct sockaddr_storage ss;
					socklen_t sl;
					for (;;) {
						sl = sizeof ss;
						int c = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
						if (c < 0) {
							if (errno == EAGAIN) break;
							if (errno == EINTR) continue;
							die("accept4");
						}
						struct epoll_event cev = {.events = EPOLLIN, .data.fd = c};
						if (epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev) < 0) die("epoll_ctl");
					}
					continue;
				}
				if (drain(fd, &got) == 0) {
					epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
					close(fd);
					done++;
				}
			}
		}
	}
	int bad = 0;
	for (int c = 0; c < clients; c++) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) bad = 1;
	}
	if (got != 8 * total) {
		fprintf(stderr, "nbconn: read %d bytes, want %d\n", got, 8 * total);
		bad = 1;
	}
	return bad;
}
