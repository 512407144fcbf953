//go:build ignore

// SPDX-License-Identifier: GPL-2.0
//
// The kernel half of pain-trace's eBPF recorder: programs on the system call
// tracepoints that report, for the processes of one run, the calls the
// tracer records (the set and its modes come from user space, built from
// internal/sysent), with the user memory the tracer's model reads, the
// local and peer addresses of sockets (through BTF), and FNV-1a 64 hashes
// of the bytes moved, computed here in bounded chunks. Events go through
// one ring buffer; nothing stops.
//
// Build: go generate ./internal/ebpfrec (clang, bpftool, libbpf-dev).

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "GPL";

#define BLOB 128
#define PATH 256
#define CHUNK 256
#define MAX_HASH (64 << 20) /* bytes hashed per call at most, as the ptrace tracer */
#define MAX_IOV 32
#define MAX_MMSG 8
#define MAX_MMSG_IOV 8

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10
#define SOCK_DGRAM 2

/* Event kinds. */
enum { EV_ENTER = 1, EV_EXIT = 2, EV_FORK = 3, EV_EXEC = 4, EV_GONE = 5, EV_HOLD = 6 };

/* Modes of a call (the calls map, indexed by number). */
enum { M_EXIT = 1, M_ENTER = 2 };

/* Event flags. */
enum {
	F_HASH = 1,     /* hash and bytes are set */
	F_PARTIAL = 2,  /* more iovecs or messages than hashed: hash inexact */
	F_LOCAL = 4,    /* local holds the socket's own address */
	F_PEER = 8,     /* peer holds the socket's peer address */
	F_PATH = 16,    /* path holds a string */
	F_HOLD = 32,    /* the call's exit record goes here (see hold) */
};

struct blob {
	__u64 addr;
	__u32 len;
	__u32 _pad;
	__u8 data[BLOB];
};

/* The head of every event; events with blobs or a path are struct event. */
struct head {
	__u64 ts;
	__u64 enter_ts; /* exit events: the entry's time */
	__u32 kind;
	__u32 tgid;
	__u32 tid;
	__u32 nr;
	__u64 args[6];
	__s64 ret;
	__u64 hash;
	__s64 bytes;
	__u32 flags;
	__u32 aux;  /* fork: child tid; exec: former tid; gone: exit code */
	__u32 aux2; /* fork: child tgid */
	__u32 nblob;
	__u8 local[28];
	__u8 peer[28];
};

struct event {
	struct head h;
	struct blob blob[2];
	char path[PATH];
};

struct inflight {
	__u64 args[6];
	__u64 ts;
	__u32 nr;
	__u32 _pad;
};

struct scratch {
	union {
		__u8 b[CHUNK];
		__u64 w[CHUNK / 8];
	};
};

/* The hash maps are allocated whole at load (preallocated: safe in any
 * context): 8192 processes of the run at once, 8192 of its threads inside
 * a recorded call at once, 1.8 MB of kernel memory (65536 each took 14 MB,
 * made and freed by every run). An entry that does not fit counts as a
 * lost record. */
#define MAX_PROCS 8192
#define MAX_CALLS 8192

/* pids: the run's processes, by tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_PROCS);
	__type(key, __u32);
	__type(value, __u8);
} pids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 512);
	__type(key, __u32);
	__type(value, __u8);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CALLS);
	__type(key, __u32);
	__type(value, struct inflight);
} inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} evbuf SEC(".maps");

/* Events the ring buffer had no room for: any is a hole in the trace. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/* Force the event type into BTF for bpf2go. */
const struct event *unused_event __attribute__((unused));

static __always_inline int tracked(__u32 tgid)
{
	return bpf_map_lookup_elem(&pids, &tgid) != 0;
}

static __always_inline __u8 mode(__u32 nr)
{
	__u8 *m = bpf_map_lookup_elem(&calls, &nr);
	return m ? *m : 0;
}

/* Hashing: h continues over [addr, addr+left) in chunks. */
struct hctx {
	__u64 h;
	__u64 addr;
	__u64 left;
	__u64 done;
};

/* Open-coded iterators: the verifier checks the loop's body until it
 * converges, not once per iteration (the byte loop unrolled 256 times
 * cost it 40,000 instructions at every load). */
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

#define FNV_BYTE(h, b) do { (h) ^= (__u8)(b); (h) *= FNV_PRIME; } while (0)

