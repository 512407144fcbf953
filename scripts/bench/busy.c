// busy: a mostly non-network workload for the trace-overhead benchmark:
// N iterations of getpid() and, every 100th, a 4 KiB write and read of a
// temporary file; then a little network (peer-style TCP ping-pong of 100
// round trips between two processes).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 200000;
	char path[] = "/tmp/pain-busy-XXXXXX";
	int fd = mkstemp(path);
	unlink(path);
	char buf[4096];
	memset(buf, 'b', sizeof buf);
	long sum = 0;
	for (long i = 0; i < n; i++) {
		sum += getpid();
		if (i % 100 == 0) {
			pwrite(fd, buf, sizeof buf, 0);
			lseek(fd, 0, SEEK_SET);
			if (read(fd, buf, sizeof buf) != sizeof buf) return 1;
		}
	}
	close(fd);
	struct sockaddr_in sin;
	socklen_t sl = sizeof sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	bind(l, (struct sockaddr *)&sin, sl);
	listen(l, 1);
	getsockname(l, (struct sockaddr *)&sin, &sl);
	if (fork() == 0) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		connect(c, (struct sockaddr *)&sin, sl);
		for (int i = 0; i < 100; i++) {
			write(c, buf, 64);
			read(c, buf, 64);
		}
		_exit(0);
	}
	int a = accept(l, NULL, NULL);
	for (int i = 0; i < 100; i++) {
		read(a, buf, 64);
		write(a, buf, 64);
	}
	wait(NULL);
	return sum == 0;
}
