// threads N MB: touches MB megabytes, starts N threads that block, then
// kills its own process, so that all its threads end at once, on every
// CPU (as a node's threads do at a run's SIGKILL), and the one that frees
// the memory last takes a while about it. The recorder must report each
// thread's end.
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t ready;

static void *block(void *arg) {
	(void)arg;
	pthread_barrier_wait(&ready);
	for (;;) pause();
	return NULL;
}

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 8;
	size_t mb = argc > 2 ? (size_t)atoi(argv[2]) : 0;
	if (mb > 0) {
		char *m = malloc(mb << 20);
		if (!m) { perror("malloc"); return 2; }
		memset(m, 1, mb << 20);
	}
	pthread_barrier_init(&ready, NULL, n + 1);
	for (int i = 0; i < n; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, block, NULL) != 0) { perror("pthread_create"); return 2; }
	}
	pthread_barrier_wait(&ready);
	kill(getpid(), SIGKILL);
	return 1;
}