static long hash_chunk(__u32 i, void *data)
{
	struct hctx *c = data;
	__u32 key = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &key);
	if (!s || c->left == 0)
		return 1;
	__u32 n = c->left > CHUNK ? CHUNK : (__u32)c->left;
	if (n > CHUNK)
		return 1;
	if (bpf_probe_read_user(s->b, n, (void *)c->addr))
		return 1;
	__u64 h = c->h;
	struct bpf_iter_num it;
	int *k;
	/* Eight bytes at a time, in memory order (little-endian). */
	bpf_iter_num_new(&it, 0, n / 8);
	while ((k = bpf_iter_num_next(&it))) {
		__u64 v = s->w[*k & (CHUNK / 8 - 1)];
		FNV_BYTE(h, v);
		FNV_BYTE(h, v >> 8);
		FNV_BYTE(h, v >> 16);
		FNV_BYTE(h, v >> 24);
		FNV_BYTE(h, v >> 32);
		FNV_BYTE(h, v >> 40);
		FNV_BYTE(h, v >> 48);
		FNV_BYTE(h, v >> 56);
	}
	bpf_iter_num_destroy(&it);
	bpf_iter_num_new(&it, n & ~7U, n);
	while ((k = bpf_iter_num_next(&it)))
		FNV_BYTE(h, s->b[*k & (CHUNK - 1)]);
	bpf_iter_num_destroy(&it);
	c->h = h;
	c->addr += n;
	c->left -= n;
	c->done += n;
	return 0;
}

/* hash_buf hashes up to len bytes at addr into c (c->left is the budget).
 * Global functions are verified once, whatever their callers. */
__noinline int hash_buf(struct hctx *c, __u64 addr, __u64 len)
{
	if (!c)
		return 0;
	__u64 budget = c->left;
	if (len > budget)
		len = budget;
	if (len == 0)
		return 0;
	/* bpf_loop wants its context on this function's stack. */
	struct hctx l = { .h = c->h, .addr = addr, .left = len, .done = c->done };
	bpf_loop((len + CHUNK - 1) / CHUNK, hash_chunk, &l, 0);
	c->h = l.h;
	c->done = l.done;
	c->left = budget - (len - l.left);
	return 0;
}

struct iovec_u {
	__u64 base;
	__u64 len;
};

/* hash_iov hashes the iovecs at iov (cnt of them, at most max) into c;
 * returns 1 when some bytes were left unhashed for want of iovecs. */
__noinline int hash_iov(struct hctx *c, __u64 iov, __u64 cnt, int max)
{
	if (!c)
		return 0;
	for (int i = 0; i < MAX_IOV; i++) {
		if (i >= max || i >= cnt || c->left == 0)
			break;
		struct iovec_u v;
		if (bpf_probe_read_user(&v, sizeof v, (void *)(iov + 16 * i)))
			return 1;
		hash_buf(c, v.base, v.len);
	}
	return c->left > 0 && cnt > (__u64)max;
}

/* The helpers below that the programs call from several places are global
 * functions: the verifier checks each once, not at every call (it
 * processed 25,969 instructions of sys_exit with them inlined). */

/* payload hashes the bytes the call of e moved. */
__noinline int payload(struct head *e)
{
	if (!e || e->ret <= 0)
		return 0;
	struct hctx c = { .h = FNV_OFFSET, .left = e->ret };
	int partial = 0;
	if (c.left > MAX_HASH)
		c.left = MAX_HASH;
	__u64 a1 = e->args[1], a2 = e->args[2];
	switch (e->nr) {
	case 0: /* read */
	case 1: /* write */
	case 44: /* sendto */
	case 45: /* recvfrom */
		hash_buf(&c, a1, c.left);
		e->bytes = e->ret;
		break;
	case 19: /* readv */
	case 20: /* writev */
		partial = hash_iov(&c, a1, a2, MAX_IOV);
		e->bytes = e->ret;
		break;
	case 46: /* sendmsg */
	case 47: /* recvmsg */ {
		__u64 m[4];
		if (bpf_probe_read_user(m, sizeof m, (void *)a1))
			return 0;
		partial = hash_iov(&c, m[2], m[3], MAX_IOV);
		e->bytes = e->ret;
		break;
	}
	case 299: /* recvmmsg */
	case 307: /* sendmmsg */ {
		__s64 total = 0;
		c.left = MAX_HASH;
		for (int i = 0; i < MAX_MMSG; i++) {
			if (i >= e->ret)
				break;
			__u64 m[8];
			__u64 at = a1 + 64 * i;
			if (bpf_probe_read_user(m, sizeof m, (void *)at))
				break;
			__u32 len = (__u32)m[7]; /* msg_len */
			total += len;
			__u64 budget = c.left;
			if (c.left > len)
				c.left = len;
			__u64 before = c.left;
			partial |= hash_iov(&c, m[2], m[3], MAX_MMSG_IOV);
			c.left = budget - (before - c.left);
		}
		if (e->ret > MAX_MMSG)
			partial = 1;
		e->bytes = total;
		break;
	}
	default:
		return 0;
	}
	e->hash = c.h;
	e->flags |= F_HASH;
	if (partial)
		e->flags |= F_PARTIAL;
	return 0;
}

