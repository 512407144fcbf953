// udpreuse: a UDP sender's port taken over by a newer socket while the
// old one's datagram is still queued at the receiver, for the tracer
// tests. One thread: the receiver binds a loopback port; socket a binds
// another, sends "aaaaaaaa" and closes; socket b binds the same port,
// sends "bbbbbbbb"; then the receiver reads both, with their source
// address (127.0.0.1 and the one port). Exits 0 when both arrived.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char *m) { perror(m); exit(2); }

static int bound(struct sockaddr_in *in) {
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) die("socket");
	socklen_t l = sizeof *in;
	if (bind(fd, (struct sockaddr *)in, l) < 0) die("bind");
	if (getsockname(fd, (struct sockaddr *)in, &l) < 0) die("getsockname");
	return fd;
}

int main(void) {
	struct sockaddr_in srv = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int r = bound(&srv);
	struct sockaddr_in from = srv;
	from.sin_port = 0;
	int a = bound(&from);
	if (sendto(a, "aaaaaaaa", 8, 0, (struct sockaddr *)&srv, sizeof srv) != 8) die("sendto a");
	close(a);
	int b = bound(&from); // the port a had
	if (sendto(b, "bbbbbbbb", 8, 0, (struct sockaddr *)&srv, sizeof srv) != 8) die("sendto b");
	for (int i = 0; i < 2; i++) {
		char buf[16];
		struct sockaddr_in src;
		socklen_t l = sizeof src;
		if (recvfrom(r, buf, sizeof buf, 0, (struct sockaddr *)&src, &l) != 8) die("recvfrom");
		if (src.sin_port != from.sin_port) {
			fprintf(stderr, "udpreuse: datagram from another port\n");
			return 1;
		}
	}
	close(b);
	close(r);
	return 0;
}
