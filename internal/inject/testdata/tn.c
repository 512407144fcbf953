// tn: tiny test node for the injection tests. Every line it prints on stdout
// is something a test checks. Messages are 100 bytes, "<name> <i>" padded
// with dots. Servers print "ready" once they listen (or are bound).
//
//   recv PORT K          accept K TCP connections one after the other (or
//                        until 30s pass with nothing to accept); for each,
//                        read 100-byte messages to the end and print
//                        "from <name>: <n> <how it ended>".
//   send NAME N PORT...  connect to each port ("connect PORT: ERRNO" on
//                        failure), then N rounds of one message to each
//                        connected port, and print "to PORT: <sent> of N
//                        <ok|ERRNO of the first failed write>".
//   urecv PORT           receive datagrams until SIGTERM, then those queued;
//                        print "got <n>: <i> <i> ...".
//   usend NAME N PORT... send N datagrams with sendto to each port; print
//                        "sent <n> ok" when every sendto reported the full
//                        length.
//   quiet NAME PORT      connect, write 2 messages, connect again, write a
//                        message on each connection; print "connect2 ok"
//                        (or its ERRNO) and "wrote <n> ok" (or the ERRNO of
//                        the first failed write). For a silent partition
//                        starting at the 2nd write.
//   serve PORT           forever: accept, read one message, reply "ok".
//   ping NAME N PORT     N pings (connect, message, wait for "ok"), each
//                        retried for up to 5s; print "pings <n> ok".
//   threads              main.1 writes one message to a pipe, main.2 ten,
//                        50ms apart; main reads both pipes to the end.
//   prefork PORT K       listen, fork K workers that serve as serve does,
//                        and wait for them.
//   relay PORT FPORT N   connect twice to FPORT (a heartbeat's connection, then
//                        the data's) and send a beat on the first, answered
//                        "ok"; then listen on PORT and serve N pings as serve
//                        does, each after a beat and with the ping's message
//                        forwarded on the data connection (and echoed back);
//                        print "relayed <n>" (messages echoed).
//   follow PORT          accept two connections and answer every message read
//                        on them, "ok" to a beat, the message itself to any
//                        other, until both end.
//   disk DIR [mmap]      file calls under DIR (see do_disk), a line for
//                        each that fails or writes short, then "done";
//                        with mmap, a shared writable mapping of the log
//                        before the last call.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 100

static void die(const char *m) { perror(m); exit(2); }

static const char *ename(int e) {
	switch (e) {
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EPIPE: return "EPIPE";
	case EIO: return "EIO";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENOTCONN: return "ENOTCONN";
	}
	static char b[32];
	snprintf(b, sizeof b, "E%d", e);
	return b;
}

static struct sockaddr_in addr(int port) {
	struct sockaddr_in a;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

static void msg(char *b, const char *name, int i) {
	memset(b, '.', MSG);
	int n = snprintf(b, MSG, "%s %d", name, i);
	b[n] = '.';
}

// readn reads exactly n bytes; returns n, 0 at end of file, or -errno.
static long readn(int fd, char *b, long n) {
	long got = 0;
	while (got < n) {
		ssize_t r = read(fd, b + got, n - got);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) return -errno;
		if (r == 0) return got ? -EIO : 0;
		got += r;
	}
	return got;
}