/* fd_sock returns the socket behind the current task's fd, or 0. */
static __always_inline struct sock *fd_sock(__s64 fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if (fd < 0 || fd >= max)
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	bpf_probe_read_kernel(&f, sizeof f, &fds[fd]);
	if (!f)
		return 0;
	umode_t m = BPF_CORE_READ(f, f_inode, i_mode);
	if ((m & S_IFMT) != S_IFSOCK)
		return 0;
	struct socket *so = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(so, sk);
}

/* sockaddrs writes a socket's local and peer addresses (inet only) as
 * struct sockaddr_in or sockaddr_in6. */
__noinline int sockaddrs(struct head *e, __s64 fd)
{
	struct sock *sk = fd_sock(fd);
	if (!e || !sk)
		return 0;
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 lport = bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
	__u16 pport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	if (fam == AF_INET) {
		__u32 la = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
		__u32 pa = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		__builtin_memset(e->local, 0, sizeof e->local);
		__builtin_memset(e->peer, 0, sizeof e->peer);
		*(__u16 *)&e->local[0] = AF_INET;
		*(__u16 *)&e->local[2] = lport;
		*(__u32 *)&e->local[4] = la;
		*(__u16 *)&e->peer[0] = AF_INET;
		*(__u16 *)&e->peer[2] = pport;
		*(__u32 *)&e->peer[4] = pa;
	} else if (fam == AF_INET6) {
		__builtin_memset(e->local, 0, sizeof e->local);
		__builtin_memset(e->peer, 0, sizeof e->peer);
		*(__u16 *)&e->local[0] = AF_INET6;
		*(__u16 *)&e->local[2] = lport;
		BPF_CORE_READ_INTO(&e->local[8], sk, __sk_common.skc_v6_rcv_saddr);
		*(__u16 *)&e->peer[0] = AF_INET6;
		*(__u16 *)&e->peer[2] = pport;
		BPF_CORE_READ_INTO(&e->peer[8], sk, __sk_common.skc_v6_daddr);
	} else {
		return 0;
	}
	e->flags |= F_LOCAL;
	if (pport)
		e->flags |= F_PEER;
	return 0;
}

/* dgram_sock reports whether fd is a datagram socket. */
__noinline int dgram_sock(__s64 fd)
{
	struct sock *sk = fd_sock(fd);
	return sk && BPF_CORE_READ(sk, sk_type) == SOCK_DGRAM;
}

/* blob copies len bytes (at most BLOB) of user memory at addr. */
__noinline int blob(struct event *e, __u64 addr, __u64 len)
{
	if (!e)
		return 0;
	__u32 i = e->h.nblob;
	if (i >= 2 || addr == 0 || len == 0)
		return 0;
	if (len > BLOB)
		len = BLOB;
	struct blob *b = i == 0 ? &e->blob[0] : &e->blob[1];
	__u32 n = len;
	asm volatile("%0 &= 0xff" : "+r"(n));
	if (n > BLOB)
		return 0;
	if (bpf_probe_read_user(b->data, n, (void *)addr))
		return 0;
	b->addr = addr;
	b->len = len;
	e->h.nblob = i + 1;
	return 0;
}

/* socklen_blob copies a socklen_t at lenp, then as many bytes at addr. */
static __always_inline void socklen_blob(struct event *e, __u64 addr, __u64 lenp)
{
	__u32 l = 0;
	if (addr == 0 || lenp == 0 || bpf_probe_read_user(&l, sizeof l, (void *)lenp))
		return;
	blob(e, lenp, 4);
	blob(e, addr, l);
}

/* msg_blob copies a struct msghdr and its msg_name. */
static __always_inline void msg_blob(struct event *e, __u64 msg)
{
	__u64 m[2];
	if (msg == 0 || bpf_probe_read_user(m, sizeof m, (void *)msg))
		return;
	blob(e, msg, 56);
	blob(e, m[0], (__u32)m[1]);
}

