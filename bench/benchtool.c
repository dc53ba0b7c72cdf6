/*
 * benchtool.c - the two timing helpers of bench/run, in C so that the client
 * costs little next to what it measures.  bench/run compiles it into its
 * temporary folder with `cc -O2 -pthread`.
 *
 *   benchtool startup --port P --path PATH --log FILE [--timeout-ms N]
 *                     [--interval-us N] -- COMMAND [ARG...]
 *       Starts COMMAND, then connects to 127.0.0.1:P and sends
 *       "GET PATH" again and again until a response with status 200 comes
 *       back, waiting --interval-us (default 100) after each failed try.
 *       Prints the time from just before fork() to the end of that response,
 *       and VmRSS, VmHWM, RssAnon and RssFile of the process at that moment,
 *       then stops the process with SIGTERM (SIGKILL after 5 s).
 *
 *   benchtool load --port P --request FILE [--connections N]
 *                  [--requests N] [--seconds S]
 *       Sends the raw HTTP/1.1 request in FILE over N keep-alive connections
 *       to 127.0.0.1:P, one request at a time per connection, until N
 *       responses have arrived or S seconds have passed, whichever comes
 *       first.  A server that closes the connection after a response gets a
 *       new connection, and the number of those is printed.
 *
 * Both print one line of key=value pairs on stdout.  Only 127.0.0.1 is ever
 * contacted.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
	fprintf(stderr, "benchtool: %s\n", msg);
	exit(2);
}

static int connect_loopback(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read "key: value" of name from a header block (case-insensitive). */
static const char *header_value(const char *headers, const char *name)
{
	size_t namelen = strlen(name);
	const char *p = strstr(headers, "\r\n");

	while (p != NULL && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, namelen) == 0 && p[namelen] == ':') {
			p += namelen + 1;
			while (*p == ' ')
				p++;
			return p;
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

/*
 * Read one response from fd.  b keeps bytes that arrived after the
 * response (none with one request in flight, but kept for safety).
 * Returns the status code, or -1 on error or close.  *close_after is set
 * when the server sent "Connection: close" or the response had no length.
 */
struct conn_buf {
	char data[65536];
	size_t len;
};

static int read_response(int fd, struct conn_buf *b, int *close_after)
{
	char *end;
	size_t head_len, body_len, have;
	const char *cl, *conn, *te;
	int status;

	*close_after = 0;
	for (;;) {
		b->data[b->len] = '\0';
		end = strstr(b->data, "\r\n\r\n");
		if (end != NULL)
			break;
		if (b->len >= sizeof(b->data) - 1)
			return -1;
		{
			ssize_t n = read(fd, b->data + b->len, sizeof(b->data) - 1 - b->len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return -1;
			b->len += (size_t)n;
		}
	}
	head_len = (size_t)(end - b->data) + 4;
	if (sscanf(b->data, "HTTP/%*d.%*d %d", &status) != 1)
		return -1;
	end[2] = '\0'; /* headers end with the last "\r\n" */
	te = header_value(b->data, "Transfer-Encoding");
	if (te != NULL && strncasecmp(te, "chunked", 7) == 0)
		die("chunked responses are not supported");
	conn = header_value(b->data, "Connection");
	if (conn != NULL && strncasecmp(conn, "close", 5) == 0)
		*close_after = 1;
	cl = header_value(b->data, "Content-Length");
	if (cl == NULL) {
		/* Read to the end of the connection. */
		*close_after = 1;
		for (;;) {
			char sink[65536];
			ssize_t n = read(fd, sink, sizeof(sink));

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
		}
		b->len = 0;
		return status;
	}
	body_len = strtoull(cl, NULL, 10);
	have = b->len - head_len;
	while (have < body_len) {
		char sink[65536];
		size_t want = body_len - have < sizeof(sink) ? body_len - have : sizeof(sink);
		ssize_t n = read(fd, sink, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	if (have > body_len) {
		memmove(b->data, b->data + head_len + body_len, have - body_len);
		b->len = have - body_len;
	} else {
		b->len = 0;
	}
	return status;
}

static long proc_status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	size_t keylen = strlen(key);
	long value = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, key, keylen) == 0 && line[keylen] == ':') {
			value = strtol(line + keylen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return value;
}

static void stop_child(pid_t pid)
{
	double deadline = now() + 5.0;
	int st;

	kill(pid, SIGTERM);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (now() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return;
		}
		usleep(1000);
	}
}

static volatile pid_t startup_child = 0;

static void on_stop_signal(int sig)
{
	if (startup_child > 0)
		kill(startup_child, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static int cmd_startup(int argc, char **argv)
{
	int port = 0, timeout_ms = 10000, interval_us = 100, attempts = 0, logfd, i;
	const char *path = NULL, *log = "/dev/null";
	char request[512];
	double t0, t1 = 0, deadline;
	pid_t pid;
	int ok = 0;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			die("option needs a value");
		if (strcmp(argv[i], "--port") == 0)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--path") == 0)
			path = argv[++i];
		else if (strcmp(argv[i], "--log") == 0)
			log = argv[++i];
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			timeout_ms = atoi(argv[++i]);
		else if (strcmp(argv[i], "--interval-us") == 0)
			interval_us = atoi(argv[++i]);
		else
			die("unknown startup option");
	}
	if (port <= 0 || path == NULL || i >= argc)
		die("usage: benchtool startup --port P --path PATH [--log FILE] -- COMMAND [ARG...]");
	snprintf(request, sizeof(request), "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n", path,
		 port);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		die("cannot open the log file");
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);

	t0 = now();
	pid = fork();
	if (pid < 0)
		die("fork failed");
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execvp(argv[i], argv + i);
		_exit(127);
	}
	startup_child = pid;
	deadline = t0 + timeout_ms / 1000.0;
	while (now() < deadline) {
		struct conn_buf b;
		int fd, close_after, status, st;

		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "benchtool: the server exited before it sent a response; see its log file\n");
			return 1;
		}
		attempts++;
		fd = connect_loopback(port);
		if (fd < 0) {
			if (interval_us > 0)
				usleep((useconds_t)interval_us);
			continue;
		}
		b.len = 0;
		status = write_all(fd, request, strlen(request)) == 0 ? read_response(fd, &b, &close_after) : -1;
		close(fd);
		if (status == 200) {
			t1 = now();
			ok = 1;
			break;
		}
		if (interval_us > 0)
			usleep((useconds_t)interval_us);
	}
	if (!ok) {
		stop_child(pid);
		fprintf(stderr, "benchtool: no response with status 200 within %d ms; see the server's log file\n", timeout_ms);
		return 1;
	}
	printf("ms=%.3f vmrss_kib=%ld vmhwm_kib=%ld rss_anon_kib=%ld rss_file_kib=%ld attempts=%d\n", (t1 - t0) * 1000.0,
	       proc_status_kb(pid, "VmRSS"), proc_status_kb(pid, "VmHWM"), proc_status_kb(pid, "RssAnon"),
	       proc_status_kb(pid, "RssFile"), attempts);
	fflush(stdout);
	stop_child(pid);
	return 0;
}