static int listener(int port) {
	int l = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1;
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in a = addr(port);
	if (bind(l, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
	if (listen(l, 16) < 0) die("listen");
	printf("ready\n");
	fflush(stdout);
	return l;
}

static int do_recv(int port, int k) {
	int l = listener(port);
	struct timeval tv = {30, 0}; // a bound for a test gone wrong, not a pace: busy CI machines start nodes slowly
	setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	for (int c = 0; c < k; c++) {
		int s = accept(l, NULL, NULL);
		if (s < 0) { printf("accept: %s\n", ename(errno)); break; }
		char b[MSG + 1], name[MSG + 1] = "?";
		int n = 0;
		long r;
		while ((r = readn(s, b, MSG)) == MSG) {
			b[MSG] = 0;
			if (n == 0) sscanf(b, "%100s", name);
			n++;
		}
		printf("from %s: %d %s\n", name, n, r == 0 ? "eof" : ename(-r));
		fflush(stdout);
		close(s);
	}
	return 0;
}

static int do_send(const char *name, int n, int np, char **ports) {
	int fds[16], sent[16], err[16];
	signal(SIGPIPE, SIG_IGN);
	for (int p = 0; p < np; p++) {
		fds[p] = socket(AF_INET, SOCK_STREAM, 0);
		sent[p] = err[p] = 0;
		struct sockaddr_in a = addr(atoi(ports[p]));
		if (connect(fds[p], (struct sockaddr *)&a, sizeof a) < 0) {
			printf("connect %s: %s\n", ports[p], ename(errno));
			close(fds[p]);
			fds[p] = -1;
		}
	}
	char b[MSG];
	for (int i = 0; i < n; i++)
		for (int p = 0; p < np; p++) {
			if (fds[p] < 0 || err[p]) continue;
			msg(b, name, i);
			if (write(fds[p], b, MSG) == MSG) sent[p]++;
			else err[p] = errno ? errno : EIO;
		}
	for (int p = 0; p < np; p++) {
		if (fds[p] < 0) continue;
		printf("to %s: %d of %d %s\n", ports[p], sent[p], n, err[p] ? ename(err[p]) : "ok");
		close(fds[p]);
	}
	return 0;
}

static volatile sig_atomic_t stopped;

static void on_term(int sig) { (void)sig; stopped = 1; }

static int do_urecv(int port) {
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = addr(port);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
	// Datagrams have no end of stream: the test stops the receiver with
	// SIGTERM once its senders are done (their datagrams are queued by
	// then), so no idle timeout has to outlast a busy machine.
	struct sigaction sa = {.sa_handler = on_term}; // no SA_RESTART: recvfrom fails with EINTR
	sigaction(SIGTERM, &sa, NULL);
	printf("ready\n");
	fflush(stdout);
	char b[MSG + 1], got[4096] = "";
	int n = 0;
	for (;;) {
		ssize_t r = recvfrom(s, b, MSG, stopped ? MSG_DONTWAIT : 0, NULL, NULL);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) break; // EAGAIN once stopped and drained
		b[r] = 0;
		char nm[MSG + 1];
		int i;
		if (sscanf(b, "%100s %d", nm, &i) == 2 && strlen(got) < sizeof got - 16)
			snprintf(got + strlen(got), sizeof got - strlen(got), " %d", i);
		n++;
	}
	printf("got %d:%s\n", n, got);
	return 0;
}

static int do_usend(const char *name, int n, int np, char **ports) {
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	char b[MSG];
	int ok = 0;
	for (int i = 0; i < n; i++) {
		msg(b, name, i);
		for (int p = 0; p < np; p++) {
			struct sockaddr_in a = addr(atoi(ports[p]));
			if (sendto(s, b, MSG, 0, (struct sockaddr *)&a, sizeof a) == MSG) ok++;
		}
		usleep(20000);
	}
	printf("sent %d %s\n", ok, ok == n * np ? "ok" : "short");
	return 0;
}

static int do_quiet(const char *name, int port) {
	signal(SIGPIPE, SIG_IGN);
	struct sockaddr_in a = addr(port);
	int c[2];
	char b[MSG];
	int wrote = 0, err = 0;
	c[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c[0], (struct sockaddr *)&a, sizeof a) < 0) { printf("connect1 %s\n", ename(errno)); return 1; }
	for (int i = 0; i < 2 && !err; i++) {
		msg(b, name, i);
		if (write(c[0], b, MSG) == MSG) wrote++;
		else err = errno;
	}
	c[1] = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c[1], (struct sockaddr *)&a, sizeof a) < 0) { printf("connect2 %s\n", ename(errno)); return 1; }
	printf("connect2 ok\n");
	for (int k = 0; k < 2 && !err; k++) {
		msg(b, name, 2 - k * 2);
		if (write(c[k], b, MSG) == MSG) wrote++;
		else err = errno;
	}
	printf("wrote %d %s\n", wrote, err ? ename(err) : "ok");
	close(c[0]);
	close(c[1]);
	return 0;
}