static __always_inline struct event *new_event(__u32 kind)
{
	__u32 key = 0;
	struct event *e = bpf_map_lookup_elem(&evbuf, &key);
	if (!e)
		return 0;
	__u64 pt = bpf_get_current_pid_tgid();
	e->h.ts = bpf_ktime_get_ns();
	e->h.enter_ts = 0;
	e->h.kind = kind;
	e->h.tgid = pt >> 32;
	e->h.tid = (__u32)pt;
	e->h.nr = 0;
	e->h.ret = 0;
	e->h.hash = 0;
	e->h.bytes = 0;
	e->h.flags = 0;
	e->h.aux = 0;
	e->h.aux2 = 0;
	e->h.nblob = 0;
	return e;
}

/* Waking the reader for every record would cost a context switch per
 * call: it polls every few milliseconds instead, and is woken only when
 * records pile up. */
#define WAKE_AT (1 << 20)

static __always_inline void count_lost(void)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&lost, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* send puts e in the ring buffer: whole, its head, or the head without
 * the addresses it does not hold (120 bytes instead of 176: most records
 * are reads and writes). */
static __always_inline void send(struct event *e)
{
	long err;
	__u64 wake = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > WAKE_AT ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
	if (e->h.nblob > 0 || (e->h.flags & F_PATH))
		err = bpf_ringbuf_output(&events, e, sizeof *e, wake);
	else if (e->h.flags & F_LOCAL)
		err = bpf_ringbuf_output(&events, &e->h, sizeof e->h, wake);
	else
		err = bpf_ringbuf_output(&events, &e->h, __builtin_offsetof(struct head, local), wake);
	if (err)
		count_lost();
}

/* hold reports whether other threads may see what call nr does before its
 * exit record is made: a datagram is queued at its receiver, and a TCP
 * connect's handshake done (its accept returned), while the call runs. The
 * ring buffer keeps records in the order they were made, so the receive's
 * record could come first. A record with F_HOLD, made at the entry (before
 * the datagram or the SYN exists), keeps the place of the call's exit
 * record: user space puts that record there (ebpfrec's order.go). */
