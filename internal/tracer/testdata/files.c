// files DIR: what a store does to its files, under DIR: writes, appends,
// pwrites, fsync and fdatasync, a rename without and one with a sync of
// the directory, ftruncate, reads, an O_SYNC writev, a shared writable
// mapping and io_uring (which the tracer cannot follow: it says so), an
// unlink; and an open outside DIR, which gets no row. Raw system calls
// where libc could pick another one, so the rows are the same everywhere.
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static void check(long r, const char *what) {
	if (r < 0) {
		perror(what);
		exit(1);
	}
}

static int openat_(int dir, const char *p, int flags) {
	int fd = syscall(SYS_openat, dir, p, flags, 0644);
	check(fd, p);
	return fd;
}

int main(int argc, char **argv) {
	if (argc != 2) return 2;
	check(chdir(argv[1]), "chdir");
	check(syscall(SYS_mkdir, "d", 0755), "mkdir");

	int fd = openat_(AT_FDCWD, "d/log", O_WRONLY | O_CREAT | O_APPEND);
	check(write(fd, "aaaa", 4), "write");
	check(write(fd, "bbbbbb", 6), "write");
	check(fdatasync(fd), "fdatasync");
	close(fd);

	fd = openat_(AT_FDCWD, "d/data.tmp", O_RDWR | O_CREAT | O_TRUNC);
	check(write(fd, "0123456789", 10), "write");
	check(pwrite(fd, "hello", 5, 100), "pwrite");
	check(write(fd, "xyz", 3), "write");
	check(ftruncate(fd, 50), "ftruncate");
	check(fsync(fd), "fsync");
	close(fd);
	check(syscall(SYS_rename, "d/data.tmp", "d/data"), "rename"); // no directory sync

	int dir = openat_(AT_FDCWD, "d", O_RDONLY | O_DIRECTORY);
	check(syscall(SYS_renameat, dir, "log", dir, "log.old"), "renameat");
	check(fsync(dir), "fsync dir");

	char b[8];
	fd = openat_(dir, "data", O_RDONLY);
	check(read(fd, b, 8), "read");
	check(pread(fd, b, 4, 2), "pread");
	close(fd);

	fd = openat_(dir, "log.old", O_WRONLY | O_APPEND | O_SYNC);
	struct iovec iov[2] = {{"ccc", 3}, {"dddd", 4}};
	check(writev(fd, iov, 2), "writev");
	close(fd);
	close(dir);

	fd = openat_(AT_FDCWD, "d/data", O_RDWR);
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) check(-1, "mmap");
	munmap(m, 4096);
	close(fd);
	char params[120] = {0};
	int ring = syscall(SYS_io_uring_setup, 1, params); // may be disabled: the call is what counts
	if (ring >= 0) close(ring);

	fd = openat_(AT_FDCWD, "d/log.old", O_WRONLY);
	check(syscall(SYS_fallocate, fd, 0, 4096, 8192), "fallocate");
	check(syscall(SYS_sync_file_range, fd, 0, 17, 2), "sync_file_range"); // SYNC_FILE_RANGE_WRITE
	check(syscall(SYS_syncfs, fd), "syncfs");
	close(fd);
	check(syscall(SYS_link, "d/log.old", "d/log.link"), "link");
	check(syscall(SYS_truncate, "d/log.link", 3), "truncate");
	syscall(SYS_sync);
	check(syscall(SYS_unlink, "d/data"), "unlink");

	fd = openat_(AT_FDCWD, "/proc/self/stat", O_RDONLY); // outside DIR
	check(read(fd, b, 8), "read");
	close(fd);
	return 0;
}