static int do_serve(int port) {
	int l = listener(port);
	for (;;) { // until killed
		int s = accept(l, NULL, NULL);
		if (s < 0) continue;
		char b[MSG];
		if (readn(s, b, MSG) == MSG) write(s, "ok", 2);
		close(s);
	}
	return 0;
}

static int do_prefork(int port, int k) {
	int l = listener(port);
	for (int i = 0; i < k; i++) {
		pid_t p = fork();
		if (p < 0) die("fork");
		if (p == 0) {
			for (;;) { // until killed
				int s = accept(l, NULL, NULL);
				if (s < 0) continue;
				char b[MSG];
				if (readn(s, b, MSG) == MSG) write(s, "ok", 2);
				close(s);
			}
		}
	}
	while (wait(NULL) > 0 || errno == EINTR) {
	}
	return 0;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int ping1(const char *name, int i, int port) {
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = addr(port);
	char b[MSG];
	msg(b, name, i);
	int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0 && write(s, b, MSG) == MSG &&
		 readn(s, b, 2) == 2 && memcmp(b, "ok", 2) == 0;
	close(s);
	return ok;
}

static int do_ping(const char *name, int n, int port) {
	signal(SIGPIPE, SIG_IGN);
	int ok = 0;
	for (int i = 0; i < n; i++) {
		double end = now() + 5;
		while (!ping1(name, i, port) && now() < end) usleep(20000);
		if (now() >= end) break;
		ok++;
	}
	printf("pings %d %s\n", ok, ok == n ? "ok" : "short");
	return ok == n ? 0 : 1;
}

static int do_relay(int port, int fport, int n) {
	signal(SIGPIPE, SIG_IGN);
	int f[2];
	struct sockaddr_in fa = addr(fport);
	for (int i = 0; i < 2; i++) {
		f[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(f[i], (struct sockaddr *)&fa, sizeof fa) < 0) die("connect");
	}
	char beat[MSG], b[MSG], echo[MSG];
	msg(beat, "beat", 0); // the same bytes every time, as a timer's ping
	write(f[0], beat, MSG);
	readn(f[0], echo, 2);
	int l = listener(port), done = 0;
	for (int i = 0; i < n; i++) {
		int s = accept(l, NULL, NULL);
		if (s < 0) die("accept");
		if (readn(s, b, MSG) == MSG) {
			write(f[0], beat, MSG);
			readn(f[0], echo, 2);
			write(f[1], b, MSG);
			if (readn(f[1], echo, MSG) == MSG) done++;
			write(s, "ok", 2);
		}
		close(s);
	}
	printf("relayed %d\n", done);
	return 0;
}

static int do_follow(int port) {
	int l = listener(port);
	struct pollfd p[2];
	for (int i = 0; i < 2; i++) {
		p[i].fd = accept(l, NULL, NULL);
		if (p[i].fd < 0) die("accept");
		p[i].events = POLLIN;
	}
	for (int open = 2; open > 0;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR) continue;
			die("poll");
		}
		for (int i = 0; i < 2; i++) {
			char b[MSG];
			if (p[i].fd < 0 || !p[i].revents) continue;
			if (readn(p[i].fd, b, MSG) != MSG) {
				close(p[i].fd);
				p[i].fd = -1;
				open--;
			} else if (!strncmp(b, "beat ", 5)) {
				write(p[i].fd, "ok", 2);
			} else {
				write(p[i].fd, b, MSG);
			}
		}
	}
	return 0;
}

static int pipes[2][2];

static void *one(void *arg) {
	char b[MSG];
	msg(b, "one", 0);
	write(pipes[0][1], b, MSG);
	close(pipes[0][1]);
	return NULL;
}

static void *ten(void *arg) {
	char b[MSG];
	for (int i = 0; i < 10; i++) {
		msg(b, "ten", i);
		write(pipes[1][1], b, MSG);
		usleep(50000);
	}
	close(pipes[1][1]);
	return NULL;
}