static __always_inline int hold(__u32 nr, __u64 *a)
{
	switch (nr) {
	case 1: /* write */
	case 20: /* writev */
	case 44: /* sendto */
	case 46: /* sendmsg */
	case 307: /* sendmmsg */
		return dgram_sock(a[0]);
	case 42: { /* connect */
		__u16 fam = 0;
		if (a[2] < 2 || bpf_probe_read_user(&fam, sizeof fam, (void *)a[1]))
			return 0;
		return fam == AF_INET || fam == AF_INET6;
	}
	}
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long id)
{
	/* Every call of every process comes here: the array first, the
	 * most calls are none of the run's. */
	__u32 nr = id;
	__u8 m = mode(nr);
	if (!m)
		return 0;
	__u64 pt = bpf_get_current_pid_tgid();
	__u32 tgid = pt >> 32, tid = (__u32)pt;
	if (!tracked(tgid))
		return 0;
	struct inflight in = { .nr = nr, .ts = bpf_ktime_get_ns() };
	in.args[0] = BPF_CORE_READ(regs, di);
	in.args[1] = BPF_CORE_READ(regs, si);
	in.args[2] = BPF_CORE_READ(regs, dx);
	in.args[3] = BPF_CORE_READ(regs, r10);
	in.args[4] = BPF_CORE_READ(regs, r8);
	in.args[5] = BPF_CORE_READ(regs, r9);
	/* The Go runtime preempting its own threads; fcntl other than dup. */
	if ((nr == 200 && (__u32)in.args[1] == 23) || (nr == 234 && (__u32)in.args[2] == 23))
		return 0;
	if (nr == 72 && (__u32)in.args[1] != 0 && (__u32)in.args[1] != 1030)
		return 0;
	if (bpf_map_update_elem(&inflight, &tid, &in, BPF_ANY)) {
		count_lost(); /* no record of this call */
		return 0;
	}
	int h = hold(nr, in.args);
	if (m != M_ENTER && !h)
		return 0;
	struct event *e = new_event(m == M_ENTER ? EV_ENTER : EV_HOLD);
	if (!e)
		return 0;
	e->h.nr = nr;
	if (h)
		e->h.flags |= F_HOLD;
	for (int i = 0; i < 6; i++)
		e->h.args[i] = in.args[i];
	switch (nr) {
	case 42: /* connect */
		blob(e, in.args[1], in.args[2]);
		break;
	case 435: /* clone3 */
		blob(e, in.args[0], 8);
		break;
	case 59: /* execve */
	case 322: /* execveat */ {
		__u64 p = nr == 59 ? in.args[0] : in.args[1];
		if (bpf_probe_read_user_str(e->path, sizeof e->path, (void *)p) > 0)
			e->h.flags |= F_PATH;
		break;
	}
	}
	send(e);
	return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct inflight *inp = bpf_map_lookup_elem(&inflight, &tid);
	if (!inp)
		return 0;
	struct inflight in = *inp;
	bpf_map_delete_elem(&inflight, &tid);
	struct event *e = new_event(EV_EXIT);
	if (!e)
		return 0;
	e->h.nr = in.nr;
	for (int i = 0; i < 6; i++)
		e->h.args[i] = in.args[i];
	e->h.ret = ret;
	e->h.enter_ts = in.ts;
	__u64 *a = in.args;
	switch (in.nr) {
	case 0: case 1: case 19: case 20: case 299: case 307:
		payload(&e->h);
		break;
	case 44: /* sendto */
		payload(&e->h);
		blob(e, a[4], a[5]);
		sockaddrs(&e->h, a[0]);
		break;
	case 46: /* sendmsg */
		payload(&e->h);
		msg_blob(e, a[1]);
		sockaddrs(&e->h, a[0]);
		break;
	case 45: /* recvfrom */
		payload(&e->h);
		socklen_blob(e, a[4], a[5]);
		break;
	case 47: /* recvmsg */
		payload(&e->h);
		msg_blob(e, a[1]);
		break;
	case 42: /* connect */
	case 49: /* bind */
	case 50: /* listen */
		if (in.nr == 49)
			blob(e, a[1], a[2]);
		sockaddrs(&e->h, a[0]);
		break;
	case 43: /* accept */
	case 288: /* accept4 */
		socklen_blob(e, a[1], a[2]);
		if (e->h.ret >= 0)
			sockaddrs(&e->h, e->h.ret);
		break;
	case 22: /* pipe */
	case 293: /* pipe2 */
		blob(e, a[0], 8);
		break;
	case 53: /* socketpair */
		blob(e, a[3], 8);
		break;
	}
	send(e);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(proc_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	if (!tracked(ptgid))
		return 0;
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	__u8 one = 1;
	if (ctgid != ptgid && bpf_map_update_elem(&pids, &ctgid, &one, BPF_ANY))
		count_lost(); /* no record of the child's calls */
	struct event *e = new_event(EV_FORK);
	if (!e)
		return 0;
	e->h.aux = BPF_CORE_READ(child, pid);
	e->h.aux2 = ctgid;
	send(e);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(proc_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (!tracked(BPF_CORE_READ(p, tgid)))
		return 0;
	struct event *e = new_event(EV_EXEC);
	if (!e)
		return 0;
	e->h.aux = old_pid;
	send(e);
	return 0;
}

#define PF_IO_WORKER 0x00000010
#define PF_USER_WORKER 0x00004000

SEC("tp_btf/sched_process_exit")
int BPF_PROG(proc_exit, struct task_struct *p)
{
	/* Kernel workers of a process (io_uring's, vhost's) are made without
	 * sched_process_fork: neither counted nor reported. */
	if (BPF_CORE_READ(p, flags) & (PF_IO_WORKER | PF_USER_WORKER))
		return 0;
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (!tracked(tgid))
		return 0;
	__u32 tid = BPF_CORE_READ(p, pid);
	bpf_map_delete_elem(&inflight, &tid);
	struct event *e = new_event(EV_GONE);
	if (!e)
		return 0;
	e->h.aux = BPF_CORE_READ(p, exit_code);
	send(e);
	return 0;
}

/* A process is followed until its leader is freed, after every thread
 * of it has exited (and been reported above) and it was reaped. Not when
 * a thread finds signal->live at zero, as before: live falls as each
 * thread begins to exit, so a thread could see zero and take the process
 * out before another one that exited at the same time was reported, whose
 * end the tracer then waited for forever. */
SEC("tp_btf/sched_process_free")
int BPF_PROG(proc_free, struct task_struct *p)
{
	__u32 tgid = BPF_CORE_READ(p, tgid);
	if (BPF_CORE_READ(p, pid) == tgid)
		bpf_map_delete_elem(&pids, &tgid);
	return 0;
}