struct load_shared {
	int port;
	const char *request;
	size_t request_len;
	long max_requests;
	double deadline;
	atomic_long claimed;
	atomic_long done;
	atomic_long errors;
	atomic_long non_200;
	atomic_long reconnects;
	pthread_barrier_t start;
};

static void *load_worker(void *arg)
{
	struct load_shared *s = arg;
	struct conn_buf *b = malloc(sizeof(*b));
	int fd = -1, close_after = 0;

	if (b == NULL)
		die("out of memory");
	b->len = 0;
	pthread_barrier_wait(&s->start);
	for (;;) {
		int status;

		if (now() >= s->deadline || atomic_fetch_add(&s->claimed, 1) >= s->max_requests)
			break;
		if (fd < 0) {
			fd = connect_loopback(s->port);
			if (fd < 0) {
				atomic_fetch_add(&s->errors, 1);
				break;
			}
			b->len = 0;
		}
		status = write_all(fd, s->request, s->request_len) == 0 ? read_response(fd, b, &close_after) : -1;
		if (status < 0) {
			atomic_fetch_add(&s->errors, 1);
			close(fd);
			fd = -1;
			continue;
		}
		atomic_fetch_add(&s->done, 1);
		if (status != 200)
			atomic_fetch_add(&s->non_200, 1);
		if (close_after) {
			close(fd);
			fd = -1;
			atomic_fetch_add(&s->reconnects, 1);
		}
	}
	if (fd >= 0)
		close(fd);
	free(b);
	return NULL;
}