static int do_threads(void) {
	if (pipe(pipes[0]) < 0 || pipe(pipes[1]) < 0) die("pipe");
	pthread_t t1, t2;
	pthread_create(&t1, NULL, one, NULL);
	pthread_create(&t2, NULL, ten, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	char b[MSG];
	int n[2] = {0, 0};
	for (int p = 0; p < 2; p++)
		while (readn(pipes[p][0], b, MSG) == MSG) n[p]++;
	printf("one %d ten %d\n", n[0], n[1]);
	return 0;
}

// say prints a file call's failure or short write.
static void say(const char *what, ssize_t r, size_t want) {
	if (r < 0) printf("%s: %s\n", what, strerror(errno));
	else if ((size_t)r < want) printf("%s: short %zd of %zu\n", what, r, want);
}

static void put(int fd, const char *what, const char *s) { say(what, write(fd, s, strlen(s)), strlen(s)); }

// do_disk: a durable log append and one that is not, a file made durable
// and then overwritten, grown and cut, renamed without a directory sync,
// a durable file unlinked, a file created and never synced; then a pread
// (where a power loss is aimed).
static int do_disk(const char *dir, int map) {
	char p[4096], q[4096];
	snprintf(p, sizeof p, "%s/d", dir);
	say("mkdir", mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/d/log", dir);
	int log = open(p, O_RDWR | O_CREAT | O_APPEND, 0644);
	put(log, "write log 1", "aaaa");
	say("fdatasync log", fdatasync(log), 0);
	put(log, "write log 2", "bbbbbbbbbbbb");
	snprintf(p, sizeof p, "%s/d/old", dir);
	int old = open(p, O_WRONLY | O_CREAT, 0644);
	put(old, "write old", "old!");
	say("fsync old", fsync(old), 0);
	close(old);
	snprintf(p, sizeof p, "%s/d/data.tmp", dir);
	int data = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
	put(data, "write data", "0123456789");
	say("fsync data", fsync(data), 0);
	say("pwrite data 1", pwrite(data, "XY", 2, 2), 2);
	say("pwrite data 2", pwrite(data, "end", 3, 20), 3);
	say("ftruncate data", ftruncate(data, 15), 0);
	close(data);
	snprintf(q, sizeof q, "%s/d/data", dir);
	say("rename", rename(p, q), 0);
	snprintf(p, sizeof p, "%s/d/old", dir);
	say("unlink", unlink(p), 0);
	snprintf(p, sizeof p, "%s/d/new", dir);
	int nw = open(p, O_WRONLY | O_CREAT, 0644);
	put(nw, "write new", "new");
	if (map && mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, log, 0) == MAP_FAILED) printf("mmap: %s\n", strerror(errno));
	char b[4];
	say("pread log", pread(log, b, 4, 0), 4);
	printf("done\n");
	return 0;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 4 && !strcmp(argv[1], "recv")) return do_recv(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 5 && !strcmp(argv[1], "send")) return do_send(argv[2], atoi(argv[3]), argc - 4, argv + 4);
	if (argc >= 3 && !strcmp(argv[1], "urecv")) return do_urecv(atoi(argv[2]));
	if (argc >= 5 && !strcmp(argv[1], "usend")) return do_usend(argv[2], atoi(argv[3]), argc - 4, argv + 4);
	if (argc >= 4 && !strcmp(argv[1], "quiet")) return do_quiet(argv[2], atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "serve")) return do_serve(atoi(argv[2]));
	if (argc >= 5 && !strcmp(argv[1], "ping")) return do_ping(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc >= 2 && !strcmp(argv[1], "threads")) return do_threads();
	if (argc >= 5 && !strcmp(argv[1], "relay")) return do_relay(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc >= 3 && !strcmp(argv[1], "follow")) return do_follow(atoi(argv[2]));
	if (argc >= 4 && !strcmp(argv[1], "prefork")) return do_prefork(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 3 && !strcmp(argv[1], "disk")) return do_disk(argv[2], argc >= 4 && !strcmp(argv[3], "mmap"));
	fprintf(stderr, "usage: tn recv|send|urecv|usend|quiet|serve|ping|threads|relay|follow|prefork|disk ...\n");
	return 2;
}
