// node: tiny system parts for the launch tests.
//   serve PORT     listen on 127.0.0.1:PORT; per connection read 100 bytes,
//                  write them back, close. Runs until killed.
//   client PORT N  N connections, one 100-byte round trip each; exit 0.
//   stubborn PORT  like serve, but ignores SIGTERM and first forks a child
//                  that calls setsid() and sleeps, also ignoring SIGTERM.
//   crash          exit 3 at once.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *m) { perror(m); exit(2); }

static int rw(int fd, char *buf, int n, int wr) {
	int done = 0;
	while (done < n) {
		ssize_t r = wr ? write(fd, buf + done, n - done) : read(fd, buf + done, n - done);
		if (r < 0 && errno == EINTR) continue;
		if (r <= 0) return -1;
		done += r;
	}
	return 0;
}

static struct sockaddr_in addr(int port) {
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sin;
}

static void serve(int port) {
	struct sockaddr_in sin = addr(port);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(l, (struct sockaddr *)&sin, sizeof sin) < 0) die("bind");
	if (listen(l, 16) < 0) die("listen");
	for (;;) {
		int a = accept(l, NULL, NULL);
		if (a < 0) { if (errno == EINTR) continue; die("accept"); }
		char buf[100];
		if (rw(a, buf, 100, 0) == 0) rw(a, buf, 100, 1);
		close(a);
	}
}

int main(int argc, char **argv) {
	if (argc < 2) return 2;
	if (!strcmp(argv[1], "serve")) serve(atoi(argv[2]));
	if (!strcmp(argv[1], "stubborn")) {
		signal(SIGTERM, SIG_IGN);
		if (fork() == 0) {
			setsid();
			for (;;) pause();
		}
		serve(atoi(argv[2]));
	}
	if (!strcmp(argv[1], "crash")) return 3;
	if (!strcmp(argv[1], "client")) {
		int port = atoi(argv[2]), n = atoi(argv[3]);
		for (int i = 0; i < n; i++) {
			struct sockaddr_in sin = addr(port);
			int c = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(c, (struct sockaddr *)&sin, sizeof sin) < 0) die("connect");
			char buf[100];
			memset(buf, 'c', sizeof buf);
			if (rw(c, buf, 100, 1) || rw(c, buf, 100, 0)) return 1;
			close(c);
		}
		return 0;
	}
	return 2;
}