static int cmd_load(int argc, char **argv)
{
	struct load_shared s;
	const char *file = NULL;
	int connections = 1, i;
	double seconds = 10, t0, t1;
	pthread_t *threads;
	struct stat st;
	char *request;
	FILE *f;

	memset(&s, 0, sizeof(s));
	s.max_requests = 20000;
	for (i = 0; i < argc; i++) {
		if (i + 1 >= argc)
			die("option needs a value");
		if (strcmp(argv[i], "--port") == 0)
			s.port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--request") == 0)
			file = argv[++i];
		else if (strcmp(argv[i], "--connections") == 0)
			connections = atoi(argv[++i]);
		else if (strcmp(argv[i], "--requests") == 0)
			s.max_requests = atol(argv[++i]);
		else if (strcmp(argv[i], "--seconds") == 0)
			seconds = atof(argv[++i]);
		else
			die("unknown load option");
	}
	if (s.port <= 0 || file == NULL || connections < 1 || connections > 64 || s.max_requests < 1 || seconds <= 0 ||
	    seconds > 600)
		die("usage: benchtool load --port P --request FILE [--connections 1..64] [--requests N] [--seconds S<=600]");
	f = fopen(file, "rb");
	if (f == NULL || fstat(fileno(f), &st) < 0 || st.st_size <= 0 || st.st_size > 1 << 20)
		die("cannot read the request file");
	request = malloc((size_t)st.st_size);
	if (request == NULL || fread(request, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
		die("cannot read the request file");
	fclose(f);
	s.request = request;
	s.request_len = (size_t)st.st_size;
	signal(SIGPIPE, SIG_IGN);
	pthread_barrier_init(&s.start, NULL, (unsigned)connections + 1);
	threads = calloc((size_t)connections, sizeof(*threads));
	s.deadline = now() + seconds + 3600; /* replaced by the real deadline below, before the barrier opens */
	for (i = 0; i < connections; i++)
		if (pthread_create(&threads[i], NULL, load_worker, &s) != 0)
			die("cannot start a thread");
	t0 = now();
	s.deadline = t0 + seconds;
	pthread_barrier_wait(&s.start);
	for (i = 0; i < connections; i++)
		pthread_join(threads[i], NULL);
	t1 = now();
	printf("requests=%ld seconds=%.4f rps=%.1f errors=%ld non_200=%ld reconnects=%ld connections=%d\n",
	       atomic_load(&s.done), t1 - t0, (double)atomic_load(&s.done) / (t1 - t0), atomic_load(&s.errors),
	       atomic_load(&s.non_200), atomic_load(&s.reconnects), connections);
	free(threads);
	free(request);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "startup") == 0)
		return cmd_startup(argc - 2, argv + 2);
	if (argc >= 2 && strcmp(argv[1], "load") == 0)
		return cmd_load(argc - 2, argv + 2);
	fprintf(stderr, "usage: benchtool startup ... | benchtool load ...\n");
	return 2;
}
